/**
 * Microsoft Entra principals against a real PostgreSQL 15 + pgaudit with the stand-ins of Azure's pgaadauth
 * functions and label provider (test/support/entra-standin): principals of each type, an admin, a re-mapped object
 * id, a password on a principal and a drop, logged three ways (pgaudit 'all'; only log_statement; pgaudit 'role, ddl').
 * The rebuilt `roles` equal the server's pg_roles and pgaadauth labels, and each Entra rule fires once. Then a
 * label changed while pgaudit was silenced is drift between two snapshots.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PgServer } from '../../support/postgres-server.js';
import { dumpStore, queryStore, silentLogger, type Row } from '../../support/store-reader.js';
import { ingestFiles } from '../../../src/pipeline/ingest-files.js';
import { createDetector } from '../../../src/detect/index.js';
import { closeDatabase, openDatabase } from '../../../src/store/open-database.js';
import { evaluateDrift } from '../../../src/snapshot/evaluate-drift.js';
import { passwordFor } from '../../../src/snapshot/server-connection.js';
import { takeSnapshot } from '../../../src/snapshot/take-snapshot.js';
import { watchedServerSchema } from '../../../src/snapshot/watched-server.js';
import { findSavedQuery, resolveParams } from '../../../src/query/saved-queries.js';
import { runReadOnly } from '../../../src/query/read-only-query.js';

const SERVER = 'entra';
const NO_EXCLUSIONS = { users: [], databases: [], clientAddrs: [] };
const OID = {
  group: '11111111-1111-1111-1111-111111111111',
  service: '22222222-2222-2222-2222-222222222222',
  admin: '33333333-3333-3333-3333-333333333333',
  takeover: '44444444-4444-4444-4444-444444444444',
  temp: '55555555-5555-5555-5555-555555555555',
  statementOnly: '66666666-6666-6666-6666-666666666666',
  roleDdl: '77777777-7777-7777-7777-777777777777',
  silenced: '88888888-8888-8888-8888-888888888888',
  bothLogged: '99999999-9999-9999-9999-999999999999',
};
/** isMfa of each creating call, where the trail shows the call (pgaudit 'role, ddl' logs only what the function runs). */
const MFA: Record<string, boolean | null> = {
  'alice@contoso.com': false, 'ops-group': true, app1: false, 'admin-bob@contoso.com': true, 'stmt-only@contoso.com': true, 'roleddl-svc': null,
  'both@contoso.com': true,
};

describe('Entra principals in a real pgaudit trail', () => {
  let pg: PgServer;
  let dir: string;
  let dbPath: string;
  let alerts: Row[];
  const of = (rule: string) => alerts.filter((a) => a.rule_id === rule);
  const psqlOk = async (sql: string) => {
    const r = await pg.psql(sql);
    assert.equal(r.code, 0, r.stderr);
  };
  const ingest = () =>
    ingestFiles([pg.logFiles().jsonlog], {
      dbPath, format: 'auto', logLinePrefix: '%t-%c-', server: SERVER, log: silentLogger,
      observers: [createDetector({ exclude: NO_EXCLUSIONS, rules: { 'entra-principal-without-mfa': { requireMfa: true } } })],
    });

  before(async () => {
    pg = await startPostgres({ entra: true });
    dir = await mkdtemp(join(tmpdir(), 'auditduck-entra-'));
    dbPath = join(dir, 'store.duckdb');

    await psqlOk(`
      SELECT * FROM pgaadauth_create_principal('alice@contoso.com', false, false);
      SELECT * FROM pgaadauth_create_principal_with_oid('ops-group', '${OID.group}', 'group', false, true);
      select pgaadauth_create_principal_with_oid('app1', '${OID.service}', 'service', false, false);
      SELECT * FROM pgaadauth_create_principal_with_oid('admin-bob@contoso.com', '${OID.admin}', 'user', true, true);
      GRANT azure_pg_admin TO "admin-bob@contoso.com";
      -- The same mapping again is no change; another object id is a takeover.
      SECURITY LABEL FOR "pgaadauth" ON ROLE "ops-group" IS 'aadauth,oid=${OID.group},type=group';
      SECURITY LABEL FOR "pgaadauth" ON ROLE "alice@contoso.com" IS 'aadauth,oid=${OID.takeover},type=user';
      ALTER ROLE app1 PASSWORD 'App1-Secret-Pass-1';
      SELECT * FROM pgaadauth_create_principal_with_oid('temp-user', '${OID.temp}', 'user', false, true);
      DROP ROLE "temp-user";`);
    // A call that fails (the role exists) changes nothing.
    assert.notEqual((await pg.psql(`SELECT * FROM pgaadauth_create_principal_with_oid('app1', '${OID.admin}', 'service', true, true);`)).code, 0);
    // Only log_statement: the call is all the trail has (what a CREATE-ROLE-only reading misses).
    await psqlOk(`SET pgaudit.log = 'none'; SET log_statement = 'all';
      SELECT * FROM pgaadauth_create_principal_with_oid('stmt-only@contoso.com', '${OID.statementOnly}', 'user', false, true);`);
    // log_statement and pgaudit both: the statement line, then every audit entry of the call.
    await psqlOk(`SET log_statement = 'all';
      SELECT * FROM pgaadauth_create_principal_with_oid('both@contoso.com', '${OID.bothLogged}', 'user', false, true);`);
    // pgaudit without READ and FUNCTION: only the statements the function runs.
    await psqlOk(`SET pgaudit.log = 'role, ddl';
      SELECT * FROM pgaadauth_create_principal_with_oid('roleddl-svc', '${OID.roleDdl}', 'service', false, false);`);
    await pg.flushLogs();
    await ingest();
    alerts = await queryStore(dbPath, `SELECT rule_id, severity, target, summary FROM alerts ORDER BY alert_id`);
    assert.ok(!(await dumpStore(dbPath)).includes('App1-Secret-Pass-1'), 'the password set on app1 reached the store');
  });

  after(async () => {
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('rebuilds roles equal to the server: pg_roles and the pgaadauth labels', async () => {
    const client = await pg.connect();
    let live: Row[];
    try {
      live = (
        await client.query(`SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
            r.rolconnlimit, r.rolbypassrls, l.label
          FROM pg_roles r LEFT JOIN pg_seclabels l ON l.objoid = r.oid AND l.objtype = 'role' AND l.provider = 'pgaadauth'
          WHERE r.rolname NOT LIKE 'pg\\_%' AND r.rolname <> 'postgres' ORDER BY r.rolname COLLATE "C"`)
      ).rows;
    } finally {
      await client.end();
    }
    const expected = live.map(({ label, ...r }) => {
      const parts = label === null ? [] : String(label).split(',');
      const field = (k: string) => parts.find((p) => p.startsWith(`${k}=`))?.slice(k.length + 1) ?? null;
      return {
        ...r, auth_kind: label === null ? 'postgres' : 'entra', entra_type: field('type'), entra_oid: field('oid'),
        entra_admin: label === null ? null : parts.includes('admin'), entra_mfa: MFA[String(r.rolname)] ?? null,
      };
    });
    assert.ok(expected.filter((r) => r.auth_kind === 'entra').length === 7, 'the server holds the seven principals');
    const rebuilt = await queryStore(
      dbPath,
      `SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolconnlimit, rolbypassrls,
              auth_kind, entra_type, entra_oid, entra_admin, entra_mfa FROM roles WHERE server = '${SERVER}' ORDER BY rolname`,
    );
    assert.deepEqual(rebuilt, expected);
  });

  it('login-role-created fires once for each principal created, also when only the call is in the trail', () => {
    const created = of('login-role-created').map((a) => String(a.target)).sort();
    assert.deepEqual(created, ['admin-bob@contoso.com', 'alice@contoso.com', 'app1', 'both@contoso.com', 'ops-group', 'roleddl-svc', 'stmt-only@contoso.com', 'temp-user']);
  });

  it('each Entra rule fires once, on the change it is about', () => {
    const fired = (rule: string) => of(rule).map((a) => `${a.severity} ${a.target}`);
    assert.deepEqual(fired('entra-admin-granted'), ['high admin-bob@contoso.com']);
    assert.deepEqual(fired('entra-principal-remapped'), ['critical alice@contoso.com']);
    assert.match(String(of('entra-principal-remapped')[0]!.summary), new RegExp(`to ${OID.takeover}`));
    // app1 and roleddl-svc are services (exempt); the failed call made nothing.
    assert.deepEqual(fired('entra-principal-without-mfa'), ['medium alice@contoso.com']);
    assert.deepEqual(fired('password-on-entra-principal'), ['high app1']);
  });

  it('keeps the call, the label and the drop as privilege changes, one row each', async () => {
    const rows = await queryStore(
      dbPath,
      `SELECT action, attribute, value FROM privilege_changes WHERE server = '${SERVER}' AND role_name = 'alice@contoso.com' AND effective ORDER BY logged_at, seq`,
    );
    const said = rows.map((r) => `${r.action} ${r.attribute ?? ''}=${r.value ?? ''}`);
    assert.deepEqual(said.slice(0, 7), [
      'create-role =ROLE', 'set-attribute rolcanlogin=true', 'set-attribute auth_kind=entra', 'set-attribute entra_admin=false',
      'set-attribute entra_mfa=false', 'set-attribute entra_type=user', `set-attribute entra_oid=${said[6]!.split('=')[1]}`,
    ]);
    assert.ok(said.includes(`set-attribute entra_oid=${OID.takeover}`));
    const temp = await queryStore(dbPath, `SELECT action FROM privilege_changes WHERE role_name = 'temp-user' AND action IN ('create-role', 'drop-role') ORDER BY logged_at, seq`);
    assert.deepEqual(temp.map((r) => r.action), ['create-role', 'drop-role']);
    const failed = await queryStore(dbPath, `SELECT count(*)::INTEGER AS n FROM privilege_changes WHERE role_name = 'app1' AND attribute = 'entra_oid' AND value = '${OID.admin}' AND effective`);
    assert.equal(failed[0]!.n, 0, 'the failing call is not effective');
  });

  it('admin-rights-now shows the Entra admin and the azure_pg_admin member with their Entra type', async () => {
    const query = findSavedQuery('admin-rights-now');
    const db = await openDatabase(dbPath, { readOnly: true });
    try {
      const { rows } = await runReadOnly(db.connection, query.sql, resolveParams(query, { server: SERVER }));
      assert.deepEqual(
        rows.map((r) => `${r.role_name} ${r.right_name} ${r.auth_kind} ${r.entra_type} ${r.since === null ? 'before the trail' : 'in the trail'}`),
        ['admin-bob@contoso.com entra_admin entra user in the trail', 'admin-bob@contoso.com member of azure_pg_admin entra user in the trail'],
      );
    } finally {
      await closeDatabase(db);
    }
  });

  it('a label changed while pgaudit was silenced is drift between two snapshots', async () => {
    const server = watchedServerSchema.parse({
      name: SERVER, host: pg.host, port: pg.port, user: pg.superuser, sslmode: pg.ssl ? 'require' : 'disable',
      auth: { kind: 'password-env', env: 'PG_SNAPSHOT_PASSWORD' },
    });
    const snapshot = async () => {
      const db = await openDatabase(dbPath);
      try {
        return await takeSnapshot(server, { connection: db.connection, password: passwordFor(server, { env: { PG_SNAPSHOT_PASSWORD: pg.superuserPassword } }), passwordMaxAgeDays: 365 });
      } finally {
        await closeDatabase(db);
      }
    };
    await snapshot();
    await psqlOk(`SET pgaudit.log = 'none'; SECURITY LABEL FOR pgaadauth ON ROLE "ops-group" IS 'aadauth,oid=${OID.silenced},type=group,admin';`);
    await new Promise((r) => setTimeout(r, 20));
    await snapshot();
    await pg.flushLogs();
    await ingest();
    const snapshotted = await queryStore(dbPath, `SELECT auth_kind, entra_type, entra_oid, entra_admin FROM role_snapshots WHERE rolname = 'admin-bob@contoso.com' LIMIT 1`);
    assert.deepEqual(snapshotted, [{ auth_kind: 'entra', entra_type: 'user', entra_oid: OID.admin, entra_admin: true }]);
    const db = await openDatabase(dbPath);
    try {
      const windows = await evaluateDrift(db.connection);
      const drift = windows.flatMap((w) => w.drift.map((d) => `${d.role} ${d.attribute} ${d.before} -> ${d.after}`)).sort();
      assert.deepEqual(drift, [`ops-group entra_admin false -> true`, `ops-group entra_oid ${OID.group} -> ${OID.silenced}`]);
    } finally {
      await closeDatabase(db);
    }
  });
});
