/**
 * The dashboards' routes over a small synthetic store: pickers reach only the parameters a query declares,
 * the admin-through-memberships query follows chains of memberships, a panel query that would write is
 * refused in place, and the acknowledge route only writes through the writer's callback.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { rawRequest } from '../../support/raw-http.js';
import { acknowledgeAlerts } from '../../../src/detect/acknowledge-alerts.js';
import { closeDatabase, openDatabase, type Database } from '../../../src/store/open-database.js';
import { createDashboardRoutes } from '../../../src/web/dashboards/index.js';
import { startOpsServer, type OpsServer } from '../../../src/web/ops-server.js';

const log = pino({ level: 'silent' });

describe('dashboard routes over a synthetic store', () => {
  let db: Database;
  let dir: string;
  let readOnlyUi: OpsServer;
  let writableUi: OpsServer;
  const acked: number[][] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-routes-'));
    db = await openDatabase(':memory:');
    await db.connection.run(`
      INSERT INTO roles (server, rolname, rolsuper, rolcreaterole, rolbypassrls, rolreplication) VALUES
        ('pg1', 'root_like', true, false, false, false), ('pg1', 'team', false, false, false, false),
        ('pg1', 'alice', false, false, false, false), ('pg1', 'bob', false, false, false, false),
        ('pg2', 'carol', false, false, false, false);
      INSERT INTO role_memberships (server, role_name, member) VALUES
        ('pg1', 'root_like', 'team'), ('pg1', 'team', 'alice'), ('pg1', 'alice', 'bob'),
        ('pg1', 'bob', 'alice'),                        -- a cycle must not loop
        ('pg2', 'azure_pg_admin', 'carol');
      INSERT INTO alerts (rule_id, severity, server, first_seen, last_seen, summary, dedup_key) VALUES
        ('r', 'high', 'pg1', now(), now(), 'one', 'k1'), ('r', 'low', 'pg2', now(), now(), 'two', 'k2');
    `);
    const queries = join(dir, 'queries');
    const dashboards = join(dir, 'dashboards');
    await mkdir(queries);
    await mkdir(dashboards);
    await writeFile(join(queries, 'sneaky.sql'), '-- Tries to write.\nDELETE FROM alerts;\n');
    await writeFile(
      join(dashboards, 'test.json'),
      JSON.stringify({
        title: 'Test',
        panels: [
          { id: 'sneaky', title: 'Sneaky', query: 'sneaky', chart: 'table' },
          { id: 'admins', title: 'Admins', query: 'admin-through-memberships', chart: 'table' },
          { id: 'alerts', title: 'Alerts', query: 'alert-list', chart: 'table', params: { status: 'open' } },
        ],
      }),
    );
    const common = { log, dashboardDirs: [dashboards], queryDirs: [queries] };
    readOnlyUi = await startOpsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), health: () => ({}), routes: createDashboardRoutes({ ...common, connection: await db.instance.connect() }) });
    writableUi = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      health: () => ({}),
      routes: createDashboardRoutes({
        ...common,
        connection: await db.instance.connect(),
        acknowledgeAlert: async (ids, by, note) => {
          acked.push(ids);
          return { acknowledged: await acknowledgeAlerts(db.connection, ids, by, note.comment, note.classification) };
        },
      }),
    });
  });

  after(async () => {
    await readOnlyUi.close();
    await writableUi.close();
    await closeDatabase(db);
    await rm(dir, { recursive: true, force: true });
  });

  const get = async (ui: OpsServer, path: string) => {
    const response = await fetch(`http://127.0.0.1:${ui.port}${path}`);
    return { status: response.status, body: (await response.json()) as { rows: Record<string, unknown>[]; error?: string } };
  };

  it('follows chains of memberships to superuser and admin roles, once per path, through cycles', async () => {
    const { status, body } = await get(readOnlyUi, '/api/dashboards/test/panels/admins');
    assert.equal(status, 200);
    assert.deepEqual(
      body.rows.map((r) => [r.server, r.role_name, r.power_role, r.hops, r.via]),
      [
        ['pg1', 'alice', 'root_like', 2, 'alice → team → root_like'],
        ['pg1', 'bob', 'root_like', 3, 'bob → alice → team → root_like'],
        ['pg1', 'root_like', 'root_like', 0, 'root_like'],
        ['pg1', 'team', 'root_like', 1, 'team → root_like'],
        ['pg2', 'azure_pg_admin', 'azure_pg_admin', 0, 'azure_pg_admin'],
        ['pg2', 'carol', 'azure_pg_admin', 1, 'carol → azure_pg_admin'],
      ],
    );
  });

  it('passes the server picker to queries that declare it, and ignores pickers a query lacks', async () => {
    const { body } = await get(readOnlyUi, '/api/dashboards/test/panels/admins?server=pg2&since=7+days&role=x');
    assert.deepEqual(body.rows.map((r) => r.role_name), ['azure_pg_admin', 'carol']);
  });

  it('refuses a panel query that would write, in the panel, and the store keeps its rows', async () => {
    const { status, body } = await get(readOnlyUi, '/api/dashboards/test/panels/sneaky');
    assert.equal(status, 422);
    assert.match(body.error!, /refused: statement 1 is DELETE/);
    assert.equal((await get(readOnlyUi, '/api/dashboards/test/panels/alerts')).body.rows.length, 2);
  });

  it('a bad picker value is an error in the panel that says what is wrong', async () => {
    const { status, body } = await get(readOnlyUi, '/api/dashboards/test/panels/alerts?since=yesterday-ish');
    assert.equal(status, 422);
    assert.match(body.error!, /since="yesterday-ish" is not a time/);
  });

  const post = (ui: OpsServer, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`http://127.0.0.1:${ui.port}/api/alerts/acknowledge`, { method: 'POST', headers, body });

  it('acknowledging without a writer (serve) is refused with what to do instead', async () => {
    const response = await post(readOnlyUi, '{"ids":[1]}');
    assert.equal(response.status, 409);
    assert.match(((await response.json()) as { error: string }).error, /auditduck alerts ack/);
  });

  it('acknowledging needs a JSON body from the same origin', async () => {
    assert.equal((await post(writableUi, 'ids=1', { 'content-type': 'application/x-www-form-urlencoded' })).status, 415);
    assert.equal((await post(writableUi, '{"ids":[1]}', { 'content-type': 'application/json', origin: 'http://evil.example' })).status, 403);
    assert.equal((await post(writableUi, '{"ids":["1; DROP"]}')).status, 400);
    assert.deepEqual(acked, []);
  });

  it('a request from a DNS-rebound page (foreign Host) is refused before any route, and acknowledges nothing', async () => {
    const ack = await rawRequest(writableUi.port, {
      method: 'POST',
      path: '/api/alerts/acknowledge',
      headers: { host: `evil.example:${writableUi.port}`, 'content-type': 'application/json' },
      body: '{"ids":[1]}',
    });
    assert.equal(ack.status, 403);
    assert.match((JSON.parse(ack.body) as { error: string }).error, /Host "evil.example:\d+" is not a name of this server/);
    assert.equal((await rawRequest(writableUi.port, { path: '/api/dashboards/test/panels/alerts', headers: { host: 'evil.example' } })).status, 403);
    assert.equal((await rawRequest(writableUi.port, { path: '/metrics', headers: { host: 'evil.example' } })).status, 403);
    assert.deepEqual(acked, []);
  });

  it('an opaque origin (Origin: null, a sandboxed frame or a file:// page) is 403, not a server error', async () => {
    const response = await post(writableUi, '{"ids":[1]}', { 'content-type': 'application/json', origin: 'null' });
    assert.equal(response.status, 403);
    assert.deepEqual(acked, []);
  });

  it('the acknowledger cannot be chosen by the client, and a body over the limit is 413', async () => {
    assert.equal((await post(writableUi, '{"ids":[1],"by":"the-ciso"}')).status, 400);
    assert.equal((await post(writableUi, JSON.stringify({ ids: [1], pad: 'x'.repeat(100_000) }))).status, 413);
    assert.deepEqual(acked, []);
  });

  it('a classification other than true-positive, benign or false-positive is refused', async () => {
    const response = await post(writableUi, '{"ids":[1],"classification":"probably-fine"}');
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { error: string }).error, /classification/);
    assert.deepEqual(acked, []);
  });

  it('acknowledges open alerts through the writer callback, once, with the comment and classification', async () => {
    const first = await post(writableUi, '{"ids":[1],"comment":"  ticket SEC-9  ","classification":"false-positive"}');
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { acknowledged: [1] });
    const note = await db.connection.runAndReadAll('SELECT ack_comment, ack_classification FROM alerts WHERE alert_id = 1');
    assert.deepEqual(note.getRows(), [['ticket SEC-9', 'false-positive']]);
    const again = await post(writableUi, '{"ids":[1,2]}');
    assert.deepEqual(await again.json(), { acknowledged: [2] });
    const { body } = await get(writableUi, '/api/dashboards/test/panels/alerts');
    assert.deepEqual(body.rows, [], 'no open alerts left');
    const by = await db.connection.runAndReadAll('SELECT DISTINCT acknowledged_by FROM alerts');
    assert.deepEqual(by.getRows(), [['web UI, loopback without token']], 'who the request authenticated as');
    const second = await db.connection.runAndReadAll('SELECT ack_comment, ack_classification FROM alerts WHERE alert_id = 2');
    assert.deepEqual(second.getRows(), [[null, null]], 'no note given, none stored');
  });

  it('checks the time range once: a bad From or Until is 400 naming the picker', async () => {
    const bad = await get(readOnlyUi, '/api/time-range?since=7+days&until=soon');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { field: 'until', error: 'Until "soon" is neither a time (2026-11-27 or 2026-11-27T02:20:00Z) nor a duration back from now (7 days, 36h, PT1H)' });
    const good = await fetch(`http://127.0.0.1:${readOnlyUi.port}/api/time-range?since=2026-11-01T00:00:00Z&until=2026-11-02T00:00:00Z`);
    const range = (await good.json()) as { since: string; until: string; openAlerts: { total: number; outside: number } };
    assert.equal(range.since, '2026-11-01T00:00:00.000Z');
    assert.equal(range.until, '2026-11-02T00:00:00.000Z');
    // Both alerts were last seen now, outside that day; whichever are still open are counted outside.
    assert.equal(range.openAlerts.outside, range.openAlerts.total);
  });

  it('runs any saved query by name with the parameters it declares, and refuses one that would write', async () => {
    const list = (await (await fetch(`http://127.0.0.1:${readOnlyUi.port}/api/queries`)).json()) as { queries: { name: string }[] };
    assert.ok(list.queries.some((q) => q.name === 'sneaky') && list.queries.some((q) => q.name === 'session-activity'));
    const admins = await get(readOnlyUi, '/api/queries/admin-through-memberships?server=pg2&since=7+days');
    assert.equal(admins.status, 200);
    assert.deepEqual(admins.body.rows.map((r) => r.role_name), ['azure_pg_admin', 'carol']);
    const missing = await get(readOnlyUi, '/api/queries/session-activity');
    assert.equal(missing.status, 422);
    assert.match(missing.body.error!, /needs --param session_id=VALUE/);
    const sneaky = await get(readOnlyUi, '/api/queries/sneaky');
    assert.equal(sneaky.status, 422);
    assert.match(sneaky.body.error!, /refused: statement 1 is DELETE/);
    const csv = await fetch(`http://127.0.0.1:${readOnlyUi.port}/api/queries/role-membership-graph.csv?server=pg2`);
    assert.equal((await csv.text()).trim().split('\n')[0], 'server,member,role_name,admin_option,grantor,granted_at');
  });

  it('an alert page names a rule no built-in rule has any more, and an unknown alert is 404', async () => {
    const page = (await (await fetch(`http://127.0.0.1:${readOnlyUi.port}/api/alerts/1`)).json()) as { alert: { summary: string }; rule: { id: string; description: string } };
    assert.equal(page.alert.summary, 'one');
    assert.deepEqual([page.rule.id, page.rule.description], ['r', 'This rule is not among the built-in rules of this version.']);
    assert.equal((await fetch(`http://127.0.0.1:${readOnlyUi.port}/api/alerts/999`)).status, 404);
  });

  it('serves the page for an alert, the saved queries and one saved query', async () => {
    for (const path of ['/alerts/1', '/queries', '/sql/spray-sources']) {
      const response = await fetch(`http://127.0.0.1:${readOnlyUi.port}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(await response.text(), /<script type="module" src="\/ui\/main.js"><\/script>/);
    }
  });
});
