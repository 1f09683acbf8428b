/**
 * Activity Log records end to end through `ingestFiles`, in both shapes Azure writes them (Event Hubs bodies
 * and Storage PT1H.json lines): rows in control_plane_events with outcomes joined to their Start, the admin
 * password nowhere in the store, the storage account counted and skipped, and the same server's SQL trail
 * and control-plane changes together in the saved timeline.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { findSavedQuery, resolveParams } from '../../src/query/saved-queries.js';
import { runQuery } from '../../src/query/run-query.js';
import { openDatabase, closeDatabase } from '../../src/store/open-database.js';
import { dumpStore, queryStore, silentLogger, type Row } from '../support/store-reader.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/activity-log/${name}`, import.meta.url));
const HUB = fixture('insights-activity-logs.jsonl');
const PT1H = fixture('PT1H.json');
const SERVER_LOGS = fixture('pg-prod-server-logs.jsonl');

const ROWS_SQL = `SELECT server, logged_at, operation, action, status, caller, caller_type, caller_ip, correlation_id, target,
  requested_value, requested_from, subscription, resource_group, category, level, result_signature, status_code, duration_ms
  FROM control_plane_events ORDER BY logged_at, status`;

const T = (s: string) => new Date(s).toISOString();
const FW = 'microsoft.dbforpostgresql/flexibleservers/firewallrules/write';
const CFG = 'microsoft.dbforpostgresql/flexibleservers/configurations/write';
const SRV = 'microsoft.dbforpostgresql/flexibleservers/write';
const DIAG = 'microsoft.insights/diagnosticsettings/delete';
const MALLORY = 'mallory@contoso.com';
const PIPELINE_APP = '1f6b0c2a-5d3e-4e8f-9a71-2b4c6d8e0f13';

/** [logged_at, operation, status, caller, target, requested_value, requested_from] of every row, in time order. */
const EXPECTED: [string, string, string, string, string | null, string | null, string | null][] = [
  ['2026-11-21T03:05:00.123Z', FW, 'start', MALLORY, 'AllowAll', '0.0.0.0-255.255.255.255', 'request'],
  ['2026-11-21T03:05:01.441Z', FW, 'accept', MALLORY, 'AllowAll', null, null],
  // The outcome's resource id is upper-cased in the record: the same server, the same request.
  ['2026-11-21T03:05:40.998Z', FW, 'success', MALLORY, 'ALLOWALL', '0.0.0.0-255.255.255.255', 'start'],
  ['2026-11-21T03:06:00.000Z', CFG, 'start', MALLORY, 'require_secure_transport', 'OFF', 'request'],
  ['2026-11-21T03:06:20.250Z', CFG, 'success', MALLORY, 'require_secure_transport', 'OFF', 'start'],
  ['2026-11-21T03:07:10.000Z', FW, 'start', MALLORY, 'Office', '10.0.0.0-10.255.255.255', 'request'],
  ['2026-11-21T03:07:12.500Z', FW, 'failure', MALLORY, 'Office', '10.0.0.0-10.255.255.255', 'start'],
  ['2026-11-21T03:08:00.000Z', SRV, 'start', PIPELINE_APP, null, 'administratorLoginPassword=<REDACTED>', 'request'],
  ['2026-11-21T03:08:01.000Z', SRV, 'accept', PIPELINE_APP, null, null, null],
  ['2026-11-21T03:09:30.000Z', SRV, 'success', PIPELINE_APP, null, 'administratorLoginPassword=<REDACTED>', 'start'],
  ['2026-11-23T21:00:00.000Z', DIAG, 'start', MALLORY, 'to-eventhub', null, null],
  ['2026-11-23T21:00:00.600Z', DIAG, 'success', MALLORY, 'to-eventhub', null, null],
];

function brief(rows: Row[]) {
  return rows.map((r) => [r.logged_at, r.operation, r.status, r.caller, r.target, r.requested_value, r.requested_from]);
}

describe('Activity Log ingest', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-control-plane-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('Event Hubs bodies: every PostgreSQL record a row, outcomes joined to their Start, the storage account counted and skipped', async () => {
    const db = join(dir, 'hub.duckdb');
    const summary = await ingestFiles([HUB], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    assert.equal(summary.controlPlaneEvents, 12);
    assert.equal(summary.skipped, 1);
    assert.deepEqual(Object.fromEntries(summary.skippedCategories), { 'ActivityLog microsoft.storage/storageaccounts': 1 });
    assert.equal(summary.deadLetters, 0);

    const rows = await queryStore(db, ROWS_SQL);
    assert.deepEqual(brief(rows), EXPECTED.map(([at, ...rest]) => [T(at), ...rest]));
    for (const r of rows) {
      assert.equal(r.server, 'pg-prod');
      assert.equal(r.subscription, '8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10');
      assert.equal(r.resource_group, 'rg-data');
    }
    const success = rows.find((r) => r.operation === FW && r.status === 'success')!;
    assert.equal(success.correlation_id, '6a1c9e52-3b7d-4f08-9d2e-5c4a7b1e8f30', 'lower-cased from the upper-cased record');
    assert.equal(success.caller_type, 'upn');
    assert.equal(success.caller_ip, '203.0.113.7');
    assert.equal(success.duration_ms, 40875);
    assert.equal(success.result_signature, 'Succeeded.OK');
    assert.equal(success.status_code, 'OK');
    const failure = rows.find((r) => r.status === 'failure')!;
    assert.equal(failure.level, 'Error');
    assert.equal(failure.status_code, 'BadRequest');
    assert.equal(rows.find((r) => r.operation === SRV && r.status === 'start')!.caller_type, 'appid');
  });

  it('the admin password and the storage keys are nowhere in the store', async () => {
    const db = join(dir, 'hub.duckdb');
    const dump = await dumpStore(db);
    assert.match(dump, /administratorLoginPassword/);
    for (const secret of ['Tr0ub4dor', 'c3VwZXJzZWNyZXRzdG9yYWdla2V5MQ==']) assert.doesNotMatch(dump, new RegExp(secret.replace(/[+=]/g, '\\$&')), secret);
    const props = await queryStore(db, `SELECT properties::VARCHAR AS p FROM control_plane_events WHERE operation = '${SRV}' AND status = 'start'`);
    assert.equal(JSON.parse(JSON.parse(String(props[0]!.p)).requestbody).properties.administratorLoginPassword, '<REDACTED>');
  });

  it('PT1H.json lines give the same rows as the Event Hubs bodies', async () => {
    const db = join(dir, 'pt1h.duckdb');
    const summary = await ingestFiles([PT1H], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    assert.equal(summary.controlPlaneEvents, 12);
    assert.deepEqual(Object.fromEntries(summary.skippedCategories), { 'ActivityLog microsoft.storage/storageaccounts': 1 });
    assert.deepEqual(await queryStore(db, ROWS_SQL), await queryStore(join(dir, 'hub.duckdb'), ROWS_SQL));
    assert.doesNotMatch(await dumpStore(db), /Tr0ub4dor/);
  });

  it('an outcome stored in a batch before its Start gets the requested value when the Start arrives', async () => {
    // One event a batch: the firewall Success (first line) commits before its Start (second line).
    const db = join(dir, 'one-by-one.duckdb');
    await ingestFiles([HUB], { dbPath: db, format: 'eventhubs', logLinePrefix: '%t-%c-', log: silentLogger, batchRecords: 1 });
    assert.deepEqual(brief(await queryStore(db, ROWS_SQL)), EXPECTED.map(([at, ...rest]) => [T(at), ...rest]));
  });

  it('re-reading the same file adds nothing', async () => {
    const db = join(dir, 'hub.duckdb');
    const summary = await ingestFiles([HUB], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    assert.equal(summary.controlPlaneEvents, 0);
    assert.equal((await queryStore(db, 'SELECT count(*) AS n FROM control_plane_events'))[0]!.n, 12);
  });

  it("the server's logs and its Activity Log join by server name: the timeline shows both planes", async () => {
    const db = join(dir, 'both.duckdb');
    await ingestFiles([SERVER_LOGS, HUB], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    const query = findSavedQuery('server-timeline');
    const handle = await openDatabase(db, { readOnly: true });
    let rows: Row[];
    try {
      rows = (await runQuery(handle.connection, query.sql, resolveParams(query, { server: 'pg-prod', since: '2026-11-21T03:00:00Z', until: '2026-11-21T03:15:00Z' }) as Record<string, string>)).rows;
    } finally {
      await closeDatabase(handle);
    }
    assert.deepEqual(
      rows.map((r) => [r.logged_at, r.plane, r.kind, r.actor, r.source_addr, r.target, r.detail]),
      [
        [T('2026-11-21T03:05:00.123Z'), 'control', 'firewall-rule-write start', MALLORY, '203.0.113.7', 'AllowAll', '0.0.0.0-255.255.255.255'],
        [T('2026-11-21T03:05:01.441Z'), 'control', 'firewall-rule-write accept', MALLORY, '203.0.113.7', 'AllowAll', null],
        [T('2026-11-21T03:05:40.998Z'), 'control', 'firewall-rule-write success', MALLORY, '203.0.113.7', 'ALLOWALL', '0.0.0.0-255.255.255.255'],
        [T('2026-11-21T03:06:00.000Z'), 'control', 'configuration-write start', MALLORY, '203.0.113.7', 'require_secure_transport', 'OFF'],
        [T('2026-11-21T03:06:20.250Z'), 'control', 'configuration-write success', MALLORY, '203.0.113.7', 'require_secure_transport', 'OFF'],
        [T('2026-11-21T03:07:10.000Z'), 'control', 'firewall-rule-write start', MALLORY, '203.0.113.7', 'Office', '10.0.0.0-10.255.255.255'],
        [T('2026-11-21T03:07:12.500Z'), 'control', 'firewall-rule-write failure', MALLORY, '203.0.113.7', 'Office', '10.0.0.0-10.255.255.255'],
        [T('2026-11-21T03:08:00.000Z'), 'control', 'server-write start', PIPELINE_APP, '20.50.1.2', null, 'administratorLoginPassword=<REDACTED>'],
        [T('2026-11-21T03:08:01.000Z'), 'control', 'server-write accept', PIPELINE_APP, '20.50.1.2', null, null],
        [T('2026-11-21T03:09:30.000Z'), 'control', 'server-write success', PIPELINE_APP, '20.50.1.2', null, 'administratorLoginPassword=<REDACTED>'],
        [T('2026-11-21T03:10:00.120Z'), 'sql', 'session', 'mallory', '203.0.113.7', 'postgres', 'psql (no TLS)'],
        [T('2026-11-21T03:12:00.123Z'), 'sql', 'ROLE CREATE ROLE', 'mallory', '203.0.113.7', null, 'create role backdoor login superuser password <REDACTED>'],
      ],
    );
  });
});
