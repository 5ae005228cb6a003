import { Navigate, useNavigate, useParams } from 'react-router';
import { assertNever } from '../../lib/assert-never.ts';
import { ActiveDirectoryPage } from './active-directory-page.tsx';
import { EntraPage } from './entra-page.tsx';
import { ConfigureStep, configurePath, isConfigureStep } from './configure-steps.ts';
import { ConfigureWelcomePage } from './welcome-page.tsx';

export function ConfigurationWizard() {
  const { '*': stepParam } = useParams();
  const navigate = useNavigate();
  if (!isConfigureStep(stepParam)) return <Navigate to={configurePath(ConfigureStep.Welcome)} replace />;
  const step: ConfigureStep = stepParam;
  const go = (to: ConfigureStep) => () => navigate(configurePath(to));

  switch (step) {
    case ConfigureStep.Welcome:
      return <ConfigureWelcomePage onNext={go(ConfigureStep.Entra)} />;
    case ConfigureStep.Entra:
      return <EntraPage onBack={go(ConfigureStep.Welcome)} onNext={go(ConfigureStep.ActiveDirectory)} />;
    case ConfigureStep.ActiveDirectory:
      return <ActiveDirectoryPage onBack={go(ConfigureStep.Entra)} />;
    default:
      return assertNever(step);
  }
}
