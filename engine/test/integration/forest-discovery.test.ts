/**
 * The forest read from the lab's real domain controller (issue 29): its partitions (CN=Partitions of the
 * configuration naming context) name one domain, the forest root, with its DNS and NetBIOS names and naming
 * context — what the wizard will list. A forest with several domains is tested on Windows' crossRefs in
 * engine/test/unit/ad/forest.test.ts (Samba cannot host a child domain: lab/samba/README.md).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sharedAd } from '../../../lab/test/support/shared-lab.ts';
import { discoverForest } from '../../src/ad/forest.ts';
import { adminLdap } from '../support/ad-sandbox.ts';

describe('the lab\'s forest, discovered from its domain controller', () => {
  it('lists the forest root domain from the partitions, with its names and naming context', async () => {
    const ad = await sharedAd();
    const client = await adminLdap(ad);
    try {
      const forest = await discoverForest(client);
      assert.equal(forest.name, ad.domain.toLowerCase());
      assert.equal(forest.configurationNamingContext, `CN=Configuration,${ad.baseDn}`);
      assert.deepEqual(forest.domains, [{ dnsName: ad.domain.toLowerCase(), netbiosName: ad.netbiosName, namingContext: ad.baseDn, forestRoot: true }]);
    } finally {
      await client.unbind();
    }
  });
});
