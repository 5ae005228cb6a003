/**
 * The benchmark's directory: N users with typical attributes, 5% as many groups, realistic
 * memberships (every user in its department's group and two or three project groups; an "All
 * Staff" group of everyone; at 100,000 also two regional groups of 50,000), written as LDIF in
 * chunks of 1,000 entries (ad-reference.md §8: the per-add cost grows with the directory, and
 * 1,000-entry transactions are the cheapest). Deterministic: the same size gives the same objects.
 */
import { seededRandom } from '../lab/seeded-random.ts';

export const benchOuDn = 'OU=Bench,DC=contoso,DC=test';
export const usersOuDn = (department: number) => `OU=Dept ${pad(department, 3)},OU=People,${benchOuDn}`;
export const groupsOuDn = `OU=Groups,${benchOuDn}`;
/** Users per department OU. */
const departmentSize = 1000;
/** Members added per modify for large groups. */
export const memberChunk = 1000;

export type LdifChunk = { readonly tool: 'add' | 'modify'; readonly ldif: string };

export type BenchDirectory = {
  readonly users: number;
  readonly groups: number;
  readonly memberships: number;
  readonly largestGroup: number;
  /** The entries to add, in chunks, in order: OUs, users, groups (with their first members). */
  readonly chunks: () => Generator<LdifChunk>;
};

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function userDn(i: number): string {
  return `CN=Bench User ${pad(i, 6)},${usersOuDn(Math.floor(i / departmentSize))}`;
}

export function userUpn(i: number): string {
  return `bu${pad(i, 6)}@contoso.com`;
}

type GroupSpec = { readonly cn: string; readonly members: ReadonlyArray<number> };

export function groupSpecs(users: number): GroupSpec[] {
  const departments = Math.ceil(users / departmentSize);
  const total = Math.max(departments + 2, Math.round(users * 0.05));
  const all = Array.from({ length: users }, (_, i) => i);
  const groups: GroupSpec[] = [{ cn: 'All Staff', members: all }];
  if (users >= 100_000) {
    groups.push({ cn: 'Region North', members: all.slice(0, users / 2) }, { cn: 'Region South', members: all.slice(users / 2) });
  }
  for (let d = 0; d < departments; d += 1) groups.push({ cn: `Dept ${pad(d, 3)} Members`, members: all.slice(d * departmentSize, Math.min(users, (d + 1) * departmentSize)) });
  const projects = total - groups.length;
  const next = seededRandom(users);
  const projectMembers: number[][] = Array.from({ length: projects }, () => []);
  // Each user joins 2 or 3 project groups, mostly of its own department's range of groups.
  for (let i = 0; i < users; i += 1) {
    const joins = 2 + (next() < 0.5 ? 1 : 0);
    for (let j = 0; j < joins; j += 1) projectMembers[Math.floor(next() * projects)]?.push(i);
  }
  projectMembers.forEach((members, p) => groups.push({ cn: `Project ${pad(p, 5)}`, members: [...new Set(members)].sort((a, b) => a - b) }));
  return groups;
}

function userEntry(i: number): string {
  const n = pad(i, 6);
  const department = Math.floor(i / departmentSize);
  const disabled = i % 20 === 19;
  return [
    `dn: ${userDn(i)}`,
    'objectClass: user',
    `sAMAccountName: bu${n}`,
    `userPrincipalName: ${userUpn(i)}`,
    'givenName: Bench',
    `sn: User ${n}`,
    `displayName: Bench User ${n}`,
    `mail: bu${n}@contoso.com`,
    `department: Dept ${pad(department, 3)}`,
    `title: ${['Engineer', 'Analyst', 'Manager', 'Technician', 'Consultant'][i % 5]}`,
    'company: Contoso',
    `telephoneNumber: +1 555 ${pad(i % 10_000, 4)}`,
    `employeeID: E${n}`,
    `userAccountControl: ${disabled ? 546 : 544}`,
    '',
  ].join('\n');
}

function ouEntry(dn: string): string {
  return `dn: ${dn}\nobjectClass: organizationalUnit\n`;
}

function groupEntry(group: GroupSpec): string {
  const lines = [`dn: CN=${group.cn},${groupsOuDn}`, 'objectClass: group', `sAMAccountName: bg-${group.cn.replace(/ /g, '-').toLowerCase()}`, 'groupType: -2147483646'];
  for (const m of group.members.slice(0, memberChunk)) lines.push(`member: ${userDn(m)}`);
  return `${lines.join('\n')}\n`;
}

/** The modifies that add a large group's members beyond the first chunk. */
function memberModifies(group: GroupSpec): string[] {
  const out: string[] = [];
  for (let from = memberChunk; from < group.members.length; from += memberChunk) {
    const lines = [`dn: CN=${group.cn},${groupsOuDn}`, 'changetype: modify', 'add: member'];
    for (const m of group.members.slice(from, from + memberChunk)) lines.push(`member: ${userDn(m)}`);
    out.push(`${lines.join('\n')}\n-\n`);
  }
  return out;
}

export function benchDirectory(users: number): BenchDirectory {
  const groups = groupSpecs(users);
  return {
    users,
    groups: groups.length,
    memberships: groups.reduce((sum, g) => sum + g.members.length, 0),
    largestGroup: Math.max(...groups.map((g) => g.members.length)),
    *chunks() {
      const departments = Math.ceil(users / departmentSize);
      yield { tool: 'add', ldif: [ouEntry(benchOuDn), ouEntry(`OU=People,${benchOuDn}`), ouEntry(groupsOuDn),
        ...Array.from({ length: departments }, (_, d) => ouEntry(usersOuDn(d)))].join('\n') };
      for (let from = 0; from < users; from += 1000) {
        const entries: string[] = [];
        for (let i = from; i < Math.min(users, from + 1000); i += 1) entries.push(userEntry(i));
        yield { tool: 'add', ldif: entries.join('\n') };
      }
      // Groups: 200 per chunk (a few thousand member links each), then the modifies of the large ones.
      for (let from = 0; from < groups.length; from += 200) yield { tool: 'add', ldif: groups.slice(from, from + 200).map(groupEntry).join('\n') };
      for (const group of groups) for (const modify of memberModifies(group)) yield { tool: 'modify', ldif: modify };
    },
  };
}
