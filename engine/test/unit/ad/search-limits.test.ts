import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client, SearchOptions } from 'ldapts';
import { AdConnector } from '../../../src/ad/connector.ts';

/** A client that records every search's options and answers with no entries (and no more DirSync results). */
function recordingClient(): { client: Client; searches: Array<{ base: string; options: SearchOptions }> } {
  const searches: Array<{ base: string; options: SearchOptions }> = [];
  const client = {
    async search(base: string, options: SearchOptions, controls?: Array<{ type: string; cookie?: Buffer; flags?: number }>) {
      searches.push({ base, options });
      for (const control of controls ?? []) if ('cookie' in control) control.cookie = Buffer.from('cookie');
      return { searchEntries: base === '' ? [{ dn: '', highestCommittedUSN: '42' }] : [], searchReferences: [] };
    },
    async *searchPaginated(base: string, options: SearchOptions) {
      searches.push({ base, options });
      yield { searchEntries: [], searchReferences: [] };
    },
    async unbind() {},
  };
  return { client: client as unknown as Client, searches };
}

function connector(client: Client): AdConnector {
  const Ctor = AdConnector as unknown as new (client: Client, options: { url: string; bindDn: string; password: string; baseDn: string }) => AdConnector;
  return new Ctor(client, { url: 'ldaps://dc.test', bindDn: 'CN=x', password: 'p', baseDn: 'DC=test' });
}

describe('AD searches ask the DC for no time limit', () => {
  it('full import, re-reads, DirSync and uSNChanged deltas send timeLimit 0 (ldapts would send 10 s, too short for a first page at 100,000 objects)', async () => {
    const { client, searches } = recordingClient();
    const ad = connector(client);
    for await (const page of ad.fullImport()) assert.equal(page.length, 0);
    await ad.readByGuids(['00000000-0000-0000-0000-000000000001']);
    for await (const batch of ad.deltaImport(JSON.stringify({ mode: 'dirsync', cookie: '' }))) assert.equal(batch.changed.length, 0);
    for await (const batch of ad.deltaImport(JSON.stringify({ mode: 'usn', usn: 1 }))) assert.equal(batch.changed.length, 0);
    const directorySearches = searches.filter((s) => s.base !== '');
    assert.ok(directorySearches.length >= 5, `expected the five kinds of directory search, saw ${directorySearches.length}`);
    for (const s of directorySearches) assert.equal(s.options.timeLimit, 0, `a search with filter ${String(s.options.filter)} asks for ${String(s.options.timeLimit)} s`);
  });
});
