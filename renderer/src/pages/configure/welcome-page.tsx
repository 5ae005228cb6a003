import { Body1, Subtitle2 } from '@fluentui/react-components';
import { WizardFrame } from '../../components/wizard-frame.tsx';
import { ConfigureStep, configureSteps } from './configure-steps.ts';

/** Configuration Wizard — Welcome: what will happen and what the administrator needs. */
export function ConfigureWelcomePage(props: { readonly onNext: () => void }) {
  return (
    <WizardFrame title="Welcome to the Configuration Wizard" steps={configureSteps} currentStep={ConfigureStep.Welcome} onNext={props.onNext}>
      <Body1 as="p">
        This wizard connects Directory Sync to your Microsoft Entra ID tenant and to your Active Directory forest.
        Nothing is synchronized until you finish the wizard, and you can preview every change before it is applied.
      </Body1>
      <Subtitle2 as="h2">What will happen</Subtitle2>
      <ul>
        <li><Body1>In Microsoft Entra ID, Directory Sync registers an application for this server, with the least permissions it needs (or uses an app registration you already have).</Body1></li>
        <li><Body1>In Active Directory, it creates its service account, MSOL_…, grants it the rights it needs, and checks them by signing in as it.</Body1></li>
      </ul>
      <Subtitle2 as="h2">What you need</Subtitle2>
      <ul>
        <li><Body1>A Global Administrator of your Microsoft Entra ID tenant.</Body1></li>
        <li><Body1>An Enterprise Administrator of your Active Directory forest, and the address of a domain controller that answers LDAPS (port 636).</Body1></li>
      </ul>
      <Body1 as="p">Both sets of credentials are used only while you configure; they are never stored.</Body1>
    </WizardFrame>
  );
}
