import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { berMessageSize, frameLdapMessages, LdapMessageFramer } from '../../../src/ad/message-framing.ts';

/** A BER SEQUENCE with the given body, its length in the short form or the long form of 1 to 3 octets. */
function sequence(body: Buffer, longForm: number): Buffer {
  const n = body.length;
  if (longForm === 0 && n < 0x80) return Buffer.concat([Buffer.from([0x30, n]), body]);
  const octets = Math.max(longForm, n < 0x100 ? 1 : n < 0x10000 ? 2 : 3);
  const length = Buffer.alloc(octets);
  for (let i = 0, v = n; i < octets; i += 1, v = Math.floor(v / 256)) length[octets - 1 - i] = v % 256;
  return Buffer.concat([Buffer.from([0x30, 0x80 | octets]), length, body]);
}

/** Cuts `bytes` at the given positions (sorted, deduplicated). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    if (p > from) out.push(bytes.subarray(from, p));
    from = Math.max(from, p);
  }
  if (from < bytes.length) out.push(bytes.subarray(from));
  return out;
}

const messages = fc.array(
  fc.record({ body: fc.uint8Array({ maxLength: 700 }).map((a) => Buffer.from(a)), longForm: fc.integer({ min: 0, max: 3 }) }),
  { minLength: 1, maxLength: 12 },
).map((list) => list.map(({ body, longForm }) => sequence(body, longForm)));

describe('LDAP message framing', () => {
  it('reads the size of a message from its short or long form length', () => {
    assert.equal(berMessageSize(Buffer.from([0x30, 0x05])), 7);
    assert.equal(berMessageSize(Buffer.from([0x30, 0x82, 0x01, 0x00])), 4 + 256);
    assert.equal(berMessageSize(Buffer.from([0x30, 0x84, 0x00, 0x7f, 0xff])), undefined, 'a header cut short is not yet a size');
    assert.equal(berMessageSize(Buffer.from([0x30, 0x80])), -1, 'the indefinite form is not LDAP');
  });

  it('gives back exactly the messages sent, however the stream is cut', () => {
    fc.assert(fc.property(messages, fc.array(fc.nat(), { maxLength: 40 }), (sent, at) => {
      const framer = new LdapMessageFramer();
      const received = cut(Buffer.concat(sent), at).flatMap((chunk) => framer.push(chunk));
      assert.deepEqual(received.map((m) => m.toString('hex')), sent.map((m) => m.toString('hex')));
    }));
  });

  it('joins a large message once, not once per chunk', () => {
    const big = sequence(Buffer.alloc(8_000_000, 7), 3);
    const framer = new LdapMessageFramer();
    const originalConcat = Buffer.concat;
    let copied = 0;
    Buffer.concat = ((list: ReadonlyArray<Uint8Array>, total?: number) => {
      const joined = originalConcat(list, total);
      copied += joined.length;
      return joined;
    }) as typeof Buffer.concat;
    try {
      const out = cut(big, Array.from({ length: 500 }, (_, i) => (i + 1) * 16_000)).flatMap((c) => framer.push(c));
      assert.equal(out.length, 1);
      assert.equal(out[0]!.length, big.length);
    } finally {
      Buffer.concat = originalConcat;
    }
    assert.ok(copied < 2 * big.length, `copied ${copied} bytes for a message of ${big.length}`);
  });

  it('passes bytes that are not a BER sequence on unframed, for the parser to reject', () => {
    const framer = new LdapMessageFramer();
    const first = framer.push(Buffer.concat([sequence(Buffer.from('ok'), 0), Buffer.from([0x04, 0x01])]));
    assert.deepEqual(first.map((b) => b.toString('hex')), ['30026f6b', '0401']);
    assert.deepEqual(framer.push(Buffer.from([0x30])).map((b) => b.toString('hex')), ['30']);
  });

  it('makes a real socket emit one data event per message', async () => {
    const sent = [sequence(Buffer.alloc(100_000, 1), 0), sequence(Buffer.from('a'), 0), sequence(Buffer.alloc(300, 2), 2)];
    const bytes = Buffer.concat(sent);
    const server = createServer((socket) => {
      // Written in small pieces with pauses, so the client sees many chunks.
      let offset = 0;
      const next = (): void => {
        if (offset >= bytes.length) { socket.end(); return; }
        socket.write(bytes.subarray(offset, offset + 1000), () => setImmediate(next));
        offset += 1000;
      };
      next();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const client = frameLdapMessages(createConnection((server.address() as AddressInfo).port, '127.0.0.1'));
      const received: Buffer[] = [];
      client.on('data', (data: Buffer) => received.push(data));
      await once(client, 'end');
      assert.deepEqual(received.map((m) => m.length), sent.map((m) => m.length));
      assert.ok(received.every((m, i) => m.equals(sent[i]!)));
    } finally {
      server.close();
    }
  });
});
