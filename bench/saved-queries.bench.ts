/**
 * Saved queries on a generated store of 10 million audit events (plus sessions, privilege changes, auth
 * failures and roles at matching scale). Target: every saved query under 1 s. Prints a table of timings
 * (best and median of 3 runs) and the baseline `SELECT count(*) FROM audit_events`, measured in the same
 * run on the same connection.
 * `--threads N` sets DuckDB's threads for the queries (default: DuckDB's, one per core): what the queries would
 * pay if `run` held its instance at one thread for its lake export (docs/benchmarks.md, "The lake export").
 * Run: node --import tsx bench/saved-queries.bench.ts [--rows N] [--keep DIR] [--threads N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runReadOnly } from '../src/query/read-only-query.js';
import { loadSavedQueries, resolveParams } from '../src/query/saved-queries.js';
import { closeDatabase, openDatabase } from '../src/store/open-database.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000000' }, keep: { type: 'string' }, threads: { type: 'string' } } });
const ROWS = Number(values.rows);
const TARGET_MS = 1000;
const RUNS = 3;

/** Values for required parameters that hit rows in the generated data. */
const REQUIRED: Record<string, string> = { actor: 'user_42', role: 'role_42', session_id: 'sess_4242' };

const dir = values.keep ?? mkdtempSync(join(tmpdir(), 'auditduck-bench-'));
const path = join(dir, 'bench.duckdb');

async function generate(): Promise<void> {
  const db = await openDatabase(path);
  const c = db.connection;
  const small = Math.max(1000, Math.floor(ROWS / 50));
  // Spread over the last 30 days, so the saved queries' default ranges (1 to 30 days) select real slices.
  await c.run(`
    INSERT INTO audit_events
    SELECT 'pg-' || (i % 4), now() - to_milliseconds(CAST((${ROWS} - i) * (30 * 86400000.0 / ${ROWS}) AS BIGINT)),
      'sess_' || (i // 50), 1000 + (i // 50) % 30000, 'SESSION', i % 1000, 1,
      ['READ', 'WRITE', 'ROLE', 'DDL', 'MISC'][1 + i % 5], ['SELECT', 'INSERT', 'GRANT', 'CREATE TABLE', 'SET'][1 + i % 5],
      CASE WHEN i % 5 < 2 THEN 'TABLE' END, CASE WHEN i % 5 < 2 THEN 'public.t' || (i % 200) END,
      'select * from t' || (i % 200) || ' where id = ' || i, '<none>', i % 100,
      'user_' || (i % 500), 'db' || (i % 10), '10.0.' || (i % 250) || '.' || (i % 7), 'app_' || (i % 50),
      'LOG', 'bench', CAST(i AS VARCHAR), false, NULL
    FROM range(${ROWS}) t(i)`);
  await c.run(`
    INSERT INTO sessions (server, session_id, pid, started_at, ended_at, user_name, database_name, application_name, client_addr, client_port, auth_method, ssl)
    SELECT 'pg-' || (k % 4), 'sess_' || k, 1000 + k % 30000, now() - to_milliseconds(CAST((${small} - k) * (60 * 86400000.0 / ${small}) AS BIGINT)), NULL,
      'user_' || (k % 700), 'db' || (k % 10), 'app_' || (k % 60), '10.' || (k % 200) || '.' || (k % 13) || '.1', 40000 + k % 20000,
      'scram-sha-256', k % 7 <> 0
    FROM range(${small}) t(k)`);
  await c.run(`
    INSERT INTO privilege_changes (server, logged_at, session_id, actor, action, role_name, attribute, value, granted_role, privileges, object_type, object_name, grantee, statement, effective, seq)
    SELECT 'pg-' || (k % 4), now() - to_milliseconds(CAST((${small} - k) * (60 * 86400000.0 / ${small}) AS BIGINT)), 'sess_' || (k * 7),
      'user_' || (k % 500),
      ['create-role', 'set-attribute', 'set-password', 'grant-role', 'grant', 'revoke', 'set-parameter', 'default-grant'][1 + k % 8],
      'role_' || (k % 5000),
      CASE k % 8 WHEN 1 THEN ['rolsuper', 'rolcreaterole', 'rolcanlogin'][1 + k % 3] WHEN 2 THEN 'has_password' WHEN 6 THEN ['pgaudit.log', 'log_connections', 'work_mem'][1 + k % 3] END,
      CASE k % 8 WHEN 1 THEN 'true' WHEN 2 THEN ['clear', 'scram-sha-256'][1 + k % 2] WHEN 6 THEN 'none' END,
      CASE WHEN k % 8 = 3 THEN ['azure_pg_admin', 'app_ro'][1 + k % 2] END,
      CASE WHEN k % 8 IN (4, 5, 7) THEN ['SELECT'] END, CASE WHEN k % 8 IN (4, 5, 7) THEN 'table' END,
      CASE WHEN k % 8 IN (4, 5, 7) THEN 'public.t' || (k % 200) END,
      CASE WHEN k % 8 IN (4, 5, 7) THEN CASE WHEN k % 3 = 0 THEN 'PUBLIC' ELSE 'role_' || (k % 5000) END WHEN k % 8 = 3 THEN 'role_' || (k % 5000) END,
      'statement ' || k, k % 50 <> 0, k
    FROM range(${small}) t(k)`);
  await c.run(`
    INSERT INTO auth_failures (server, logged_at, session_id, pid, user_name, database_name, client_addr, sqlstate, reason, role_exists, source, position)
    SELECT 'pg-' || (k % 4), now() - to_milliseconds(CAST((${small} - k) * (30 * 86400000.0 / ${small}) AS BIGINT)), 'fail_' || k, k % 30000,
      'user_' || (k % 900), 'db' || (k % 10), '198.51.' || (k % 100) || '.' || (k % 250), '28P01', 'password authentication failed', k % 900 < 700, 'bench', CAST(k AS VARCHAR)
    FROM range(${small}) t(k)`);
  await c.run(`
    INSERT INTO roles (server, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolconnlimit, rolbypassrls, has_password, created_at, password_changed_at)
    SELECT 'pg-' || (k % 4), 'role_' || k, k % 500 = 0, true, k % 200 = 0, false, k % 3 <> 0, k % 1000 = 0, -1, false, k % 3 <> 0,
      now() - INTERVAL 90 DAY, CASE WHEN k % 5 <> 0 THEN now() - to_milliseconds(k * 3600000) END
    FROM range(20000) t(k)`);
  await c.run(`
    INSERT INTO role_memberships SELECT 'pg-' || (k % 4), ['azure_pg_admin', 'app_ro', 'pg_read_all_data'][1 + k % 3], 'role_' || k, false, 'user_1', now() - to_milliseconds(k * 60000)
    FROM range(20000) t(k)`);
  await c.run(`
    INSERT INTO dead_letters SELECT 'eventhubs:hub/' || (k % 4), CAST(k AS VARCHAR), ['event body is not valid JSON', 'record has no category'][1 + k % 2], '{}', now() - to_milliseconds(k * 60000)
    FROM range(20000) t(k)`);
  await c.run('CHECKPOINT');
  await closeDatabase(db);
}

async function timeIt(run: () => Promise<unknown>): Promise<{ best: number; median: number; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    const result = (await run()) as { rows: unknown[] };
    times.push(performance.now() - t0);
    rows = result.rows.length;
  }
  times.sort((a, b) => a - b);
  return { best: times[0]!, median: times[Math.floor(RUNS / 2)]!, rows };
}

const t0 = performance.now();
await generate();
const generateSeconds = (performance.now() - t0) / 1000;

const db = await openDatabase(path, { readOnly: true });
try {
  if (values.threads) await db.connection.run(`SET threads = ${Number(values.threads)}`);
  const baseline = await timeIt(() => runReadOnly(db.connection, 'SELECT count(*) FROM audit_events'));
  const results: { name: string; best: number; median: number; rows: number }[] = [];
  for (const q of loadSavedQueries()) {
    const given = Object.fromEntries(q.params.filter((p) => p.defaultValue === undefined).map((p) => [p.name, REQUIRED[p.name] ?? '']));
    const params = resolveParams(q, given);
    results.push({ name: q.name, ...(await timeIt(() => runReadOnly(db.connection, q.sql, params))) });
  }
  const ms = (n: number) => n.toFixed(1).padStart(9);
  const lines = [
    `saved queries on ${ROWS.toLocaleString('en')} audit events (store generated in ${generateSeconds.toFixed(1)} s; best and median of ${RUNS} runs; ${values.threads ? `threads ${Number(values.threads)}; ` : ''}Node ${process.version})`,
    `${'query'.padEnd(28)}${'best ms'.padStart(9)}${'median ms'.padStart(11)}${'rows'.padStart(8)}  target`,
    `${'baseline: count(*)'.padEnd(28)}${ms(baseline.best)}  ${ms(baseline.median)}${String(baseline.rows).padStart(8)}`,
    ...results.map((r) => `${r.name.padEnd(28)}${ms(r.best)}  ${ms(r.median)}${String(r.rows).padStart(8)}  ${r.median < TARGET_MS ? 'ok' : 'SLOW'}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const slow = results.filter((r) => r.median >= TARGET_MS);
  if (slow.length > 0) {
    process.stdout.write(`over ${TARGET_MS} ms: ${slow.map((r) => r.name).join(', ')}\n`);
    process.exitCode = 1;
  }
} finally {
  await closeDatabase(db);
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
