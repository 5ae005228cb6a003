import { Body1, Checkbox, Link, Text } from '@fluentui/react-components';
import { useState } from 'react';
import { Navigate, useNavigate, useParams } from 'react-router';
import { WizardFrame } from '../components/wizard-frame.tsx';
import { assertNever } from '../lib/assert-never.ts';
import { licenseText } from './license-text.ts';
import { ReadinessList } from './setup-readiness.tsx';

/** The pages of the Setup wizard, in order. */
export enum SetupStep {
  Welcome = 'welcome',
  License = 'license',
  Readiness = 'readiness',
  Summary = 'summary',
}

const steps = [
  { id: SetupStep.Welcome, label: 'Welcome' },
  { id: SetupStep.License, label: 'License terms' },
  { id: SetupStep.Readiness, label: 'Readiness' },
  { id: SetupStep.Summary, label: 'Summary' },
] as const;

function isSetupStep(value: string | undefined): value is SetupStep {
  return steps.some((s) => s.id === value);
}

export function SetupWizard() {
  const { '*': stepParam } = useParams();
  const navigate = useNavigate();
  const [licenseAccepted, setLicenseAccepted] = useState(false);
  const [ready, setReady] = useState(false);
  const [startConfiguration, setStartConfiguration] = useState(true);
  if (!isSetupStep(stepParam)) return <Navigate to={`/setup/${SetupStep.Welcome}`} replace />;
  const step: SetupStep = stepParam;

  switch (step) {
    case SetupStep.Welcome:
      return (
        <WizardFrame title="Welcome to Directory Sync Setup" steps={steps} currentStep={step}
          onNext={() => navigate(`/setup/${SetupStep.License}`)}>
          <Body1 as="p">
            Directory Sync keeps your Microsoft Entra ID tenant in step with your on-premises Active Directory,
            one way: from Active Directory to the cloud. Users and security groups, with their memberships, are
            created, updated and deleted in the cloud as they change on premises.
          </Body1>
          <Body1 as="p">
            Every change can be previewed before it is applied, and deletions above a threshold always wait for
            your approval.
          </Body1>
          <Body1 as="p">
            Install Directory Sync on one computer in your organization. Restrict access to it as tightly as you
            restrict access to your domain controllers.
          </Body1>
        </WizardFrame>
      );
    case SetupStep.License:
      return (
        <WizardFrame title="License terms" steps={steps} currentStep={step}
          onBack={() => navigate(`/setup/${SetupStep.Welcome}`)}
          nextDisabled={!licenseAccepted}
          onNext={licenseAccepted ? () => navigate(`/setup/${SetupStep.Readiness}`) : undefined}>
          <Text as="pre" style={{ whiteSpace: 'pre-wrap', maxHeight: '50vh', overflow: 'auto' }} data-testid="license-text">
            {licenseText}
          </Text>
          <Checkbox label="I accept the license terms" checked={licenseAccepted}
            onChange={(_event, data) => setLicenseAccepted(data.checked === true)} />
          <Body1 as="p">
            <Link href="https://opensource.org/license/mit" target="_blank" rel="noreferrer">About the MIT license</Link>
          </Body1>
        </WizardFrame>
      );
    case SetupStep.Readiness:
      return (
        <WizardFrame title="Check this computer" steps={steps} currentStep={step}
          onBack={() => navigate(`/setup/${SetupStep.License}`)}
          nextDisabled={!ready} onNext={ready ? () => navigate(`/setup/${SetupStep.Summary}`) : undefined}>
          <Body1 as="p">Directory Sync checks that this computer can run it. Fix anything that failed, then open Setup again.</Body1>
          <ReadinessList onResult={setReady} />
        </WizardFrame>
      );
    case SetupStep.Summary:
      return (
        <WizardFrame title="Setup is complete" steps={steps} currentStep={step} nextLabel="Finish"
          onBack={() => navigate(`/setup/${SetupStep.Readiness}`)}
          onNext={() => navigate(startConfiguration ? '/configure/welcome' : '/operations')}>
          <Body1 as="p">
            The Directory Synchronization Service is installed. Nothing is synchronized until you complete the Configuration
            Wizard: it connects to Microsoft Entra ID and to Active Directory, lets you choose what to synchronize and shows
            what will happen before anything is written.
          </Body1>
          <Checkbox label="Start Configuration Wizard now" checked={startConfiguration}
            onChange={(_event, data) => setStartConfiguration(data.checked === true)} />
        </WizardFrame>
      );
    default:
      return assertNever(step);
  }
}
