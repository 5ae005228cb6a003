import { WizardPageObject } from './wizard-page.ts';

/** Configuration Wizard — Welcome page. */
export class ConfigureWelcomePage extends WizardPageObject {}
