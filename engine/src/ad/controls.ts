/**
 * LDAP controls Directory Sync sends to Active Directory (ad-reference.md §1, §3): DirSync, Extended
 * DN, Show Deleted. ldapts parses an unknown response control into the request control instance with
 * the same OID, so the DirSync cookie is read back from the object that was sent.
 */
import { Ber, BerWriter, Control, type BerReader } from 'ldapts';

export const LDAP_SERVER_DIRSYNC_OID = '1.2.840.113556.1.4.841';
export const LDAP_SERVER_EXTENDED_DN_OID = '1.2.840.113556.1.4.529';
export const LDAP_SERVER_SHOW_DELETED_OID = '1.2.840.113556.1.4.417';

export const DIRSYNC_OBJECT_SECURITY = 0x00000001;
export const DIRSYNC_ANCESTORS_FIRST_ORDER = 0x00000800;
export const DIRSYNC_INCREMENTAL_VALUES = 0x80000000;

/** DirSyncRequestValue ::= SEQUENCE { Flags INTEGER, MaxBytes INTEGER, Cookie OCTET STRING }; always critical. */
export class DirSyncControl extends Control {
  public flags: number;
  public maxBytes: number;
  public cookie: Buffer;
  public moreResults = false;
  public responseReceived = false;

  public constructor(options: { flags?: number; maxBytes?: number; cookie?: Buffer } = {}) {
    super(LDAP_SERVER_DIRSYNC_OID, { critical: true });
    this.flags = options.flags ?? 0;
    this.maxBytes = options.maxBytes ?? 0;
    this.cookie = options.cookie ?? Buffer.alloc(0);
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    value.startSequence();
    value.writeInt(this.flags | 0); // two's complement: 0x80000000 → 02 04 80 00 00 00
    value.writeInt(this.maxBytes);
    value.writeBuffer(this.cookie, Ber.OctetString);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }

  protected override parseControl(reader: BerReader): void {
    if (reader.readSequence() === null) return;
    this.moreResults = (reader.readInt() ?? 0) !== 0;
    reader.readInt();
    this.cookie = reader.readString(Ber.OctetString, true) ?? Buffer.alloc(0);
    this.responseReceived = true;
  }
}

/** Extended DN, string form: DNs come back as `<GUID=…>;<SID=…>;CN=…`, so links resolve by GUID. */
export class ExtendedDnControl extends Control {
  public constructor() {
    super(LDAP_SERVER_EXTENDED_DN_OID, { critical: false });
  }

  protected override writeControl(writer: BerWriter): void {
    const value = new BerWriter();
    value.startSequence();
    value.writeInt(1);
    value.endSequence();
    writer.writeBuffer(value.buffer, Ber.OctetString);
  }
}

export function showDeletedControl(): Control {
  return new Control(LDAP_SERVER_SHOW_DELETED_OID, { critical: true });
}
