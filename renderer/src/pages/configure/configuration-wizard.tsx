import { Navigate, useNavigate, useParams } from 'react-router';
import { assertNever } from '../../lib/assert-never.ts';
import { ActiveDirectoryPage } from './active-directory-page.tsx';
import { ApplyPage } from './apply-page.tsx';
import { EntraPage } from './entra-page.tsx';
import { FinishPage } from './finish-page.tsx';
import { OptionsPage } from './options-page.tsx';
import { ReadinessPage } from './readiness-page.tsx';
import { ScopePage } from './scope-page.tsx';
import { ConfigureStep, configurePath, isConfigureStep } from './configure-steps.ts';
import { ConfigureWelcomePage } from './welcome-page.tsx';
import { useConfigurationWizardState } from './wizard-state.tsx';

export function ConfigurationWizard() {
  const { '*': stepParam } = useParams();
  const navigate = useNavigate();
  const { draft } = useConfigurationWizardState();
  if (!isConfigureStep(stepParam)) return <Navigate to={configurePath(ConfigureStep.Welcome)} replace />;
  const step: ConfigureStep = stepParam;
  const go = (to: ConfigureStep) => () => navigate(configurePath(to));
  // The later pages need what the earlier ones collected (a reload loses it: it is kept in memory only).
  const beyondAd = step !== ConfigureStep.Welcome && step !== ConfigureStep.Entra && step !== ConfigureStep.ActiveDirectory;
  if (beyondAd && (!draft.cloud || !draft.ad)) return <Navigate to={configurePath(ConfigureStep.Welcome)} replace />;

  switch (step) {
    case ConfigureStep.Welcome:
      return <ConfigureWelcomePage onNext={go(ConfigureStep.Entra)} />;
    case ConfigureStep.Entra:
      return <EntraPage onBack={go(ConfigureStep.Welcome)} onNext={go(ConfigureStep.ActiveDirectory)} />;
    case ConfigureStep.ActiveDirectory:
      return <ActiveDirectoryPage onBack={go(ConfigureStep.Entra)} onNext={go(ConfigureStep.Scope)} />;
    case ConfigureStep.Scope:
      return <ScopePage onBack={go(ConfigureStep.ActiveDirectory)} onNext={go(ConfigureStep.Readiness)} />;
    case ConfigureStep.Readiness:
      return <ReadinessPage onBack={go(ConfigureStep.Scope)} onNext={go(ConfigureStep.Options)} />;
    case ConfigureStep.Options:
      return <OptionsPage onBack={go(ConfigureStep.Readiness)} onNext={go(ConfigureStep.Configure)} />;
    case ConfigureStep.Configure:
      return <ApplyPage onBack={go(ConfigureStep.Options)} onNext={go(ConfigureStep.Finish)} />;
    case ConfigureStep.Finish:
      return <FinishPage onBack={go(ConfigureStep.Configure)} />;
    default:
      return assertNever(step);
  }
}
