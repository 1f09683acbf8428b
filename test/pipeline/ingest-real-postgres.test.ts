/**
 * The ingest against a real PostgreSQL 15 + pgaudit: one scenario, its logs in every format auditduck
 * reads (stderr, csvlog, jsonlog, gzip, Azure Event Hubs bodies and PT1H.json built from the jsonlog the
 * way Azure builds its records), each ingested into its own store and checked against what ran.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { startPostgres, type PgServer } from '../support/postgres-server.js';
import { toAzureRecord, type JsonlogRecord } from '../../scripts/azure-envelope.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { dumpStore, queryStore, silentLogger } from '../support/store-reader.js';
import { CLI } from '../support/cli-command.js';

const run = promisify(execFile);

const PASSWORDS = {
  dba: 'Dba-Pass-1111',
  app: 'App-Pass-2222',
  doRole: 'DoBlock-Pass-3333',
  appNew: 'App-Pass-4444',
  wrong: 'Wrong-Pass-5555',
  dbaLeaked: 'Leaked-Pass-6666',
  param: 'Param-Pass-7777',
};
const RESOURCE_ID = '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/TEST-FLEX';

describe('ingest of a real PostgreSQL + pgaudit capture', () => {
  let pg: PgServer;
  let dir: string;
  const stores: Record<string, string> = {};
  let auditLines: number;
  let jsonlogRecords: JsonlogRecord[];
  let cliOutput = '';
  let splitBefore = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-ingest-'));
    pg = await startPostgres();
    const su = { user: pg.superuser, password: pg.superuserPassword };
    await pg.psql(
      `CREATE ROLE dba LOGIN CREATEROLE PASSWORD '${PASSWORDS.dba}';
       CREATE ROLE app_user LOGIN PASSWORD '${PASSWORDS.app}';
       CREATE DATABASE shop OWNER dba;`,
      su,
    );
    await pg.psql(`CREATE EXTENSION IF NOT EXISTS pgaudit;`, { ...su, database: 'shop' });
    await pg.psql(
      `CREATE TABLE orders (id int, note text);
       GRANT SELECT, INSERT ON orders TO app_user;
       DO $$ BEGIN EXECUTE 'CREATE ROLE do_role LOGIN PASSWORD ''${PASSWORDS.doRole}'''; END $$;
       BEGIN; GRANT SELECT ON orders TO do_role; ROLLBACK;
       ALTER ROLE app_user PASSWORD '${PASSWORDS.appNew}';
       SELECT 1 AS "multi,
line";`,
      { user: 'dba', password: PASSWORDS.dba, database: 'shop', applicationName: 'dba-console' },
    );
    await pg.psql(`INSERT INTO orders VALUES (1, 'a, "quoted" note'); SELECT * FROM orders;`, {
      user: 'app_user', password: PASSWORDS.appNew, database: 'shop', applicationName: 'shop-api', ...(pg.ssl ? { sslmode: 'require' as const } : {}),
    });
    // A password as a bind parameter (extended protocol): pgaudit.log_parameter logs it in clear.
    await pg.psql(`CREATE TABLE accounts (name text, password text); GRANT SELECT ON accounts TO app_user;`, { user: 'dba', password: PASSWORDS.dba, database: 'shop' });
    const client = await pg.connect({ user: 'app_user', password: PASSWORDS.appNew, database: 'shop' });
    await client.query('SELECT count(*) FROM accounts WHERE name = $1 AND password = $2', ['alice', PASSWORDS.param]);
    await client.end();
    const failed = await pg.psql('SELECT 1', { user: 'app_user', password: PASSWORDS.wrong, database: 'shop', onErrorStop: false });
    assert.notEqual(failed.code, 0);
    await pg.psql('SELECT 1', { user: 'nobody_here', password: PASSWORDS.wrong, onErrorStop: false });
    await pg.psql(`SET log_statement = 'all'; ALTER ROLE dba PASSWORD '${PASSWORDS.dbaLeaked}';`, su);
    await pg.flushLogs();

    const files = pg.logFiles();
    const jsonlogText = await readFile(files.jsonlog, 'utf8');
    jsonlogRecords = jsonlogText.split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonlogRecord);
    auditLines = jsonlogRecords.filter((r) => r.message.startsWith('AUDIT: ')).length;

    const azure = jsonlogRecords.map((r) => toAzureRecord(r, { resourceId: RESOURCE_ID, location: 'westeurope' }));
    // Event Hubs bodies of 7 records, with the two halves swapped so sessions' lines arrive after their audit lines.
    const bodies: string[] = [];
    for (let i = 0; i < azure.length; i += 7) bodies.push(JSON.stringify({ records: azure.slice(i, i + 7) }));
    const half = Math.ceil(bodies.length / 2);
    await writeFile(join(dir, 'hub.jsonl'), [...bodies.slice(half), ...bodies.slice(0, half)].join('\n') + '\n');
    await writeFile(join(dir, 'PT1H.json'), azure.map((r) => JSON.stringify(r)).join('\n') + '\n');
    await writeFile(join(dir, 'postgresql.log.gz'), gzipSync(await readFile(files.stderr)));

    const inputs: Record<string, string> = {
      stderr: files.stderr,
      csvlog: files.csvlog,
      jsonlog: files.jsonlog,
      gzip: join(dir, 'postgresql.log.gz'),
      eventhubs: join(dir, 'hub.jsonl'),
      'azure-ndjson': join(dir, 'PT1H.json'),
    };
    for (const [name, path] of Object.entries(inputs)) {
      stores[name] = join(dir, `${name}.duckdb`);
      // Small batches so that attribution across batches (and late) is exercised too.
      await ingestFiles([path], { dbPath: stores[name], format: 'auto', logLinePrefix: '%t-%c-', server: name.startsWith('e') || name.startsWith('a') ? undefined : 'test-flex', log: silentLogger, batchRecords: 20 } as Parameters<typeof ingestFiles>[1]);
    }
    // Audit lines in one file, the session lines that attribute them in another, read afterwards.
    // Azure's records carry no user of their own: only the session lines can tell it.
    const isAudit = (r: (typeof azure)[number]) => r.properties.message.includes('-LOG:  AUDIT: ');
    await writeFile(join(dir, 'audit-only.json'), azure.filter(isAudit).map((r) => JSON.stringify(r)).join('\n') + '\n');
    await writeFile(join(dir, 'without-audit.json'), azure.filter((r) => !isAudit(r)).map((r) => JSON.stringify(r)).join('\n') + '\n');
    stores.split = join(dir, 'split.duckdb');
    await ingestFiles([join(dir, 'audit-only.json')], { dbPath: stores.split, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    splitBefore = (await queryStore(stores.split, 'SELECT count(*) AS n FROM audit_events WHERE user_name IS NULL'))[0]!.n as number;
    await ingestFiles([join(dir, 'without-audit.json')], { dbPath: stores.split, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });

    // The CLI once, with debug logs, so its output can be searched for secrets too.
    const cli = await run(process.execPath, [...CLI, 'ingest', '--db', join(dir, 'cli.duckdb'), files.stderr], {
      env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'debug', AUDITDUCK_LOG_FORMAT: 'json' },
    });
    cliOutput = cli.stdout + cli.stderr;
  });

  after(async () => {
    await pg?.stop();
    if (dir && !process.env.AUDITDUCK_KEEP_TEST_FILES) await rm(dir, { recursive: true, force: true });
  });

  it('captured a scenario with audit lines', () => {
    assert.ok(auditLines >= 15, `expected at least 15 AUDIT lines, got ${auditLines}`);
  });

  for (const format of ['stderr', 'csvlog', 'jsonlog', 'gzip', 'eventhubs', 'azure-ndjson']) {
    describe(`from ${format}`, () => {
      it('stores every AUDIT line as one audit_events row, with nothing dead-lettered', async () => {
        const [counts] = await queryStore(stores[format]!, `SELECT (SELECT count(*) FROM audit_events) AS audit, (SELECT count(*) FROM dead_letters) AS dead`);
        assert.equal(counts!.audit, auditLines);
        assert.equal(counts!.dead, 0);
      });

      it('attributes every audit event of a client session to its user, database and client', async () => {
        const rows = await queryStore(stores[format]!, `SELECT statement, user_name, database_name, client_addr FROM audit_events WHERE user_name IS NULL OR client_addr IS NULL`);
        assert.deepEqual(rows, []);
      });

      it('parses the fields of a DO block run by dba, and keeps its password out', async () => {
        const rows = await queryStore(stores[format]!, `SELECT class, command, statement, user_name, database_name, application_name FROM audit_events WHERE command = 'DO' AND user_name = 'dba'`);
        assert.equal(rows.length, 1);
        const [row] = rows;
        assert.equal(row!.class, 'FUNCTION');
        assert.equal(row!.user_name, 'dba');
        assert.equal(row!.database_name, 'shop');
        assert.match(String(row!.statement), /CREATE ROLE do_role LOGIN PASSWORD/);
        assert.doesNotMatch(String(row!.statement), /DoBlock-Pass/);
        if (format !== 'eventhubs' && format !== 'azure-ndjson') assert.equal(row!.application_name, 'dba-console');
      });

      it('keeps a rolled-back GRANT as an audit event and quotes commas and quotes right', async () => {
        const grant = await queryStore(stores[format]!, `SELECT class, command, object_type FROM audit_events WHERE statement LIKE 'GRANT SELECT ON orders TO do_role%'`);
        assert.deepEqual(grant, [{ class: 'ROLE', command: 'GRANT', object_type: 'TABLE' }]);
        const insert = await queryStore(stores[format]!, `SELECT class, command, object_name, user_name FROM audit_events WHERE command = 'INSERT' AND audit_type = 'SESSION'`);
        assert.deepEqual(insert, [{ class: 'WRITE', command: 'INSERT', object_name: null, user_name: 'app_user' }]);
        const multi = await queryStore(stores[format]!, `SELECT statement FROM audit_events WHERE statement LIKE 'SELECT 1 AS "multi,%'`);
        assert.equal(multi.length, 1);
        assert.equal(multi[0]!.statement, 'SELECT 1 AS "multi,\nline";');
      });

      it('records sessions with TLS and authentication failures with their reasons', async () => {
        if (pg.ssl) {
          const tls = await queryStore(stores[format]!, `SELECT ssl, ssl_protocol FROM sessions WHERE user_name = 'app_user' AND application_name = 'shop-api'`);
          assert.ok(tls.length >= 1);
          assert.equal(tls[0]!.ssl, true);
          assert.match(String(tls[0]!.ssl_protocol), /^TLSv1\.[23]$/);
        }
        const failures = await queryStore(stores[format]!, `SELECT user_name, sqlstate, role_exists, client_addr FROM auth_failures ORDER BY user_name`);
        // PostgreSQL 15 says nothing when the role exists and the password is wrong, and says so when it does not exist.
        assert.deepEqual(failures, [
          { user_name: 'app_user', sqlstate: '28P01', role_exists: null, client_addr: '127.0.0.1' },
          { user_name: 'nobody_here', sqlstate: '28P01', role_exists: false, client_addr: '127.0.0.1' },
        ]);
      });

      it('stores no password used in the scenario, anywhere', async () => {
        const everything = await dumpStore(stores[format]!);
        for (const secret of [...Object.values(PASSWORDS), pg.superuserPassword]) {
          assert.ok(!everything.includes(secret), `${secret} leaked into the ${format} store`);
        }
      });
    });
  }

  it('attributes audit events whose session lines come later, from another file', async () => {
    assert.equal(splitBefore, auditLines, 'before the session lines, no audit event can know its user');
    const rows = await queryStore(stores.split!, `SELECT count(*) FILTER (WHERE user_name IS NULL OR client_addr IS NULL OR database_name IS NULL) AS unattributed, count(*) AS n FROM audit_events`);
    assert.deepEqual(rows, [{ unattributed: 0, n: auditLines }]);
    const dba = await queryStore(stores.split!, `SELECT DISTINCT user_name, database_name FROM audit_events WHERE command = 'DO' AND statement LIKE '%do_role%'`);
    assert.deepEqual(dba, [{ user_name: 'dba', database_name: 'shop' }]);
    const actors = await queryStore(stores.split!, `SELECT count(*) AS n FROM privilege_changes WHERE actor IS NULL`);
    assert.equal(actors[0]!.n, 0);
  });

  it('logs no password on the command line run', () => {
    assert.ok(cliOutput.length > 0);
    for (const secret of [...Object.values(PASSWORDS), pg.superuserPassword]) assert.ok(!cliOutput.includes(secret), `${secret} leaked into the logs`);
  });

  it('redacts a password given as a bind parameter', async () => {
    const rows = await queryStore(stores.jsonlog!, `SELECT parameter FROM audit_events WHERE statement LIKE 'SELECT count(*) FROM accounts%'`);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.parameter, 'alice,<REDACTED>');
  });

  it('found the clear-text password of the log_statement line and redacted it', async () => {
    const rows = await queryStore(stores.jsonlog!, `SELECT message FROM log_records WHERE kind = 'statement' AND message LIKE '%ALTER ROLE dba PASSWORD%'`);
    assert.equal(rows.length, 1);
    assert.match(String(rows[0]!.message), /PASSWORD '<REDACTED>'/);
  });
});
