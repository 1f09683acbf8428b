/**
 * Proves the test harness itself against the real server: it starts, pgaudit writes to all three log
 * destinations, failed logins are logged with their SQLSTATE, and stop() leaves nothing running.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { isAlive, pathExists, postmasterPid, startPostgres, type PgServer } from '../support/postgres-server.js';

/** csvlog columns of PostgreSQL 15 that these tests read (0-based). */
const CSV_ERROR_SEVERITY = 11;
const CSV_SQL_STATE = 12;
const CSV_MESSAGE = 13;

/** Pids of processes whose command line or working directory mentions `dir`. */
async function processesUsing(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const cwd = await readlink(`/proc/${name}/cwd`).catch(() => '');
    if (cmdline.includes(dir) || cwd.startsWith(dir)) pids.push(Number(name));
  }
  return pids;
}

describe('startPostgres (real PostgreSQL 15 + pgaudit)', () => {
  let server: PgServer | undefined;

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });

  it('accepts a TCP connection as the superuser with pgaudit loaded', async () => {
    const result = await server!.psql("SELECT current_setting('pgaudit.log') AS log, current_setting('log_line_prefix') AS prefix;");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /all\s+\|\s+%t-%c-/);
  });

  it('writes the AUDIT line of a CREATE ROLE to stderr, csvlog and jsonlog', async () => {
    const created = await server!.psql('CREATE ROLE smoke_auditor NOLOGIN;');
    assert.equal(created.code, 0, created.stderr);
    await server!.flushLogs();
    const files = server!.logFiles();
    const expected = 'AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,CREATE ROLE smoke_auditor NOLOGIN;';

    const stderr = await readFile(files.stderr, 'utf8');
    assert.match(stderr, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC-[0-9a-f]+\.[0-9a-f]+-LOG: {2}AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,CREATE ROLE smoke_auditor NOLOGIN;,<none>$/m);

    const csvRows: string[][] = parse(await readFile(files.csvlog, 'utf8'), { relax_column_count: true });
    assert.ok(csvRows.some((row) => row[CSV_MESSAGE]?.startsWith(expected)), 'AUDIT line in csvlog');

    const jsonRows = (await readFile(files.jsonlog, 'utf8'))
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as { message?: string });
    assert.ok(jsonRows.some((row) => row.message?.startsWith(expected)), 'AUDIT line in jsonlog');
  });

  it('logs a login with a wrong password as FATAL 28P01 in csvlog', async () => {
    const created = await server!.psql("CREATE ROLE smoke_login LOGIN PASSWORD 'smoke-fake-pass-1';");
    assert.equal(created.code, 0, created.stderr);
    const failed = await server!.psql('SELECT 1;', { user: 'smoke_login', password: 'not-the-password' });
    assert.notEqual(failed.code, 0);
    assert.match(failed.stderr, /password authentication failed for user "smoke_login"/);
    await server!.flushLogs();

    const csvRows: string[][] = parse(await readFile(server!.logFiles().csvlog, 'utf8'), { relax_column_count: true });
    const failure = csvRows.find((row) => row[CSV_MESSAGE] === 'password authentication failed for user "smoke_login"');
    assert.ok(failure, 'failed login in csvlog');
    assert.equal(failure[CSV_ERROR_SEVERITY], 'FATAL');
    assert.equal(failure[CSV_SQL_STATE], '28P01');
  });

  it('shows SSL in the connection line of a session that asked for it', async () => {
    if (!server!.ssl) return; // openssl missing: the harness runs without TLS
    const result = await server!.psql('SELECT 1;', { sslmode: 'require', applicationName: 'smoke-ssl' });
    assert.equal(result.code, 0, result.stderr);
    await server!.flushLogs();
    const stderr = await readFile(server!.logFiles().stderr, 'utf8');
    assert.match(stderr, /connection authorized: user=postgres database=postgres application_name=smoke-ssl SSL enabled \(protocol=TLSv1\.\d/);
  });

  it('stop() leaves no process behind and removes its directory', async () => {
    const running = server!;
    const pid = await postmasterPid(running.dataDir);
    assert.ok(pid, 'postmaster running before stop');
    await running.stop();
    server = undefined;
    assert.equal(await postmasterPid(running.dataDir), undefined);
    assert.equal(isAlive(pid), false);
    assert.deepEqual(await processesUsing(running.dataDir), []);
    assert.equal(await pathExists(running.dataDir), false);
  });
});

describe('startPostgres with a missing installation', () => {
  it('says which packages to install', async () => {
    await assert.rejects(startPostgres({ binDir: '/nonexistent/postgresql/15/bin' }), /apt-get install -y postgresql-15 postgresql-15-pgaudit/);
  });
});

describe('startPostgres with the Entra stand-ins (entra: true)', () => {
  let entra: PgServer | undefined;
  before(async () => {
    entra = await startPostgres({ entra: true });
  });
  after(async () => {
    await entra?.stop();
  });

  it('loads the pgaadauth label provider after pgaudit: Entra labels on roles are accepted, anything else refused', async () => {
    const ok = await entra!.psql(`SHOW shared_preload_libraries; CREATE ROLE r1;
      SECURITY LABEL FOR pgaadauth ON ROLE r1 IS 'aadauth,oid=o1,type=user';
      SELECT label FROM pg_seclabels WHERE provider = 'pgaadauth';`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /pgaudit,\S*pgaadauth_label/);
    assert.match(ok.stdout, /aadauth,oid=o1,type=user/);
    const refused = await entra!.psql(`SECURITY LABEL FOR pgaadauth ON ROLE r1 IS 'not-entra'`);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /invalid pgaadauth label/);
  });

  it('installs the Entra functions with Azure\'s signatures, and azure_pg_admin', async () => {
    const r = await entra!.psql(`SELECT pgaadauth_create_principal_with_oid('svc', 'o2', 'service', false, false);
      SELECT rolcanlogin, (SELECT label FROM pg_seclabels WHERE objname = 'svc') FROM pg_roles WHERE rolname = 'svc';
      SELECT count(*) FROM pg_roles WHERE rolname = 'azure_pg_admin';`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /t\s+\|\s+aadauth,oid=o2,type=service/);
    assert.match(r.stdout, /^\s+1$/m);
  });
});
