import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tokenRoles } from '../../../src/cloud/app-registration.ts';
import { groupUniqueName, isRecentWrite, isReplicationRefusal, RECENT_WRITE_WINDOW_MS, replicationBackoffMs } from '../../../src/cloud/replication.ts';

describe('replication: what the engine takes for a replica that has not seen an object', () => {
  it('recognises Graph\'s refusals of an unreplicated target or reference, and nothing else', () => {
    assert.equal(isReplicationRefusal(404, 'Request_ResourceNotFound', "Resource 'x' does not exist or one of its queried reference-property objects are not present."), true);
    assert.equal(isReplicationRefusal(400, 'Request_BadRequest', 'Not a valid reference update.'), true);
    assert.equal(isReplicationRefusal(400, 'Request_BadRequest', 'The source resource object or one of the objects being referenced do not exist.'), true);
    assert.equal(isReplicationRefusal(400, 'Request_BadRequest', 'Another object with the same value for property userPrincipalName already exists.'), false);
    assert.equal(isReplicationRefusal(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.'), false);
    assert.equal(isReplicationRefusal(404, 'Request_UnsupportedQuery', 'x'), false);
  });

  it('takes a write for recent only within the window, and an unknown time for old', () => {
    const now = Date.parse('2026-12-07T10:00:00Z');
    assert.equal(isRecentWrite('2026-12-07T09:59:00Z', now), true);
    assert.equal(isRecentWrite(new Date(now - RECENT_WRITE_WINDOW_MS - 1).toISOString(), now), false);
    assert.equal(isRecentWrite(undefined, now), false);
    assert.equal(isRecentWrite('not a date', now), false);
  });

  it('makes one alternate key per anchor, the same every time, within what Graph accepts', () => {
    const a = groupUniqueName('nofCJe0gZk6D8J4gRgrt+A==');
    assert.equal(a, groupUniqueName('nofCJe0gZk6D8J4gRgrt+A=='));
    assert.notEqual(a, groupUniqueName('nofCJe0gZk6D8J4gRgrt+B=='));
    assert.match(a, /^dirsync-[0-9a-f]{40}$/);
  });

  it('backs off 1, 2, 4, 8, 16, then 30 s, never past the deadline', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => replicationBackoffMs(n, 1e9)), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert.equal(replicationBackoffMs(6, 1200), 1200);
  });

  it('reads the permissions a token carries, and none from a token it cannot read', () => {
    const token = ['e30', Buffer.from(JSON.stringify({ roles: ['User.ReadWrite.All', 'Group.ReadWrite.All'] })).toString('base64url'), 'sig'].join('.');
    assert.deepEqual(tokenRoles(token), ['User.ReadWrite.All', 'Group.ReadWrite.All']);
    assert.deepEqual(tokenRoles('e30.bm90IGpzb24.sig'), []);
    assert.deepEqual(tokenRoles(['e30', Buffer.from('{}').toString('base64url'), 's'].join('.')), []);
  });
});
