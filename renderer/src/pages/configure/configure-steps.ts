/** The pages of the Configuration Wizard, in order. */
export enum ConfigureStep {
  Welcome = 'welcome',
  Entra = 'entra',
  ActiveDirectory = 'active-directory',
  Scope = 'scope',
  Readiness = 'readiness',
  Options = 'options',
  Configure = 'configure',
  Finish = 'finish',
}

export const configureSteps = [
  { id: ConfigureStep.Welcome, label: 'Welcome' },
  { id: ConfigureStep.Entra, label: 'Microsoft Entra ID' },
  { id: ConfigureStep.ActiveDirectory, label: 'Active Directory' },
  { id: ConfigureStep.Scope, label: 'Scope' },
  { id: ConfigureStep.Readiness, label: 'Readiness' },
  { id: ConfigureStep.Options, label: 'Options' },
  { id: ConfigureStep.Configure, label: 'Configure' },
  { id: ConfigureStep.Finish, label: 'Finished' },
] as const;

export function isConfigureStep(value: string | undefined): value is ConfigureStep {
  return configureSteps.some((s) => s.id === value);
}

export function configurePath(step: ConfigureStep): string {
  return `/configure/${step}`;
}
