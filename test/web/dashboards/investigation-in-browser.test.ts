/**
 * Investigating the capture in samples/ as an analyst would, in headless Chromium over `auditduck serve`:
 * an old capture's open alerts on Overview and a range that fits the data, one message for a bad time, an
 * absolute From/To and Zoom out; an alert page (rule, MITRE, evidence as a table, timeline) whose entity
 * links of every kind land on pages with rows; a session page with every statement; a role page with what
 * the role did; every saved query run from its form; the dark theme. Counts come from the sample files
 * themselves (sample-capture.ts), not from the store the pages read. Screenshots at 1400 and 800 px go to
 * test-artifacts/dashboards/ (the ones in docs/screenshots/ are copies of these).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { createDetector } from '../../../src/detect/index.js';
import { RULES } from '../../../src/detect/rules/registry.js';
import { ingestFiles } from '../../../src/pipeline/ingest-files.js';
import { queryStore } from '../../support/store-reader.js';
import { freePort, waitFor } from '../../support/local-ports.js';
import { eventsBySession, readCapture, SAMPLE_FILES } from './sample-capture.js';
import { CLI } from '../../support/cli-command.js';

const CHROMIUM = '/usr/bin/chromium';
const BROWSER_SKIP = existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is not installed (scripts/install-system-deps.sh installs it)`;
const ARTIFACTS = 'test-artifacts/dashboards';
const capture = readCapture();
const SERVER = 'demo-flex';
const TIME_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?( UTC)?$/;

async function waitForPanels(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const panels = [...document.querySelectorAll('#panels .panel')];
    const stopped = document.querySelector('#picker-error:not([hidden])') || document.querySelector('#notice .notice');
    return (panels.length > 0 && panels.every((p) => (p as HTMLElement).dataset.state !== 'loading')) || (panels.length === 0 && stopped);
  });
}

async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await waitForPanels(page);
}

async function numberShown(page: Page, id: string): Promise<number> {
  return Number(await page.getAttribute(`#panel-${id} .number`, 'data-value'));
}

async function noPanelErrors(page: Page): Promise<void> {
  assert.deepEqual(await page.locator('.panel-error').allTextContents(), [], 'no panel shows an error');
}

/** The page at 1400 and 800 px: nothing wider than the window (tables scroll inside their panels). */
async function screenshots(page: Page, name: string): Promise<void> {
  for (const width of [1400, 800]) {
    await page.setViewportSize({ width, height: 900 });
    await page.waitForTimeout(300); // charts redraw on resize
    const [scrollWidth, clientWidth] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(scrollWidth <= clientWidth, `${name} at ${width} px is ${scrollWidth} px wide: something overflows`);
    await page.screenshot({ path: `${ARTIFACTS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1400, height: 1000 });
}

function startServe(args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [...CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  return { child, output: () => output };
}

describe('investigating the sample capture in a browser', { skip: BROWSER_SKIP }, () => {
  let dir: string;
  let db: string;
  let browser: Browser;
  let page: Page;
  let serve: ChildProcess;
  let base: string;
  const pageErrors: string[] = [];
  const firstEvent = Math.min(...[...capture.auditEvents, ...capture.failedLogins].map((e) => Date.parse(e.at)));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-investigate-'));
    db = join(dir, 'store.duckdb');
    await ingestFiles(SAMPLE_FILES, {
      dbPath: db,
      format: 'auto',
      logLinePrefix: '%t-%c-',
      log: pino({ level: 'silent' }),
      observers: [createDetector({ exclude: { users: [], databases: [], clientAddrs: [] } })],
    });
    // The built-in overview with a default range (the last hour) that holds none of the capture, whatever today is.
    const dashboards = join(dir, 'dashboards');
    await mkdir(dashboards);
    const overview = JSON.parse(readFileSync('dashboards/overview.json', 'utf8')) as { title: string; defaults: Record<string, string> };
    await writeFile(join(dashboards, 'recent.json'), JSON.stringify({ ...overview, title: 'Last hour', defaults: { since: '1 hour' }, nav: false }));
    const port = await freePort();
    const started = startServe(['--db', db, '--port', String(port), '--dashboards', dashboards]);
    serve = started.child;
    base = await waitFor('serve to print its URL', async () => /at (http:\S+?)\/?\s/.exec(started.output())?.[1]);
    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    // A page that never settles fails its test rather than hanging the run.
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    if (serve && serve.exitCode === null) {
      const exited = new Promise((resolve) => serve.once('exit', resolve));
      serve.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('an old capture: open alerts stay on Overview whatever the range, and the page says what lies outside it', async () => {
    const openAlerts = Number((await queryStore(db, `SELECT count(*) AS n FROM alerts WHERE status = 'open'`))[0]!.n);
    assert.ok(openAlerts > 0, 'detection raised alerts on the capture');
    await open(page, `${base}/d/overview?since=1+hour`);
    await noPanelErrors(page);
    assert.equal(await numberShown(page, 'audit-events'), 0, 'the last hour holds none of the capture');
    assert.equal(await numberShown(page, 'open-alerts'), openAlerts, 'open alerts never age out of view');
    assert.match((await page.textContent('#panel-open-alerts .panel-description'))!, /however long ago/);
    const outside = capture.auditEvents.length + capture.failedLogins.length;
    assert.match((await page.textContent('#range-outside'))!, new RegExp(`^${outside} events / ${openAlerts} open alerts outside this range — show all`));
    await Promise.all([page.waitForURL(/since=1970/), page.click('#show-all')]);
    await waitForPanels(page);
    assert.equal(await numberShown(page, 'audit-events'), capture.auditEvents.length);
    assert.equal(await page.locator('#range-outside').count(), 0, 'nothing outside all time');
  });

  it('a default range that holds none of the data fits itself to the data', async () => {
    await open(page, `${base}/d/recent`);
    await noPanelErrors(page);
    const since = new URL(page.url()).searchParams.get('since')!;
    assert.equal(since, `${new Date(firstEvent).toISOString().slice(0, 16)}:00Z`, 'from the minute of the first event');
    assert.match((await page.textContent('#range-fit'))!, /The default range \(last hour\) holds none of the \d+ events/);
    assert.equal(await numberShown(page, 'audit-events'), capture.auditEvents.length);
  });

  it('a bad time is one message at the picker, and no panel runs', async () => {
    await open(page, `${base}/d/overview?since=yesterday-ish`);
    assert.equal(await page.isVisible('#picker-error'), true);
    assert.match((await page.textContent('#picker-error'))!, /From "yesterday-ish" is neither a time .* nor a duration back from now/);
    assert.equal(await page.getAttribute('#pick-since', 'aria-invalid'), 'true');
    assert.equal(await page.locator('.panel-error').count(), 0);
    assert.equal(await page.locator('#panels .panel').count(), 0);
    await open(page, `${base}/d/overview?since=7+days&until=soon`);
    assert.match((await page.textContent('#picker-error'))!, /Until "soon"/);
  });

  it('an absolute From/To in UTC picks out part of the capture, and Zoom out triples the span', async () => {
    await open(page, `${base}/d/overview?since=1970-01-01T00:00:00Z`);
    await page.fill('#pick-since', '2026-11-27T02:20:30');
    await page.fill('#pick-until', '2026-11-27T02:20:31');
    assert.equal(await page.inputValue('#pick-range'), 'custom', 'typing a time switches the range to custom');
    await Promise.all([page.waitForURL(/until=/), page.click('#pickers button[type="submit"]')]);
    await waitForPanels(page);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('since'), '2026-11-27T02:20:30Z');
    assert.equal(url.searchParams.get('until'), '2026-11-27T02:20:31Z');
    const inWindow = capture.auditEvents.filter((e) => Date.parse(e.at) >= Date.parse('2026-11-27T02:20:30Z') && Date.parse(e.at) < Date.parse('2026-11-27T02:20:31Z'));
    assert.ok(inWindow.length > 0 && inWindow.length < capture.auditEvents.length);
    assert.equal(await numberShown(page, 'audit-events'), inWindow.length);
    await Promise.all([page.waitForURL((u) => u.searchParams.get('since') !== '2026-11-27T02:20:30Z'), page.click('#zoom-out')]);
    await waitForPanels(page);
    const zoomed = new URL(page.url());
    assert.equal(zoomed.searchParams.get('since'), '2026-11-27T02:20:29.000Z');
    assert.equal(zoomed.searchParams.get('until'), '2026-11-27T02:20:32.000Z');
    assert.equal(await numberShown(page, 'audit-events'), capture.auditEvents.length, 'the wider window holds the whole capture');
  });

  it('every time shown says its zone, and every change says where it came from', async () => {
    await open(page, `${base}/d/overview?since=1970-01-01T00:00:00Z`);
    const times = (await page.locator('td.cell').allTextContents()).filter((t) => TIME_TEXT.test(t));
    assert.ok(times.length > 0);
    for (const t of times) assert.match(t, / UTC$/, `${t} has no zone`);
    const header = await page.locator('#panel-recent-changes th').allTextContents();
    for (const column of ['client_addr', 'application_name', 'session_id']) assert.ok(header.includes(column), `recent changes show ${column}`);
    // The capture's changes all came over TCP from the test server's loopback, in sessions pgaudit saw start.
    const addresses = new Set(await page.locator('#panel-recent-changes td[data-column="client_addr"]').allTextContents());
    assert.deepEqual([...addresses], ['127.0.0.1']);
    assert.ok((await page.locator('#panel-recent-changes td[data-column="client_addr"] a.client-link').count()) > 0);
    await screenshots(page, 'overview');
  });

  it('the alerts table shows the summary in view and links each alert to its page', async () => {
    await open(page, `${base}/d/alerts?since=1970-01-01T00:00:00Z`);
    await noPanelErrors(page);
    const first = page.locator('#panel-alert-list td[data-column="summary"]').first();
    const box = (await first.boundingBox())!;
    assert.ok(box.x + 100 < 1400, `the summary starts in view (at x=${box.x})`);
    const [alert] = await queryStore(db, `SELECT alert_id, summary FROM alerts WHERE rule_id = 'md5-password' AND target LIKE '%@session'`);
    await Promise.all([page.waitForURL(`**/alerts/${String(alert!.alert_id)}`), page.click(`#panel-alert-list tr[data-key="${String(alert!.alert_id)}"] td[data-column="summary"] a`)]);
    await page.waitForSelector('#summary-text');
    assert.equal(await page.textContent('#summary-text'), alert!.summary);
  });

  it('an alert page: severity, the rule with its description and MITRE link, evidence as a table, the session timeline', async () => {
    const [alert] = await queryStore(db, `SELECT alert_id, severity FROM alerts WHERE rule_id = 'md5-password' AND target LIKE '%@session'`);
    await page.goto(`${base}/alerts/${String(alert!.alert_id)}`);
    await page.waitForSelector('#summary-text');
    assert.equal(await page.textContent('#alert-severity'), alert!.severity);
    assert.equal(await page.textContent('#rule-description'), RULES['md5-password'].description);
    assert.equal(await page.getAttribute('#mitre-link', 'href'), 'https://attack.mitre.org/techniques/T1556/');
    const fields = await page.locator('#evidence-table tbody th').allTextContents();
    for (const f of ['sessionId', 'actor', 'attribute', 'value', 'clientAddr', 'statement']) assert.ok(fields.includes(f), `evidence shows ${f}`);
    assert.equal(await page.textContent('#evidence-table tr:has(th:text-is("statement")) td'), "SET password_encryption = 'md5';");
    // The timeline: the session's statements around the alert, the one it stands on marked.
    const session = (await page.textContent('#evidence-table tr:has(th:text-is("sessionId")) td'))!;
    const statements = capture.auditEvents.filter((e) => e.session === session).length;
    assert.equal(await page.locator('#timeline-table tbody tr:has(td[data-column="kind"]:text-is("statement"))').count(), statements);
    assert.equal(await page.locator('#timeline-table tr.in-alert').count(), 1);
    assert.match((await page.textContent('#timeline-table tr.in-alert'))!, /SET password_encryption = 'md5';/);
    // serve cannot write: the acknowledge form says what works instead.
    assert.equal(await page.isDisabled('#ack-button'), true);
    assert.match((await page.textContent('#ack-help'))!, /auditduck alerts ack/);
    await screenshots(page, 'alert');
  });

  it('the entities of an alert link by kind, and each link lands on a page with rows', async () => {
    const [alert] = await queryStore(db, `SELECT alert_id FROM alerts WHERE rule_id = 'md5-password' AND target LIKE '%@session'`);
    await page.goto(`${base}/alerts/${String(alert!.alert_id)}`);
    await page.waitForSelector('#alert-entities');
    const links: Record<string, string> = {};
    for (const kind of ['role', 'session', 'client', 'setting', 'server']) {
      const href = await page.getAttribute(`#alert-entities dd[data-kind="${kind}"] a.${kind}-link >> nth=0`, 'href');
      assert.ok(href, `a ${kind} link`);
      links[kind] = href!;
    }
    assert.match(links.role!, /^\/d\/role\?role=postgres&server=demo-flex/);
    assert.match(links.setting!, /^\/d\/setting\?parameter=password_encryption/);
    for (const [kind, href] of Object.entries(links)) {
      await open(page, `${base}${href}`);
      await noPanelErrors(page);
      const rows = (await page.locator('#panels .panel').evaluateAll((ps) => ps.map((p) => Number((p as HTMLElement).dataset.rows ?? 0)))).reduce((a, b) => a + b, 0);
      assert.ok(rows > 0, `the ${kind} page (${href}) has rows`);
    }
    // The setting page: the three changes of password_encryption in the capture, each with where it came from.
    await open(page, `${base}${links.setting}`);
    assert.deepEqual(await page.locator('#panel-history td[data-column="action"]').allTextContents(), ['set-parameter', 'set-parameter', 'reset-parameter']);
    assert.deepEqual(new Set(await page.locator('#panel-history td[data-column="client_addr"]').allTextContents()), new Set(['127.0.0.1']));
  });

  it('a session page lists every statement of the session in order', async () => {
    const [session, statements] = eventsBySession(capture)[0]!;
    const user = capture.sessions.find((s) => s.session === session)!.user;
    await open(page, `${base}/d/session?session_id=${session}&server=${SERVER}`);
    await noPanelErrors(page);
    assert.equal(await page.textContent('#title'), `Session: ${session}`);
    assert.equal(await page.locator('#panel-statements tbody tr').count(), statements);
    const shown = await page.locator('#panel-statements td[data-column="logged_at"]').allTextContents();
    assert.deepEqual(shown, [...shown].sort(), 'in order');
    assert.equal(await page.textContent('#panel-session dd[data-column="statements"]'), String(statements));
    assert.equal(await page.textContent('#panel-session dd[data-column="user_name"] a.role-link'), user);
    await screenshots(page, 'session');
  });

  it('a role page answers what the role did: changes it made as actor, its sessions and addresses', async () => {
    await open(page, `${base}/d/role?role=dba_alice&server=${SERVER}&since=1970-01-01T00:00:00Z`);
    await noPanelErrors(page);
    const byActor = await page.locator('#panel-by-role td[data-column="actor"]').allTextContents();
    assert.ok(byActor.length > 0 && byActor.every((a) => a === 'dba_alice'), 'changes made by dba_alice');
    const toRole = await page.locator('#panel-history td[data-column="actor"]').allTextContents();
    assert.ok(toRole.includes('postgres'), 'changes made to dba_alice by postgres');
    const sessions = capture.sessions.filter((s) => s.user === 'dba_alice').map((s) => s.session);
    assert.ok(sessions.length > 1);
    assert.deepEqual(new Set(await page.locator('#panel-sessions td[data-column="session_id"]').allTextContents()), new Set(sessions));
    assert.deepEqual(await page.locator('#panel-addresses td[data-column="client_addr"]').allTextContents(), ['127.0.0.1']);
    await screenshots(page, 'role');
  });

  it('every saved query is listed and runs from its form', async () => {
    const files = readdirSync('queries').filter((f) => f.endsWith('.sql')).map((f) => f.slice(0, -4)).sort();
    await page.goto(`${base}/queries`);
    await page.waitForSelector('#query-list');
    assert.deepEqual(await page.locator('#query-list a.query-link').allTextContents(), files);
    // Values from the capture for every required parameter any saved query has.
    const values: Record<string, string> = {
      role: 'dba_alice', actor: 'dba_alice', session_id: '6b08e8ef.43a5', client_addr: '127.0.0.1',
      parameter: 'password_encryption', server: SERVER,
    };
    for (const name of files) {
      await page.goto(`${base}/sql/${name}`);
      await page.waitForSelector('#query-rows');
      for (const input of await page.locator('#query-form input[required]').all()) {
        const param = (await input.getAttribute('name'))!;
        assert.ok(values[param], `${name} needs ${param}: give it a value from the capture`);
        await input.fill(values[param]!);
      }
      await page.click('#run-query');
      await page.waitForFunction(() => ['ready', 'error'].includes((document.querySelector('#query-rows') as HTMLElement).dataset.state ?? ''));
      assert.deepEqual(await page.locator('#query-rows .panel-error').allTextContents(), [], `${name} runs`);
    }
    // One in full: the session's statements, the count the capture has.
    await page.goto(`${base}/sql/session-activity`);
    await page.fill('#param-session_id', '6b08e8ef.43a5');
    await page.click('#run-query');
    await page.waitForSelector('#query-rows[data-state="ready"]');
    assert.equal(Number(await page.getAttribute('#query-rows', 'data-rows')), capture.auditEvents.filter((e) => e.session === '6b08e8ef.43a5').length);
    assert.match(page.url(), /\/sql\/session-activity\?session_id=6b08e8ef\.43a5$/, 'the run is in the URL, to share');
    assert.equal(await page.locator('#query-rows td[data-column="client_addr"] a.client-link').count(), capture.auditEvents.filter((e) => e.session === '6b08e8ef.43a5').length);
    assert.equal(await page.locator('#query-rows td[data-column="parameter"] a').count(), 0, "pgaudit's parameter field is not a setting");
    await page.screenshot({ path: `${ARTIFACTS}/saved-query.png`, fullPage: true });
  });

  it('follows the system dark theme, and the toggle overrides it and is remembered', async () => {
    const dark = await browser.newPage({ viewport: { width: 1400, height: 900 }, colorScheme: 'dark' });
    try {
      const background = () => dark.evaluate(() => getComputedStyle(document.body).backgroundColor);
      await open(dark, `${base}/d/overview?since=1970-01-01T00:00:00Z`);
      assert.equal(await background(), 'rgb(18, 22, 29)');
      await dark.screenshot({ path: `${ARTIFACTS}/overview-dark.png`, fullPage: true });
      await dark.click('#theme-toggle');
      assert.equal(await background(), 'rgb(244, 246, 249)');
      await open(dark, `${base}/d/alerts?since=1970-01-01T00:00:00Z`);
      assert.equal(await background(), 'rgb(244, 246, 249)', 'the choice holds on the next page');
    } finally {
      await dark.close();
    }
  });

  it('raised no script errors in the page', () => {
    assert.deepEqual(pageErrors, []);
  });
});
