import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../src/logging/logger.js';
import { closeDatabase, openDatabase } from '../../../src/store/open-database.js';
import { serveDashboards, type DashboardServer, type ServeDashboardsOptions } from '../../../src/web/dashboards/serve-dashboards.js';
import { startForwardingProxy } from '../../support/forwarding-proxy.js';
import { isLoopback, resolveUiToken, uiTokenGate } from '../../../src/web/dashboards/ui-token.js';

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
  const req = { headers, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
  const result = uiTokenGate({ token: token ?? undefined })(req, res, new URL(path, 'http://h'));
  return { result, sent };
}

describe('the UI token', () => {
  it('is not needed on loopback unless AUDITDUCK_UI_TOKEN sets one, and is generated elsewhere unless it does', () => {
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.1.1']) assert.equal(isLoopback(host), true, host);
    assert.deepEqual(resolveUiToken('127.0.0.1', {}), { generated: false });
    // A reverse proxy on the same machine forwards the world to loopback: a token the user set must hold there too.
    assert.deepEqual(resolveUiToken('127.0.0.1', { AUDITDUCK_UI_TOKEN: TOKEN }), { token: TOKEN, generated: false });
    assert.throws(() => resolveUiToken('::1', { AUDITDUCK_UI_TOKEN: 'short' }), /at least 16/);
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

/** One GET from a chosen loopback source address (127.0.0.0/8 is all this machine's): another client for the server. */
function getFrom(source: string, port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, localAddress: source, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `auditduck serve` bound off loopback (so the token is required) over a new empty store, its log kept in `lines`. */
async function serveOffLoopback(extra: Partial<ServeDashboardsOptions> = {}): Promise<{ served: DashboardServer; lines: string[]; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-ui-token-'));
  const dbPath = join(dir, 'store.duckdb');
  await closeDatabase(await openDatabase(dbPath));
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  const served = await serveDashboards({ dbPath, host: '0.0.0.0', port: 0, log, env: { AUDITDUCK_UI_TOKEN: TOKEN }, ...extra });
  return {
    served,
    lines,
    close: async () => {
      await served.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function warningsOf(lines: readonly string[]): { msg: string; address?: string; via?: string; reason?: string }[] {
  return lines.map((l) => JSON.parse(l) as { level: number; msg: string; address?: string }).filter((l) => l.level === 40);
}

describe('the UI token over HTTP: missing and wrong tokens are limited per client address', () => {
  let ui: Awaited<ReturnType<typeof serveOffLoopback>>;
  before(async () => {
    ui = await serveOffLoopback();
  });
  after(() => ui.close());

  it('after 10 missing or wrong tokens from one address, by header, cookie or URL alike, the 11th request is 429 with Retry-After, the right token included; another address gets in', async () => {
    const port = ui.served.port;
    const wrong = 'a-wrong-token-of-enough-length';
    const tries: Record<string, string>[] = [
      ...Array(4).fill({ authorization: `Bearer ${wrong}` }),
      ...Array(3).fill({ cookie: `auditduck_ui_token=${wrong}` }),
    ];
    for (const headers of tries) assert.equal((await getFrom('127.0.0.2', port, '/api/dashboards', headers)).status, 401);
    for (let i = 0; i < 2; i++) assert.equal((await getFrom('127.0.0.2', port, `/d/overview?token=${wrong}`)).status, 401);
    assert.equal((await getFrom('127.0.0.2', port, '/')).status, 401, 'a missing token counts too');

    const limited = await getFrom('127.0.0.2', port, '/api/dashboards', { authorization: `Bearer ${TOKEN}` });
    assert.equal(limited.status, 429, 'cooling off: the right token is not even compared');
    assert.ok(Number(limited.headers['retry-after']) > 0 && Number(limited.headers['retry-after']) <= 60, `Retry-After: ${limited.headers['retry-after']}`);
    assert.match(limited.body, /too many missing or wrong tokens from your address: retry after \d+ s/);
    const byUrl = await getFrom('127.0.0.2', port, `/d/overview?token=${TOKEN}`);
    assert.equal(byUrl.status, 429, 'the URL with the right token neither redirects nor sets the cookie while cooling off');
    assert.equal(byUrl.headers['set-cookie'], undefined);
    assert.equal((await getFrom('127.0.0.2', port, '/api/dashboards', { cookie: `auditduck_ui_token=${TOKEN}` })).status, 429);
    assert.equal((await getFrom('127.0.0.3', port, '/api/dashboards', { authorization: `Bearer ${TOKEN}` })).status, 200, 'another address is not cooled off');

    const warnings = warningsOf(ui.lines);
    assert.deepEqual(warnings.map((w) => w.address), ['127.0.0.2', '127.0.0.2'], 'one warning at the first refusal of the window, one when the cool-off starts');
    assert.match(warnings[0]!.msg, /^dashboards: refused a wrong token from 127\.0\.0\.2/);
    assert.match(warnings[1]!.msg, /cooling off/);
    const text = ui.lines.join('');
    for (const secret of [TOKEN, wrong]) assert.ok(!text.includes(secret), 'no token value in the log');

    const metrics = await (await getFrom('127.0.0.3', port, '/metrics')).body;
    assert.match(metrics, /^auditduck_ui_refused_total\{reason="wrong-token"\} 9$/m);
    assert.match(metrics, /^auditduck_ui_refused_total\{reason="missing-token"\} 1$/m);
    assert.match(metrics, /^auditduck_ui_refused_total\{reason="cooling-off"\} 3$/m);
  });

  it("a success resets no count: not another address's, not even its own", async () => {
    const port = ui.served.port;
    const wrong = { authorization: 'Bearer a-wrong-token-of-enough-length' };
    const right = { authorization: `Bearer ${TOKEN}` };
    for (let i = 0; i < 9; i++) assert.equal((await getFrom('127.0.0.4', port, '/api/dashboards', wrong)).status, 401);
    assert.equal((await getFrom('127.0.0.5', port, '/api/dashboards', right)).status, 200);
    assert.equal((await getFrom('127.0.0.4', port, '/api/dashboards', right)).status, 200, 'nine failures: not cooling off yet');
    assert.equal((await getFrom('127.0.0.4', port, '/api/dashboards', wrong)).status, 401, 'its tenth failure, counted on top of the nine');
    assert.equal((await getFrom('127.0.0.4', port, '/api/dashboards', right)).status, 429);
    assert.equal((await getFrom('127.0.0.5', port, '/api/dashboards', right)).status, 200);
  });

  it('a foreign Host or a cross-site Origin is refused with 403 and counted as host-or-origin, the right token or not', async () => {
    const port = ui.served.port;
    const right = { authorization: `Bearer ${TOKEN}` };
    assert.equal((await getFrom('127.0.0.7', port, '/api/dashboards', { ...right, host: 'evil.example' })).status, 403);
    assert.equal((await getFrom('127.0.0.7', port, '/metrics', { host: 'evil.example:8080' })).status, 403);
    assert.equal((await getFrom('127.0.0.7', port, '/api/dashboards', { ...right, origin: 'https://evil.example' })).status, 403);
    const metrics = (await getFrom('127.0.0.7', port, '/metrics')).body;
    assert.match(metrics, /^auditduck_ui_refused_total\{reason="host-or-origin"\} 3$/m);
  });

  it('the right token in the URL redirects to the same URL without it and sets an HttpOnly cookie, which opens the page', async () => {
    const port = ui.served.port;
    const redirect = await getFrom('127.0.0.6', port, `/d/alerts?since=7+days&token=${TOKEN}`);
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, '/d/alerts?since=7+days');
    const [cookie] = redirect.headers['set-cookie'] ?? [];
    assert.match(cookie!, /^auditduck_ui_token=[^;]+; HttpOnly; SameSite=Strict; Path=\/$/);
    const page = await getFrom('127.0.0.6', port, redirect.headers.location!, { cookie: cookie!.split(';')[0]! });
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type']!, /^text\/html/);
  });
});

describe('the UI token behind a reverse proxy: failures are counted per client address a trusted proxy forwards', () => {
  /** The proxy's own address; the clients behind it are 127.0.0.31 and 127.0.0.32. */
  const PROXY = '127.0.0.30';
  const wrong = { authorization: 'Bearer a-wrong-token-of-enough-length' };
  const right = { authorization: `Bearer ${TOKEN}` };

  it("one client's 10 failures cool that client off; another client through the same proxy gets in", async () => {
    const ui = await serveOffLoopback({ trustedProxies: [PROXY] });
    const proxy = await startForwardingProxy({ host: '127.0.0.1', port: ui.served.port }, PROXY);
    try {
      for (let i = 0; i < 10; i++) assert.equal((await getFrom('127.0.0.31', proxy.port, '/api/dashboards', wrong)).status, 401);
      assert.equal((await getFrom('127.0.0.31', proxy.port, '/api/dashboards', right)).status, 429);
      assert.equal((await getFrom('127.0.0.31', proxy.port, '/api/dashboards', { ...right, 'x-forwarded-for': '127.0.0.99' })).status, 429, 'an X-Forwarded-For of its own does not help');
      assert.equal((await getFrom('127.0.0.32', proxy.port, '/api/dashboards', right)).status, 200, 'the other client is not cooled off by the first');
      assert.deepEqual(warningsOf(ui.lines).map((w) => `${w.address} via ${w.via}`), [`127.0.0.31 via ${PROXY}`, `127.0.0.31 via ${PROXY}`]);
    } finally {
      await proxy.close();
      await ui.close();
    }
  });

  it('without trusted proxies every client behind the proxy is the proxy: one scanner cools them all off', async () => {
    const ui = await serveOffLoopback();
    const proxy = await startForwardingProxy({ host: '127.0.0.1', port: ui.served.port }, PROXY);
    try {
      for (let i = 0; i < 10; i++) assert.equal((await getFrom('127.0.0.31', proxy.port, '/api/dashboards', wrong)).status, 401);
      assert.equal((await getFrom('127.0.0.32', proxy.port, '/api/dashboards', right)).status, 429);
      assert.equal(warningsOf(ui.lines)[0]!.address, PROXY);
    } finally {
      await proxy.close();
      await ui.close();
    }
  });
});
