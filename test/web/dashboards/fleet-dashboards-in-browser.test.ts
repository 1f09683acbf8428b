/**
 * The dashboards over a fleet, in headless Chromium: two stores, each holding records the other does not
 * and one file both hold (the same source and positions, as a batch read twice around a takeover). The
 * overview's audit-events panel counts every record of both stores once, under `auditduck serve --fleet`
 * and under `auditduck run` with `fleetPeers` (its own store held by the pipeline, the peer's read as
 * `query --fleet` reads it).
 *
 * Needs the Debian `chromium` (/usr/bin/chromium); playwright-core drives it and downloads nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { ingestFiles } from '../../../src/pipeline/ingest-files.js';
import { startEventHubsBroker, type EventHubsBroker } from '../../support/eventhubs-broker/index.js';
import { freePort, waitFor } from '../../support/local-ports.js';
import { runEnv } from '../../support/run-env.js';
import { startCli, stopChild, waitServing } from '../../support/run-child.js';
import { queryStore } from '../../support/store-reader.js';
import { readCapture, writeCaptureParts } from './sample-capture.js';

const CHROMIUM = '/usr/bin/chromium';
const BROWSER_SKIP = existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is not installed (scripts/install-system-deps.sh installs it)`;
const ARTIFACTS = 'test-artifacts/dashboards';
const ALL_TIME = 'since=1970-01-01T00:00:00Z';

async function auditEvents(db: string): Promise<number> {
  return Number((await queryStore(db, 'SELECT count(*) AS n FROM audit_events'))[0]!.n);
}

describe('dashboards over a fleet of two stores, in a browser', { skip: BROWSER_SKIP }, () => {
  let dir: string;
  let stores: { a: string; b: string };
  let expected: number;
  let onlyInA: number;
  let browser: Browser;
  let page: Page;
  let broker: EventHubsBroker;
  const children: ChildProcess[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-fleet-ui-'));
    stores = { a: join(dir, 'a.duckdb'), b: join(dir, 'b.duckdb') };
    // The capture cut in four files: A holds the first three, B the last three. The two in the middle are
    // read from the same paths by both, so their rows have the same (source, position) in each store.
    const quarters = await writeCaptureParts(dir, 4);
    const ingest = (db: string, files: string[]) => ingestFiles(files, { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: pino({ level: 'silent' }) });
    await ingest(stores.a, quarters.slice(0, 3));
    await ingest(stores.b, quarters.slice(1));
    // What the files hold, read from them: every record of the fleet once.
    expected = readCapture(quarters).auditEvents.length;
    onlyInA = await auditEvents(stores.a);
    assert.ok(onlyInA < expected && (await auditEvents(stores.b)) < expected, 'each store holds part of the fleet');
    assert.ok(onlyInA + (await auditEvents(stores.b)) > expected, 'the stores share records');

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
    for (const child of children) await stopChild(child);
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The overview's audit-events number, once every panel has drawn (or failed). */
  const auditEventsShown = async (base: string): Promise<number> => {
    await page.goto(`${base}/d/overview?${ALL_TIME}`);
    await page.waitForSelector('#panels .panel');
    await page.waitForFunction(() => [...document.querySelectorAll('#panels .panel')].every((p) => (p as HTMLElement).dataset.state !== 'loading'), null, { timeout: 60_000 });
    assert.deepEqual(await page.locator('.panel-error').allTextContents(), [], 'no panel shows an error');
    return Number(await page.getAttribute('#panel-audit-events .number', 'data-value'));
  };

  it('serve --fleet: a panel counts the records of both stores, each once', async () => {
    const port = await freePort();
    const serve = startCli(['serve', '--fleet', stores.a, '--fleet', stores.b, '--port', String(port)], { ...process.env, AUDITDUCK_LOG_LEVEL: 'warn' });
    children.push(serve.child);
    const base = await waitFor('serve to print its URL', async () => /at (http:\S+?)\/?\s/.exec(serve.output())?.[1], 60_000);
    assert.equal(await auditEventsShown(base), expected);
    assert.match((await page.textContent('#notice #fleet'))!, /Fleet: a, b/);
    await page.screenshot({ path: `${ARTIFACTS}/fleet-overview.png`, fullPage: true });
    await stopChild(serve.child);
    assert.deepEqual(pageErrors, []);
  });

  it('run with fleetPeers: its own store, held by the pipeline, and the peer store count once each', async () => {
    broker = await startEventHubsBroker({ hubName: 'fleet-ui', partitionCount: 1 });
    const port = await freePort();
    const config = join(dir, 'run.json');
    await writeFile(config, JSON.stringify({ fleetPeers: [stores.b] }));
    const run = startCli(['run', '--config', config], runEnv({ db: stores.a, port, hub: { connectionString: broker.connectionString, hubName: 'fleet-ui' } }));
    children.push(run.child);
    const base = `http://127.0.0.1:${port}`;
    await waitServing('run', port);
    assert.equal(await auditEventsShown(base), expected);
    assert.match((await page.textContent('#notice #fleet'))!, /Fleet: a, b/);
    // Without peers the same page counts this instance's store alone.
    await stopChild(run.child);
    const alone = startCli(['run'], runEnv({ db: stores.a, port, hub: { connectionString: broker.connectionString, hubName: 'fleet-ui' } }));
    children.push(alone.child);
    await waitServing('run without peers', port);
    assert.equal(await auditEventsShown(base), onlyInA);
    assert.equal(await page.locator('#notice #fleet').count(), 0);
    await stopChild(alone.child);
    assert.deepEqual(pageErrors, []);
  });
});

