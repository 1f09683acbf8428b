/**
 * Plain `auditduck query`, `shell`, `export` and `serve` after hot retention: with a lake configured, each
 * events table is the store's rows plus the lake's rows retention dropped, so counts over a capture spanning
 * days are what they were before retention, no row twice, and the query stays confined.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { exportStoreToLake, hotRetention, openLakeStorage, openStoreAndLakeQueryTarget, parseLakeLocation, type Exclusive } from '../../src/lake/index.js';
import { openQueryTarget } from '../../src/query/query-target.js';
import { rolesAtTime } from '../../src/query/roles-at-time.js';
import { loadSavedQueries, resolveParams } from '../../src/query/saved-queries.js';
import { waitFor } from '../support/local-ports.js';
import { copyLakeToBlob, withBlobLake } from '../support/azurite-blob.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { queryStore, silentLogger } from '../support/store-reader.js';
import { storeAndLakeOfFourDays } from '../support/four-day-capture.js';
import { CLI } from '../support/cli-command.js';

const exec = promisify(execFile);

const COUNTS = `SELECT (SELECT count(*) FROM log_lines) AS log_lines, (SELECT count(*) FROM audit_events) AS audit_events,
  (SELECT count(*) FROM auth_failures) AS auth_failures, (SELECT count(*) FROM privilege_changes) AS privilege_changes,
  (SELECT count(*) FROM log_records) AS log_records, (SELECT count(DISTINCT (source, position)) FROM log_records) AS distinct_records,
  (SELECT min(logged_at)::VARCHAR FROM log_records) AS oldest, (SELECT count(DISTINCT logged_at::DATE) FROM audit_events) AS days`;

const PANEL = { name: 'activity-totals', params: { since: '2026-11-20T00:00:00Z', until: '2026-11-25T00:00:00Z' } };

function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)));
}

async function retain(db: string, lake: string, now: Date): Promise<number> {
  const store = await AuditStore.open(db);
  try {
    const exclusive: Exclusive = (work) => work(store.connection);
    const pass = hotRetention({ lake: await openLakeStorage(parseLakeLocation(lake)), exclusive, hotDays: 1, log: silentLogger, now: () => now });
    return (await pass()).audit_events ?? 0;
  } finally {
    await store.close();
  }
}

async function countsThrough(db: string, lake: string, sql = COUNTS): Promise<Record<string, unknown>> {
  const target = await openStoreAndLakeQueryTarget(db, lake);
  try {
    return (await target.run(sql)).rows[0]!;
  } finally {
    await target.close();
  }
}

describe('query over the store and the lake after hot retention', () => {
  let dir: string;
  let db: string;
  let lake: string;
  let full: Record<string, unknown>;
  const ROLES_AT = { at: new Date('2026-11-22T12:00:00Z') };
  let rolesBefore: unknown;
  let panelBefore: unknown;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-hot-lake-'));
    ({ db, lake } = await storeAndLakeOfFourDays(dir));
    full = (await queryStore(db, COUNTS))[0]!;
    const target = await openQueryTarget(db);
    try {
      rolesBefore = await rolesAtTime(target, ROLES_AT);
      const saved = loadSavedQueries().find((q) => q.name === PANEL.name)!;
      panelBefore = plain(await target.run(saved.sql, resolveParams(saved, PANEL.params)));
    } finally {
      await target.close();
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('counts every row once, as before retention, while the store keeps one day', async () => {
    assert.equal(Number(full.days), 4);
    assert.ok((await retain(db, lake, new Date('2026-11-24T12:00:00Z'))) > 0);
    const [hot] = await queryStore(db, COUNTS);
    assert.equal(Number(hot!.days), 1, 'the store alone keeps one day');
    assert.deepEqual(await countsThrough(db, lake), full);
  });

  it('still counts every row once after a later pass drops the last day too', async () => {
    await exportStoreToLake(db, lake, silentLogger);
    assert.ok((await retain(db, lake, new Date('2026-11-25T12:00:00Z'))) > 0);
    const [hot] = await queryStore(db, COUNTS);
    assert.equal(Number(hot!.audit_events), 0);
    const [horizons] = await queryStore(db, `SELECT count(*) AS n FROM hot_horizons`);
    assert.equal(Number(horizons!.n), 1, 'the later pass covers the earlier one');
    assert.deepEqual(await countsThrough(db, lake), full);
  });

  it('answers plain `auditduck query` with AUDITDUCK_LAKE set from the store and the lake', async () => {
    const { stdout } = await exec(process.execPath, [...CLI, 'query', '--db', db, '--format', 'json', COUNTS], {
      env: { ...process.env, AUDITDUCK_LAKE: lake, AUDITDUCK_LOG_LEVEL: 'warn' },
    });
    assert.deepEqual(JSON.parse(stdout)[0], JSON.parse(JSON.stringify(full, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))));
  });

  it('reads the dropped rows from a Blob lake through a local mirror', async () => {
    await withBlobLake(async (url, blob) => {
      await copyLakeToBlob(lake, blob);
      assert.deepEqual(await countsThrough(db, url), full);
    });
  });

  it('answers `auditduck shell` with AUDITDUCK_LAKE set from the store and the lake', async () => {
    const shell = spawn(process.execPath, [...CLI, 'shell', '--db', db], {
      env: { ...process.env, AUDITDUCK_LAKE: lake, AUDITDUCK_LOG_LEVEL: 'warn', AUDITDUCK_HISTORY: join(dir, 'history') },
    });
    let out = '';
    shell.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    shell.stdin.end(`\\format json\n${COUNTS.replace(/\n/g, ' ')};\n`);
    await once(shell, 'exit');
    assert.deepEqual(JSON.parse(out)[0], plain(full));
  });

  it('exports with AUDITDUCK_LAKE set every row of the span, from the store and the lake', async () => {
    const file = join(dir, 'audit-events.csv');
    await exec(process.execPath, [...CLI, 'export', '--db', db, '--table', 'audit_events', '--since', '2026-11-01T00:00:00Z', '--output', file], {
      env: { ...process.env, AUDITDUCK_LAKE: lake, AUDITDUCK_LOG_LEVEL: 'warn' },
    });
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    assert.equal(lines.length - 1, Number(full.audit_events));
  });

  it('serves with AUDITDUCK_LAKE set the dashboards\' queries as before retention', async () => {
    const serve = spawn(process.execPath, [...CLI, 'serve', '--db', db, '--port', '0'], {
      env: { ...process.env, AUDITDUCK_LAKE: lake, AUDITDUCK_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      serve.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const url = await waitFor('serve to listen', async () => /at (http:\S+)/.exec(out)?.[1]);
      const response = await fetch(`${url}api/queries/${PANEL.name}?${new URLSearchParams(PANEL.params)}`);
      assert.equal(response.status, 200, await response.clone().text());
      assert.deepEqual(await response.json(), panelBefore);
    } finally {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    }
  });

  it('keeps the query confined: no file beyond the store and the lake, nothing written', async () => {
    const target = await openStoreAndLakeQueryTarget(db, lake);
    try {
      await assert.rejects(target.run(`SELECT * FROM read_text('/etc/hostname')`), /Permission|not allowed|read-only|statement/i);
      await assert.rejects(target.run(`CREATE TABLE x AS SELECT 1`), /read-only|not allowed|statement/i);
      await assert.rejects(target.run(`COPY (SELECT 1) TO '${join(lake, 'x.csv')}'`), /read-only|not allowed|statement|Permission/i);
    } finally {
      await target.close();
    }
  });

  it('rebuilds `roles --at` for a dropped day from the store alone: retention keeps its privilege_changes', async () => {
    const target = await openQueryTarget(db);
    try {
      const rows = await rolesAtTime(target, ROLES_AT);
      assert.ok(rows.rows.length > 0);
      assert.deepEqual(rows, rolesBefore);
    } finally {
      await target.close();
    }
  });

  it('reads the store alone without a lake', async () => {
    const target = await openQueryTarget(db);
    try {
      assert.equal(Number((await target.run(`SELECT count(*) AS n FROM audit_events`)).rows[0]!.n), 0);
    } finally {
      await target.close();
    }
  });
});

describe('query over the store and many rows retention dropped', () => {
  it('reads them back within the memory limit of the store it opens', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-hot-lake-many-'));
    const db = join(dir, 'store.duckdb');
    const lake = join(dir, 'lake');
    const rows = 1_000_000;
    const saved = process.env.AUDITDUCK_MEMORY_LIMIT;
    try {
      const store = await AuditStore.open(db);
      await store.connection
        .run(
          `INSERT INTO audit_events (server, logged_at, audit_type, class, statement, source, position)
           SELECT 'pg-1', TIMESTAMPTZ '2026-11-20 00:00:00+00' + to_milliseconds(i), 'SESSION', 'READ', 'SELECT ' || i, 'gen', 'p' || i FROM range(${rows}) t(i)`,
        )
        .finally(() => store.close());
      await exportStoreToLake(db, lake, silentLogger);
      assert.equal(await retain(db, lake, new Date('2026-11-24T12:00:00Z')), rows);
      // Each row of the lake is matched to the store's horizons as it streams by: nothing a row is held.
      process.env.AUDITDUCK_MEMORY_LIMIT = '24MB';
      assert.deepEqual(await countsThrough(db, lake, 'SELECT count(*) AS n FROM audit_events'), { n: rows });
    } finally {
      if (saved === undefined) delete process.env.AUDITDUCK_MEMORY_LIMIT;
      else process.env.AUDITDUCK_MEMORY_LIMIT = saved;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
