/**
 * Redaction as an output contract (issue 14): a corpus of secrets in more than 60 forms is run on a real
 * PostgreSQL 15 + pgaudit, and its logs are ingested in every format auditduck reads (stderr, csvlog,
 * jsonlog, Event Hubs bodies, PT1H.json) and through the dead-letter paths (a wrong log_line_prefix, cut
 * and malformed JSON, records that do not decode), with detection on. Then no secret may be found in any
 * column of any table, in the CLI's stdout or stderr, or in a webhook body of any format.
 *
 * Secrets are drawn by fast-check (one fixed seed in CI): each form gets its own, built around a random
 * 12-character core that is what the search looks for (and its halves, so a cut secret is caught too).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { startPostgres, type PgServer } from '../support/postgres-server.js';
import { toAzureRecord, type JsonlogRecord } from '../../scripts/azure-envelope.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { createDetector } from '../../src/detect/index.js';
import { ALERT_COLUMNS, toAlertMessage } from '../../src/alert/alert-message.js';
import { createWebhookSink } from '../../src/alert/index.js';
import { WEBHOOK_FORMATS } from '../../src/alert/sinks/webhook-payloads.js';
import { dumpStore, queryStore, silentLogger } from '../support/store-reader.js';
import { CLI } from '../support/cli-command.js';

const run = promisify(execFile);
const RESOURCE_ID = '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/CORPUS-FLEX';
const NO_EXCLUSIONS = { users: [], databases: [], clientAddrs: [] };

/** A form: SQL run by the superuser (log_statement = all), a bind query, a connection's application_name. */
type Form =
  | { name: string; sql: (s: string) => string }
  | { name: string; bind: (s: string) => { text: string; values: string[] } }
  | { name: string; applicationName: (s: string) => string };

const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

const FORMS: Form[] = [
  { name: 'CREATE ROLE PASSWORD', sql: (s) => `CREATE ROLE corpus_c1 PASSWORD ${lit(s)}` },
  { name: 'CREATE ROLE WITH LOGIN ENCRYPTED PASSWORD, options after', sql: (s) => `CREATE ROLE corpus_c2 WITH LOGIN ENCRYPTED PASSWORD ${lit(s)} VALID UNTIL 'infinity'` },
  { name: 'CREATE USER … IN ROLE', sql: (s) => `CREATE USER corpus_c3 PASSWORD ${lit(s)} IN ROLE pg_monitor` },
  { name: 'CREATE GROUP PASSWORD', sql: (s) => `CREATE GROUP corpus_c4 PASSWORD ${lit(s)}` },
  { name: 'CREATE ROLE with a quoted name', sql: (s) => `CREATE ROLE "corpus password role" PASSWORD ${lit(s)}` },
  { name: 'ALTER ROLE PASSWORD', sql: (s) => `ALTER ROLE corpus_r PASSWORD ${lit(s)}` },
  { name: 'ALTER USER WITH PASSWORD', sql: (s) => `ALTER USER corpus_r WITH PASSWORD ${lit(s)}` },
  { name: 'ALTER ROLE options then PASSWORD', sql: (s) => `ALTER ROLE corpus_r VALID UNTIL 'infinity' PASSWORD ${lit(s)}` },
  { name: 'E-string with an escaped quote', sql: (s) => `ALTER ROLE corpus_r PASSWORD E'${s}\\'q'` },
  { name: 'dollar-quoted', sql: (s) => `ALTER ROLE corpus_r PASSWORD $$${s}$$` },
  { name: 'tagged dollar-quoted', sql: (s) => `ALTER ROLE corpus_r PASSWORD $pw$${s}$pw$` },
  { name: 'U& string', sql: (s) => `ALTER ROLE corpus_r PASSWORD U&'${s}'` },
  { name: 'doubled quote inside', sql: (s) => `ALTER ROLE corpus_r PASSWORD ${lit(`${s}'x`)}` },
  { name: 'adjacent literals across a newline', sql: (s) => `ALTER ROLE corpus_r PASSWORD 'ab'\n'${s}'` },
  { name: 'statement over several lines', sql: (s) => `ALTER ROLE corpus_r\n  WITH\n  PASSWORD\n  ${lit(s)}` },
  { name: 'syntax error after the password', sql: (s) => `CREATE ROLE corpus_bad PASSWORD ${lit(s)} BOGUS` },
  { name: 'bad VALID UNTIL after the password', sql: (s) => `ALTER ROLE corpus_r PASSWORD ${lit(s)} VALID UNTIL 'garbage'` },
  { name: 'in a rolled-back transaction', sql: (s) => `BEGIN; ALTER ROLE corpus_r PASSWORD ${lit(s)}; ROLLBACK` },
  { name: 'after SET password_encryption', sql: (s) => `SET password_encryption = 'md5'; ALTER ROLE corpus_r PASSWORD ${lit(s)}; RESET password_encryption` },
  { name: 'DO EXECUTE with doubled quotes', sql: (s) => `DO $$ BEGIN EXECUTE 'ALTER ROLE corpus_r PASSWORD ${lit(s).replaceAll("'", "''")}'; END $$` },
  { name: 'DO EXECUTE format %L', sql: (s) => `DO $$ BEGIN EXECUTE format('ALTER ROLE corpus_r PASSWORD %L', ${lit(s)}); END $$` },
  { name: 'DO EXECUTE || quote_literal', sql: (s) => `DO $$ BEGIN EXECUTE 'ALTER ROLE corpus_r PASSWORD ' || quote_literal(${lit(s)}); END $$` },
  { name: 'DO inside DO', sql: (s) => `DO $o$ BEGIN EXECUTE 'DO $i$ BEGIN EXECUTE ''ALTER ROLE corpus_r PASSWORD ${lit(s).replaceAll("'", "''''")}''; END $i$'; END $o$` },
  { name: 'format() outside DO', sql: (s) => `SELECT format('ALTER ROLE corpus_r PASSWORD %L', ${lit(s)})` },
  { name: 'a password in a block comment', sql: (s) => `SELECT 1 /* ALTER ROLE corpus_r PASSWORD ${lit(s)} */` },
  { name: 'SET of a quoted name', sql: (s) => `SET "password" = ${lit(s)}` },
  { name: 'SET app.password', sql: (s) => `SET app.password = ${lit(s)}` },
  { name: 'SET app.secret TO', sql: (s) => `SET app.secret TO ${lit(s)}` },
  { name: 'SET app.api_key', sql: (s) => `SET app.api_key = ${lit(s)}` },
  { name: 'SET app.api_key to a bare word', sql: (s) => `SET app.api_key TO ${s}` },
  { name: 'SET app."client_secret"', sql: (s) => `SET app."client_secret" = ${lit(s)}` },
  { name: 'set_config of a password setting', sql: (s) => `SELECT set_config('app.password', ${lit(s)}, false)` },
  { name: 'set_config of a key setting', sql: (s) => `SELECT set_config('app.api_key', ${lit(s)}, false)` },
  { name: 'ALTER ROLE SET app.api_key', sql: (s) => `ALTER ROLE corpus_r SET app.api_key = ${lit(s)}` },
  { name: 'ALTER ROLE IN DATABASE SET app.auth_token', sql: (s) => `ALTER ROLE corpus_r IN DATABASE postgres SET app.auth_token = ${lit(s)}` },
  { name: 'ALTER DATABASE SET app.signing_secret', sql: (s) => `ALTER DATABASE postgres SET app.signing_secret = ${lit(s)}` },
  { name: 'ALTER SYSTEM SET ssl_passphrase_command, reloaded', sql: (s) => `ALTER SYSTEM SET ssl_passphrase_command = ${lit(`echo ${s}`)}; SELECT pg_reload_conf(); SELECT pg_sleep(0.3); ALTER SYSTEM RESET ssl_passphrase_command; SELECT pg_reload_conf()` },
  { name: 'ALTER SYSTEM SET primary_conninfo, reloaded', sql: (s) => `ALTER SYSTEM SET primary_conninfo = ${lit(`host=standby user=rep password=${s} port=5432`)}; SELECT pg_reload_conf(); SELECT pg_sleep(0.3); ALTER SYSTEM RESET primary_conninfo; SELECT pg_reload_conf()` },
  { name: 'primary_conninfo with a quoted password', sql: (s) => `ALTER SYSTEM SET primary_conninfo = ${lit(`host=standby password='${s} x'`)}; ALTER SYSTEM RESET primary_conninfo` },
  { name: 'primary_conninfo as a URI', sql: (s) => `ALTER SYSTEM SET primary_conninfo = ${lit(`postgresql://rep:${s}@standby/postgres`)}; ALTER SYSTEM RESET primary_conninfo` },
  { name: 'dblink conninfo password', sql: (s) => `SELECT dblink_connect(${lit(`host=127.0.0.1 port=1 password=${s}`)})` },
  { name: 'dblink conninfo sslpassword', sql: (s) => `SELECT dblink_connect(${lit(`host=127.0.0.1 port=1 sslpassword=${s}`)})` },
  { name: 'dblink conninfo quoted password with a space', sql: (s) => `SELECT dblink_connect(${lit(`host=127.0.0.1 port=1 password='${s} x'`)})` },
  { name: 'dblink URI', sql: (s) => `SELECT dblink_connect(${lit(`postgresql://u:${s}@127.0.0.1:1/db`)})` },
  { name: 'dblink URI password holding a quote', sql: (s) => `SELECT dblink_connect(${lit(`postgresql://u:${s}'q@127.0.0.1:1/db`)})` },
  { name: 'dblink URI password holding a slash', sql: (s) => `SELECT dblink_connect(${lit(`postgresql://u:a/${s}@127.0.0.1:1/db`)})` },
  { name: 'URI query password=', sql: (s) => `SELECT dblink_connect(${lit(`postgresql://127.0.0.1:1/db?user=u&password=${s}`)})` },
  { name: 'dblink_exec with a conninfo', sql: (s) => `SELECT dblink_exec(${lit(`dbname=x port=1 password=${s}`)}, 'select 1')` },
  { name: 'foreign server OPTIONS password', sql: (s) => `CREATE SERVER corpus_fs FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host 'h', password ${lit(s)})` },
  { name: 'CREATE USER MAPPING password', sql: (s) => `CREATE SERVER IF NOT EXISTS corpus_fs2 FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host 'h'); CREATE USER MAPPING FOR CURRENT_USER SERVER corpus_fs2 OPTIONS (user 'u', password ${lit(s)})` },
  { name: 'ALTER USER MAPPING SET password', sql: (s) => `ALTER USER MAPPING FOR CURRENT_USER SERVER corpus_fs2 OPTIONS (SET password ${lit(s)})` },
  { name: 'CREATE SUBSCRIPTION CONNECTION', sql: (s) => `CREATE SUBSCRIPTION corpus_sub CONNECTION ${lit(`host=h password=${s}`)} PUBLICATION p WITH (connect = false)` },
  { name: 'UPDATE password column', sql: (s) => `UPDATE corpus_creds SET password = ${lit(s)} WHERE id = 1` },
  { name: 'UPDATE password = md5(…)', sql: (s) => `UPDATE corpus_creds SET password = md5(${lit(s)}) WHERE id = 2` },
  { name: 'WHERE password =', sql: (s) => `SELECT id FROM corpus_creds WHERE password = ${lit(s)}` },
  { name: 'unique violation DETAIL', sql: (s) => `UPDATE corpus_creds SET password = ${lit(s)} WHERE id = 3; INSERT INTO corpus_unique (password) SELECT password FROM corpus_creds WHERE id = 3; INSERT INTO corpus_unique (password) SELECT password FROM corpus_creds WHERE id = 3` },
  { name: 'JSON literal with a password key', sql: (s) => `INSERT INTO corpus_cfg VALUES (${lit(JSON.stringify({ password: s }))})` },
  { name: 'JSON literal with client_secret', sql: (s) => `INSERT INTO corpus_cfg VALUES (${lit(JSON.stringify({ client_secret: s }))})` },
  { name: 'JSON literal with administratorLoginPassword', sql: (s) => `INSERT INTO corpus_cfg VALUES (${lit(JSON.stringify({ properties: { administratorLoginPassword: s } }))})` },
  { name: 'COPY TO PROGRAM with PGPASSWORD', sql: (s) => `COPY (SELECT 1) TO PROGRAM ${lit(`PGPASSWORD=${s} true`)}` },
  { name: 'SharedAccessKey in a string', sql: (s) => `SELECT ${lit(`Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=${s}`)}` },
  { name: 'AccountKey in a string', sql: (s) => `SELECT ${lit(`DefaultEndpointsProtocol=https;AccountName=a;AccountKey=${s};EndpointSuffix=core.windows.net`)}` },
  { name: 'SAS sig in a URL', sql: (s) => `SELECT ${lit(`https://a.blob.core.windows.net/c?sv=2022&sig=${s}`)}` },
  { name: 'bind parameter to a password column', bind: (s) => ({ text: 'UPDATE corpus_creds SET password = $1 WHERE id = $2', values: [s, '4'] }) },
  { name: 'bind parameter compared to a password', bind: (s) => ({ text: 'SELECT id FROM corpus_creds WHERE name = $1 AND password = $2', values: ['alice', s] }) },
  { name: 'bind parameter holding a conninfo', bind: (s) => ({ text: 'SELECT length($1::text)', values: [`host=h password=${s}`] }) },
  { name: 'bind parameter holding a URI', bind: (s) => ({ text: 'SELECT length($1::text)', values: [`postgresql://u:${s}@h/db`] }) },
  { name: 'application_name holding a URI', applicationName: (s) => `postgresql://u:${s}@h/db` },
  { name: 'application_name holding a conninfo password', applicationName: (s) => `host=h password=${s}` },
];

/** Records Azure or a hub may carry that do not decode: their dead letters must be redacted too. */
const DEAD_LETTER_FORMS: { name: string; body: (s: string) => string }[] = [
  { name: 'record without a message, secret-named keys', body: (s) => JSON.stringify({ records: [{ category: 'PostgreSQLLogs', resourceId: RESOURCE_ID, properties: { administratorLoginPassword: s, password: `${s}p`, client_secret: `${s}c` } }] }) },
  { name: 'invalid JSON, secret-named key', body: (s) => `{"records":[{"properties":{"client_secret":"${s}","message":` },
  { name: 'invalid JSON, \\u0027-escaped statement', body: (s) => `{"records":[{"properties":{"message":"2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  statement: ALTER ROLE r PASSWORD \\u0027${s}\\u0027"` },
  { name: 'JSON parse error quoting the end of a password', body: (s) => `{"password": ${s}}` },
  { name: 'JSON parse error quoting a conninfo', body: (s) => `{"c": "host=h password=${s}" x}` },
];

/** A core of 12 letters and digits (a letter first, so it is also a bare SQL word), and the secret around it. */
const secretArb = fc.tuple(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{11}$/),
  fc.constantFrom('', '!', 'é', '😀', '#x', '-9', '%', '~'),
).map(([core, tail]) => ({ core, secret: core + tail }));

describe('secrets corpus: no secret in any table, output or payload', () => {
  let pg: PgServer;
  let dir: string;
  let secrets: { core: string; secret: string }[];
  let deadSecrets: { core: string; secret: string }[];
  const stores: Record<string, string> = {};
  const outputs: Record<string, string> = {};
  const webhookBodies: string[] = [];
  let stderrLog = '';

  const leaksIn = (text: string, list: { core: string }[]) =>
    list.filter(({ core }) => text.includes(core) || text.includes(core.slice(0, 6)) || text.includes(core.slice(-6))).map((s) => s.core);

  before(async () => {
    assert.ok(FORMS.length >= 60, `the corpus has ${FORMS.length} forms`);
    // One draw for all, without fast-check's bias to small values: no two secrets may share a half.
    const drawn = fc.sample(fc.noBias(fc.uniqueArray(secretArb, { minLength: 200, maxLength: 200, selector: (s) => s.core.slice(0, 6) })), 1)[0]!;
    const distinct = drawn.filter((s, i) => drawn.every((o, j) => i === j || (!o.core.includes(s.core.slice(-6)) && !o.core.includes(s.core.slice(0, 6)))));
    secrets = distinct.slice(0, FORMS.length);
    deadSecrets = distinct.slice(FORMS.length, FORMS.length + DEAD_LETTER_FORMS.length);
    assert.equal(deadSecrets.length, DEAD_LETTER_FORMS.length);

    dir = await mkdtemp(join(tmpdir(), 'auditduck-corpus-'));
    pg = await startPostgres();
    const su = { user: pg.superuser, password: pg.superuserPassword, onErrorStop: false };
    const setup = await pg.psql(
      `CREATE EXTENSION IF NOT EXISTS dblink; CREATE ROLE corpus_r LOGIN PASSWORD 'corpus-setup';
       CREATE TABLE corpus_creds (id int, name text, password text); INSERT INTO corpus_creds SELECT g, 'n' || g, 'x' FROM generate_series(1, 4) g;
       CREATE TABLE corpus_unique (password text UNIQUE); CREATE TABLE corpus_cfg (doc text);
       GRANT SELECT, UPDATE ON corpus_creds TO corpus_r;`,
      { ...su, onErrorStop: true },
    );
    assert.equal(setup.code, 0, setup.stderr);
    for (const [i, form] of FORMS.entries()) {
      const { secret } = secrets[i]!;
      if ('sql' in form) {
        await pg.psql(`SET log_statement = 'all';\n${form.sql(secret)};`, su);
      } else if ('bind' in form) {
        const client = await pg.connect();
        try {
          await client.query("SET log_statement = 'all'");
          const q = form.bind(secret);
          await client.query(q.text, q.values);
        } finally {
          await client.end();
        }
      } else {
        await pg.psql('SELECT 1', { ...su, applicationName: form.applicationName(secret) });
      }
    }
    await pg.flushLogs();

    const files = pg.logFiles();
    stderrLog = await readFile(files.stderr, 'utf8');
    const jsonlog = (await readFile(files.jsonlog, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JsonlogRecord);
    const azure = jsonlog.map((r) => toAzureRecord(r, { resourceId: RESOURCE_ID, location: 'westeurope' }));
    const bodies: string[] = [];
    for (let i = 0; i < azure.length; i += 5) bodies.push(JSON.stringify({ records: azure.slice(i, i + 5) }));
    await writeFile(join(dir, 'hub.jsonl'), bodies.join('\n') + '\n');
    await writeFile(join(dir, 'PT1H.json'), azure.map((r) => JSON.stringify(r)).join('\n') + '\n');
    // Dead-letter paths: every body cut short, Azure's \u0027 escaping of quotes, and records that do not decode.
    const cut = bodies.map((b) => b.replaceAll("'", '\\u0027').slice(0, Math.floor(b.length * 0.6)));
    const extra = DEAD_LETTER_FORMS.map((f, i) => f.body(deadSecrets[i]!.secret));
    await writeFile(join(dir, 'hub-broken.jsonl'), [...cut, ...extra].join('\n') + '\n');
    await writeFile(join(dir, 'PT1H-broken.json'), azure.map((r) => JSON.stringify(r).slice(0, 400)).join('\n') + '\n');

    const inputs: Record<string, { path: string; format: 'stderr' | 'csvlog' | 'jsonlog' | 'eventhubs' | 'azure-ndjson'; prefix?: string }> = {
      stderr: { path: files.stderr, format: 'stderr' },
      csvlog: { path: files.csvlog, format: 'csvlog' },
      jsonlog: { path: files.jsonlog, format: 'jsonlog' },
      eventhubs: { path: join(dir, 'hub.jsonl'), format: 'eventhubs' },
      'azure-ndjson': { path: join(dir, 'PT1H.json'), format: 'azure-ndjson' },
      'dead letters: stderr with a wrong log_line_prefix': { path: files.stderr, format: 'stderr', prefix: '[%p] ' },
      'dead letters: cut and malformed Event Hubs bodies': { path: join(dir, 'hub-broken.jsonl'), format: 'eventhubs' },
      'dead letters: cut PT1H.json lines': { path: join(dir, 'PT1H-broken.json'), format: 'azure-ndjson' },
    };
    for (const [name, input] of Object.entries(inputs)) {
      stores[name] = join(dir, `${Object.keys(stores).length}.duckdb`);
      const detector = createDetector({ exclude: NO_EXCLUSIONS });
      await ingestFiles([input.path], {
        dbPath: stores[name], format: input.format, logLinePrefix: input.prefix ?? '%t-%c-', server: 'corpus', log: silentLogger, batchRecords: 50, observers: [detector],
      });
    }

    // The CLI, logging at debug: ingest (with detection), then queries that print what was stored.
    const cli = (args: string[]) => run(process.execPath, [...CLI, ...args], {
      env: { ...process.env, AUDITDUCK_LOG_LEVEL: 'debug', AUDITDUCK_LOG_FORMAT: 'json' }, maxBuffer: 64 * 1024 * 1024,
    });
    const cliDb = join(dir, 'cli.duckdb');
    for (const args of [
      ['ingest', '--db', cliDb, files.stderr],
      ['ingest', '--db', cliDb, '--format', 'eventhubs', join(dir, 'hub-broken.jsonl')],
      ['query', '--db', cliDb, 'SELECT * FROM dead_letters'],
      ['query', '--db', cliDb, 'SELECT * FROM privilege_changes'],
      ['query', '--db', cliDb, '--format', 'json', 'SELECT * FROM log_records'],
      ['alerts', '--db', cliDb],
    ]) {
      const out = await cli(args).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }));
      outputs[args.slice(0, 1).concat(args.slice(-1)).join(' ')] = out.stdout + out.stderr;
    }

    // Webhook bodies of every format, for every alert of every store, as a receiver gets them.
    const server: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        webhookBodies.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      for (const db of Object.values(stores)) {
        for (const row of await queryStore(db, `SELECT ${ALERT_COLUMNS} FROM alerts a ORDER BY alert_id`)) {
          for (const format of WEBHOOK_FORMATS) await createWebhookSink({ url: `http://127.0.0.1:${port}/hook`, format }).deliver(toAlertMessage(row));
        }
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  after(async () => {
    await pg?.stop();
    if (dir && !process.env.AUDITDUCK_KEEP_TEST_FILES) await rm(dir, { recursive: true, force: true });
  });

  it('every form reached the server log: the corpus is really there', () => {
    const missing = FORMS.filter((_f, i) => !stderrLog.includes(secrets[i]!.core)).map((f) => f.name);
    assert.deepEqual(missing, []);
  });

  it('the stores hold alerts and dead letters: detection and the dead-letter paths ran', async () => {
    const alerts = await queryStore(stores.stderr!, 'SELECT count(*) AS n FROM alerts');
    assert.ok(Number(alerts[0]!.n) > 0, 'no alert was raised');
    for (const name of Object.keys(stores).filter((n) => n.startsWith('dead letters'))) {
      const dead = await queryStore(stores[name]!, 'SELECT count(*) AS n FROM dead_letters');
      assert.ok(Number(dead[0]!.n) > 0, `${name}: no dead letter`);
    }
    assert.ok(webhookBodies.length > 0, 'no webhook body was sent');
  });

  it('no secret in any column of any table, for every input format and dead-letter path', async () => {
    const found: string[] = [];
    for (const [name, db] of Object.entries(stores)) {
      for (const table of (await dumpStore(db)).split('\n')) {
        for (const core of leaksIn(table, [...secrets, ...deadSecrets])) found.push(`${name} / ${tableName(table)} / ${formOf(core)}: ${around(table, core)}`);
      }
    }
    assert.deepEqual(found, []);
  });

  it("no secret in the CLI's stdout or stderr", () => {
    const found: string[] = [];
    for (const [command, text] of Object.entries(outputs)) {
      assert.ok(text.length > 0, `${command} printed nothing`);
      for (const core of leaksIn(text, [...secrets, ...deadSecrets])) found.push(`${command} / ${formOf(core)}: ${around(text, core)}`);
    }
    assert.deepEqual(found, []);
  });

  it('no secret in any webhook body', () => {
    assert.deepEqual(leaksIn(webhookBodies.join('\n'), [...secrets, ...deadSecrets]).map((core) => formOf(core)), []);
  });

  function tableName(dumpLine: string): string {
    return /^\{"table":"([^"]+)"/.exec(dumpLine)?.[1] ?? '?';
  }

  /** Where a leak is, for the failure message: the text around the core (or around one of its halves). */
  function around(text: string, core: string): string {
    const at = [core, core.slice(0, 6), core.slice(-6)].map((c) => text.indexOf(c)).find((i) => i >= 0) ?? 0;
    return text.slice(Math.max(0, at - 120), at + 40);
  }

  function formOf(core: string): string {
    const i = secrets.findIndex((s) => s.core === core);
    if (i >= 0) return FORMS[i]!.name;
    return DEAD_LETTER_FORMS[deadSecrets.findIndex((s) => s.core === core)]?.name ?? core;
  }
});
