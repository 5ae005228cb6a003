/**
 * Hands ldapts whole LDAP messages instead of TLS records.
 *
 * ldapts parses each 'data' chunk by concatenating it to what it holds of the message so far, so a
 * message that arrives in k records is copied k times: quadratic in its size. Samba sends a group's
 * whole member list in one entry (it applies no MaxValRange), about 8 MB for a group of 100,000, in
 * some 500 records: at 100,000 users that copying was a third of the full import's time. Framing
 * the socket's 'data' events on the LDAPMessage length (BER: tag 0x30, definite length) makes the
 * copy linear: a message inside one record is passed as a view, a longer one is joined once.
 */
import type { Socket } from 'node:net';

/** Size of the message at the head of `head` (header included), or undefined while its header is incomplete. */
export function berMessageSize(head: Buffer): number | undefined {
  if (head.length < 2) return undefined;
  const first = head[1]!;
  if (first < 0x80) return 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4) return -1;
  if (head.length < 2 + octets) return undefined;
  let length = 0;
  for (let i = 0; i < octets; i += 1) length = length * 256 + head[2 + i]!;
  return 2 + octets + length;
}

/**
 * Splits a byte stream into LDAP messages. `push` returns the complete messages the chunk finished,
 * in order; what remains of an unfinished one is kept (as the chunks received, joined once when it
 * completes). Bytes that are not a BER sequence are passed on unframed, for the parser to reject.
 */
export class LdapMessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private passThrough = false;

  public push(chunk: Buffer): Buffer[] {
    if (this.passThrough) return [chunk];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    for (;;) {
      const head = this.head(6);
      if (head.length === 0) break;
      if (head[0] !== 0x30) return this.giveUp(out);
      const size = berMessageSize(head);
      if (size === -1) return this.giveUp(out);
      if (size === undefined || size > this.buffered) break;
      out.push(this.take(size));
    }
    return out;
  }

  /** Up to `n` leading bytes (joins only the first chunks, and only when the first is shorter). */
  private head(n: number): Buffer {
    const first = this.chunks[0];
    if (!first || first.length >= n || this.chunks.length === 1) return first ?? Buffer.alloc(0);
    return Buffer.concat(this.chunks, Math.min(n, this.buffered));
  }

  private take(size: number): Buffer {
    const first = this.chunks[0]!;
    let message: Buffer;
    if (first.length >= size) {
      message = first.subarray(0, size);
      if (first.length === size) this.chunks.shift();
      else this.chunks[0] = first.subarray(size);
    } else {
      const joined = Buffer.concat(this.chunks, this.buffered);
      message = joined.subarray(0, size);
      this.chunks = joined.length > size ? [joined.subarray(size)] : [];
    }
    this.buffered -= size;
    return message;
  }

  private giveUp(out: Buffer[]): Buffer[] {
    this.passThrough = true;
    if (this.buffered > 0) out.push(Buffer.concat(this.chunks, this.buffered));
    this.chunks = [];
    this.buffered = 0;
    return out;
  }
}

/** Makes the socket emit one 'data' event per LDAP message (see the module comment). */
export function frameLdapMessages<S extends Socket>(socket: S): S {
  const framer = new LdapMessageFramer();
  const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event !== 'data' || !Buffer.isBuffer(args[0])) return emit(event, ...args);
    for (const message of framer.push(args[0])) emit('data', message);
    return true;
  }) as S['emit'];
  return socket;
}
