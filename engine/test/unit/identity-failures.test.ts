import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { identityFailureOf, isNetworkErrorCode, isNetworkFailure } from '../../src/errors/identity-failures.ts';

describe('identity and network failures, recognised in one place', () => {
  it('sorts the identity platform\'s answers by what the administrator can do', () => {
    const cases: ReadonlyArray<readonly [string, ReturnType<typeof identityFailureOf>]> = [
      ['invalid_request AADSTS90002: Tenant \'x\' not found.', 'unknown-tenant'],
      ['invalid_client AADSTS7000215: Invalid client secret provided.', 'bad-client'],
      ['AADSTS700016: Application not found in the directory', 'bad-client'],
      ['invalid_client AADSTS700024: Client assertion is not within its valid time range.', 'clock'],
      ['authorization_pending then expired_token', 'expired'],
      ['authorization_declined', 'declined'],
      ['AADSTS65001: The user or administrator has not consented', 'consent-required'],
      ['invalid_grant AADSTS50173: the grant has expired', 'renewal-refused'],
      ['device_code_polling_cancelled', 'cancelled'],
      ['endpoints_resolution_error: fetch failed (getaddrinfo ENOTFOUND login.example)', 'network'],
      ['AADSTS50020: user account from identity provider does not exist in tenant', undefined],
    ];
    for (const [text, kind] of cases) assert.equal(identityFailureOf(text), kind, text);
  });

  it('knows a network failure by its code or its words', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EAI_AGAIN', 'EPIPE']) assert.ok(isNetworkErrorCode(code), code);
    assert.equal(isNetworkErrorCode('ERR_TLS_CERT_ALTNAME_INVALID'), false);
    assert.ok(isNetworkFailure('TypeError: fetch failed'));
    assert.ok(isNetworkFailure('socket hang up'));
    assert.equal(isNetworkFailure('Request_BadRequest: Invalid value specified for property'), false);
  });
});
