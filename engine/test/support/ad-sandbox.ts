/**
 * A private OU in the shared lab's DC for a test that changes AD: created before, tree-deleted after,
 * so the seeded organisation stays as seeded for every other test.
 */
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client, Control } from 'ldapts';
import type { AdConnection } from '../../../lab/connection.ts';

const TREE_DELETE = '1.2.840.113556.1.4.805';

export type AdSandbox = {
  readonly ouDn: string;
  readonly client: Client;
  addUser(cn: string, attributes: Record<string, string | string[] | Buffer>, parentDn?: string): Promise<string>;
  addGroup(cn: string, members: ReadonlyArray<string>, parentDn?: string): Promise<string>;
  addOu(name: string, parentDn?: string): Promise<string>;
  replace(dn: string, attribute: string, values: ReadonlyArray<string>): Promise<void>;
  addValues(dn: string, attribute: string, values: ReadonlyArray<string>): Promise<void>;
  deleteValues(dn: string, attribute: string, values: ReadonlyArray<string>): Promise<void>;
  rename(dn: string, newDn: string): Promise<void>;
  remove(dn: string): Promise<void>;
  guidOf(dn: string): Promise<string>;
  close(): Promise<void>;
};

export async function adminLdap(ad: AdConnection): Promise<Client> {
  const client = new Client({ url: ad.ldapsUrl, timeout: 60_000, tlsOptions: { ca: [readFileSync(ad.caCertFile)] } });
  await client.bind(ad.adminBindDn, ad.adminPassword);
  return client;
}

/** A fresh OU for a test (an earlier one of the name is removed first); `reopen`: the existing OU as it is, on a new connection (its DC restarted). */
export async function createAdSandbox(ad: AdConnection, name: string, options: { readonly reopen?: boolean } = {}): Promise<AdSandbox> {
  const client = await adminLdap(ad);
  const ouDn = `OU=${name},${ad.baseDn}`;
  if (!options.reopen) {
    const existing = await client.search(ad.baseDn, { scope: 'one', filter: `(ou=${name})`, attributes: ['ou'] });
    if (existing.searchEntries.length > 0) await client.del(ouDn, [new Control(TREE_DELETE, { critical: true })]);
    await client.add(ouDn, { objectClass: ['top', 'organizationalUnit'], ou: name });
  }
  const sandbox: AdSandbox = {
    ouDn, client,
    async addUser(cn, attributes, parentDn = ouDn) {
      const dn = `CN=${cn},${parentDn}`;
      await client.add(dn, { objectClass: ['top', 'person', 'organizationalPerson', 'user'], userAccountControl: '544', ...attributes });
      return dn;
    },
    async addGroup(cn, members, parentDn = ouDn) {
      const dn = `CN=${cn},${parentDn}`;
      await client.add(dn, { objectClass: ['top', 'group'], sAMAccountName: cn.replace(/\W/g, ''), groupType: String(-2147483646), ...(members.length > 0 ? { member: [...members] } : {}) });
      return dn;
    },
    async addOu(ouName, parentDn = ouDn) {
      const dn = `OU=${ouName},${parentDn}`;
      await client.add(dn, { objectClass: ['top', 'organizationalUnit'], ou: ouName });
      return dn;
    },
    async replace(dn, attribute, values) {
      await client.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type: attribute, values: [...values] }) }));
    },
    async addValues(dn, attribute, values) {
      await client.modify(dn, new Change({ operation: 'add', modification: new Attribute({ type: attribute, values: [...values] }) }));
    },
    async deleteValues(dn, attribute, values) {
      await client.modify(dn, new Change({ operation: 'delete', modification: new Attribute({ type: attribute, values: [...values] }) }));
    },
    async rename(dn, newDn) {
      await client.modifyDN(dn, newDn);
    },
    async remove(dn) {
      await client.del(dn, [new Control(TREE_DELETE, { critical: true })]);
    },
    async guidOf(dn) {
      const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['objectGUID'], explicitBufferAttributes: ['objectGUID'] });
      const raw = searchEntries[0]?.['objectGUID'] as Buffer;
      const hex = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
      return `${hex(Buffer.from(raw.subarray(0, 4)).reverse())}-${hex(Buffer.from(raw.subarray(4, 6)).reverse())}-${hex(Buffer.from(raw.subarray(6, 8)).reverse())}-${hex(raw.subarray(8, 10))}-${hex(raw.subarray(10, 16))}`;
    },
    async close() {
      await client.del(ouDn, [new Control(TREE_DELETE, { critical: true })]).catch((error: unknown) => {
        throw new Error(`could not remove the test OU ${ouDn}: ${(error as Error).message}`);
      });
      await client.unbind();
    },
  };
  return sandbox;
}
