import assert from 'node:assert/strict';
import { X509Certificate, createHash, createPublicKey } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTenantServer, type TenantServer } from '../../../lab/tenant/index.ts';
import {
  DIRECTORY_SYNC_GRAPH_PERMISSIONS, beginAdminSignIn, checkAppCredential, registerDirectorySyncApp,
  type AdminSession, type AppRegistration, type CloudSettings,
} from '../../src/cloud/app-registration.ts';
import { CloudConnector } from '../../src/cloud/connector.ts';
import { CloudAuthenticationError } from '../../src/errors/cloud-errors.ts';
import { AdminRoleRequiredError, SignInCancelledError, SignInError, SignInExpiredError } from '../../src/errors/sign-in-errors.ts';

type GraphPage<T> = { value: T[] };
type AppRoleAssignment = { appRoleId: string; resourceId: string };

describe('cloud identity: the administrator\'s sign-in and the Directory Sync application', () => {
  let tenant: TenantServer;
  let admin: AdminSession;
  let first: AppRegistration;
  const HOST = 'sync01.contoso.com';

  const cloud = (): CloudSettings => ({ instance: 'custom', authorityHost: tenant.connection.authorityHost, graphBaseUrl: tenant.connection.graphBaseUrl });

  async function signIn(upn: string): Promise<AdminSession> {
    const pending = await beginAdminSignIn(cloud());
    tenant.state.approveDeviceCode(pending.userCode, upn);
    return pending.result;
  }

  async function appsNamed(displayName: string): Promise<Array<{ id: string; appId: string }>> {
    const page = await admin.graph.api('/applications').filter(`displayName eq '${displayName}'`).select(['id', 'appId']).get() as GraphPage<{ id: string; appId: string }>;
    return page.value;
  }

  async function consentedPermissions(servicePrincipalId: string): Promise<string[]> {
    const graphSp = await admin.graph.api("/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')").select(['id', 'appRoles']).get() as { id: string; appRoles: Array<{ id: string; value: string }> };
    const assignments = await admin.graph.api(`/servicePrincipals/${servicePrincipalId}/appRoleAssignments`).get() as GraphPage<AppRoleAssignment>;
    return assignments.value.filter((a) => a.resourceId === graphSp.id).map((a) => graphSp.appRoles.find((r) => r.id === a.appRoleId)?.value ?? a.appRoleId).sort();
  }

  function certificateConnector(registration: Pick<AppRegistration, 'appId' | 'tenantId' | 'privateKeyPem' | 'thumbprintSha256' | 'certificatePem'>): CloudConnector {
    return new CloudConnector({
      ...cloud(), tenantId: registration.tenantId, clientId: registration.appId,
      credential: { kind: 'certificate', privateKeyPem: registration.privateKeyPem, thumbprintSha256: registration.thumbprintSha256, certificatePem: registration.certificatePem },
    });
  }

  before(async () => {
    tenant = await startTenantServer();
  });
  after(async () => {
    await admin?.signOut();
    await tenant?.close();
  });

  it('hands out the device code before the sign-in completes, then signs the administrator in when the code is approved', async () => {
    const pending = await beginAdminSignIn(cloud());
    assert.equal(pending.status(), 'pending');
    assert.ok(tenant.state.pendingUserCodes().includes(pending.userCode), 'the code the wizard shows is the one the tenant waits for');
    assert.equal(pending.verificationUri, `${tenant.connection.authorityHost}/devicelogin`);
    assert.ok(pending.message.includes(pending.userCode));
    assert.ok(pending.expiresAt.getTime() > Date.now() + 60_000);

    tenant.state.approveDeviceCode(pending.userCode, tenant.connection.globalAdminUpn);
    admin = await pending.result;
    assert.equal(pending.status(), 'signed-in');
    assert.equal(admin.userPrincipalName, tenant.connection.globalAdminUpn);
    assert.equal(admin.tenantId, tenant.connection.tenantId, 'signing in to "organizations" finds the administrator\'s tenant');
    const me = await admin.graph.api('/me').select(['userPrincipalName']).get() as { userPrincipalName: string };
    assert.equal(me.userPrincipalName, tenant.connection.globalAdminUpn);
  });

  it('cancels a sign-in whose code was never entered', async () => {
    const pending = await beginAdminSignIn({ ...cloud(), tenant: tenant.connection.tenantId });
    pending.cancel();
    await assert.rejects(pending.result, (error: unknown) => error instanceof SignInCancelledError && error.code === 'sign-in-cancelled');
    assert.equal(pending.status(), 'cancelled');
    assert.equal(pending.error()?.code, 'sign-in-cancelled');
  });

  it('says which client was refused when the identity platform will not start the sign-in', async () => {
    await assert.rejects(beginAdminSignIn({ ...cloud(), clientId: '2f5b1c7e-0d3a-4e8b-9c61-7a4d2e8f0b13' }), (error: unknown) =>
      error instanceof SignInError && error.code === 'sign-in-failed' && /public client/.test(error.message));
  });

  it('registers the application with a certificate, consented permissions and the anchor extension; the certificate signs in and creates a user', async () => {
    first = await registerDirectorySyncApp(admin, { hostName: HOST });
    assert.equal(first.created, true);
    assert.equal(first.displayName, `Directory Sync (${HOST})`);
    assert.equal(first.tenantId, tenant.connection.tenantId);
    assert.equal(first.tenantDisplayName, tenant.connection.tenantDisplayName);
    assert.ok(first.verifiedDomains.some((d) => d.name === 'contoso.com'));

    const certificate = new X509Certificate(first.certificatePem);
    assert.equal(first.thumbprintSha256, createHash('sha256').update(certificate.raw).digest('hex'));
    assert.equal(createPublicKey(first.privateKeyPem).export({ format: 'pem', type: 'spki' }), certificate.publicKey.export({ format: 'pem', type: 'spki' }),
      'the private key belongs to the certificate');
    const app = await admin.graph.api(`/applications/${first.objectId}`).select(['appId', 'keyCredentials', 'requiredResourceAccess']).get() as
      { appId: string; keyCredentials: Array<{ type: string; customKeyIdentifier: string }> };
    assert.equal(app.appId, first.appId);
    assert.deepEqual(app.keyCredentials.map((k) => k.customKeyIdentifier), [createHash('sha1').update(certificate.raw).digest('hex').toUpperCase()]);

    assert.deepEqual(await consentedPermissions(first.servicePrincipalId), [...DIRECTORY_SYNC_GRAPH_PERMISSIONS].sort());
    assert.deepEqual(first.revokedPermissions, []);
    const extensions = await admin.graph.api(`/applications/${first.objectId}/extensionProperties`).get() as GraphPage<{ name: string; dataType: string; targetObjects: string[] }>;
    assert.deepEqual(extensions.value.map((e) => [e.name, e.dataType, [...e.targetObjects].sort()]),
      [[`extension_${first.appId.replace(/-/g, '')}_sourceAnchor`, 'String', ['Group', 'User']]]);
    assert.equal(first.selfOwned, true, 'the application owns itself (Application.ReadWrite.OwnedBy reaches it)');
    assert.deepEqual(first.warnings, []);
    const owners = await admin.graph.api(`/applications/${first.objectId}/owners`).get() as GraphPage<{ id: string }>;
    assert.ok(owners.value.some((o) => o.id === first.servicePrincipalId));

    const seq = tenant.state.requestLog().at(-1)?.seq ?? 0;
    const { organization, connector } = await checkAppCredential(first, { ...cloud(), timeoutSeconds: 10, retryDelayMs: 200 });
    assert.equal(organization.id, tenant.connection.tenantId);
    assert.equal(connector.anchorProperty(), first.anchorProperty);
    assert.equal(await connector.ensureAnchorExtension(), first.anchorProperty, 'the engine finds the extension the registration created');
    const user = await connector.graph.api('/users').post({
      accountEnabled: true, displayName: 'Certificate Probe', mailNickname: 'cert.probe', userPrincipalName: 'cert.probe@contoso.com',
      passwordProfile: { password: 'Probe-Passw0rd!', forceChangePasswordNextSignIn: true }, [first.anchorProperty]: 'cHJvYmU=',
    }) as { id: string };
    const created = await connector.graph.api(`/users/${user.id}`).select(['userPrincipalName', first.anchorProperty]).get() as Record<string, unknown>;
    assert.equal(created['userPrincipalName'], 'cert.probe@contoso.com');
    assert.equal(created[first.anchorProperty], 'cHJvYmU=');
    const tokens = tenant.state.requestLog(seq).filter((r) => r.path.startsWith(`/${first.tenantId}/oauth2/v2.0/token`));
    assert.ok(tokens.length > 0 && tokens.every((r) => r.status === 200), 'the application signed in with its certificate');
    assert.ok(tenant.state.requestLog(seq).some((r) => r.method === 'POST' && r.path.startsWith('/v1.0/users') && r.appId === first.appId && r.status === 201),
      'the user was created by the new application');
  });

  it('updates the same application when run again for the same host, and the new certificate replaces the old one', async () => {
    const second = await registerDirectorySyncApp(admin, { hostName: HOST });
    assert.equal(second.created, false);
    assert.equal(second.appId, first.appId);
    assert.equal(second.objectId, first.objectId);
    assert.equal(second.servicePrincipalId, first.servicePrincipalId);
    assert.notEqual(second.thumbprintSha256, first.thumbprintSha256);
    assert.deepEqual(await appsNamed(`Directory Sync (${HOST})`), [{ id: first.objectId, appId: first.appId }], 'no duplicate application');
    assert.deepEqual(await consentedPermissions(second.servicePrincipalId), [...DIRECTORY_SYNC_GRAPH_PERMISSIONS].sort(), 'no duplicate consent');
    const extensions = await admin.graph.api(`/applications/${second.objectId}/extensionProperties`).get() as GraphPage<{ name: string }>;
    assert.equal(extensions.value.length, 1);

    await checkAppCredential(second, { ...cloud(), timeoutSeconds: 10, retryDelayMs: 200 });
    await assert.rejects(certificateConnector(first).accessToken(), CloudAuthenticationError, 'the replaced certificate no longer signs in');

    const byId = await registerDirectorySyncApp(admin, { hostName: 'sync01-renamed.contoso.com', existingAppId: first.appId });
    assert.equal(byId.created, false);
    assert.equal(byId.objectId, first.objectId, 'an existing application id is updated, whatever its name');
    assert.equal(byId.displayName, 'Directory Sync (sync01-renamed.contoso.com)');
  });

  it('revokes, when run again, the consent of Graph permissions Directory Sync no longer needs, and keeps the rest', async () => {
    const graphSp = await admin.graph.api("/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')").select(['id', 'appRoles']).get() as { id: string; appRoles: Array<{ id: string; value: string }> };
    const roleId = (value: string): string => graphSp.appRoles.find((r) => r.value === value)?.id ?? assert.fail(`no app role ${value}`);
    // What an earlier version asked for, consented then.
    for (const dropped of ['Directory.Read.All', 'OrgContact.Read.All']) {
      await admin.graph.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: first.servicePrincipalId, resourceId: graphSp.id, appRoleId: roleId(dropped) });
    }
    assert.deepEqual(await consentedPermissions(first.servicePrincipalId), [...DIRECTORY_SYNC_GRAPH_PERMISSIONS, 'Directory.Read.All', 'OrgContact.Read.All'].sort());

    const again = await registerDirectorySyncApp(admin, { hostName: HOST, existingAppId: first.appId });
    assert.deepEqual(again.revokedPermissions, ['Directory.Read.All', 'OrgContact.Read.All']);
    assert.deepEqual(await consentedPermissions(again.servicePrincipalId), [...DIRECTORY_SYNC_GRAPH_PERMISSIONS].sort(), 'only the permissions it uses stay consented');
    await checkAppCredential(again, { ...cloud(), timeoutSeconds: 10, retryDelayMs: 200 });
    const token = await certificateConnector(again).accessToken();
    const roles = (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { roles: string[] }).roles;
    assert.deepEqual([...roles].sort(), [...DIRECTORY_SYNC_GRAPH_PERMISSIONS].sort(), 'a new token carries exactly the five permissions');

    const unchanged = await registerDirectorySyncApp(admin, { hostName: HOST, existingAppId: first.appId });
    assert.deepEqual(unchanged.revokedPermissions, [], 'nothing more to revoke');
  });

  it('refuses, before writing anything, to register with the sign-in of a user who is not an administrator', async () => {
    const user = await signIn('megan.bowen@contoso.com');
    try {
      const seq = tenant.state.requestLog().at(-1)?.seq ?? 0;
      await assert.rejects(registerDirectorySyncApp(user, { hostName: 'sync02.contoso.com' }), (error: unknown) => {
        assert.ok(error instanceof AdminRoleRequiredError);
        assert.equal(error.code, 'admin-role-required');
        assert.match(error.message, /megan\.bowen@contoso\.com is not a Global Administrator/);
        assert.match(error.message, /Sign in again with a Global Administrator/);
        return true;
      });
      assert.deepEqual(tenant.state.requestLog(seq).filter((r) => r.isWrite), [], 'nothing was written to the tenant');
      assert.deepEqual(await appsNamed('Directory Sync (sync02.contoso.com)'), []);
    } finally {
      await user.signOut();
    }
    await assert.rejects(user.accessToken(), SignInExpiredError, 'a signed-out session keeps no usable token');
  });
});
