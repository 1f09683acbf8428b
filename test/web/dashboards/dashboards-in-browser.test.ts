/**
 * The dashboards end to end in headless Chromium: a store ingested from the real capture in samples/
 * (with detection, so alerts exist), `auditduck serve` on it, every built-in dashboard loaded and its
 * numbers checked against the store; a click through to a role timeline; a dashboard whose panels fail
 * shows the errors in place while its other panel draws; and an alert acknowledged in the UI that
 * `auditduck run` serves, through its writer. Screenshots go to test-artifacts/dashboards/.
 *
 * Needs the Debian `chromium` (/usr/bin/chromium); playwright-core drives it and downloads nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createDetector } from '../../../src/detect/index.js';
import { ingestFiles } from '../../../src/pipeline/ingest-files.js';
import { closeDatabase, openDatabase } from '../../../src/store/open-database.js';
import { createDashboardRoutes } from '../../../src/web/dashboards/index.js';
import { startOpsServer } from '../../../src/web/ops-server.js';
import { queryStore } from '../../support/store-reader.js';
import { freePort, waitFor } from '../../support/local-ports.js';
import { readCapture } from './sample-capture.js';
import { runEnv } from '../../support/run-env.js';
import { CLI } from '../../support/cli-command.js';

const CHROMIUM = '/usr/bin/chromium';
/** On a developer's machine without Chromium these tests skip; in CI (which installs it) a missing browser fails them. */
const BROWSER_SKIP = existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is not installed (scripts/install-system-deps.sh installs it)`;
const ARTIFACTS = 'test-artifacts/dashboards';
const SAMPLES = ['samples/eventhubs/partition-0.jsonl', 'samples/eventhubs/partition-1.jsonl'];
/** The capture is short and its times are whatever day it was taken: look at all of it. */
const ALL_TIME = 'since=1970-01-01T00:00:00Z';
/** What the sample files hold, read from them directly: the counts the pages must show. */
const capture = readCapture(SAMPLES);

async function count(db: string, sql: string): Promise<number> {
  const rows = await queryStore(db, sql);
  return Number(Object.values(rows[0]!)[0]);
}

function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [...CLI, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
}

/** Opens a dashboard and waits until every panel has either drawn or shown its error. */
async function openDashboard(page: Page, base: string, path: string): Promise<void> {
  await page.goto(`${base}${path}`);
  await page.waitForSelector('#panels .panel');
  await page.waitForFunction(() => [...document.querySelectorAll('#panels .panel')].every((p) => (p as HTMLElement).dataset.state !== 'loading'));
}

const panel = (id: string) => `#panel-${id}`;

async function numberShown(page: Page, id: string): Promise<number> {
  return Number(await page.getAttribute(`${panel(id)} .number`, 'data-value'));
}

async function chartTotal(page: Page, id: string): Promise<number> {
  return Number(await page.getAttribute(`${panel(id)} .chart-box`, 'data-total'));
}

async function tableRows(page: Page, id: string): Promise<number> {
  return page.locator(`${panel(id)} tbody tr`).count();
}

async function noPanelErrors(page: Page): Promise<void> {
  const errors = await page.locator('.panel-error').allTextContents();
  assert.deepEqual(errors, [], 'no panel shows an error');
}

describe('dashboards in a browser, over a store ingested from samples/', { skip: BROWSER_SKIP }, () => {
  let dir: string;
  let db: string;
  let browser: Browser;
  let page: Page;
  let serve: { child: ChildProcess; output: () => string };
  let base: string;
  const pageErrors: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-ui-'));
    db = join(dir, 'store.duckdb');
    await ingestFiles(SAMPLES, {
      dbPath: db,
      format: 'auto',
      logLinePrefix: '%t-%c-',
      log: pino({ level: 'silent' }),
      observers: [createDetector({ exclude: { users: [], databases: [], clientAddrs: [] } })],
    });
    // A user's own dashboard folder: one panel that works, one whose SQL fails, one naming no query.
    const dashboards = join(dir, 'my-dashboards');
    const queries = join(dir, 'my-queries');
    await mkdir(dashboards);
    await mkdir(queries);
    await writeFile(
      join(queries, 'broken-query.sql'),
      '-- A query that fails: its table does not exist.\n-- @param since time = \'7 days\' : start\nSELECT count(*) FROM no_such_table WHERE CAST($since AS TIMESTAMPTZ) IS NOT NULL;\n',
    );
    await writeFile(
      join(dashboards, 'broken.json'),
      JSON.stringify({
        title: 'Partly broken',
        panels: [
          { id: 'works', title: 'Audit events', query: 'activity-totals', chart: 'number', value: 'audit_events', width: 'third' },
          { id: 'fails', title: 'Fails at run time', query: 'broken-query', chart: 'table', width: 'third' },
          { id: 'missing', title: 'Names no query', query: 'no-such-query', chart: 'bar', width: 'third' },
          { id: 'chart-works', title: 'Audit volume', query: 'audit-volume-over-time', chart: 'stacked-bar', x: 'bucket', y: 'events', series: 'series', width: 'full' },
        ],
      }),
    );

    const port = await freePort();
    serve = startCli(['serve', '--db', db, '--port', String(port), '--dashboards', dashboards, '--queries', queries]);
    base = await waitFor('serve to print its URL', async () => /at (http:\S+?)\/?\s/.exec(serve.output())?.[1]);
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    if (serve) await stop(serve.child);
    await rm(dir, { recursive: true, force: true });
  });

  it('overview shows the audit volume, alerts and privilege changes the store holds', async () => {
    await openDashboard(page, base, `/d/overview?${ALL_TIME}`);
    await noPanelErrors(page);
    // Input counts come from the sample files; what analysis made of them (changes, alerts), from the store.
    const auditEvents = capture.auditEvents.length;
    assert.ok(auditEvents > 0);
    assert.equal(await numberShown(page, 'audit-events'), auditEvents);
    assert.equal(await numberShown(page, 'privilege-changes'), await count(db, 'SELECT count(*) FROM privilege_changes WHERE effective'));
    assert.equal(await numberShown(page, 'open-alerts'), await count(db, `SELECT count(*) FROM alerts WHERE status = 'open'`));
    assert.equal(await chartTotal(page, 'volume-by-class'), auditEvents);
    const classes = [...new Set(capture.auditEvents.map((e) => e.class))].sort();
    assert.deepEqual((await page.getAttribute(`${panel('volume-by-class')} .chart-box`, 'data-series'))!.split(',').sort(), classes);
    assert.equal(await chartTotal(page, 'volume-by-server'), auditEvents);
    assert.equal(await chartTotal(page, 'alerts-by-severity'), await count(db, 'SELECT count(*) FROM alerts'));
    assert.equal(await tableRows(page, 'recent-changes'), Math.min(100, await count(db, 'SELECT count(*) FROM privilege_changes')));
    assert.equal(await page.locator('canvas').count(), 3, 'three charts drawn');
    await page.screenshot({ path: `${ARTIFACTS}/overview.png`, fullPage: true });
  });

  it('identities lists the rebuilt roles, who holds admin power, and the membership graph', async () => {
    await openDashboard(page, base, `/d/identities?${ALL_TIME}`);
    await noPanelErrors(page);
    assert.equal(await tableRows(page, 'role-inventory'), await count(db, 'SELECT count(*) FROM roles'));
    const superusers = (await queryStore(db, 'SELECT rolname FROM roles WHERE rolsuper ORDER BY rolname')).map((r) => String(r.rolname));
    assert.ok(superusers.length > 0, 'the capture makes a superuser');
    const adminCells = await page.locator(`${panel('admin-equivalent')} td[data-column="role_name"]`).allTextContents();
    for (const su of superusers) assert.ok(adminCells.includes(su), `${su} is listed as able to act as superuser`);
    const edges = await count(db, 'SELECT count(*) FROM role_memberships');
    assert.equal(Number(await page.getAttribute(`${panel('membership-graph')} .panel-body`, 'data-edges')), edges);
    if (edges === 0) assert.match((await page.textContent(panel('membership-graph')))!, /No memberships in force/);
    await page.screenshot({ path: `${ARTIFACTS}/identities.png`, fullPage: true });
  });

  it('authentication shows the failed logins, the spray source and the sessions without TLS', async () => {
    await openDashboard(page, base, `/d/authentication?${ALL_TIME}`);
    await noPanelErrors(page);
    const failures = capture.failedLogins.length;
    assert.ok(failures > 0);
    assert.equal(await numberShown(page, 'failed-logins'), failures);
    assert.equal(await chartTotal(page, 'failures-by-user'), failures);
    assert.equal(await chartTotal(page, 'failures-by-host'), failures);
    const sprayHosts = await count(db, 'SELECT count(*) FROM (SELECT client_addr FROM auth_failures GROUP BY ALL HAVING count(DISTINCT user_name) >= 3)');
    assert.ok(sprayHosts > 0, 'the capture holds a password spray');
    assert.equal(await tableRows(page, 'sprays'), sprayHosts);
    assert.equal(
      await tableRows(page, 'without-tls'),
      await count(db, `SELECT count(*) FROM (SELECT DISTINCT server, user_name, database_name, client_addr, application_name FROM sessions WHERE ssl = false AND user_name IS DISTINCT FROM 'azuresu')`),
    );
    await page.screenshot({ path: `${ARTIFACTS}/authentication.png`, fullPage: true });
  });

  it('alerts lists every alert with its evidence; serve is read-only, so acknowledging points elsewhere', async () => {
    await openDashboard(page, base, `/d/alerts?${ALL_TIME}`);
    await noPanelErrors(page);
    assert.equal(await tableRows(page, 'alert-list'), await count(db, 'SELECT count(*) FROM alerts'));
    assert.ok((await page.locator(`${panel('alert-list')} td[data-column="evidence"] details`).count()) > 0, 'evidence is shown');
    assert.equal(await page.isDisabled('#ack-button'), true);
    assert.match((await page.textContent('#ack-help'))!, /auditduck alerts ack/);
    await page.screenshot({ path: `${ARTIFACTS}/alerts-serve.png`, fullPage: true });
  });

  it('a role name clicks through to that role\'s timeline: its changes, sessions and alerts', async () => {
    await openDashboard(page, base, `/d/identities?${ALL_TIME}`);
    await Promise.all([page.waitForURL(/\/d\/role\?/), page.click(`${panel('role-inventory')} a.role-link:text-is("dba_alice")`)]);
    await page.waitForFunction(() => [...document.querySelectorAll('#panels .panel')].length > 0 && [...document.querySelectorAll('#panels .panel')].every((p) => (p as HTMLElement).dataset.state !== 'loading'));
    await noPanelErrors(page);
    assert.equal(new URL(page.url()).searchParams.get('role'), 'dba_alice');
    assert.equal(await page.inputValue('#pick-role'), 'dba_alice');
    const history = await count(
      db,
      `SELECT count(*) FROM privilege_changes WHERE role_name = 'dba_alice' OR grantee = 'dba_alice' OR granted_role = 'dba_alice' OR (action = 'rename-role' AND value = 'dba_alice')`,
    );
    assert.ok(history > 0);
    assert.equal(await tableRows(page, 'history'), history);
    assert.equal(await tableRows(page, 'sessions'), capture.sessions.filter((s) => s.user === 'dba_alice').length);
    assert.equal(await tableRows(page, 'alerts'), await count(db, `SELECT count(*) FROM alerts WHERE actor = 'dba_alice' OR target = 'dba_alice'`));
    await page.screenshot({ path: `${ARTIFACTS}/role-timeline.png`, fullPage: true });
  });

  it('every panel links to its SQL, and tables export as CSV', async () => {
    await openDashboard(page, base, `/d/authentication?${ALL_TIME}`);
    const csvHref = await page.getAttribute(`${panel('sprays')} a.csv-link`, 'href');
    const csv = await (await page.request.get(`${base}${csvHref}`)).text();
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], 'server,client_addr,user_names,failures,users,first_failure,last_failure');
    assert.equal(lines.length - 1, await tableRows(page, 'sprays'));
    await Promise.all([page.waitForURL(/\/sql\/spray-sources(\?|$)/), page.click(`${panel('sprays')} a.sql-link`)]);
    assert.match((await page.textContent('pre.sql'))!, /HAVING count\(DISTINCT user_name\) >= CAST\(\$min_users AS INTEGER\)/);
    await page.screenshot({ path: `${ARTIFACTS}/sql-page.png` });
  });

  it('a panel whose query fails shows the error in its place; the other panels still draw', async () => {
    await openDashboard(page, base, `/d/broken?${ALL_TIME}`);
    assert.match((await page.textContent(`${panel('fails')} .panel-error`))!, /no_such_table/);
    assert.match((await page.textContent(`${panel('missing')} .panel-error`))!, /no saved query named "no-such-query"/);
    assert.equal(await numberShown(page, 'works'), capture.auditEvents.length);
    assert.equal(await chartTotal(page, 'chart-works'), capture.auditEvents.length);
    await page.screenshot({ path: `${ARTIFACTS}/failing-panel.png`, fullPage: true });
  });

  it('raised no script errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});

describe('acknowledging an alert in the dashboards that auditduck run serves', { skip: BROWSER_SKIP }, () => {
  let dir: string;
  let db: string;
  let run: { child: ChildProcess; output: () => string };
  let browser: Browser;
  let base: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-ui-run-'));
    db = join(dir, 'store.duckdb');
    const port = await freePort();
    // No Event Hub configured: run ingests the demo stream (the same capture) through its writer.
    run = startCli(['run'], runEnv({ db, port, logLevel: 'info', extra: { AUDITDUCK_LOG_FORMAT: 'json' } }));
    base = `http://127.0.0.1:${port}`;
    await waitFor('run to store alerts', async () => {
      const response = await fetch(`${base}/api/dashboards/alerts/panels/alert-list?${ALL_TIME}`);
      const body = (await response.json()) as { rows?: unknown[] };
      return body.rows && body.rows.length > 0 ? true : undefined;
    });
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });

  after(async () => {
    await browser?.close();
    if (run) await stop(run.child);
    await rm(dir, { recursive: true, force: true });
  });

  let ackedOnItsPage: number;

  it('under run the dashboards refresh themselves, and say when they last did', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      await openDashboard(page, base, `/d/overview?${ALL_TIME}&refresh=1`);
      assert.equal(await page.isChecked('#auto-refresh'), true);
      await page.waitForFunction(() => Number((document.querySelector('#panel-audit-events') as HTMLElement).dataset.loads) >= 3, undefined, { timeout: 15_000 });
      assert.match((await page.textContent('#refreshed'))!, /^updated \d{2}:\d{2}:\d{2} UTC$/);
      await noPanelErrors(page);
    } finally {
      await page.close();
    }
  });

  it('an alert page acknowledges its alert with a comment and a classification, and shows who did it', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      const { rows } = (await (await fetch(`${base}/api/dashboards/alerts/panels/alert-list?${ALL_TIME}&status=open`)).json()) as { rows: { alert_id: number }[] };
      ackedOnItsPage = rows[rows.length - 1]!.alert_id;
      await page.goto(`${base}/alerts/${ackedOnItsPage}`);
      await page.waitForSelector('#ack-button:not([disabled])');
      await page.fill('#ack-comment', 'expected: the nightly job, ticket OPS-12');
      await page.selectOption('#ack-classification', 'benign');
      await Promise.all([page.waitForEvent('load'), page.click('#ack-button')]);
      await page.waitForSelector('#ack-record');
      assert.equal(await page.textContent('#alert-status'), 'acknowledged');
      assert.match((await page.textContent('#ack-status'))!, /^acknowledged by web UI, loopback without token at \d{4}-\d{2}-\d{2} [\d:.]+ UTC$/);
      assert.equal(await page.textContent('#ack-classification-shown'), 'benign');
      assert.equal(await page.textContent('#ack-comment-shown'), 'expected: the nightly job, ticket OPS-12');
      await page.screenshot({ path: `${ARTIFACTS}/alert-acknowledged.png`, fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('the Acknowledge button changes the alert in the store, through the writer', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await openDashboard(page, base, `/d/alerts?${ALL_TIME}`);
    await noPanelErrors(page);
    assert.equal(await page.isDisabled('#ack-button'), false);
    const firstBox = page.locator(`${panel('alert-list')} input.ack-box:not([disabled])`).first();
    await page.selectOption('#ack-classification', 'true-positive');
    const id = Number(await firstBox.getAttribute('value'));
    await firstBox.check();
    await page.screenshot({ path: `${ARTIFACTS}/alerts-run-before-ack.png`, fullPage: true });
    await Promise.all([page.waitForEvent('load'), page.click('#ack-button')]);
    await page.waitForFunction(() => [...document.querySelectorAll('#panels .panel')].every((p) => (p as HTMLElement).dataset.state !== 'loading'));
    const statusCell = page.locator(`${panel('alert-list')} tr[data-key="${id}"] td[data-column="status"]`);
    assert.equal(await statusCell.textContent(), 'acknowledged');
    assert.equal(await page.isDisabled(`${panel('alert-list')} input.ack-box[value="${id}"]`), true, 'no longer selectable');
    await page.screenshot({ path: `${ARTIFACTS}/alerts-run-after-ack.png`, fullPage: true });

    await stop(run.child);
    const rows = await queryStore(db, `SELECT status, acknowledged_by, ack_classification FROM alerts WHERE alert_id = ${id}`);
    assert.deepEqual(rows, [{ status: 'acknowledged', acknowledged_by: 'web UI, loopback without token', ack_classification: 'true-positive' }]);
    const onItsPage = await queryStore(db, `SELECT status, acknowledged_by, ack_comment, ack_classification FROM alerts WHERE alert_id = ${ackedOnItsPage}`);
    assert.deepEqual(onItsPage, [{ status: 'acknowledged', acknowledged_by: 'web UI, loopback without token', ack_comment: 'expected: the nightly job, ticket OPS-12', ack_classification: 'benign' }]);
    const others = await count(db, `SELECT count(*) FROM alerts WHERE alert_id NOT IN (${id}, ${ackedOnItsPage}) AND status = 'acknowledged'`);
    assert.equal(others, 0, 'only the alerts acknowledged changed');
  });
});

describe('the membership graph in a browser', { skip: BROWSER_SKIP }, () => {
  it('draws one arrow per membership and one box per role, and the chain reaches the admin table', async () => {
    // The capture revokes its one membership, so the graph is drawn over a small synthetic store.
    const db = await openDatabase(':memory:');
    await db.connection.run(`
      INSERT INTO roles (server, rolname, rolsuper) VALUES ('pg1', 'root_like', true), ('pg1', 'team', false), ('pg1', 'alice', false), ('pg1', 'bob', false);
      INSERT INTO role_memberships (server, role_name, member, admin_option, grantor) VALUES
        ('pg1', 'root_like', 'team', false, 'postgres'), ('pg1', 'team', 'alice', true, 'postgres'),
        ('pg1', 'team', 'bob', false, 'alice'), ('pg1', 'azure_pg_admin', 'bob', false, 'azuresu'),
        -- Another server with a role of the same name: a different role, never drawn in the same graph.
        ('pg2', 'team', 'carol', false, 'postgres'), ('pg2', 'admins', 'team', false, 'postgres');
    `);
    const ui = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      health: () => ({}),
      routes: createDashboardRoutes({ connection: await db.instance.connect(), log: pino({ level: 'silent' }) }),
    });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      await openDashboard(page, `http://127.0.0.1:${ui.port}`, '/d/identities');
      await noPanelErrors(page);
      const graph = panel('membership-graph');
      assert.equal(await page.locator(`${graph} svg line.edge`).count(), 4);
      assert.deepEqual((await page.locator(`${graph} svg g.node text`).allTextContents()).sort(), ['alice', 'azure_pg_admin', 'bob', 'root_like', 'team']);
      const via = await page.locator(`${panel('admin-equivalent')} td[data-column="via"]`).allTextContents();
      assert.ok(via.includes('alice → team → root_like'), via.join(' | '));
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}/membership-graph.png`, fullPage: true });

      // Zoomable: + and − change the drawing's size.
      const zoom = async () => Number(await page.getAttribute(`${graph} .graph-wrap`, 'data-zoom'));
      const before = await zoom();
      await page.click(`${graph} button.zoom-in`);
      assert.ok((await zoom()) > before);
      await page.click(`${graph} button.zoom-out`);
      await page.click(`${graph} button.zoom-out`);
      assert.ok((await zoom()) < before);

      // One server at a time; a click on a role keeps that server.
      await page.selectOption(`${graph} select.graph-server`, 'pg2');
      assert.equal(await page.locator(`${graph} svg line.edge`).count(), 2);
      assert.deepEqual((await page.locator(`${graph} svg g.node text`).allTextContents()).sort(), ['admins', 'carol', 'team']);
      await Promise.all([page.waitForURL(/\/d\/role\?/), page.click(`${graph} svg g.node a:has(text:text-is("carol"))`)]);
      assert.deepEqual(Object.fromEntries(new URL(page.url()).searchParams), { role: 'carol', server: 'pg2' });
      await page.waitForFunction(() => (document.querySelector('#panel-memberships') as HTMLElement | null)?.dataset.state === 'ready');
      assert.equal(await page.getAttribute(`${panel('memberships')} .panel-body`, 'data-server'), 'pg2');
      assert.deepEqual(await page.locator(`${panel('memberships')} svg g.node.current text`).allTextContents(), ['carol']);
    } finally {
      await browser.close();
      await ui.close();
      await closeDatabase(db);
    }
  });
});
