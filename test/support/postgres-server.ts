/**
 * A real PostgreSQL 15 + pgaudit server for tests and for `npm run samples`.
 *
 * Each call to `startPostgres` runs initdb in a fresh temporary directory and starts a private cluster on a
 * free 127.0.0.1 port, configured like Azure Flexible Server's logging (`log_line_prefix = '%t-%c-'`, UTC)
 * with all three log destinations, so one run yields stderr, csvlog and jsonlog of the same events.
 *
 * Cleanup: always pair it with an `after()` hook, so a failing test still stops the server:
 * ```ts
 * let pg: PgServer;
 * before(async () => { pg = await startPostgres(); });
 * after(async () => { await pg?.stop(); });
 * ```
 * As a last resort, servers still running when the Node process exits are stopped (`-m immediate`) by an
 * exit hook, so a crashed test run does not leave a postmaster behind.
 *
 * initdb and postgres refuse to run as root: when we are root they run as the `postgres` OS user (created
 * by the Debian package) through `runuser`; otherwise they run as the current user.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './local-ports.js';
import { ENTRA_FUNCTIONS_SQL, entraLabelProvider } from './entra-standin.js';

export const DEFAULT_PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
export const DEFAULT_PG_LIB_DIR = '/usr/lib/postgresql/15/lib';
/** Azure Flexible Server's default prefix: `2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  ...`. */
export const AZURE_LOG_LINE_PREFIX = '%t-%c-';
/** `log_filename`; PostgreSQL derives `postgresql.csv` and `postgresql.json` for csvlog and jsonlog. */
const LOG_FILE_BASE = 'postgresql';

export interface StartPostgresOptions {
  /** Extra or overriding postgresql.conf settings (values are written quoted). */
  settings?: Record<string, string>;
  /** `pgaudit.log`; default `all`. */
  pgauditLog?: string;
  /** Where initdb, pg_ctl, postgres and psql live; default /usr/lib/postgresql/15/bin. */
  binDir?: string;
  /** Generate a self-signed certificate and turn `ssl` on (default true; skipped when openssl is missing). */
  ssl?: boolean;
  /**
   * Azure's Microsoft Entra functions and `pgaadauth` label provider, stood in (test/support/entra-standin.ts):
   * the provider is loaded after pgaudit and the functions are installed in `postgres`. Default false.
   */
  entra?: boolean;
}

export interface PsqlOptions {
  user?: string;
  /** Given to psql through PGPASSWORD, never on its command line. Default: the superuser's password. */
  password?: string;
  database?: string;
  /** `-v ON_ERROR_STOP=1` (default true). */
  onErrorStop?: boolean;
  /** libpq `sslmode` (default `disable`). `require` needs the server's ssl (see `PgServer.ssl`). */
  sslmode?: 'disable' | 'allow' | 'prefer' | 'require';
  /** PGAPPNAME, shown in `connection authorized: ... application_name=...`. */
  applicationName?: string;
}

export interface PsqlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ConnectOptions {
  user?: string;
  password?: string;
  database?: string;
  /** TLS without certificate verification (the certificate is self-signed). */
  ssl?: boolean;
  applicationName?: string;
}

export interface LogFilePaths {
  stderr: string;
  csvlog: string;
  jsonlog: string;
}

export interface PgServer {
  port: number;
  host: '127.0.0.1';
  superuser: string;
  superuserPassword: string;
  dataDir: string;
  logDir: string;
  /** Whether the server accepts TLS (false when openssl was missing or `ssl: false`). */
  ssl: boolean;
  /** Runs `sql` through psql over TCP, fed on stdin (so statements never show on a command line). */
  psql(sql: string, opts?: PsqlOptions): Promise<PsqlResult>;
  /** A connected `pg` client; the caller ends it. */
  connect(opts?: ConnectOptions): Promise<pg.Client>;
  /**
   * Waits until the logging collector has written everything logged so far: logs a unique marker with
   * `RAISE LOG` and polls the three files until each holds it. Best effort for `disconnection` lines of
   * sessions that closed just before, which a backend writes while it exits.
   */
  flushLogs(): Promise<void>;
  logFiles(): LogFilePaths;
  /** `pg_ctl stop -m fast`, then removes the temporary directory unless `keepFiles`. Safe to call twice. */
  stop(opts?: { keepFiles?: boolean }): Promise<void>;
}

const running = new Set<{ pgCtl: string; dataDir: string; asPostgres: boolean }>();
let exitHookInstalled = false;

/** Stops, synchronously, every server a crashed or forgetful test left running. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of running) {
      const [cmd, args] = commandFor(server.asPostgres, server.pgCtl, ['stop', '-D', server.dataDir, '-m', 'immediate', '-w']);
      spawnSync(cmd, args, { stdio: 'ignore' });
    }
  });
}

function commandFor(asPostgres: boolean, cmd: string, args: string[]): [string, string[]] {
  return asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

function run(cmd: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
    child.stdin.on('error', () => {}); // psql may exit (failed login) before reading its input
    child.stdin.end(options.input ?? '');
  });
}

/** A postgresql.conf value, always quoted (PostgreSQL accepts quotes around numbers and booleans too). */
function confValue(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function assertInstalled(binDir: string): void {
  const missing = ['initdb', 'pg_ctl', 'postgres', 'psql'].filter((bin) => !existsSync(join(binDir, bin)));
  const pgauditSo = join(binDir, '..', 'lib', 'pgaudit.so');
  if (!existsSync(pgauditSo) && !existsSync(join(DEFAULT_PG_LIB_DIR, 'pgaudit.so'))) missing.push('pgaudit.so');
  if (missing.length > 0) {
    throw new Error(
      `PostgreSQL 15 with pgaudit is needed for this test but ${missing.join(', ')} not found under ${binDir}. ` +
        'Install it with: sudo apt-get install -y postgresql-15 postgresql-15-pgaudit',
    );
  }
}

function postgresUserExists(): boolean {
  return spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status === 0;
}

function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

/** Environment for client programs: our connection only, nothing inherited from the caller's PG* variables. */
function clientEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG')) env[key] = value;
  }
  return { ...env, ...extra };
}

function baseSettings(port: number, socketDir: string, pgauditLog: string): Record<string, string> {
  return {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: socketDir,
    shared_preload_libraries: 'pgaudit',
    'pgaudit.log': pgauditLog,
    'pgaudit.log_parameter': 'on',
    'pgaudit.log_client': 'off',
    log_line_prefix: AZURE_LOG_LINE_PREFIX,
    logging_collector: 'on',
    log_destination: 'stderr,csvlog,jsonlog',
    log_directory: 'log',
    log_filename: `${LOG_FILE_BASE}.log`,
    // One file per destination for the whole run: nothing rotates under a test.
    log_rotation_age: '0',
    log_rotation_size: '0',
    log_connections: 'on',
    log_disconnections: 'on',
    log_timezone: 'UTC',
    timezone: 'UTC',
    fsync: 'off',
    max_connections: '40',
    shared_buffers: '16MB',
  };
}

export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PgServer> {
  const binDir = opts.binDir ?? DEFAULT_PG_BIN_DIR;
  assertInstalled(binDir);
  const asPostgres = process.getuid?.() === 0;
  if (asPostgres && !postgresUserExists()) {
    throw new Error('Running as root, but there is no `postgres` OS user to run initdb/postgres as. Install postgresql-15 (it creates the user) or run the tests as a non-root user.');
  }
  const bin = (name: string) => join(binDir, name);
  const rootDir = await mkdtemp(join(tmpdir(), 'auditduck-pg-'));
  const dataDir = join(rootDir, 'data');
  const socketDir = rootDir;
  const logDir = join(dataDir, 'log');
  const superuser = 'postgres';
  const superuserPassword = randomBytes(18).toString('base64url');
  const owned = async (path: string) => {
    if (asPostgres) {
      const { uid, gid } = await postgresIds();
      await chown(path, uid, gid);
    }
  };
  await chmod(rootDir, 0o700);
  await owned(rootDir);

  const asPg = (cmd: string, args: string[]) => commandFor(asPostgres, cmd, args);
  let started = false;
  const entry = { pgCtl: bin('pg_ctl'), dataDir, asPostgres };
  try {
    const pwFile = join(rootDir, 'pwfile');
    await writeFile(pwFile, `${superuserPassword}\n`, { mode: 0o600 });
    await owned(pwFile);
    const initdb = await run(...asPg(bin('initdb'), ['-D', dataDir, '-U', superuser, '-A', 'scram-sha-256', `--pwfile=${pwFile}`, '-E', 'UTF8', '--locale=C', '--no-sync']), { cwd: rootDir });
    await rm(pwFile, { force: true });
    if (initdb.code !== 0) throw new Error(`initdb failed (exit ${initdb.code}): ${initdb.stderr.trim()}`);

    const port = await freePort();
    const settings: Record<string, string> = baseSettings(port, socketDir, opts.pgauditLog ?? 'all');
    const ssl = opts.ssl !== false && hasOpenssl() && (await makeCertificate(dataDir, asPg));
    if (ssl) Object.assign(settings, { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' });
    if (opts.entra) settings.shared_preload_libraries = `pgaudit,${await entraLabelProvider(binDir)}`;
    Object.assign(settings, opts.settings ?? {});
    const conf = Object.entries(settings).map(([key, value]) => `${key} = ${confValue(value)}`).join('\n');
    await appendFile(join(dataDir, 'postgresql.conf'), `\n# auditduck test harness\n${conf}\n`);

    const startLog = join(rootDir, 'pg_ctl.log');
    running.add(entry);
    installExitHook();
    const start = await run(...asPg(bin('pg_ctl'), ['start', '-D', dataDir, '-w', '-t', '60', '-l', startLog]), { cwd: rootDir });
    started = true;
    if (start.code !== 0) {
      const serverLog = await readFile(startLog, 'utf8').catch(() => '');
      throw new Error(`pg_ctl start failed (exit ${start.code}): ${start.stderr.trim()}\n${serverLog.trim()}`);
    }

    const server = makeServer({ binDir, rootDir, dataDir, logDir, port, superuser, superuserPassword, ssl, asPostgres, entry });
    for (const database of ['postgres', 'template1']) {
      const created = await server.psql('CREATE EXTENSION IF NOT EXISTS pgaudit;', { database });
      if (created.code !== 0) throw new Error(`CREATE EXTENSION pgaudit failed in ${database}: ${created.stderr.trim()}`);
    }
    if (opts.entra) {
      const installed = await server.psql(ENTRA_FUNCTIONS_SQL);
      if (installed.code !== 0) throw new Error(`installing the Entra function stand-ins failed: ${installed.stderr.trim()}`);
    }
    return server;
  } catch (error) {
    if (started) {
      await run(...asPg(bin('pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w']));
    }
    running.delete(entry);
    await rm(rootDir, { recursive: true, force: true });
    throw error;
  }
}

let idsCache: { uid: number; gid: number } | undefined;
async function postgresIds(): Promise<{ uid: number; gid: number }> {
  if (idsCache) return idsCache;
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  idsCache = { uid, gid };
  return idsCache;
}

/** A throw-away self-signed certificate; false (no TLS) when openssl fails. */
async function makeCertificate(dataDir: string, asPg: (cmd: string, args: string[]) => [string, string[]]): Promise<boolean> {
  const result = await run(
    ...asPg('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-keyout', join(dataDir, 'server.key'), '-out', join(dataDir, 'server.crt'),
    ]),
    { cwd: dataDir },
  );
  if (result.code !== 0) return false;
  await chmod(join(dataDir, 'server.key'), 0o600);
  return true;
}

interface ServerState {
  binDir: string;
  rootDir: string;
  dataDir: string;
  logDir: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  ssl: boolean;
  asPostgres: boolean;
  entry: { pgCtl: string; dataDir: string; asPostgres: boolean };
}

function makeServer(state: ServerState): PgServer {
  const { binDir, rootDir, dataDir, logDir, port, superuser, superuserPassword, ssl, asPostgres, entry } = state;
  const files: LogFilePaths = {
    stderr: join(logDir, `${LOG_FILE_BASE}.log`),
    csvlog: join(logDir, `${LOG_FILE_BASE}.csv`),
    jsonlog: join(logDir, `${LOG_FILE_BASE}.json`),
  };
  let stopped = false;

  const psql = (sql: string, opts: PsqlOptions = {}): Promise<PsqlResult> => {
    const env = clientEnv({
      PGHOST: '127.0.0.1',
      PGPORT: String(port),
      PGUSER: opts.user ?? superuser,
      PGPASSWORD: opts.password ?? (opts.user === undefined || opts.user === superuser ? superuserPassword : ''),
      PGDATABASE: opts.database ?? 'postgres',
      PGSSLMODE: opts.sslmode ?? 'disable',
      PGAPPNAME: opts.applicationName ?? 'psql',
      PGCONNECT_TIMEOUT: '10',
    });
    const onErrorStop = (opts.onErrorStop ?? true) ? '1' : '0';
    // -w: never prompt for a password (a wrong one must fail, not hang); -f -: SQL on stdin.
    return run(join(binDir, 'psql'), ['-X', '-w', '-v', `ON_ERROR_STOP=${onErrorStop}`, '-f', '-'], { env, input: sql });
  };

  const connect = async (opts: ConnectOptions = {}): Promise<pg.Client> => {
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: opts.user ?? superuser,
      password: opts.password ?? superuserPassword,
      database: opts.database ?? 'postgres',
      application_name: opts.applicationName ?? 'auditduck-test',
      ssl: opts.ssl ? { rejectUnauthorized: false } : false,
    });
    await client.connect();
    return client;
  };

  const flushLogs = async (): Promise<void> => {
    // A moment for backends of just-closed sessions to write their `disconnection` line.
    await sleep(100);
    const marker = `auditduck-flush-${randomBytes(8).toString('hex')}`;
    const result = await psql(`DO $$ BEGIN RAISE LOG '${marker}'; END $$;`, { applicationName: 'auditduck-flush' });
    if (result.code !== 0) throw new Error(`flushLogs: the marker statement failed: ${result.stderr.trim()}`);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const contents = await Promise.all(Object.values(files).map((path) => readFile(path, 'utf8').catch(() => '')));
      if (contents.every((text) => text.includes(marker))) return;
      if (Date.now() > deadline) throw new Error(`flushLogs: marker ${marker} did not reach every log file in ${logDir} within 10 s`);
      await sleep(25);
    }
  };

  const stop = async (opts: { keepFiles?: boolean } = {}): Promise<void> => {
    if (!stopped) {
      stopped = true;
      const pid = await postmasterPid(dataDir);
      const [cmd, args] = commandFor(asPostgres, join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60']);
      const result = await run(cmd, args);
      if (result.code !== 0 && (await postmasterPid(dataDir)) !== undefined) {
        const [icmd, iargs] = commandFor(asPostgres, join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w']);
        await run(icmd, iargs);
      }
      // pg_ctl returns once postmaster.pid is gone, a moment before the process itself has exited.
      if (pid !== undefined) await waitForExit(pid, 10_000);
      running.delete(entry);
    }
    if (!opts.keepFiles) await rm(rootDir, { recursive: true, force: true });
  };

  return {
    port,
    host: '127.0.0.1',
    superuser,
    superuserPassword,
    dataDir,
    logDir,
    ssl,
    psql,
    connect,
    flushLogs,
    logFiles: () => ({ ...files }),
    stop,
  };
}

/** The postmaster's pid from postmaster.pid, or undefined when the server is not running. */
export async function postmasterPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = text === undefined ? NaN : Number(text.split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return isAlive(pid) ? pid : undefined;
}

/** Whether a process exists and is not a zombie waiting to be reaped. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const status = readFileSyncOrEmpty(`/proc/${pid}/status`);
  return !/^State:\s+Z/m.test(status);
}

function readFileSyncOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) throw new Error(`postgres (pid ${pid}) still running ${timeoutMs} ms after pg_ctl stop`);
    await sleep(20);
  }
}

/** Whether `path` exists (for tests that check what stop() removed). */
export async function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
