/**
 * objectGUID helpers (ad-reference.md §4): the first three GUID fields are stored little-endian.
 */
export function guidBufferToString(raw: Buffer): string {
  if (raw.length !== 16) throw new Error(`objectGUID must be 16 bytes, got ${raw.length}`);
  const hex = (start: number, end: number, reverse: boolean): string => {
    const part = [...raw.subarray(start, end)];
    return (reverse ? part.reverse() : part).map((b) => b.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

export function guidStringToBuffer(guid: string): Buffer {
  const clean = guid.replace(/[{}]/g, '');
  const parts = clean.split('-');
  if (parts.length !== 5 || clean.length !== 36) throw new Error(`"${guid}" is not a GUID`);
  const [a, b, c, d, e] = parts as [string, string, string, string, string];
  const le = (hex: string): Buffer => Buffer.from(hex, 'hex').reverse();
  return Buffer.concat([le(a), le(b), le(c), Buffer.from(d, 'hex'), Buffer.from(e, 'hex')]);
}

/** Splits an extended DN `<GUID=…>;<SID=…>;CN=x,…` into its GUID and plain DN. */
export function parseExtendedDn(value: string): { guid?: string; dn: string } {
  let rest = value;
  let guid: string | undefined;
  for (;;) {
    const match = /^<([A-Za-z]+)=([^>]*)>;?/.exec(rest);
    if (!match) break;
    if (match[1]?.toUpperCase() === 'GUID') guid = normalizeGuid(match[2] ?? '');
    rest = rest.slice(match[0].length);
  }
  return { guid, dn: rest };
}

function normalizeGuid(value: string): string {
  if (/^[0-9a-f]{32}$/i.test(value)) {
    // Binary form (flag 0): hex of the raw bytes.
    return guidBufferToString(Buffer.from(value, 'hex'));
  }
  return value.toLowerCase();
}
