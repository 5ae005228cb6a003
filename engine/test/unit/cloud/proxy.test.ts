import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bypasses, chooseProxy, environmentProxy, parseProxyUrl, proxyAuthorization, proxyUrlProblem, winHttpServerFor, withoutUserInfo } from '../../../src/cloud/proxy.ts';
import { parseWinHttpProxy } from '../../../src/cloud/windows-proxy.ts';

const login = new URL('https://login.microsoftonline.com/contoso.com/oauth2/v2.0/token');

describe('the proxy a cloud request goes through', () => {
  it('reads proxy addresses as administrators type them', () => {
    assert.equal(parseProxyUrl('proxy.contoso.com:8080').href, 'http://proxy.contoso.com:8080/');
    assert.equal(parseProxyUrl(' https://proxy.contoso.com ').href, 'https://proxy.contoso.com/');
    assert.throws(() => parseProxyUrl('socks5://proxy:1080'), /over http:\/\/ or https:\/\//);
    assert.throws(() => parseProxyUrl('http://proxy:8080/path'), /must not have a path/);
    // A password with characters a URL cannot hold unencoded: the message never shows it.
    assert.throws(() => parseProxyUrl('http://svc:pa#ss/word@proxy:8080'), (error: Error) => !error.message.includes('pa#ss') && !error.message.includes('svc:'));
    assert.equal(withoutUserInfo('http://svc:secret@proxy:8080'), 'http://proxy:8080');
    assert.match(proxyUrlProblem('http://svc:secret@proxy:8080') ?? '', /without a user name or password in it/);
    assert.equal(proxyUrlProblem('http://[::1]:3128'), undefined, 'an IPv6 proxy');
    assert.equal(proxyUrlProblem('proxy.contoso.com:8080'), undefined);
  });

  it('reads the Linux environment as curl does for HTTPS: lower case first, then ALL_PROXY, never HTTP_PROXY; NO_PROXY split', () => {
    const found = environmentProxy({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2', NO_PROXY: 'localhost, .contoso.com,10.0.0.1' });
    assert.equal(found.server, 'http://lower:2');
    assert.deepEqual(found.bypass, ['localhost', '.contoso.com', '10.0.0.1']);
    assert.match(found.source, /https_proxy/);
    assert.equal(environmentProxy({ HTTP_PROXY: 'http://only-http:3' }).server, undefined, 'HTTP_PROXY is for http:// requests');
    assert.equal(environmentProxy({ HTTP_PROXY: 'http://only-http:3', ALL_PROXY: 'http://all:4' }).server, 'http://all:4');
    assert.equal(environmentProxy({}).server, undefined);
  });

  it('bypasses hosts as NO_PROXY and WinHTTP write them', () => {
    const at = (u: string): URL => new URL(u);
    assert.ok(bypasses(at('https://graph.contoso.com'), ['.contoso.com']));
    assert.ok(bypasses(at('https://contoso.com'), ['contoso.com']));
    assert.ok(!bypasses(at('https://notcontoso.com'), ['contoso.com']));
    assert.ok(bypasses(at('https://login.microsoftonline.com'), ['*']));
    assert.ok(bypasses(at('https://login.microsoftonline.com'), ['*.microsoftonline.com']));
    assert.ok(bypasses(at('https://10.1.2.3'), ['10.*']));
    assert.ok(bypasses(at('https://intranet'), ['<local>']));
    assert.ok(!bypasses(at('https://login.microsoftonline.com'), ['<local>']));
    assert.ok(bypasses(at('https://host.contoso.com:8443'), ['host.contoso.com:8443']));
    assert.ok(!bypasses(at('https://host.contoso.com'), ['host.contoso.com:8443']));
  });

  it('takes WinHTTP\'s HTTPS entry, or the one for every scheme', () => {
    assert.equal(winHttpServerFor('proxy:8080'), 'proxy:8080');
    assert.equal(winHttpServerFor('http=web:80;https=secure:8443'), 'secure:8443');
    assert.equal(winHttpServerFor('http=web:80'), undefined);
  });

  it('reads WinHttpGetDefaultProxyConfiguration\'s answer', () => {
    assert.deepEqual(parseWinHttpProxy('{"accessType":3,"proxy":"http=a:1;https=b:2","bypass":"<local>;*.contoso.com"}'),
      { server: 'b:2', bypass: ['<local>', '*.contoso.com'], source: 'the machine\'s WinHTTP proxy (netsh winhttp show proxy)' });
    assert.equal(parseWinHttpProxy('{"accessType":1,"proxy":null,"bypass":null}').server, undefined);
    assert.throws(() => parseWinHttpProxy('Access is denied.'), /not JSON/);
  });

  it('chooses none, the configured proxy with its credentials, or the system\'s unless NO_PROXY names the host', () => {
    const system = () => ({ server: 'http://user:p%40ss@corp-proxy:3128', bypass: ['.contoso.com'], source: 'test' });
    assert.equal(chooseProxy(login, { mode: 'none' }, system), undefined);
    const configured = chooseProxy(login, { mode: 'url', url: 'http://proxy:8080', username: 'svc' }, system, 's3cret');
    assert.equal(configured?.url.href, 'http://proxy:8080/');
    assert.equal(proxyAuthorization(configured!), `Basic ${Buffer.from('svc:s3cret').toString('base64')}`);
    const fromSystem = chooseProxy(login, { mode: 'system' }, system);
    assert.equal(fromSystem?.url.href, 'http://corp-proxy:3128/', 'credentials are kept apart from the URL');
    assert.equal(fromSystem?.password, 'p@ss');
    assert.equal(chooseProxy(new URL('https://graph.contoso.com'), { mode: 'system' }, system), undefined);
    assert.ok(chooseProxy(new URL('https://127.0.0.1:4443'), { mode: 'system' }, system), 'this computer\'s addresses too, as curl');
    assert.equal(chooseProxy(new URL('https://127.0.0.1:4443'), { mode: 'system' }, () => ({ ...system(), bypass: ['127.0.0.1'] })), undefined);
    assert.ok(chooseProxy(new URL('https://127.0.0.1:4443'), { mode: 'url', url: 'proxy:1' }, system), 'a configured proxy carries every request');
  });
});
