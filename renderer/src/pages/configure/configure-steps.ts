/** The pages of the Configuration Wizard, in order (scope, readiness, options and finish come later). */
export enum ConfigureStep {
  Welcome = 'welcome',
  Entra = 'entra',
  ActiveDirectory = 'active-directory',
}

export const configureSteps = [
  { id: ConfigureStep.Welcome, label: 'Welcome' },
  { id: ConfigureStep.Entra, label: 'Microsoft Entra ID' },
  { id: ConfigureStep.ActiveDirectory, label: 'Active Directory' },
] as const;

export function isConfigureStep(value: string | undefined): value is ConfigureStep {
  return configureSteps.some((s) => s.id === value);
}

export function configurePath(step: ConfigureStep): string {
  return `/configure/${step}`;
}
