/**
 * "Advanced: network" on the Microsoft Entra page (docs/network.md): how the service reaches the cloud — the
 * system's proxy, none, or a proxy address with its user and password — and "Test the connection", which
 * names what failed on the way. When a certificate chain is not trusted (a proxy that inspects TLS), the
 * authority is shown with its fingerprint and "Trust this certificate", as for the domain controller.
 */
import {
  Accordion, AccordionHeader, AccordionItem, AccordionPanel, Button, Field, Input, MessageBar, MessageBarBody, MessageBarTitle, Radio, RadioGroup, Spinner, Text,
} from '@fluentui/react-components';
import { useCallback, useState } from 'react';
import type { CloudConnectionTest, CloudNetworkInput, ProxyInput } from '../../../../engine/src/contract/control-api.ts';
import { CertificateDetails } from '../../components/certificate-details.tsx';
import { usePageLayoutStyles } from '../../components/page-layout.ts';
import { asControlError, call } from '../../lib/engine-client.ts';
import type { CloudInstanceSettings, NetworkDraft } from './configuration-draft.ts';

type Mode = ProxyInput['mode'];

export type CloudNetworkState = {
  readonly mode: Mode;
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly trustedCaPem: string | undefined;
  readonly open: boolean;
  readonly test: CloudConnectionTest | undefined;
  readonly testing: boolean;
  change(part: Partial<Pick<CloudNetworkState, 'mode' | 'url' | 'username' | 'password'>>): void;
  setOpen(open: boolean): void;
  /** What the service's cloud calls are given: the proxy typed and the authorities trusted on this page. */
  input(): CloudNetworkInput;
  /** The draft kept for the configuration (without the password, which is a secret). */
  draft(): NetworkDraft;
  /** Tests the connection with what is typed; opens the section to show the answer. */
  run(cloud: CloudInstanceSettings & { readonly tenant?: string }, trustedCaPem?: string): Promise<CloudConnectionTest | undefined>;
  /** Adds an authority to those trusted here; returns them all (for a test run before the state is updated). */
  trust(pem: string): string;
  /** Forgets every authority trusted here (the next test shows the chain again). */
  forgetTrusted(): void;
};

/** The network settings of the page, from the draft (the saved configuration on a rerun). */
export function useCloudNetwork(initial: NetworkDraft | undefined): CloudNetworkState {
  const proxy = initial?.proxy ?? { mode: 'system' };
  const [mode, setMode] = useState<Mode>(proxy.mode);
  const [url, setUrl] = useState(proxy.mode === 'url' ? proxy.url : '');
  const [username, setUsername] = useState(proxy.mode === 'url' ? proxy.username ?? '' : '');
  const [password, setPassword] = useState('');
  const [trustedCaPem, setTrustedCaPem] = useState<string | undefined>(initial?.trustedCaPem);
  const [open, setOpen] = useState(proxy.mode !== 'system');
  const [test, setTest] = useState<CloudConnectionTest | undefined>();
  const [testing, setTesting] = useState(false);

  const proxyInput = useCallback((): ProxyInput => (mode === 'url' ? { mode, url: url.trim(), ...(username.trim() ? { username: username.trim() } : {}) } : { mode }), [mode, url, username]);
  const input = useCallback((pem = trustedCaPem): CloudNetworkInput => ({ proxy: proxyInput(), ...(password ? { proxyPassword: password } : {}), ...(pem ? { trustedCaPem: pem } : {}) }),
    [proxyInput, password, trustedCaPem]);
  const change = useCallback((part: Partial<Pick<CloudNetworkState, 'mode' | 'url' | 'username' | 'password'>>) => {
    if (part.mode !== undefined) setMode(part.mode);
    if (part.url !== undefined) setUrl(part.url);
    if (part.username !== undefined) setUsername(part.username);
    if (part.password !== undefined) setPassword(part.password);
    setTest(undefined);
  }, []);
  const run = useCallback(async (cloud: CloudInstanceSettings & { readonly tenant?: string }, pem?: string) => {
    setTesting(true);
    setOpen(true);
    try {
      const result = await call('testCloudConnection', { ...cloud, network: input(pem ?? trustedCaPem) });
      setTest(result);
      return result;
    } catch (caught) {
      setTest({ ok: false, reason: 'unreachable', message: asControlError(caught).message });
      return undefined;
    } finally {
      setTesting(false);
    }
  }, [input, trustedCaPem]);
  const trust = useCallback((pem: string): string => {
    const combined = trustedCaPem?.includes(pem.trim()) ? trustedCaPem : `${trustedCaPem ? `${trustedCaPem.trim()}\n` : ''}${pem.trim()}\n`;
    setTrustedCaPem(combined);
    return combined;
  }, [trustedCaPem]);
  const forgetTrusted = useCallback(() => {
    setTrustedCaPem(undefined);
    setTest(undefined);
  }, []);
  return { mode, url, username, password, trustedCaPem, open, test, testing, change, setOpen, input: () => input(), draft: () => ({ proxy: proxyInput(), trustedCaPem }), run, trust,
    forgetTrusted };
}

/** The section itself: the proxy choice, the test, and the trust prompt for a chain not trusted. */
export function NetworkFields(props: { readonly network: CloudNetworkState; readonly cloud: CloudInstanceSettings & { readonly tenant?: string }; readonly disabled: boolean }) {
  const layout = usePageLayoutStyles();
  const { network } = props;
  const test = network.test;
  const untrusted = test?.ok === false && test.reason === 'tls-untrusted' ? test.certificate : undefined;
  // Only a root (self-signed) anchors the chain once trusted: an intermediate alone would not, and the message says what to get.
  const trustable = untrusted?.trustSelfSigned === true;
  async function trustAndTest(pem: string): Promise<void> {
    await network.run(props.cloud, network.trust(pem));
  }
  return (
    <Accordion collapsible openItems={network.open ? ['network'] : []} onToggle={(_event, data) => network.setOpen(data.openItems.includes('network'))}>
      <AccordionItem value="network">
        <AccordionHeader>Advanced: network</AccordionHeader>
        <AccordionPanel>
          <div className={layout.stack} data-testid="network-fields">
            <Field label="How this server reaches Microsoft Entra ID">
              <RadioGroup value={network.mode} disabled={props.disabled} onChange={(_event, data) => network.change({ mode: data.value as Mode })}>
                <Radio value="system" label="The system's proxy setting (HTTPS_PROXY on Linux, the WinHTTP proxy on Windows)" />
                <Radio value="none" label="Directly, without a proxy" />
                <Radio value="url" label="Through this proxy" />
              </RadioGroup>
            </Field>
            {network.mode === 'url' && (
              <>
                <Field label="Proxy address" required hint="For example http://proxy.contoso.com:8080">
                  <Input value={network.url} disabled={props.disabled} onChange={(_event, data) => network.change({ url: data.value })} />
                </Field>
                <Field label="Proxy user name (optional)">
                  <Input value={network.username} disabled={props.disabled} autoComplete="off" onChange={(_event, data) => network.change({ username: data.value })} />
                </Field>
                <Field label="Proxy password" hint="Stored encrypted; left empty, the stored password of the same proxy and user is kept">
                  <Input type="password" value={network.password} disabled={props.disabled} autoComplete="new-password" onChange={(_event, data) => network.change({ password: data.value })} />
                </Field>
              </>
            )}
            <div className={layout.row}>
              <Button disabled={props.disabled || network.testing || (network.mode === 'url' && network.url.trim() === '')} onClick={() => void network.run(props.cloud)}>
                Test the connection
              </Button>
              {network.testing && <Spinner size="tiny" label="Reaching Microsoft Entra ID…" />}
            </div>
            {test?.ok === true && (
              <MessageBar intent="success" data-testid="network-ok"><MessageBarBody>Reached {test.endpoints.join(' and ')} through {test.route}.</MessageBarBody></MessageBar>
            )}
            {test?.ok === false && (
              <MessageBar intent={untrusted ? 'warning' : 'error'} layout="multiline" data-testid="network-failure" data-reason={test.reason}>
                <MessageBarBody>
                  <MessageBarTitle>{untrusted ? 'The certificate chain is not trusted' : 'Microsoft Entra ID could not be reached'}</MessageBarTitle>
                  <div className={layout.stack}>
                    <Text>{test.message}</Text>
                    {untrusted && <CertificateDetails certificate={untrusted} />}
                    {untrusted && trustable && (
                      <div className={layout.row}>
                        <Button appearance="primary" disabled={props.disabled || network.testing} onClick={() => void trustAndTest(untrusted.caPem)}>Trust this certificate</Button>
                        <Text>Compare its fingerprint with the one your network team gives you first.</Text>
                      </div>
                    )}
                  </div>
                </MessageBarBody>
              </MessageBar>
            )}
            {network.trustedCaPem && (
              <div className={layout.row}>
                <Text data-testid="network-trusted">
                  Trusted for cloud traffic: {countCertificates(network.trustedCaPem)} authorit{countCertificates(network.trustedCaPem) === 1 ? 'y' : 'ies'} chosen here.
                </Text>
                <Button size="small" disabled={props.disabled || network.testing} onClick={network.forgetTrusted}>Forget</Button>
              </div>
            )}
          </div>
        </AccordionPanel>
      </AccordionItem>
    </Accordion>
  );
}

function countCertificates(pem: string): number {
  return (pem.match(/-----BEGIN CERTIFICATE-----/g) ?? []).length;
}
