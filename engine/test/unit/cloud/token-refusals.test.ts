import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenRefusals, describeOffset } from '../../../src/cloud/token-refusals.ts';
import { CloudAuthenticationError, mapCloudError } from '../../../src/errors/cloud-errors.ts';

describe('refused access tokens and clock differences', () => {
  const now = Date.parse('2026-12-04T10:00:00Z');

  it('asks for a new token once when the token last handed out is refused, not for an older one', () => {
    const refusals = new TokenRefusals();
    refusals.issued('t1');
    assert.equal(refusals.takeRefresh(), false);
    refusals.refused({ token: 't1', serverDate: undefined, message: 'Lifetime validation failed, the token is expired.' }, now);
    assert.equal(refusals.takeRefresh(), true);
    assert.equal(refusals.takeRefresh(), false, 'taking the request consumes it');
    refusals.issued('t2');
    // A request that left with t1 before t2 came back refused too: t2 is not replaced for it.
    refusals.refused({ token: 't1', serverDate: undefined, message: 'expired' }, now);
    assert.equal(refusals.takeRefresh(), false);
    assert.equal(refusals.count, 2);
  });

  it('measures the clock difference from Graph\'s Date and names it in the run\'s notes only when over five minutes', () => {
    const refusals = new TokenRefusals();
    assert.equal(refusals.note(0), undefined, 'no refusal, no note');
    refusals.refused({ token: 'x', serverDate: new Date(now + 2 * 3600_000).toUTCString(), message: 'expired' }, now);
    assert.equal(refusals.clockOffsetSeconds, 7200);
    assert.equal(refusals.note(0), 'Microsoft Graph refused 1 access token as expired or not yet valid; a new token was acquired and each refused request sent again. ' +
      'This computer\'s clock is 2 h 0 min behind Microsoft\'s: set it right (Windows Time service or NTP).');
    refusals.refused({ token: 'x', serverDate: new Date(now - 125_000).toUTCString(), message: 'expired' }, now);
    assert.equal(refusals.note(0), 'Microsoft Graph refused 2 access tokens as expired or not yet valid; a new token was acquired and each refused request sent again.',
      'two minutes is within what Entra tolerates: no clock advice');
    assert.equal(refusals.note(2), undefined, 'only refusals after the run began count');
    refusals.refused({ token: 'x', serverDate: new Date(now - 3 * 86400_000).toUTCString(), message: 'not yet valid' }, now);
    assert.match(refusals.note(2) ?? '', /clock is 3 days ahead of Microsoft's/);
    refusals.refused({ token: 'x', serverDate: 'not a date', message: 'expired' }, now);
    assert.equal(refusals.clockOffsetSeconds, -3 * 86400, 'an unreadable Date keeps the last measure');
  });

  it('describes offsets in minutes, hours and days', () => {
    assert.equal(describeOffset(420), '7 min');
    assert.equal(describeOffset(3600), '1 h 0 min');
    assert.equal(describeOffset(10_830), '3 h 1 min');
    assert.equal(describeOffset(5 * 86400), '5 days');
  });

  it('maps AADSTS700024 to an error about this computer\'s clock, not about the credentials', () => {
    const current = new Date(Date.now() + 3600_000).toISOString();
    const msalError = Object.assign(new Error(`invalid_client: Error(s): 700024 - Timestamp: x - Description: AADSTS700024: Client assertion is not within its valid time range. Current time: ${current}, assertion valid from 2026-12-04T09:00:00.000Z, expiry time of assertion 2026-12-04T09:10:00.000Z.`), {
      name: 'ServerError', errorCode: 'invalid_client',
    });
    const mapped = mapCloudError(msalError, 'sign in to the tenant');
    assert.ok(mapped instanceof CloudAuthenticationError);
    assert.match(mapped.message, /^Microsoft Entra ID refused the application's certificate sign-in while trying to sign in to the tenant: the signed assertion is not within its valid time range\. This computer's clock is 1 h 0 min behind Microsoft Entra ID's \(its time: /);
    assert.doesNotMatch(mapped.message, /Check the tenant id/, 'the credentials are not what is wrong');
    const wrongSecret = mapCloudError(Object.assign(new Error('AADSTS7000215: Invalid client secret provided.'), { name: 'ServerError', errorCode: 'invalid_client' }), 'sign in');
    assert.match(wrongSecret.message, /Check the tenant id, the application \(client\) id and its secret or certificate\./);
  });
});
