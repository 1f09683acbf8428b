/**
 * Every rule that a local server can provoke, against a real PostgreSQL 15 + pgaudit: one scenario per
 * rule (positive) next to the look-alike that must stay quiet (negative), all on one server, its jsonlog
 * ingested with the detector as an observer. The test clients use 127.0.0.1, as clients behind Azure's
 * built-in PgBouncer appear: the default exclusions must see them as well as none at all.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgres, type PgServer } from '../support/postgres-server.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { createDetector } from '../../src/detect/index.js';
import { dumpStore, queryStore, silentLogger, type Row } from '../support/store-reader.js';

const PASSWORDS = { victim: 'Victim-Pass-1111', typo: 'Typo-Pass-2222', clear: 'Clear-Text-9999', eve: 'Eve-Pass-3333', selfie: 'Selfie-Pass-4444', burster: 'Burst-Pass-5555', tls: 'Tls-Pass-6666' };
const NO_EXCLUSIONS = { users: [], databases: [], applications: [], clientAddrs: [] };
const RULES = { 'password-spray': { distinctUsers: 5 }, 'privilege-burst': { threshold: 20 } };

describe('rules on a real PostgreSQL + pgaudit capture', () => {
  let pg: PgServer;
  let dir: string;
  let alerts: Row[];
  const of = (rule: string, target?: string) => alerts.filter((a) => a.rule_id === rule && (target === undefined || a.target === target));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-detect-'));
    pg = await startPostgres();
    const su = async (sql: string, database = 'postgres') => {
      const r = await pg.psql(sql, { database });
      assert.equal(r.code, 0, r.stderr);
    };
    await su(`CREATE ROLE victim LOGIN PASSWORD '${PASSWORDS.victim}';
      CREATE ROLE typo LOGIN PASSWORD '${PASSWORDS.typo}';
      CREATE ROLE eve LOGIN PASSWORD '${PASSWORDS.eve}';
      CREATE ROLE selfie LOGIN CREATEROLE PASSWORD '${PASSWORDS.selfie}';
      CREATE ROLE burster LOGIN CREATEROLE PASSWORD '${PASSWORDS.burster}';
      CREATE ROLE tls_user LOGIN PASSWORD '${PASSWORDS.tls}';
      CREATE ROLE nologin_role;
      CREATE USER new_user;
      CREATE ROLE temp_role; DROP ROLE temp_role;
      CREATE ROLE keep_role;
      CREATE DATABASE scratch;
      CREATE TABLE pub_t (id int); GRANT SELECT ON pub_t TO PUBLIC; GRANT SELECT ON pub_t TO eve;
      GRANT ALL ON pub_t TO burster;`);

    // Brute force on victim, then the guess that works; typo fails twice only, then logs in.
    for (let i = 0; i < 12; i++) await pg.psql('SELECT 1', { user: 'victim', password: `wrong-${i}` });
    assert.equal((await pg.psql('SELECT 1', { user: 'victim', password: PASSWORDS.victim })).code, 0);
    for (let i = 0; i < 2; i++) await pg.psql('SELECT 1', { user: 'typo', password: `wrong-${i}` });
    assert.equal((await pg.psql('SELECT 1', { user: 'typo', password: PASSWORDS.typo })).code, 0);
    // Spray: one guess each for several users (some do not exist) from the same host.
    for (const user of ['spray_a', 'spray_b', 'spray_c', 'eve']) await pg.psql('SELECT 1', { user, password: 'Summer2026!' });

    // Escalation, and a rolled-back one that must not alert.
    await su(`ALTER ROLE eve SUPERUSER; GRANT pg_read_all_data TO eve; GRANT pg_monitor TO eve;
      BEGIN; ALTER ROLE keep_role SUPERUSER; ROLLBACK;
      ALTER ROLE typo VALID UNTIL 'infinity';`);
    // pgaudit cuts `PASSWORD NULL` to `PASSWORD <REDACTED>`: only log_statement tells a removal from a change.
    await su(`ALTER ROLE keep_role PASSWORD NULL;`);
    await su(`SET log_statement = 'all'; ALTER ROLE eve PASSWORD NULL;`);
    // Self-grant by a CREATEROLE user; a grant to someone else by the same user is not one.
    const selfie = await pg.psql('GRANT pg_monitor TO selfie; GRANT pg_stat_scan_tables TO typo;', { user: 'selfie', password: PASSWORDS.selfie });
    assert.equal(selfie.code, 0, selfie.stderr);
    // Audit tampering and its harmless look-alikes.
    await su(`SET pgaudit.log = 'all'; ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.3'; ALTER SYSTEM RESET ssl_min_protocol_version;`);
    await su(`ALTER SYSTEM SET password_encryption = 'md5'; ALTER SYSTEM RESET password_encryption;
      ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1'; ALTER SYSTEM RESET ssl_min_protocol_version;`);
    await su(`DROP EXTENSION pgaudit;`, 'scratch');
    await su(`ALTER SYSTEM SET pgaudit.log = 'none'; ALTER SYSTEM RESET pgaudit.log;`);
    // pgaudit does not audit the SET that silences it; log_statement shows it.
    await su(`SET pgaudit.log = 'none'; CREATE ROLE unseen_role;`);
    await su(`SET log_statement = 'all'; SET pgaudit.log = 'none'; CREATE ROLE unseen_role_2;`);
    // Server access.
    await su(`COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'; SELECT length(pg_read_file('postgresql.conf')) > 0; COPY pub_t TO STDOUT;`);
    // A clear-text password through log_statement, set by someone else than the role; victim's own change is not.
    await su(`SET log_statement = 'all'; ALTER ROLE victim PASSWORD '${PASSWORDS.clear}';`);
    assert.equal((await pg.psql(`ALTER ROLE victim PASSWORD '${PASSWORDS.victim}';`, { user: 'victim', password: PASSWORDS.clear })).code, 0);
    // A burst of grants by one actor.
    const grants = Array.from({ length: 22 }, (_, i) => `GRANT SELECT ON pub_t TO ${i % 2 ? 'typo' : 'tls_user'};`).join('\n');
    assert.equal((await pg.psql(grants, { user: 'burster', password: PASSWORDS.burster })).code, 0);
    // TLS: one session with SSL (when the server has it).
    if (pg.ssl) assert.equal((await pg.psql('SELECT 1', { user: 'tls_user', password: PASSWORDS.tls, sslmode: 'require' })).code, 0);
    await pg.flushLogs();

    const dbPath = join(dir, 'store.duckdb');
    const detector = createDetector({ exclude: NO_EXCLUSIONS, rules: RULES });
    await ingestFiles([pg.logFiles().jsonlog], { dbPath, format: 'auto', logLinePrefix: '%t-%c-', server: 'x', log: silentLogger, observers: [detector] });
    alerts = await queryStore(dbPath, `SELECT * EXCLUDE (evidence), evidence::VARCHAR AS evidence FROM alerts ORDER BY alert_id`);
    const dump = await dumpStore(dbPath);
    for (const secret of Object.values(PASSWORDS)) assert.ok(!dump.includes(secret), `a password reached the store`);
  });

  after(async () => {
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints the alerts (diagnostics)', () => {
    for (const a of alerts) console.log(`${a.rule_id} ${a.severity} ${a.target} x${a.count}: ${a.summary}`);
  });

  it('brute force on victim is one alert counting every failure; typo (2 failures) is none', () => {
    const bf = of('brute-force');
    assert.equal(bf.length, 1);
    assert.equal(bf[0]!.target, 'victim');
    assert.equal(bf[0]!.count, 12);
    assert.equal(bf[0]!.status, 'open');
  });

  it('failures followed by success fires for victim, not for typo', () => {
    assert.deepEqual(of('failures-then-success').map((a) => a.target), ['victim']);
  });

  it('password spray fires once for the host that tried many users', () => {
    const spray = of('password-spray');
    assert.equal(spray.length, 1);
    assert.equal(spray[0]!.target, '127.0.0.1');
    assert.ok(Number(spray[0]!.count) >= 5);
  });

  it('SUPERUSER is critical, pg_read_all_data high; pg_monitor and the rolled-back SUPERUSER raise nothing', () => {
    const admin = of('admin-granted');
    const su = admin.find((a) => a.target === 'eve' && String(a.summary).includes('SUPERUSER'));
    assert.equal(su?.severity, 'critical');
    assert.ok(admin.some((a) => a.target === 'eve' && String(a.summary).includes('pg_read_all_data')));
    assert.ok(!admin.some((a) => String(a.summary).includes('pg_monitor')));
    assert.equal(of('admin-granted', 'keep_role').length, 0);
    assert.ok(of('admin-granted', 'selfie').some((a) => String(a.summary).includes('CREATEROLE')));
  });

  it('self-grant fires for selfie granting itself, not for its grant to typo', () => {
    assert.deepEqual(of('self-grant').map((a) => a.target), ['selfie']);
  });

  it('login roles created fire; NOLOGIN roles do not', () => {
    const created = of('login-role-created').map((a) => a.target);
    for (const r of ['victim', 'eve', 'new_user']) assert.ok(created.includes(r), r);
    assert.ok(!created.includes('nologin_role') && !created.includes('keep_role') && !created.includes('temp_role'));
  });

  it('a role created and dropped within minutes fires; a kept role does not', () => {
    assert.deepEqual(of('role-created-and-dropped').map((a) => a.target), ['temp_role']);
  });

  it('grant to PUBLIC fires for pub_t; grants to named roles do not', () => {
    const pub = of('grant-to-public');
    assert.equal(pub.length, 1);
    assert.equal(pub[0]!.target, 'table pub_t');
  });

  it('password removed (seen through log_statement), never-expiring, and changed by another role', () => {
    assert.deepEqual(of('password-removed').map((a) => a.target), ['eve']);
    assert.deepEqual(of('password-never-expires').map((a) => a.target), ['typo']);
    const other = of('password-set-by-other');
    // victim changing its own password does not count, nor CREATE ROLE … PASSWORD; keep_role's PASSWORD NULL,
    // cut by pgaudit, is a change of unknown kind by postgres.
    assert.deepEqual(other.map((a) => [a.target, a.actor]), [['keep_role', 'postgres'], ['victim', 'postgres']]);
  });

  it('a password logged in clear through log_statement fires, without the password in the alert', () => {
    const clear = of('password-in-clear');
    assert.ok(clear.length >= 1);
    assert.ok(clear.every((a) => !String(a.evidence).includes(PASSWORDS.clear)));
  });

  it('md5 password_encryption fires (the server-wide setting)', () => {
    assert.ok(of('md5-password').some((a) => String(a.summary).includes('password_encryption')));
  });

  it('TLS weakened by TLSv1 fires; TLSv1.3 does not', () => {
    const tls = of('tls-weakened');
    assert.equal(tls.length, 1);
    assert.match(String(tls[0]!.summary), /TLSv1 /);
  });

  it('audit tampering: SET pgaudit.log none and DROP EXTENSION pgaudit fire; SET pgaudit.log all does not', () => {
    const summaries = of('audit-tampering').map((a) => String(a.summary));
    assert.ok(summaries.some((s) => s.includes('pgaudit.log = none server-wide')), summaries.join('\n'));
    assert.ok(summaries.some((s) => s.includes('pgaudit.log = none for the session')), summaries.join('\n'));
    assert.ok(summaries.some((s) => s.includes('dropped the pgaudit extension')));
    assert.ok(!summaries.some((s) => s.includes('pgaudit.log = all')));
  });

  it('COPY TO PROGRAM and pg_read_file fire; COPY TO STDOUT does not', () => {
    assert.equal(of('copy-program').length, 1);
    const files = of('server-file-access');
    assert.deepEqual(files.map((a) => a.target), ['pg_read_file']);
  });

  it('a burst of grants by one actor fires for that actor only', () => {
    const burst = of('privilege-burst').map((a) => a.actor);
    assert.ok(burst.includes('burster'));
    assert.ok(!burst.includes('selfie'));
  });

  it('sessions without SSL over loopback raise nothing: that hop never leaves the machine (as from Azure\'s PgBouncer)', () => {
    assert.deepEqual(of('session-without-ssl'), []);
  });

  it('with the default exclusions, these loopback clients (as behind Azure\'s PgBouncer) raise the same alerts', async () => {
    const dbPath = join(dir, 'default-exclusions.duckdb');
    await ingestFiles([pg.logFiles().jsonlog], { dbPath, format: 'auto', logLinePrefix: '%t-%c-', server: 'x', log: silentLogger, observers: [createDetector({ rules: RULES })] });
    const summary = (rows: Row[]) => rows.map((a) => `${a.rule_id} ${a.severity} ${a.actor} ${a.target} x${a.count}`).sort();
    const withDefaults = await queryStore(dbPath, `SELECT * FROM alerts ORDER BY alert_id`);
    assert.ok(alerts.length >= 15, `the capture raises alerts of most rules (${alerts.length})`);
    assert.deepEqual(summary(withDefaults), summary(alerts));
  });
});
