/**
 * The parts the Microsoft Entra page is made of: the cloud instance fields, the device-code prompt
 * while an administrator signs in, and the tenant the sign-in connected with what the registration did.
 */
import {
  Accordion, AccordionHeader, AccordionItem, AccordionPanel, Button, Caption1, Field, Input, Link, MessageBar, MessageBarBody, MessageBarTitle, Radio,
  RadioGroup, Spinner, Subtitle2, Text, makeStyles, tokens,
} from '@fluentui/react-components';
import type { CloudInstanceName, CloudSignInPrompt } from '../../../../engine/src/contract/control-api.ts';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import type { CloudDraft } from './wizard-state.tsx';

const useStyles = makeStyles({
  code: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase500, fontWeight: tokens.fontWeightSemibold, letterSpacing: '2px' },
});

/** What the last registration changed or could not do, in the administrator's words. */
export type Notice = { readonly intent: 'info' | 'warning'; readonly text: string };

/** "Advanced: cloud instance": a national cloud, or a custom one with its addresses; the tenant to sign in to, when signing in. */
export function CloudInstanceFields(props: {
  readonly instance: CloudInstanceName; readonly authorityHost: string; readonly graphBaseUrl: string; readonly tenant: string | undefined; readonly busy: boolean;
  readonly onInstance: (instance: CloudInstanceName) => void; readonly onAuthorityHost: (value: string) => void;
  readonly onGraphBaseUrl: (value: string) => void; readonly onTenant: (value: string) => void;
}) {
  const layout = usePageLayoutStyles();
  return (
    <Accordion collapsible defaultOpenItems={props.instance === 'global' ? [] : ['advanced']}>
      <AccordionItem value="advanced">
        <AccordionHeader>Advanced: cloud instance</AccordionHeader>
        <AccordionPanel>
          <div className={layout.stack}>
            <Field label="Cloud instance">
              <RadioGroup value={props.instance} layout="horizontal" disabled={props.busy} onChange={(_event, data) => props.onInstance(data.value as CloudInstanceName)}>
                <Radio value="global" label="Global" />
                <Radio value="usgov" label="US Government" />
                <Radio value="china" label="China (21Vianet)" />
                <Radio value="custom" label="Custom" />
              </RadioGroup>
            </Field>
            {props.instance === 'custom' && (
              <>
                <Field label="Authority host" required hint="For example https://login.example.com">
                  <Input value={props.authorityHost} disabled={props.busy} onChange={(_event, data) => props.onAuthorityHost(data.value)} />
                </Field>
                <Field label="Microsoft Graph address" required hint="For example https://graph.example.com/">
                  <Input value={props.graphBaseUrl} disabled={props.busy} onChange={(_event, data) => props.onGraphBaseUrl(data.value)} />
                </Field>
              </>
            )}
            {props.tenant !== undefined && (
              <Field label="Tenant (optional)" hint="The tenant id or its initial domain, when the administrator belongs to several tenants">
                <Input value={props.tenant} disabled={props.busy} onChange={(_event, data) => props.onTenant(data.value)} />
              </Field>
            )}
          </div>
        </AccordionPanel>
      </AccordionItem>
    </Accordion>
  );
}

/** The code to enter at the verification address while the service waits for the administrator's sign-in. */
export function DeviceCodePrompt(props: {
  readonly prompt: CloudSignInPrompt;
  /** Where the sign-in's completion stands, once the service says. */
  readonly progress?: string;
  readonly copied: string | undefined;
  readonly onCopy: (code: string) => void;
  readonly onCancel: () => void;
}) {
  const styles = useStyles();
  const layout = usePageLayoutStyles();
  const { prompt } = props;
  return (
    <MessageBar intent="info" layout="multiline" data-testid="sign-in-prompt">
      <MessageBarBody>
        <MessageBarTitle>Sign in as a Global Administrator</MessageBarTitle>
        <div className={layout.stack}>
          <Text>
            Open <Link href={prompt.verificationUri} target="_blank" rel="noreferrer" data-testid="verification-uri">{prompt.verificationUri}</Link> in
            a browser and enter this code:
          </Text>
          <div className={layout.row}>
            <Text className={styles.code} data-testid="user-code">{prompt.userCode}</Text>
            <Button size="small" onClick={() => props.onCopy(prompt.userCode)}>Copy code</Button>
            <Text role="status">{props.copied}</Text>
          </div>
          <div className={layout.row}>
            <Spinner size="tiny" label={props.progress ?? 'Waiting for you to sign in…'} data-testid="sign-in-progress" />
            <Button size="small" onClick={props.onCancel}>Cancel sign-in</Button>
          </div>
          <Caption1>The code expires at {new Date(prompt.expiresAt).toLocaleTimeString()}.</Caption1>
        </div>
      </MessageBarBody>
    </MessageBar>
  );
}

/** The tenant the sign-in connected, the app registration, and what the registration did. */
export function TenantSummary(props: { readonly registered: CloudDraft; readonly notices: ReadonlyArray<Notice> }) {
  const layout = usePageLayoutStyles();
  const { registered, notices } = props;
  return (
    <section aria-label="Connected tenant" data-testid="tenant-summary" className={layout.stack}>
      <MessageBar intent="success">
        <MessageBarBody>
          {registered.inUse ? 'Directory Sync uses this app registration now. Keep it, or sign in again to register it anew.' : 'Directory Sync is registered in your tenant.'}
        </MessageBarBody>
      </MessageBar>
      <Subtitle2 as="h2">Tenant</Subtitle2>
      <dl className={layout.summary}>
        <dt className={layout.term}>Tenant name</dt><dd className={layout.detail} data-testid="tenant-name">{registered.tenantDisplayName ?? registered.tenantId}</dd>
        <dt className={layout.term}>Tenant id</dt><dd className={layout.detail}>{registered.tenantId}</dd>
        <dt className={layout.term}>Verified domains</dt>
        <dd className={layout.detail}>
          {registered.verifiedDomains.length === 0 ? <Text>Shown after a sign-in</Text> : (
            <ul data-testid="verified-domains" style={{ margin: 0, paddingLeft: '16px' }}>
              {registered.verifiedDomains.map((domain) => <li key={domain}>{domain}</li>)}
            </ul>
          )}
        </dd>
        <dt className={layout.term}>App registration</dt><dd className={layout.detail} data-testid="app-name">{registered.appDisplayName ?? registered.clientId}</dd>
        <dt className={layout.term}>Application (client) id</dt><dd className={layout.detail}>{registered.clientId}</dd>
      </dl>
      {notices.map((notice) => (
        <MessageBar key={notice.text} intent={notice.intent} data-testid="registration-notice">
          <MessageBarBody>{notice.text}</MessageBarBody>
        </MessageBar>
      ))}
    </section>
  );
}
