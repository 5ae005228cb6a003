import { WizardPageObject } from './wizard-page.ts';

/** Setup wizard — Welcome page. */
export class SetupWelcomePage extends WizardPageObject {}
