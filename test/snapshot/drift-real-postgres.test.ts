/**
 * Against a real PostgreSQL 15 + pgaudit: snapshot, audited role changes, role changes in a session that
 * silenced pgaudit (`SET pgaudit.log = 'none'`), snapshot again, ingest the server's jsonlog, evaluate:
 * exactly the silenced changes are drift (and alerts), the audited ones are not. Then `roles` equals
 * the server's pg_roles with nothing uncertain, and audited changes after the snapshot apply on top.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startPostgres, type PgServer } from '../support/postgres-server.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';
import { evaluateDrift } from '../../src/snapshot/evaluate-drift.js';
import { passwordFor } from '../../src/snapshot/server-connection.js';
import { takeSnapshot } from '../../src/snapshot/take-snapshot.js';
import { watchedServerSchema } from '../../src/snapshot/watched-server.js';
import { runQuery } from '../../src/query/run-query.js';
import { openQueryTarget } from '../../src/query/query-target.js';
import { rolesAtTime } from '../../src/query/roles-at-time.js';

const SERVER = 'pg15-drift';
const log = pino({ level: 'silent' });

describe('drift between two snapshots of a real server', () => {
  let pg: PgServer;
  let dir: string;
  let dbPath: string;
  let secondAt: Date;

  before(async () => {
    pg = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'auditduck-drift-'));
    dbPath = join(dir, 'store.duckdb');
  });
  after(async () => {
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const watched = () =>
    watchedServerSchema.parse({ name: SERVER, host: pg.host, port: pg.port, user: pg.superuser, sslmode: 'require', auth: { kind: 'password-env', env: 'PG_SNAPSHOT_PASSWORD' } });

  async function snapshot() {
    const server = watched();
    const db = await openDatabase(dbPath);
    try {
      return await takeSnapshot(server, { connection: db.connection, password: passwordFor(server, { env: { PG_SNAPSHOT_PASSWORD: pg.superuserPassword } }), passwordMaxAgeDays: 365 });
    } finally {
      await closeDatabase(db);
    }
  }

  async function psqlOk(sql: string): Promise<void> {
    const r = await pg.psql(sql);
    assert.equal(r.code, 0, r.stderr);
  }

  it('reports exactly the changes made while pgaudit was silenced, and raises one alert for each', async () => {
    assert.ok(pg.ssl, 'the test server needs TLS (openssl) for sslmode require');
    await psqlOk(`CREATE ROLE alice LOGIN; CREATE ROLE bob LOGIN; CREATE ROLE grp NOLOGIN; CREATE ROLE doomed NOLOGIN;`);
    const first = await snapshot();
    assert.ok(first.roles > 5);

    await psqlOk(`CREATE ROLE audited_new NOLOGIN; ALTER ROLE alice CREATEDB; GRANT grp TO alice; DROP ROLE doomed;`);
    await psqlOk(`SET pgaudit.log = 'none';
      ALTER ROLE bob SUPERUSER;
      GRANT grp TO bob WITH ADMIN OPTION;
      CREATE ROLE sneaky LOGIN;
      ALTER ROLE alice CONNECTION LIMIT 3;`);
    await new Promise((r) => setTimeout(r, 20));
    secondAt = (await snapshot()).takenAt;

    await pg.flushLogs();
    await ingestFiles([pg.logFiles().jsonlog], { dbPath, format: 'auto', logLinePrefix: '%t-%c-', server: SERVER, log });

    const db = await openDatabase(dbPath);
    try {
      const windows = await evaluateDrift(db.connection);
      assert.equal(windows.length, 1);
      assert.equal(windows[0]!.status, 'evaluated');
      const drift = windows[0]!.drift.map((d) => `${d.kind} ${d.role} ${d.attribute ?? ''} ${d.granted_role ?? ''} ${d.before} -> ${d.after}`.replace(/ +/g, ' '));
      assert.deepEqual(drift.sort(), [
        'attribute alice rolconnlimit -1 -> 3',
        'attribute bob rolsuper false -> true',
        'membership bob membership grp none -> member with admin option',
        'role sneaky absent -> present',
      ]);
      const stored = await runQuery(db.connection, `SELECT role, kind, explained, window_start < window_end AS ordered FROM drift ORDER BY role, kind`);
      assert.equal(stored.rows.length, 4);
      assert.ok(stored.rows.every((r) => r.explained === false && r.ordered === true));
      const alerts = await runQuery(db.connection, `SELECT rule_id, severity, target, summary FROM alerts WHERE rule_id = 'drift.change-not-in-trail' ORDER BY target, summary`);
      assert.equal(alerts.rows.length, 4);
      assert.ok(alerts.rows.every((a) => a.severity === 'high' && String(a.summary).startsWith('change not in the audit trail')));
      assert.deepEqual([...new Set(alerts.rows.map((a) => a.target))], ['alice', 'bob', 'sneaky']);
      // Evaluated once: a second evaluation finds nothing pending.
      assert.deepEqual(await evaluateDrift(db.connection), []);
    } finally {
      await closeDatabase(db);
    }
  });

  it('rebuilds roles equal to pg_roles after the snapshot, with nothing uncertain', async () => {
    const client = await pg.connect();
    let live: Record<string, unknown>[];
    let liveMembers: Record<string, unknown>[];
    try {
      live = (await client.query(`SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolconnlimit, rolbypassrls, rolvaliduntil IS NULL AS no_expiry FROM pg_roles ORDER BY rolname`)).rows;
      liveMembers = (await client.query(`SELECT r.rolname AS role_name, m.rolname AS member, a.admin_option FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member ORDER BY 1, 2`)).rows;
    } finally {
      await client.end();
    }
    const db = await openDatabase(dbPath);
    try {
      const rebuilt = await runQuery(db.connection, `SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolconnlimit, rolbypassrls, rolvaliduntil IS NULL AS no_expiry, uncertain FROM roles WHERE server = '${SERVER}' ORDER BY rolname`);
      assert.deepEqual(rebuilt.rows.map(({ uncertain: _u, ...r }) => r), live);
      assert.ok(rebuilt.rows.every((r) => Array.isArray(r.uncertain) && r.uncertain.length === 0));
      const members = await runQuery(db.connection, `SELECT role_name, member, admin_option FROM role_memberships WHERE server = '${SERVER}' ORDER BY 1, 2`);
      assert.deepEqual(members.rows, liveMembers);
      const created = await runQuery(db.connection, `SELECT created_by FROM roles WHERE server = '${SERVER}' AND rolname = 'audited_new'`);
      assert.equal(created.rows[0]?.created_by, 'postgres', 'what only the trail knows is kept on top of the snapshot');
    } finally {
      await closeDatabase(db);
    }
  });

  it('answers `roles --at` just before the second snapshot from the first one and the audited changes only', async () => {
    const target = await openQueryTarget(dbPath);
    try {
      const at = new Date(secondAt.getTime() - 1);
      const rows = (await rolesAtTime(target, { server: SERVER, at })).rows;
      const byName = new Map(rows.map((r) => [r.rolname, r]));
      assert.equal(byName.get('alice')?.rolcreatedb, true, 'audited ALTER ROLE applied');
      assert.ok(byName.has('audited_new'));
      assert.ok(!byName.has('doomed'), 'audited DROP ROLE applied');
      assert.equal(byName.get('bob')?.rolsuper, false, 'the silenced change is not in the trail');
      assert.ok(!byName.has('sneaky'));
      const members = (await rolesAtTime(target, { server: SERVER, at, memberships: true })).rows.map((m) => `${m.role_name}>${m.member}`);
      assert.deepEqual(members.filter((m) => m.startsWith('grp>')), ['grp>alice']);
    } finally {
      await target.close();
    }
  });

  it('applies audited changes made after the latest snapshot on top of it', async () => {
    await psqlOk(`ALTER ROLE alice NOCREATEDB CREATEROLE; REVOKE grp FROM bob;`);
    await pg.flushLogs();
    await ingestFiles([pg.logFiles().jsonlog], { dbPath, format: 'auto', logLinePrefix: '%t-%c-', server: SERVER, log });
    const db = await openDatabase(dbPath);
    try {
      const alice = await runQuery(db.connection, `SELECT rolcreatedb, rolcreaterole, rolconnlimit FROM roles WHERE server = '${SERVER}' AND rolname = 'alice'`);
      assert.deepEqual(alice.rows, [{ rolcreatedb: false, rolcreaterole: true, rolconnlimit: 3 }]);
      const bob = await runQuery(db.connection, `SELECT count(*)::INTEGER AS n FROM role_memberships WHERE server = '${SERVER}' AND member = 'bob'`);
      assert.equal(bob.rows[0]?.n, 0);
    } finally {
      await closeDatabase(db);
    }
  });
});
