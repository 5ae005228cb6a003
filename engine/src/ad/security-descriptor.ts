/**
 * Self-relative security descriptors (MS-DTYP 2.4.6) as Active Directory stores them in
 * `nTSecurityDescriptor`: parse, add or remove an ACE in the DACL, serialize again (ad-reference.md
 * §7.2). ACE types this module does not know pass through as bytes, and an unchanged descriptor
 * serializes to the bytes it was parsed from.
 */
import { guidBufferToString, guidStringToBuffer } from './guid.ts';

/** SECURITY_DESCRIPTOR_CONTROL bits (MS-DTYP 2.4.6). */
export const SE_DACL_PRESENT = 0x0004;
export const SE_SACL_PRESENT = 0x0010;
export const SE_SELF_RELATIVE = 0x8000;

/** ACL revisions: 2 for ACLs of basic ACEs, 4 (ACL_REVISION_DS) once an object ACE is in it. */
export const ACL_REVISION = 2;
export const ACL_REVISION_DS = 4;

/** ACE types (MS-DTYP 2.4.4.1). */
export const ACCESS_ALLOWED_ACE_TYPE = 0x00;
export const ACCESS_DENIED_ACE_TYPE = 0x01;
export const SYSTEM_AUDIT_ACE_TYPE = 0x02;
export const ACCESS_ALLOWED_OBJECT_ACE_TYPE = 0x05;
export const ACCESS_DENIED_OBJECT_ACE_TYPE = 0x06;
export const SYSTEM_AUDIT_OBJECT_ACE_TYPE = 0x07;

/** ACE flags. */
export const CONTAINER_INHERIT_ACE = 0x02;
export const INHERIT_ONLY_ACE = 0x08;
export const INHERITED_ACE = 0x10;

/** Access mask bit for extended rights ("control access", CR in SDDL). */
export const ADS_RIGHT_DS_CONTROL_ACCESS = 0x00000100;

const ACE_OBJECT_TYPE_PRESENT = 0x1;
const ACE_INHERITED_OBJECT_TYPE_PRESENT = 0x2;

/** Extended rights Directory Sync may grant its service account (MS-ADTS 5.1.3.2.1). */
export const EXTENDED_RIGHTS = {
  /** DS-Replication-Get-Changes: DirSync without the OBJECT_SECURITY flag, deletions included. */
  replicatingDirectoryChanges: '1131f6aa-9c07-11d1-f79f-00c04fc2dcd2',
  /** DS-Replication-Get-Changes-All: secret attributes (password hash sync). */
  replicatingDirectoryChangesAll: '1131f6ad-9c07-11d1-f79f-00c04fc2dcd2',
} as const;

/** ACE types laid out as header, mask, SID, application data. */
const SID_ACE_TYPES = new Set([0x00, 0x01, 0x02, 0x03, 0x09, 0x0a, 0x0d, 0x0e, 0x11, 0x12, 0x13]);
/** ACE types laid out as header, mask, object flags, [object type], [inherited object type], SID, application data. */
const OBJECT_ACE_TYPES = new Set([0x05, 0x06, 0x07, 0x08, 0x0b, 0x0c, 0x0f, 0x10]);

export type SidAce = {
  readonly kind: 'sid';
  readonly type: number;
  readonly flags: number;
  readonly mask: number;
  readonly sid: string;
  /** Bytes after the SID up to the ACE's size (callback conditions, resource attributes, padding). */
  readonly applicationData: Buffer;
};

export type ObjectAce = {
  readonly kind: 'object';
  readonly type: number;
  readonly flags: number;
  readonly mask: number;
  /** Lower-case GUID of the property, property set, child class or extended right. */
  readonly objectType?: string;
  /** Lower-case GUID of the object class that inherits the ACE. */
  readonly inheritedObjectType?: string;
  readonly sid: string;
  readonly applicationData: Buffer;
};

/** An ACE of a type this module does not decode (e.g. compound ACEs): kept as its body bytes. */
export type OpaqueAce = {
  readonly kind: 'opaque';
  readonly type: number;
  readonly flags: number;
  readonly body: Buffer;
};

export type Ace = SidAce | ObjectAce | OpaqueAce;

export type Acl = {
  readonly revision: number;
  readonly aces: ReadonlyArray<Ace>;
};

export type SecurityDescriptorPart = 'owner' | 'group' | 'sacl' | 'dacl';

export type SecurityDescriptor = {
  readonly revision: number;
  /** Resource manager control bits; 0 in AD. */
  readonly sbz1: number;
  readonly control: number;
  readonly owner?: string;
  readonly group?: string;
  readonly sacl?: Acl;
  readonly dacl?: Acl;
  /** The order of the parts in the blob (Samba: owner, group, SACL, DACL), kept so that bytes round-trip. */
  readonly layout: ReadonlyArray<SecurityDescriptorPart>;
};

const DEFAULT_LAYOUT: ReadonlyArray<SecurityDescriptorPart> = ['owner', 'group', 'sacl', 'dacl'];

class Reader {
  public constructor(private readonly buffer: Buffer, private readonly what: string) {}

  public need(offset: number, length: number): void {
    if (offset < 0 || offset + length > this.buffer.length) {
      throw new Error(`${this.what} is truncated: ${length} bytes at offset ${offset} are past its end (${this.buffer.length} bytes)`);
    }
  }

  public u8(offset: number): number {
    this.need(offset, 1);
    return this.buffer.readUInt8(offset);
  }

  public u16(offset: number): number {
    this.need(offset, 2);
    return this.buffer.readUInt16LE(offset);
  }

  public u32(offset: number): number {
    this.need(offset, 4);
    return this.buffer.readUInt32LE(offset);
  }

  public bytes(offset: number, length: number): Buffer {
    this.need(offset, length);
    return Buffer.from(this.buffer.subarray(offset, offset + length));
  }
}

/** Length in bytes of the binary SID at `offset`. */
function sidLength(reader: Reader, offset: number): number {
  return 8 + 4 * reader.u8(offset + 1);
}

/** Binary SID (MS-DTYP 2.4.2.2) → `S-1-5-21-…`. */
export function sidToString(raw: Buffer): string {
  const reader = new Reader(raw, 'The SID');
  const revision = reader.u8(0);
  if (revision !== 1) throw new Error(`Unsupported SID revision ${revision}`);
  const count = reader.u8(1);
  reader.need(0, 8 + 4 * count);
  const authority = raw.readUIntBE(2, 6);
  // MS-DTYP 2.4.2.1: authorities of 2^32 and above are written in hexadecimal.
  const authorityText = authority >= 2 ** 32 ? `0x${authority.toString(16).toUpperCase().padStart(12, '0')}` : String(authority);
  const subAuthorities = Array.from({ length: count }, (_, i) => String(raw.readUInt32LE(8 + 4 * i)));
  return ['S', String(revision), authorityText, ...subAuthorities].join('-');
}

/** `S-1-5-21-…` → binary SID. */
export function sidFromString(sid: string): Buffer {
  const match = /^S-1-(0x[0-9a-f]{12}|\d+)((?:-\d+){0,15})$/i.exec(sid.trim());
  if (!match) throw new Error(`"${sid}" is not a SID (expected S-1-<authority>-<sub-authority>…)`);
  const authority = match[1]?.toLowerCase().startsWith('0x') ? Number.parseInt(match[1].slice(2), 16) : Number(match[1]);
  if (!Number.isSafeInteger(authority) || authority >= 2 ** 48) throw new Error(`The identifier authority of "${sid}" does not fit in 48 bits`);
  const subAuthorities = (match[2] ?? '').split('-').filter((part) => part.length > 0).map(Number);
  const raw = Buffer.alloc(8 + 4 * subAuthorities.length);
  raw.writeUInt8(1, 0);
  raw.writeUInt8(subAuthorities.length, 1);
  raw.writeUIntBE(authority, 2, 6);
  subAuthorities.forEach((value, i) => {
    if (value > 0xffffffff) throw new Error(`The sub-authority ${value} of "${sid}" does not fit in 32 bits`);
    raw.writeUInt32LE(value, 8 + 4 * i);
  });
  return raw;
}

function parseAce(reader: Reader, offset: number): { ace: Ace; size: number } {
  const type = reader.u8(offset);
  const flags = reader.u8(offset + 1);
  const size = reader.u16(offset + 2);
  if (size < 4) throw new Error(`The ACE at offset ${offset} has an impossible size of ${size} bytes`);
  reader.need(offset, size);
  const end = offset + size;
  const within = (from: number, length: number): void => {
    if (from + length > end) throw new Error(`The ACE at offset ${offset} (type 0x${type.toString(16)}) is larger than its declared size of ${size} bytes`);
  };
  const sidAt = (at: number): { sid: string; next: number } => {
    within(at, 8);
    const length = sidLength(reader, at);
    within(at, length);
    return { sid: sidToString(reader.bytes(at, length)), next: at + length };
  };
  if (SID_ACE_TYPES.has(type)) {
    within(offset + 4, 4);
    const mask = reader.u32(offset + 4);
    const { sid, next } = sidAt(offset + 8);
    return { ace: { kind: 'sid', type, flags, mask, sid, applicationData: reader.bytes(next, end - next) }, size };
  }
  if (OBJECT_ACE_TYPES.has(type)) {
    within(offset + 4, 8);
    const mask = reader.u32(offset + 4);
    const objectFlags = reader.u32(offset + 8);
    let at = offset + 12;
    const guidAt = (): string => {
      within(at, 16);
      const guid = guidBufferToString(reader.bytes(at, 16));
      at += 16;
      return guid;
    };
    const objectType = objectFlags & ACE_OBJECT_TYPE_PRESENT ? guidAt() : undefined;
    const inheritedObjectType = objectFlags & ACE_INHERITED_OBJECT_TYPE_PRESENT ? guidAt() : undefined;
    const { sid, next } = sidAt(at);
    const ace: ObjectAce = {
      kind: 'object', type, flags, mask,
      ...(objectType === undefined ? {} : { objectType }),
      ...(inheritedObjectType === undefined ? {} : { inheritedObjectType }),
      sid, applicationData: reader.bytes(next, end - next),
    };
    return { ace, size };
  }
  return { ace: { kind: 'opaque', type, flags, body: reader.bytes(offset + 4, size - 4) }, size };
}

function parseAcl(reader: Reader, offset: number): Acl {
  const revision = reader.u8(offset);
  const size = reader.u16(offset + 2);
  const count = reader.u16(offset + 4);
  reader.need(offset, size);
  const aces: Ace[] = [];
  let at = offset + 8;
  for (let i = 0; i < count; i++) {
    const { ace, size: aceSize } = parseAce(reader, at);
    aces.push(ace);
    at += aceSize;
  }
  if (at > offset + size) throw new Error(`The ACL at offset ${offset} declares ${size} bytes but its ${count} ACEs take ${at - offset}`);
  return { revision, aces };
}

/** Parses a self-relative security descriptor (the value of `nTSecurityDescriptor`). */
export function parseSecurityDescriptor(raw: Buffer): SecurityDescriptor {
  const reader = new Reader(raw, 'The security descriptor');
  const revision = reader.u8(0);
  if (revision !== 1) throw new Error(`Unsupported security descriptor revision ${revision}`);
  const control = reader.u16(2);
  if (!(control & SE_SELF_RELATIVE)) throw new Error('The security descriptor is not in self-relative form');
  const offsets: Record<SecurityDescriptorPart, number> = { owner: reader.u32(4), group: reader.u32(8), sacl: reader.u32(12), dacl: reader.u32(16) };
  const sidAt = (offset: number): string => sidToString(reader.bytes(offset, sidLength(reader, offset)));
  const layout = (Object.keys(offsets) as SecurityDescriptorPart[]).filter((part) => offsets[part] !== 0).sort((a, b) => offsets[a] - offsets[b]);
  return {
    revision,
    sbz1: reader.u8(1),
    control,
    ...(offsets.owner ? { owner: sidAt(offsets.owner) } : {}),
    ...(offsets.group ? { group: sidAt(offsets.group) } : {}),
    ...(offsets.sacl ? { sacl: parseAcl(reader, offsets.sacl) } : {}),
    ...(offsets.dacl ? { dacl: parseAcl(reader, offsets.dacl) } : {}),
    layout,
  };
}

/** One ACE as bytes: type, flags, size, body. */
export function serializeAce(ace: Ace): Buffer {
  let body: Buffer;
  switch (ace.kind) {
    case 'sid': {
      const mask = Buffer.alloc(4);
      mask.writeUInt32LE(ace.mask >>> 0);
      body = Buffer.concat([mask, sidFromString(ace.sid), ace.applicationData]);
      break;
    }
    case 'object': {
      const head = Buffer.alloc(8);
      head.writeUInt32LE(ace.mask >>> 0, 0);
      const objectFlags = (ace.objectType === undefined ? 0 : ACE_OBJECT_TYPE_PRESENT) | (ace.inheritedObjectType === undefined ? 0 : ACE_INHERITED_OBJECT_TYPE_PRESENT);
      head.writeUInt32LE(objectFlags, 4);
      body = Buffer.concat([
        head,
        ...(ace.objectType === undefined ? [] : [guidStringToBuffer(ace.objectType)]),
        ...(ace.inheritedObjectType === undefined ? [] : [guidStringToBuffer(ace.inheritedObjectType)]),
        sidFromString(ace.sid),
        ace.applicationData,
      ]);
      break;
    }
    case 'opaque':
      body = ace.body;
      break;
  }
  const size = 4 + body.length;
  if (size > 0xffff) throw new Error(`An ACE of ${size} bytes does not fit in an ACL`);
  const header = Buffer.alloc(4);
  header.writeUInt8(ace.type, 0);
  header.writeUInt8(ace.flags, 1);
  header.writeUInt16LE(size, 2);
  return Buffer.concat([header, body]);
}

function serializeAcl(acl: Acl): Buffer {
  const aces = acl.aces.map(serializeAce);
  const size = 8 + aces.reduce((sum, ace) => sum + ace.length, 0);
  if (size > 0xffff) throw new Error(`An ACL of ${size} bytes exceeds the 64 KiB limit`);
  const header = Buffer.alloc(8);
  header.writeUInt8(acl.revision, 0);
  header.writeUInt16LE(size, 2);
  header.writeUInt16LE(aces.length, 4);
  return Buffer.concat([header, ...aces]);
}

/** Serializes to self-relative form, the parts in the descriptor's layout order. */
export function serializeSecurityDescriptor(descriptor: SecurityDescriptor): Buffer {
  const present = (part: SecurityDescriptorPart): boolean => descriptor[part] !== undefined;
  const order = [...descriptor.layout.filter(present), ...DEFAULT_LAYOUT.filter((p) => present(p) && !descriptor.layout.includes(p))];
  const header = Buffer.alloc(20);
  const blocks: Buffer[] = [];
  let offset = header.length;
  for (const part of order) {
    const block = part === 'owner' || part === 'group' ? sidFromString(descriptor[part] as string) : serializeAcl(descriptor[part] as Acl);
    header.writeUInt32LE(offset, { owner: 4, group: 8, sacl: 12, dacl: 16 }[part]);
    blocks.push(block);
    offset += block.length;
  }
  const control = descriptor.control | SE_SELF_RELATIVE | (descriptor.dacl ? SE_DACL_PRESENT : 0) | (descriptor.sacl ? SE_SACL_PRESENT : 0);
  header.writeUInt8(descriptor.revision, 0);
  header.writeUInt8(descriptor.sbz1, 1);
  header.writeUInt16LE(control, 2);
  return Buffer.concat([header, ...blocks]);
}

/** An explicit ACCESS_ALLOWED_OBJECT_ACE granting one extended right (e.g. EXTENDED_RIGHTS.replicatingDirectoryChanges). */
export function extendedRightAce(options: { sid: string; right: string }): ObjectAce {
  return {
    kind: 'object',
    type: ACCESS_ALLOWED_OBJECT_ACE_TYPE,
    flags: 0,
    mask: ADS_RIGHT_DS_CONTROL_ACCESS,
    objectType: guidBufferToString(guidStringToBuffer(options.right)),
    sid: sidToString(sidFromString(options.sid)),
    applicationData: Buffer.alloc(0),
  };
}

/** Whether two ACEs are the same ACE (same bytes). */
export function sameAce(a: Ace, b: Ace): boolean {
  return serializeAce(a).equals(serializeAce(b));
}

function requireDacl(descriptor: SecurityDescriptor): Acl {
  if (!descriptor.dacl) {
    throw new Error('The security descriptor has no DACL (read it with the SD flags control asking for the DACL)');
  }
  return descriptor.dacl;
}

/**
 * Adds an explicit ACE to the DACL unless the same ACE is already there. It goes after the explicit
 * ACEs and before the first inherited one, which keeps a canonical DACL canonical; the ACL revision
 * becomes 4 (ACL_REVISION_DS) when the ACE is an object ACE.
 */
export function addAce(descriptor: SecurityDescriptor, ace: Ace): { descriptor: SecurityDescriptor; added: boolean } {
  if (ace.flags & INHERITED_ACE) throw new Error('Only explicit ACEs can be added; inherited ACEs come from the parent object');
  const dacl = requireDacl(descriptor);
  if (dacl.aces.some((existing) => sameAce(existing, ace))) return { descriptor, added: false };
  const firstInherited = dacl.aces.findIndex((existing) => (existing.flags & INHERITED_ACE) !== 0);
  const at = firstInherited === -1 ? dacl.aces.length : firstInherited;
  const aces = [...dacl.aces.slice(0, at), ace, ...dacl.aces.slice(at)];
  const revision = ace.kind === 'object' ? Math.max(dacl.revision, ACL_REVISION_DS) : dacl.revision;
  return { descriptor: { ...descriptor, dacl: { revision, aces } }, added: true };
}

/** Removes every copy of an explicit ACE from the DACL. */
export function removeAce(descriptor: SecurityDescriptor, ace: Ace): { descriptor: SecurityDescriptor; removed: number } {
  const dacl = requireDacl(descriptor);
  const aces = dacl.aces.filter((existing) => (existing.flags & INHERITED_ACE) !== 0 || !sameAce(existing, ace));
  const removed = dacl.aces.length - aces.length;
  if (removed === 0) return { descriptor, removed };
  return { descriptor: { ...descriptor, dacl: { revision: dacl.revision, aces } }, removed };
}
