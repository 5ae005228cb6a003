import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/base/logger.ts';

describe('logger', () => {
  it('writes JSON lines with the run id, and redacts secrets wherever they sit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirsync-log-'));
    const log = createLogger({ logDir: dir });
    const run = log.child({ runId: 42 });
    run.info({ ad: { bindDn: 'CN=MSOL_1', password: 'P@ssw0rd-Secret' }, clientSecret: 'cs-Secret', headers: { authorization: 'Bearer abc.def' },
      args: { network: { proxyPassword: 'Proxy-Secret' } } }, 'run started');
    log.flush();
    const lines = readFileSync(join(dir, 'dirsync.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines[0]?.['runId'], 42);
    assert.equal(lines[0]?.['msg'], 'run started');
    const text = readFileSync(join(dir, 'dirsync.log'), 'utf8');
    for (const secret of ['P@ssw0rd-Secret', 'cs-Secret', 'abc.def', 'Proxy-Secret']) assert.equal(text.includes(secret), false, `${secret} must not be logged`);
  });

  it('rotates the file past its size limit and keeps a bounded number of files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dirsync-log-'));
    const log = createLogger({ logDir: dir, maxBytes: 2000, keep: 2 });
    for (let i = 0; i < 200; i += 1) log.info({ i }, 'a line long enough to fill the file quickly');
    log.flush();
    assert.ok(existsSync(join(dir, 'dirsync.log.1')));
    assert.ok(existsSync(join(dir, 'dirsync.log.2')));
    assert.equal(existsSync(join(dir, 'dirsync.log.3')), false);
    assert.ok(readFileSync(join(dir, 'dirsync.log'), 'utf8').length <= 2000);
  });
});
