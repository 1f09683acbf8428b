/**
 * The CLI as a terminal user meets it (issue 19, items 6 and 9): tables that fit 80 columns, -x, the exit
 * codes cron and CI test, progress on a pseudo-terminal, and the errors a first try runs into.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { audit, failedLogin, login, minutes } from '../support/detection-records.js';
import { openHarness } from '../detect/detection-harness.js';
import { CLI } from '../support/cli-command.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const FIXTURE = join(ROOT, 'test/fixtures/postgres-logs/pg15-azure.log');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [...CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, COLUMNS: '', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI under a pseudo-terminal of 80 columns (util-linux `script`), as a user at a terminal would. */
function cliOnTty(args: string[]) {
  const quoted = ['stty cols 80 rows 50;', process.execPath, ...CLI, ...args].map((a) => (a.endsWith(';') ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
  const r = spawnSync('script', ['-qfec', quoted, '/dev/null'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PAGER: 'cat' } });
  return { code: r.status, out: r.stdout };
}

const T0 = new Date('2026-11-24T10:00:00.000Z');

describe('the CLI at a terminal', () => {
  let dir: string;
  let db: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auditduck-terminal-cli-'));
    db = join(dir, 'store.duckdb');
    const h = await openHarness(undefined, db);
    const s = login({ user: 'dba', at: T0 });
    await h.feed([...s.records, audit('pg1', s.sessionId, minutes(T0, 1), 1, 'ROLE', 'ALTER ROLE', 'ALTER ROLE mallory_with_a_rather_long_role_name SUPERUSER;')]);
    await h.feed(Array.from({ length: 10 }, (_, i) => failedLogin({ user: 'alice', at: minutes(T0, 2 + i / 10) })).flat());
    await h.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('alerts fit 80 columns: every line at most 80 wide, long cells cut with …; --wide and a pipe cut nothing', () => {
    const fitted = cli(['alerts', '--db', db], { COLUMNS: '80' });
    assert.equal(fitted.code, 0, fitted.stderr);
    const lines = fitted.stdout.trimEnd().split('\n');
    for (const line of lines) assert.ok([...line].length <= 80, `${[...line].length} wide: ${line}`);
    assert.match(fitted.stdout, /…/);
    assert.match(lines.at(-1)!, /^\(2 rows\)$/);
    const wide = cli(['alerts', '--db', db, '--wide'], { COLUMNS: '80' });
    assert.ok(wide.stdout.split('\n').some((l) => [...l].length > 80));
    assert.match(wide.stdout, /mallory_with_a_rather_long_role_name/);
    assert.match(cli(['alerts', '--db', db]).stdout, /mallory_with_a_rather_long_role_name/);
  });

  test('on a pseudo-terminal of 80 columns the width comes from the terminal itself', () => {
    const r = cliOnTty(['alerts', '--db', db]);
    const lines = r.out.replace(/\r/g, '').trimEnd().split('\n');
    assert.ok(lines.length > 3, r.out);
    for (const line of lines) assert.ok([...line].length <= 80, `${[...line].length} wide: ${line}`);
  });

  test('-x prints one field per line under a record header, as psql \\x', () => {
    const r = cli(['alerts', '--db', db, '-x', '--rule', 'admin-granted'], { COLUMNS: '80' });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^-\[ RECORD 1 \]-+$/);
    assert.match(r.stdout, /^rule_id +│ admin-granted$/m);
    assert.match(r.stdout, /^severity +│ (high|critical)$/m);
    assert.equal(lines.filter((l) => l.startsWith('-[ RECORD')).length, 1);
    for (const line of lines) assert.ok([...line].length <= 80, line);
  });

  test('alerts --exit-code exits 3 when it lists alerts and 0 when none, plain alerts 0; --min-severity keeps that severity and above', () => {
    assert.equal(cli(['alerts', '--db', db, '--format', 'json']).code, 0);
    const critical = cli(['alerts', '--db', db, '--format', 'json', '--exit-code', '--min-severity', 'critical']);
    assert.equal(critical.code, 3, critical.stderr);
    assert.deepEqual((JSON.parse(critical.stdout) as { rule_id: string; severity: string }[]).map((a) => [a.rule_id, a.severity]), [['admin-granted', 'critical']]);
    const high = JSON.parse(cli(['alerts', '--db', db, '--format', 'json', '--min-severity', 'high']).stdout) as { severity: string }[];
    assert.deepEqual(high.map((a) => a.severity).sort(), ['critical', 'high']);
    const none = cli(['alerts', '--db', db, '--exit-code', '--since', '2099-01-01T00:00:00Z']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /\(0 rows\)/);
  });

  test('an unknown --rule or --server is an error naming the known ones, not an empty list', () => {
    const rule = cli(['alerts', '--db', db, '--rule', 'brute-forse']);
    assert.equal(rule.code, 1);
    assert.match(rule.stderr, /unknown rule "brute-forse"; the rules are: .*brute-force/);
    const server = cli(['alerts', '--db', db, '--server', 'pg2']);
    assert.equal(server.code, 1);
    assert.match(server.stderr, /unknown server "pg2"; the store knows: .*pg1/);
    assert.equal(cli(['alerts', '--db', db, '--server', 'pg1', '--rule', 'admin-granted']).code, 0);
  });

  test('roles shows attributes in words and memberships, as psql \\du', () => {
    const r = cli(['roles', '--db', db, '--wide']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0]!, /^server +│ role +│ attributes +│ member_of$/);
    assert.match(r.stdout, /mallory_with_a_rather_long_role_name +│ Superuser/);
  });

  test('a missing store says to ingest first or pass --db, and is not created', () => {
    const missing = join(dir, 'nowhere.duckdb');
    for (const args of [['alerts'], ['alerts', 'ack', '1'], ['roles'], ['query', 'SELECT 1'], ['export', '--table', 'alerts', '--output', '-']]) {
      const r = cli([...args, '--db', missing]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /no store at .*nowhere\.duckdb: run `auditduck ingest` .*first, or pass --db/, args.join(' '));
      assert.doesNotMatch(r.stderr, /IO Error/);
    }
    assert.equal(existsSync(missing), false);
  });

  test('a missing input stops ingest before the store is created', () => {
    const store = join(dir, 'never.duckdb');
    const r = cli(['ingest', '--db', store, join(dir, 'no-such.log')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no-such\.log: does not exist/);
    assert.equal(existsSync(store), false);
  });

  test('an ingest that parsed nothing exits 4 and says why; the lines are kept in dead_letters', () => {
    const junk = join(dir, 'not-a-log.txt');
    writeFileSync(junk, 'this is not a PostgreSQL log\nnor is this\n');
    const store = join(dir, 'junk.duckdb');
    const r = cli(['ingest', '--db', store, junk]);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /nothing was parsed: \d+ line\(s\) went to dead_letters.*--format and --log-line-prefix/);
    const dead = cli(['query', '--db', store, '--format', 'json', 'SELECT count(*)::INTEGER AS n FROM dead_letters']);
    assert.ok((JSON.parse(dead.stdout) as { n: number }[])[0]!.n > 0);
  });

  test('ingest on a pseudo-terminal shows records, records/s and percent of the file on stderr; piped it stays quiet', () => {
    const tty = cliOnTty(['ingest', '--db', join(dir, 'progress.duckdb'), '--workers', '1', '--batch-records', '20', FIXTURE]);
    assert.equal(tty.code, 0, tty.out);
    assert.match(tty.out, /pg15-azure\.log: [\d,]+ records, [\d,]+ records\/s, \d+% of 49\.2 KB/);
    const piped = cli(['ingest', '--db', join(dir, 'quiet.duckdb'), '--workers', '1', '--batch-records', '20', FIXTURE]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /records\/s/);
  });

  test('export takes its format from the extension, says what it wrote, and writes CSV or JSON to stdout with -', () => {
    const csvFile = join(dir, 'alerts.csv');
    const file = cli(['export', '--db', db, '--table', 'alerts', '--output', csvFile]);
    assert.equal(file.code, 0, file.stderr);
    assert.match(readFileSync(csvFile, 'utf8').split('\n')[0]!, /alert_id/);
    assert.match(file.stderr, /wrote alerts to .*alerts\.csv \(csv, [\d.]+ K?B\)/);
    const json = cli(['export', '--db', db, '--table', 'alerts', '--output', '-', '--format', 'json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 2);
    assert.match(json.stderr, /wrote 2 row\(s\) of alerts to stdout \(json\)/);
    const csv = cli(['export', '--db', db, '--table', 'alerts', '--output', '-']);
    assert.equal(csv.stdout.trimEnd().split('\n').length, 3);
    const unknown = cli(['export', '--db', db, '--table', 'alerts', '--output', join(dir, 'alerts.txt')]);
    assert.match(unknown.stderr, /cannot tell the format of .*alerts\.txt.*\.parquet, \.csv or \.json/);
    const parquetOut = cli(['export', '--db', db, '--table', 'alerts', '--output', '-', '--format', 'parquet']);
    assert.match(parquetOut.stderr, /Parquet cannot go to stdout/);
  });
});
