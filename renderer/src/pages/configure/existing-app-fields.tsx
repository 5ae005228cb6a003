import { Body1, Button, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Spinner } from '@fluentui/react-components';
import { useEffect, useState } from 'react';
import type { CloudInstanceName, CloudNetworkInput, ExistingAppTest } from '../../../../engine/src/contract/control-api.ts';
import { ErrorBar } from '../../components/error-bar.tsx';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { asControlError, call, type ControlError } from '../../lib/engine-client.ts';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TENANT = /^[0-9a-f-]{36}$|^[a-z0-9.-]+\.[a-z]+$/i;

export type ExistingAppInputs = {
  readonly tenant: string;
  readonly clientId: string;
  readonly clientSecret: string;
};

/**
 * "Use an existing app registration": its tenant, client id and secret, the permissions it needs (from the
 * engine's one definition), and "Test the app" — a sign-in with it through the service, its token's permissions
 * against those needed. The wizard goes on only with an app that passed the test for what is typed.
 */
export function ExistingAppFields(props: {
  readonly inputs: ExistingAppInputs;
  readonly onInputs: (inputs: ExistingAppInputs) => void;
  readonly keepsStoredSecret: boolean;
  readonly cloud: { readonly instance: CloudInstanceName; readonly authorityHost?: string; readonly graphBaseUrl?: string };
  /** How the cloud is reached (Advanced: network). */
  readonly network: CloudNetworkInput;
  readonly disabled: boolean;
  readonly tested: ExistingAppTest | undefined;
  readonly onTested: (tested: ExistingAppTest | undefined) => void;
}) {
  const layout = usePageLayoutStyles();
  const { inputs, tested } = props;
  const [testing, setTesting] = useState(false);
  const [error, setError] = useState<ControlError | undefined>();
  // The permissions from the engine's one definition (engine/src/contract/permissions.ts), as the service says them.
  const [permissions, setPermissions] = useState<ReadonlyArray<string> | undefined>();
  useEffect(() => {
    void call('graphPermissions', {}).then(setPermissions, () => undefined);
  }, []);
  const valid = TENANT.test(inputs.tenant.trim()) && GUID.test(inputs.clientId.trim()) && (inputs.clientSecret !== '' || props.keepsStoredSecret);
  const change = (next: Partial<ExistingAppInputs>): void => {
    props.onInputs({ ...inputs, ...next });
    props.onTested(undefined);
    setError(undefined);
  };

  async function test(): Promise<void> {
    setTesting(true);
    setError(undefined);
    props.onTested(undefined);
    try {
      props.onTested(await call('testExistingApp', { ...props.cloud, network: props.network, tenant: inputs.tenant.trim(), clientId: inputs.clientId.trim(),
        clientSecret: inputs.clientSecret === '' ? undefined : inputs.clientSecret }));
    } catch (caught) {
      setError(asControlError(caught));
    } finally {
      setTesting(false);
    }
  }

  return (
    <>
      <Body1 as="p" data-testid="existing-app-permissions">
        Give the app registration Directory Sync should use. It needs the Microsoft Graph application permissions
        {' '}{permissions ? permissions.join(', ') : 'Directory Sync uses'}, with administrator consent. The client secret is handed to the
        service once, when you finish the wizard, and never shown again.
      </Body1>
      <Field label="Tenant id" required validationMessage={inputs.tenant !== '' && !TENANT.test(inputs.tenant.trim()) ? 'Enter the tenant id (a GUID) or its initial domain.' : undefined}>
        <Input value={inputs.tenant} onChange={(_event, data) => change({ tenant: data.value })} />
      </Field>
      <Field label="Application (client) id" required validationMessage={inputs.clientId !== '' && !GUID.test(inputs.clientId.trim()) ? 'Enter the application (client) id, a GUID.' : undefined}>
        <Input value={inputs.clientId} onChange={(_event, data) => change({ clientId: data.value })} />
      </Field>
      <Field label="Client secret" required={!props.keepsStoredSecret} hint={props.keepsStoredSecret ? 'Leave it empty to keep the secret the service already stores.' : undefined}>
        <Input type="password" value={inputs.clientSecret} onChange={(_event, data) => change({ clientSecret: data.value })} />
      </Field>
      <div className={layout.row}>
        <Button appearance={tested?.missing.length === 0 ? 'secondary' : 'primary'} disabled={!valid || testing || props.disabled} onClick={() => void test()}>Test the app</Button>
        {testing && <Spinner size="tiny" label="Signing in as the app…" />}
      </div>
      <ErrorBar error={error} title="The app could not sign in" />
      {tested && tested.missing.length === 0 && (
        <MessageBar intent="success" data-testid="existing-app-ok">
          <MessageBarBody>
            The app signed in to {tested.tenantDisplayName || tested.tenantId} and has every permission Directory Sync needs.
            {tested.tenantSynchronized ? ' This tenant is synchronized by another tool: Directory Sync will not write what it synchronizes.' : ''}
          </MessageBarBody>
        </MessageBar>
      )}
      {tested && tested.missing.length > 0 && (
        <MessageBar intent="error" layout="multiline" data-testid="existing-app-missing">
          <MessageBarBody>
            <MessageBarTitle>The app lacks permissions Directory Sync needs</MessageBarTitle>
            It signed in, but its token does not carry {tested.missing.join(', ')}. In the Microsoft Entra admin center, add
            {tested.missing.length === 1 ? ' that Microsoft Graph application permission' : ' those Microsoft Graph application permissions'} to the app,
            grant administrator consent, and test again.
          </MessageBarBody>
        </MessageBar>
      )}
    </>
  );
}
