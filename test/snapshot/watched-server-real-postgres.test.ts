/**
 * Watching a real PostgreSQL 15 + pgaudit configured badly on purpose (md5 passwords, TLSv1 allowed,
 * pgaudit without ROLE, connections not logged): posture findings; a least-privilege reader logging in
 * with an Entra token (a stub TokenCredential; the server's password is the token); wrong credentials,
 * TLS verification and an unreachable server fail with reasons that say what to check; the schedule
 * retries a down server with backoff while ingestion into the same store goes on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { pino } from 'pino';
import { startPostgres, type PgServer } from '../support/postgres-server.js';
import { compilePrefix } from '../../src/decode/prefix/compile-prefix.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { ingestPath } from '../../src/pipeline/ingest-path.js';
import { IngestSummary } from '../../src/pipeline/ingest-summary.js';
import { runQuery } from '../../src/query/run-query.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';
import { passwordFor, ServerConnectError, connectToServer } from '../../src/snapshot/server-connection.js';
import { startSnapshotSchedule } from '../../src/snapshot/snapshot-schedule.js';
import { takeSnapshot } from '../../src/snapshot/take-snapshot.js';
import { watchedServerSchema, type WatchedServer } from '../../src/snapshot/watched-server.js';
import { CLI } from '../support/cli-command.js';

const log = pino({ level: 'silent' });
const TOKEN = `eyJ0eXAiOiJKV1QiLCJhbGciOi.stub-entra-token.${Date.now()}`;

function stubCredential(): TokenCredential & { calls: number } {
  const c = {
    calls: 0,
    async getToken(): Promise<AccessToken> {
      c.calls += 1;
      return { token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
  return c;
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('a watched server configured weakly', () => {
  let pg: PgServer;
  let dir: string;
  const server = (over: Partial<Record<string, unknown>> = {}): WatchedServer =>
    watchedServerSchema.parse({ name: 'weak', host: pg.host, port: pg.port, user: pg.superuser, sslmode: 'require', auth: { kind: 'password-env', env: 'PW' }, ...over });
  const env = () => ({ PW: pg.superuserPassword });

  before(async () => {
    pg = await startPostgres({
      pgauditLog: 'ddl',
      settings: { password_encryption: 'md5', ssl_min_protocol_version: 'TLSv1', log_connections: 'off' },
    });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-watch-'));
    const r = await pg.psql(`
      CREATE ROLE app LOGIN PASSWORD 'app-Pw-1' VALID UNTIL 'infinity';
      CREATE ROLE expiring LOGIN PASSWORD 'exp-Pw-1' VALID UNTIL '2030-01-01';
      CREATE ROLE quiet LOGIN;
      ALTER ROLE quiet SET pgaudit.log = 'none';
      -- pg_hba asks for SCRAM, which an MD5-stored password cannot answer.
      SET password_encryption = 'scram-sha-256';
      CREATE ROLE entra_reader LOGIN PASSWORD '${TOKEN}';
      GRANT pg_read_all_settings, pg_monitor TO entra_reader;`);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds md5 passwords, a TLS minimum below 1.2, pgaudit without ROLE (server-wide and on a role), unlogged connections and a never-expiring login', async () => {
    const db = await openDatabase(join(dir, 'posture.duckdb'));
    try {
      const s = server();
      const result = await takeSnapshot(s, { connection: db.connection, password: passwordFor(s, { env: env() }), passwordMaxAgeDays: 90 });
      const found = result.findings.map((f) => `${f.check_id} ${f.subject}`).sort();
      assert.deepEqual(found, [
        'posture.connections-not-logged log_connections',
        'posture.login-role-without-expiry app',
        'posture.login-role-without-expiry entra_reader',
        'posture.login-role-without-expiry postgres',
        'posture.password-encryption-md5 password_encryption',
        'posture.pgaudit-not-logging-role pgaudit.log',
        'posture.pgaudit-not-logging-role role quiet',
        'posture.weak-tls-minimum ssl_min_protocol_version',
      ]);
      const stored = await runQuery(db.connection, `SELECT count(*)::INTEGER AS n FROM posture_findings WHERE snapshot_id = '${result.snapshotId}'`);
      assert.equal(stored.rows[0]?.n, found.length);
      // Read as a superuser: pg_authid is readable, so whether a password is set is known (never the hash).
      const app = await runQuery(db.connection, `SELECT has_password, password_md5 FROM role_snapshots WHERE snapshot_id = '${result.snapshotId}' AND rolname = 'app'`);
      assert.deepEqual(app.rows, [{ has_password: true, password_md5: true }]);
      const settings = await runQuery(db.connection, `SELECT name, setting FROM setting_snapshots WHERE snapshot_id = '${result.snapshotId}' AND name IN ('pgaudit.log', 'password_encryption') ORDER BY name`);
      assert.deepEqual(settings.rows, [{ name: 'password_encryption', setting: 'md5' }, { name: 'pgaudit.log', setting: 'ddl' }]);
    } finally {
      await closeDatabase(db);
    }
  });

  it('logs in with a Microsoft Entra token from the credential, as a least-privilege reader', async () => {
    const credential = stubCredential();
    const s = server({ user: 'entra_reader', auth: { kind: 'entra' } });
    const password = passwordFor(s, { credential });
    const db = await openDatabase(join(dir, 'entra.duckdb'));
    try {
      const first = await takeSnapshot(s, { connection: db.connection, password, passwordMaxAgeDays: 90 });
      await takeSnapshot(s, { connection: db.connection, password, passwordMaxAgeDays: 90 });
      assert.equal(credential.calls, 1, 'the token is cached until shortly before it expires');
      assert.deepEqual(first.unreadable, ['pg_authid']);
      const settings = await runQuery(db.connection, `SELECT setting FROM setting_snapshots WHERE snapshot_id = '${first.snapshotId}' AND name = 'pgaudit.log'`);
      assert.deepEqual(settings.rows, [{ setting: 'ddl' }]);
      const app = await runQuery(db.connection, `SELECT rolcanlogin, rolvaliduntil, has_password FROM role_snapshots WHERE snapshot_id = '${first.snapshotId}' AND rolname = 'app'`);
      assert.deepEqual(app.rows, [{ rolcanlogin: true, rolvaliduntil: 'infinity', has_password: null }]);
    } finally {
      await closeDatabase(db);
    }
  });

  /** name, the server, the environment it reads its password from, the reason expected. */
  const failures: [string, () => Promise<WatchedServer>, () => Record<string, string>, RegExp][] = [
    ['a wrong password', async () => server(), () => ({ PW: 'not-the-password' }), /password authentication failed for user postgres: check the password in \$PW/],
    ['a missing password variable', async () => server(), () => ({}), /environment variable PW .* is not set/],
    ['a certificate that does not verify (verify-full, self-signed)', async () => server({ sslmode: 'verify-full' }), env, /TLS verification failed: the server certificate is self-signed/],
    ['a server that is down', async () => server({ port: await closedPort() }), env, /connection refused by 127\.0\.0\.1:\d+: the server is down/],
    ['a host that does not resolve', async () => server({ host: 'no-such-host.invalid' }), env, /the host name no-such-host\.invalid does not resolve/],
  ];
  for (const [name, make, passwordEnv, reason] of failures) {
    it(`says what to check on ${name}, without the password`, async () => {
      const s = await make();
      const error = await connectToServer(s, passwordFor(s, { env: passwordEnv() })).then(
        () => assert.fail('connected'),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ServerConnectError, String(error));
      assert.match(error.reason, reason);
      assert.ok(!error.message.includes(pg.superuserPassword));
    });
  }

  it('retries a server that is down with backoff while ingestion into the same store goes on', async () => {
    const store = await AuditStore.open(join(dir, 'schedule.duckdb'));
    const down = server({ name: 'down', port: await closedPort() });
    const up = server({ name: 'weak' });
    const warnings: string[] = [];
    const captured = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const schedule = startSnapshotSchedule({ store, servers: [down, up], intervalMs: 60_000, initialBackoffMs: 40, log: captured, env: env() });
    try {
      const pipeline = await IngestPipeline.create(store);
      const summary = new IngestSummary();
      await pg.flushLogs();
      await ingestPath(pg.logFiles().jsonlog, { pipeline, store, summary, log }, { format: 'auto', prefix: compilePrefix('%t-%c-'), server: 'weak', defaultServer: 'local' });
      assert.ok(summary.toJSON().records as number > 0);

      const deadline = Date.now() + 15_000;
      let status = schedule.status();
      while (Date.now() < deadline) {
        status = schedule.status();
        const d = status.find((s) => s.server === 'down')!;
        const u = status.find((s) => s.server === 'weak')!;
        if (d.consecutiveFailures >= 3 && u.lastSuccessAt) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const d = status.find((s) => s.server === 'down')!;
      assert.ok(d.consecutiveFailures >= 3, `retried: ${JSON.stringify(d)}`);
      assert.match(d.lastError ?? '', /connection refused/);
      assert.ok(status.find((s) => s.server === 'weak')!.lastSuccessAt, 'the other server was read meanwhile');
      assert.ok(warnings.some((w) => w.includes('snapshot of down failed: connection refused')));
      assert.ok(warnings.every((w) => !w.includes(pg.superuserPassword)));
    } finally {
      await schedule.stop();
    }
    const rows = await runQuery(store.connection, `SELECT (SELECT count(*) FROM log_records WHERE server = 'weak')::INTEGER AS records, (SELECT count(*) FROM snapshots WHERE server = 'weak')::INTEGER AS snapshots`);
    await store.close();
    assert.ok((rows.rows[0]!.records as number) > 0);
    assert.equal(rows.rows[0]!.snapshots, 1);
  });

  it('auditduck snapshot and auditduck roles on the command line: JSON on stdout, a down server fails with its reason', async () => {
    const db = join(dir, 'cli.duckdb');
    const config = join(dir, 'auditduck.config.json');
    const down = await closedPort();
    await writeFile(config, JSON.stringify({ snapshots: { servers: [
      { name: 'weak', host: pg.host, port: pg.port, user: pg.superuser, sslmode: 'require', auth: { kind: 'password-env', env: 'PW' } },
      { name: 'down', host: '127.0.0.1', port: down, user: 'x', sslmode: 'require', auth: { kind: 'password-env', env: 'PW' } },
    ] } }));
    const cli = (args: string[]) => spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', env: { ...process.env, PW: pg.superuserPassword, AUDITDUCK_LOG_LEVEL: 'error' } });

    const ok = cli(['snapshot', '--db', db, '--config', config, '--server', 'weak', '--format', 'json']);
    assert.equal(ok.status, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as { snapshots: { server: string; findings: unknown[] }[]; failed: unknown[] };
    assert.deepEqual(report.snapshots.map((s) => s.server), ['weak']);
    assert.ok(report.snapshots[0]!.findings.length >= 5);
    assert.deepEqual(report.failed, []);

    const failed = cli(['snapshot', '--db', db, '--config', config, '--server', 'down', '--retries', '1']);
    assert.notEqual(failed.status, 0);
    assert.match(failed.stderr, new RegExp(`cannot snapshot down: connection refused by 127\\.0\\.0\\.1:${down}`));
    assert.ok(!failed.stderr.includes(pg.superuserPassword) && !ok.stdout.includes(pg.superuserPassword));

    const roles = cli(['roles', '--db', db, '--server', 'weak', '--format', 'json']);
    assert.equal(roles.status, 0, roles.stderr);
    const app = (JSON.parse(roles.stdout) as Record<string, unknown>[]).find((r) => r.rolname === 'app');
    assert.deepEqual({ canLogin: app?.rolcanlogin, validUntil: app?.rolvaliduntil, uncertain: app?.uncertain }, { canLogin: true, validUntil: 'infinity', uncertain: [] });
  });
});
