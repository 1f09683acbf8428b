import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkUiToken, isLoopback, resolveUiToken } from '../../../src/web/dashboards/ui-token.js';

const TOKEN = 'a-token-of-enough-length';

function fakeResponse() {
  const sent: { status?: number; headers?: Record<string, string>; body?: string } = {};
  const res = {
    writeHead(status: number, headers: Record<string, string>) {
      sent.status = status;
      sent.headers = headers;
      return this;
    },
    end(body?: string) {
      sent.body = body;
    },
  } as unknown as ServerResponse;
  return { res, sent };
}

/** `null`: no token configured. */
function check(path: string, headers: Record<string, string> = {}, token: string | null = TOKEN) {
  const { res, sent } = fakeResponse();
  const result = checkUiToken({ headers } as IncomingMessage, res, new URL(path, 'http://h'), token ?? undefined);
  return { result, sent };
}

describe('the UI token', () => {
  it('is not needed on loopback, and is generated elsewhere unless AUDITDUCK_UI_TOKEN sets it', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.1.1']) assert.equal(isLoopback(host), true, host);
    assert.deepEqual(resolveUiToken('127.0.0.1', {}), { generated: false });
    const generated = resolveUiToken('0.0.0.0', {});
    assert.equal(generated.generated, true);
    assert.ok(generated.token!.length >= 32);
    assert.deepEqual(resolveUiToken('0.0.0.0', { AUDITDUCK_UI_TOKEN: TOKEN }), { token: TOKEN, generated: false });
    assert.throws(() => resolveUiToken('10.0.0.1', { AUDITDUCK_UI_TOKEN: 'short' }), /at least 16/);
  });

  it('lets everything through when there is none', () => {
    assert.equal(check('/d/overview', {}, null).result, 'ok');
  });

  it('is accepted as a bearer token or from the cookie, and refused with 401 otherwise', () => {
    assert.equal(check('/api/dashboards', { authorization: `Bearer ${TOKEN}` }).result, 'ok');
    assert.equal(check('/api/dashboards', { cookie: `other=1; auditduck_ui_token=${TOKEN}` }).result, 'ok');
    const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-of-enough-len' }, { cookie: 'auditduck_ui_token=nope' }];
    for (const headers of refused) {
      const { result, sent } = check('/api/dashboards', headers);
      assert.equal(result, 'answered');
      assert.equal(sent.status, 401);
    }
  });

  it('in the URL sets an HttpOnly cookie and redirects to the same page without it', () => {
    const { result, sent } = check(`/d/alerts?since=7+days&token=${TOKEN}`);
    assert.equal(result, 'answered');
    assert.equal(sent.status, 302);
    assert.equal(sent.headers!.location, '/d/alerts?since=7+days');
    assert.match(sent.headers!['set-cookie']!, new RegExp(`^auditduck_ui_token=${TOKEN}; HttpOnly; SameSite=Strict`));
    assert.equal(check('/d/alerts?token=wrong').sent.status, 401);
  });
});
