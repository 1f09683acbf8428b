/**
 * `npm run samples`: captures samples/ from a real PostgreSQL 15 + pgaudit server.
 *
 * It starts a private server with the test harness (Azure-like logging: `%t-%c-`, UTC, stderr + csvlog +
 * jsonlog), plays a realistic scenario as several users over TCP (with and without TLS), stops the server,
 * and writes:
 *   samples/postgres/postgresql.{log,csv,json}   the raw logs of the run
 *   samples/eventhubs/partition-{0,1}.jsonl       Event Hubs bodies `{"records":[...]}`, one per line
 *   samples/storage/PT1H.json                     the same records, one per line, as in a Storage blob
 *
 * The server writes the fake passwords of the scenario in clear where pgaudit and PostgreSQL leave them
 * (DO blocks, `log_statement`, error STATEMENT lines). Every text goes through the project's own
 * `redactSecrets` (src/redact/index.ts) before it is written, and the script refuses to write
 * anything if one of those passwords would still reach samples/.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres, type PgServer, type PsqlOptions } from '../test/support/postgres-server.js';
import {
  batchRecords,
  seededRandom,
  spreadOverPartitions,
  toAzureRecord,
  type AzureEnvelopeOptions,
} from './azure-envelope.js';
import { assertNoSecrets, redactCsvlog, redactJsonlog, redactStderr, type Redact } from './redact-log-files.js';

const SAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'samples');
/**
 * The redactor. CAPTURE_SAMPLES_REDACTOR_FOR_DRY_RUN (a module URL) swaps it for a dry run of the scenario;
 * the check that no scenario password reaches samples/ applies either way.
 */
const REDACT_MODULE = process.env.CAPTURE_SAMPLES_REDACTOR_FOR_DRY_RUN ?? new URL('../src/redact/index.js', import.meta.url).href;

export const ENVELOPE: AzureEnvelopeOptions = {
  resourceId:
    '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/DEMO-RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/demo-flex',
  location: 'westeurope',
  withLogicalServerName: true,
};
const PARTITIONS = 2;
const MAX_RECORDS_PER_BODY = 20;
const BATCH_SEED = 20261124;

/** Obviously fake passwords; they must never appear in samples/ (checked before writing). */
const FAKE = {
  dba: 'fake-dba-Pw-1111',
  orders: 'fake-orders-Pw-2222',
  ordersRotated: 'fake-orders-Pw-rotated-3333',
  analyst: 'fake-analyst-Pw-4444',
  backup: 'fake-backup-Pw-5555',
  shadow: 'fake-shadow-Pw-6666',
  legacy: 'fake-legacy-Pw-7777',
  spray: 'fake-Winter2026-spray',
  wrong: 'fake-wrong-Pw-9999',
} as const;

type Actor = 'postgres' | 'dba_alice' | 'analyst' | 'shadow_admin';
const PASSWORDS: Record<Exclude<Actor, 'postgres'>, string> = {
  dba_alice: FAKE.dba,
  analyst: FAKE.analyst,
  shadow_admin: FAKE.shadow,
};

interface SqlStep {
  kind: 'sql';
  what: string;
  as: Actor;
  database?: string;
  sslmode: 'disable' | 'require';
  app: string;
  sql: string;
  /** The step contains statements that fail on purpose: psql goes on after an error. */
  failsOnPurpose?: boolean;
}
interface LoginFailureStep {
  kind: 'login-failure';
  what: string;
  user: string;
  password: string;
  sslmode: 'disable' | 'require';
  app: string;
}
interface AppStep {
  kind: 'app';
  what: string;
}
type Step = SqlStep | LoginFailureStep | AppStep;

/** The story the samples tell, in order. Each step is one session. */
const SCENARIO: Step[] = [
  {
    kind: 'sql', what: 'the platform team creates a DBA and the shop database', as: 'postgres', sslmode: 'require', app: 'psql',
    sql: `CREATE ROLE dba_alice LOGIN CREATEROLE CREATEDB PASSWORD '${FAKE.dba}';
CREATE DATABASE shop OWNER dba_alice;`,
  },
  {
    kind: 'sql', what: 'the DBA creates the schema, an app user and an analyst', as: 'dba_alice', database: 'shop', sslmode: 'require', app: 'pgAdmin 4 - CONN:1234567',
    sql: `CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer text NOT NULL, amount numeric(10,2) NOT NULL, status text NOT NULL DEFAULT 'new');
CREATE ROLE app_orders LOGIN PASSWORD '${FAKE.orders}';
GRANT SELECT, INSERT, UPDATE ON orders TO app_orders;
CREATE ROLE analyst LOGIN PASSWORD '${FAKE.analyst}' VALID UNTIL 'infinity';
GRANT pg_read_all_data TO analyst;
ALTER ROLE analyst VALID UNTIL 'infinity';`,
  },
  { kind: 'app', what: 'the application writes and reads orders with bind parameters over TLS' },
  {
    kind: 'sql', what: 'the analyst reads without TLS', as: 'analyst', database: 'shop', sslmode: 'disable', app: 'DBeaver 24.1.0 - Main',
    sql: `SELECT status, count(*), sum(amount) FROM orders GROUP BY status;
SELECT * FROM orders WHERE amount > 100 ORDER BY id LIMIT 10;`,
  },
  {
    kind: 'sql', what: 'a grant that is rolled back, and statements that fail', as: 'dba_alice', database: 'shop', sslmode: 'require', app: 'psql', failsOnPurpose: true,
    sql: `BEGIN;
GRANT pg_write_all_data TO analyst;
ROLLBACK;
CREATE ROLE app_orders LOGIN;
GRANT pg_read_all_data TO reporting_ghost;
DROP TABLE customers;`,
  },
  {
    kind: 'sql', what: 'the superuser escalates roles', as: 'postgres', sslmode: 'disable', app: 'psql',
    sql: `ALTER ROLE dba_alice SUPERUSER;
ALTER ROLE analyst CREATEROLE;`,
  },
  {
    kind: 'sql', what: 'a role created inside a DO block: pgaudit does not redact its password', as: 'dba_alice', sslmode: 'require', app: 'psql',
    sql: `DO $$
BEGIN
  EXECUTE 'CREATE ROLE svc_backup LOGIN PASSWORD ''${FAKE.backup}''';
END
$$;`,
  },
  { kind: 'login-failure', what: 'wrong password for an existing user', user: 'analyst', password: FAKE.wrong, sslmode: 'disable', app: 'DBeaver 24.1.0 - Main' },
  { kind: 'login-failure', what: 'unknown user', user: 'admin', password: FAKE.wrong, sslmode: 'require', app: 'psql' },
  ...['postgres', 'admin', 'root', 'sa', 'app_orders', 'analyst', 'dba_alice'].map(
    (user): LoginFailureStep => ({ kind: 'login-failure', what: `password spray: ${user}`, user, password: FAKE.spray, sslmode: 'disable', app: 'psql' }),
  ),
  {
    kind: 'sql', what: 'a superuser silences pgaudit, then creates a backdoor', as: 'postgres', sslmode: 'disable', app: 'psql',
    sql: `SET pgaudit.log = 'none';
CREATE ROLE shadow_admin LOGIN SUPERUSER PASSWORD '${FAKE.shadow}';
GRANT pg_read_all_data TO shadow_admin;`,
  },
  {
    kind: 'sql', what: 'the backdoor is used', as: 'shadow_admin', sslmode: 'require', app: 'psql',
    sql: `SELECT rolname, rolsuper FROM pg_roles WHERE rolcanlogin ORDER BY rolname;`,
  },
  {
    kind: 'sql', what: 'password hashing downgraded to md5, then put back', as: 'postgres', sslmode: 'disable', app: 'psql',
    sql: `ALTER SYSTEM SET password_encryption = 'md5';
SELECT pg_reload_conf();
SET password_encryption = 'md5';
CREATE ROLE legacy_report LOGIN PASSWORD '${FAKE.legacy}';
ALTER SYSTEM RESET password_encryption;
SELECT pg_reload_conf();`,
  },
  {
    kind: 'sql', what: 'log_statement = all leaks a password in clear', as: 'postgres', sslmode: 'disable', app: 'psql',
    sql: `SET log_statement = 'all';
ALTER ROLE app_orders PASSWORD '${FAKE.ordersRotated}';
RESET log_statement;`,
  },
  {
    kind: 'sql', what: 'the DBA tidies up', as: 'dba_alice', sslmode: 'require', app: 'psql',
    sql: `REVOKE pg_read_all_data FROM analyst;
ALTER ROLE analyst NOCREATEROLE;
DROP ROLE legacy_report;`,
  },
];

async function runStep(server: PgServer, step: Step): Promise<void> {
  switch (step.kind) {
    case 'sql': {
      const options: PsqlOptions = {
        user: step.as,
        password: step.as === 'postgres' ? server.superuserPassword : PASSWORDS[step.as],
        database: step.database ?? 'postgres',
        sslmode: server.ssl ? step.sslmode : 'disable',
        applicationName: step.app,
        onErrorStop: !step.failsOnPurpose,
      };
      const result = await server.psql(step.sql, options);
      if (result.code !== 0) throw new Error(`scenario step "${step.what}" failed (psql exit ${result.code}): ${result.stderr.trim()}`);
      return;
    }
    case 'login-failure': {
      const result = await server.psql('SELECT 1;', {
        user: step.user,
        password: step.password,
        sslmode: server.ssl ? step.sslmode : 'disable',
        applicationName: step.app,
      });
      if (result.code === 0) throw new Error(`scenario step "${step.what}" logged in, but it should fail`);
      return;
    }
    case 'app':
      return runApplication(server);
    default: {
      const unknown: never = step;
      throw new Error(`unknown step ${JSON.stringify(unknown)}`);
    }
  }
}

/** The order service: the extended protocol, so pgaudit logs bind parameters (`pgaudit.log_parameter = on`). */
async function runApplication(server: PgServer): Promise<void> {
  const client = await server.connect({ user: 'app_orders', password: FAKE.orders, database: 'shop', ssl: server.ssl, applicationName: 'orders-api' });
  try {
    const orders: Array<[string, string]> = [['ACME Corp', '129.90'], ['Globex', '45.00'], ['Initech', '310.25']];
    for (const [customer, amount] of orders) {
      await client.query('INSERT INTO orders (customer, amount) VALUES ($1, $2) RETURNING id', [customer, amount]);
    }
    await client.query('UPDATE orders SET status = $1 WHERE customer = $2', ['shipped', 'Globex']);
    await client.query('SELECT id, customer, amount, status FROM orders WHERE status = $1', ['new']);
  } finally {
    await client.end();
  }
}

async function loadRedactor(): Promise<Redact> {
  let module: { redactSecrets?: unknown };
  try {
    module = (await import(REDACT_MODULE)) as { redactSecrets?: unknown };
  } catch (error) {
    throw new Error(
      `samples must be redacted with src/redact/index.ts (export redactSecrets), which could not be loaded: ${(error as Error).message}`,
    );
  }
  if (typeof module.redactSecrets !== 'function') {
    throw new Error('src/redact/index.ts does not export a function redactSecrets(text): { text, secrets }');
  }
  return module.redactSecrets as Redact;
}

function renderReadme(server: { version: string }, stats: { jsonlog: number; bodies: number[] }): string {
  return `# Samples

Small real captures for the demo, the docs and end-to-end tests. Made by \`npm run samples\`
(scripts/capture-samples.ts) from a private ${server.version} server with pgaudit 1.7, started by the test
harness (test/support/postgres-server.ts) with Azure Flexible Server's logging settings:

\`\`\`
shared_preload_libraries = 'pgaudit'   pgaudit.log = 'all'   pgaudit.log_parameter = on   pgaudit.log_client = off
log_line_prefix = '%t-%c-'   log_timezone = 'UTC'   log_connections = on   log_disconnections = on
logging_collector = on   log_destination = 'stderr,csvlog,jsonlog'   ssl = on (self-signed)
\`\`\`

The scenario (see \`SCENARIO\` in the script), as several users over TCP, some with \`sslmode=require\`, some
with \`disable\`: a DBA creates roles with passwords and grants \`pg_read_all_data\`; an application writes and reads
with bind parameters; an analyst reads; a grant inside a rolled-back transaction; failing statements; a
superuser runs \`ALTER ROLE ... SUPERUSER\` / \`CREATEROLE\`; a role created with a password inside a \`DO\` block
(pgaudit does not redact it); failed logins (wrong password, unknown user) and a password spray from one host;
\`SET pgaudit.log = 'none'\` followed by a backdoor superuser (no AUDIT lines for it, only its connections);
\`ALTER SYSTEM SET password_encryption = 'md5'\` and back; \`SET log_statement = 'all'\` followed by
\`ALTER ROLE ... PASSWORD\` (PostgreSQL logs the statement in clear).

| Path | What |
|---|---|
| \`postgres/postgresql.log\` | stderr log, prefix \`%t-%c-\` |
| \`postgres/postgresql.csv\` | csvlog of the same run |
| \`postgres/postgresql.json\` | jsonlog of the same run (${stats.jsonlog} records) |
| \`eventhubs/partition-0.jsonl\`, \`eventhubs/partition-1.jsonl\` | Event Hubs event bodies \`{"records":[...]}\`, one body per line, 1–${MAX_RECORDS_PER_BODY} records each, bodies dealt round-robin over the two files as Event Hubs spreads events without a partition key (${stats.bodies.join(' and ')} bodies) |
| \`storage/PT1H.json\` | the same records one per line, as diagnostic settings write them to a Storage account |

The Azure records are built from the jsonlog, one record per jsonlog object, by scripts/azure-envelope.ts, as a
Flexible Server sends category \`PostgreSQLLogs\`: \`properties.message\` is the rendered line (\`%t-%c-\` prefix,
\`LEVEL:  \`, text), \`properties.detail\` the DETAIL, \`sqlerrcode\` \`00000\` when the line has none. As on Azure,
CONTEXT and STATEMENT lines are absent from them (they are still in the raw stderr/csvlog/jsonlog). The resource id
(\`/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/DEMO-RG/.../FLEXIBLESERVERS/demo-flex\`)
and location are made up.

## Secrets

The scenario uses obviously fake passwords. Where the server wrote them in clear (the \`DO\` block, the
\`log_statement\` line, STATEMENT lines of errors), every file here was passed through the project's
\`redactSecrets\` (src/redact/) — stderr entry by entry (a line and its tab-indented continuation lines), csvlog field by field, jsonlog value by value, the
Azure records' message and detail — and the script refuses to write if any scenario password is left. So these
files show what auditduck stores, not byte-for-byte what the server wrote at those few places; everything else is
verbatim. Paths such as \`/tmp/auditduck-pg-*/data/pg_hba.conf\` in DETAIL lines are the temporary cluster's.

## Licence

Our own capture, under the project's licence (see LICENSE in this folder).
`;
}

const LICENSE_NOTE = `The files in this folder were captured by the auditduck project from its own PostgreSQL test server
(scripts/capture-samples.ts). They contain no third-party data and are distributed under the same
licence as the rest of auditduck (MIT, see package.json).
`;

async function main(): Promise<void> {
  const redact = await loadRedactor();
  const server = await startPostgres({ pgauditLog: 'all' });
  let version = 'PostgreSQL 15';
  let logs: { stderr: string; csvlog: string; jsonlog: string };
  try {
    const versionResult = await server.psql('SHOW server_version;', { applicationName: 'psql' });
    version = `PostgreSQL ${/\s(\d+\.\d+)/.exec(versionResult.stdout)?.[1] ?? '15'}`;
    for (const step of SCENARIO) await runStep(server, step);
    // A fast shutdown waits for every backend, and the logger drains its pipe before it exits.
    await server.stop({ keepFiles: true });
    const paths = server.logFiles();
    logs = {
      stderr: await readFile(paths.stderr, 'utf8'),
      csvlog: await readFile(paths.csvlog, 'utf8'),
      jsonlog: await readFile(paths.jsonlog, 'utf8'),
    };
  } finally {
    await server.stop();
  }

  const stderr = await redactStderr(logs.stderr, redact);
  const csvlog = await redactCsvlog(logs.csvlog, redact);
  const jsonlog = await redactJsonlog(logs.jsonlog, redact);
  const azureRecords = jsonlog.records.map((record) => toAzureRecord(record, ENVELOPE));
  const random = seededRandom(BATCH_SEED);
  const bodies = batchRecords(azureRecords, () => 1 + Math.floor(random() * MAX_RECORDS_PER_BODY)).map((records) => JSON.stringify({ records }));
  const partitions = spreadOverPartitions(bodies, PARTITIONS);

  const files = new Map<string, string>([
    ['postgres/postgresql.log', stderr],
    ['postgres/postgresql.csv', csvlog],
    ['postgres/postgresql.json', jsonlog.text],
    ...partitions.map((lines, index): [string, string] => [`eventhubs/partition-${index}.jsonl`, lines.map((line) => `${line}\n`).join('')]),
    ['storage/PT1H.json', azureRecords.map((record) => `${JSON.stringify(record)}\n`).join('')],
    ['README.md', renderReadme({ version }, { jsonlog: jsonlog.records.length, bodies: partitions.map((p) => p.length) })],
    ['LICENSE', LICENSE_NOTE],
  ]);
  assertNoSecrets(files, [...Object.values(FAKE), server.superuserPassword]);

  for (const dir of ['postgres', 'eventhubs', 'storage']) await rm(join(SAMPLES_DIR, dir), { recursive: true, force: true });
  let total = 0;
  for (const [path, content] of files) {
    await mkdir(dirname(join(SAMPLES_DIR, path)), { recursive: true });
    await writeFile(join(SAMPLES_DIR, path), content);
    total += Buffer.byteLength(content);
    console.log(`wrote samples/${path} (${Buffer.byteLength(content)} bytes)`);
  }
  console.log(`${jsonlog.records.length} log records, ${bodies.length} Event Hubs bodies, ${total} bytes in samples/`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(`capture-samples: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
