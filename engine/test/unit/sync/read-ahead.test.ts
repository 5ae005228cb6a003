import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readAhead } from '../../../src/sync/read-ahead.ts';

/** A paged source that records when each page was asked for and whether it was closed. */
function pagedSource(pages: number, failAt?: number) {
  const log: string[] = [];
  async function* source(): AsyncGenerator<number> {
    try {
      for (let page = 0; page < pages; page += 1) {
        log.push(`request ${page}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (page === failAt) throw new Error(`page ${page} failed`);
        yield page;
      }
    } finally {
      log.push('closed');
    }
  }
  return { log, source: source() };
}

describe('readAhead', () => {
  it('yields every page in order and asks for the next page before the consumer is done with the current one', async () => {
    const { log, source } = pagedSource(4);
    const seen: number[] = [];
    for await (const page of readAhead(source)) {
      // The consumer works on this page (synchronously, as the store does): the next request is already out.
      await new Promise((resolve) => setImmediate(resolve));
      log.push(`consumed ${page}`);
      seen.push(page);
    }
    assert.deepEqual(seen, [0, 1, 2, 3]);
    assert.ok(log.indexOf('request 1') < log.indexOf('consumed 0'), log.join(', '));
    assert.ok(log.indexOf('request 3') < log.indexOf('consumed 2'), log.join(', '));
  });

  it('throws a failed page read ahead when the consumer reaches it, not as an unhandled rejection', async () => {
    const { source } = pagedSource(5, 2);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const seen: number[] = [];
    try {
      await assert.rejects(async () => {
        for await (const page of readAhead(source)) {
          await new Promise((resolve) => setTimeout(resolve, 30)); // the read ahead fails meanwhile
          seen.push(page);
        }
      }, /page 2 failed/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepEqual(seen, [0, 1]);
    assert.deepEqual(unhandled, []);
  });

  it('closes the source when the consumer stops early', async () => {
    const { log, source } = pagedSource(10);
    for await (const page of readAhead(source)) if (page === 1) break;
    assert.equal(log[log.length - 1], 'closed');
    assert.ok(!log.includes('request 4'), log.join(', '));
  });
});
