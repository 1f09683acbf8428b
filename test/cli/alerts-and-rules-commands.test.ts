/** `auditduck alerts` (list, filter, ack) and `auditduck rules` (list, test) as a user runs them. */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuditStore } from '../../src/store/audit-store.js';
import { RULE_IDS } from '../../src/detect/index.js';
import { audit, failedLogin, login, minutes } from '../support/detection-records.js';
import { openHarness } from '../detect/detection-harness.js';
import { CLI } from '../support/cli-command.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const T0 = new Date('2026-11-24T10:00:00.000Z');

/** Azure-prefixed stderr lines: a brute force on alice (12 failures in 12 s). */
function bruteForceLog(): string {
  const lines: string[] = [];
  for (let i = 0; i < 12; i++) {
    const session = `6b05a5${(0x53 + i).toString(16)}.26${(0xb0 + i).toString(16)}`;
    const t = `2026-11-24 10:00:${String(i).padStart(2, '0')} UTC`;
    lines.push(`${t}-${session}-LOG:  connection received: host=10.0.0.9 port=5000${i}`);
    lines.push(`${t}-${session}-FATAL:  password authentication failed for user "alice"`);
  }
  return lines.join('\n') + '\n';
}

describe('alerts and rules commands', () => {
  let dir: string;
  let db: string;
  let logFile: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auditduck-alerts-cli-'));
    db = join(dir, 'store.duckdb');
    logFile = join(dir, 'postgresql.log');
    writeFileSync(logFile, bruteForceLog());
    const h = await openHarness(undefined, db);
    const s = login({ user: 'dba', at: T0 });
    await h.feed([...s.records, audit('pg1', s.sessionId, minutes(T0, 1), 1, 'ROLE', 'ALTER ROLE', 'ALTER ROLE mallory SUPERUSER;')]);
    await h.feed(Array.from({ length: 10 }, (_, i) => failedLogin({ user: 'alice', at: minutes(T0, 2 + i / 10) })).flat());
    await h.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('alerts lists every alert as JSON, filtered by rule', () => {
    const all = cli(['alerts', '--db', db, '--format', 'json']);
    assert.equal(all.code, 0, all.stderr);
    const rows = JSON.parse(all.stdout) as { rule_id: string; status: string; count: number }[];
    assert.deepEqual(rows.map((r) => r.rule_id).sort(), ['admin-granted', 'brute-force']);
    const bf = JSON.parse(cli(['alerts', '--db', db, '--format', 'json', '--rule', 'brute-force']).stdout) as { count: number }[];
    assert.equal(bf.length, 1);
    assert.equal(bf[0]!.count, 10);
    const since = JSON.parse(cli(['alerts', '--db', db, '--format', 'json', '--since', '2026-11-24T10:01:30Z']).stdout) as { rule_id: string }[];
    assert.deepEqual(since.map((r) => r.rule_id), ['brute-force']);
  });

  test('alerts ack acknowledges as the OS user with the --comment; --status filters; unknown ids are reported', () => {
    const ack = cli(['alerts', 'ack', '1', '999', '--db', db, '--comment', 'planned: change CHG-42']);
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, /^acknowledged 1 alert\(s\): 1\n$/);
    assert.match(ack.stderr, /not open or not found: 999/);
    const acked = JSON.parse(cli(['alerts', '--db', db, '--format', 'json', '--status', 'acknowledged']).stdout) as { alert_id: number; acknowledged_by: string; ack_comment: string }[];
    assert.deepEqual(acked.map((a) => [a.alert_id, a.acknowledged_by, a.ack_comment]), [[1, userInfo().username, 'planned: change CHG-42']]);
    const by = JSON.parse(cli(['query', '--db', db, '--format', 'json', 'SELECT acknowledged_by, ack_comment FROM alerts WHERE alert_id = 1']).stdout) as { acknowledged_by: string }[];
    assert.deepEqual(by, [{ acknowledged_by: userInfo().username, ack_comment: 'planned: change CHG-42' }]);
    const open = JSON.parse(cli(['alerts', '--db', db, '--format', 'json', '--status', 'open']).stdout) as { alert_id: number }[];
    assert.deepEqual(open.map((a) => a.alert_id), [2]);
  });

  test('alerts ack has no way to sign as someone else', () => {
    const ack = cli(['alerts', 'ack', '2', '--db', db, '--by', 'the-ciso']);
    assert.notEqual(ack.code, 0);
    assert.match(ack.stderr, /unknown option '--by'/);
  });

  test('alerts ack refuses an empty or overlong --comment before touching the store', () => {
    for (const [comment, error] of [['  ', /--comment is empty/], ['x'.repeat(2001), /--comment is 2001 characters; at most 2000/]] as const) {
      const ack = cli(['alerts', 'ack', '2', '--db', db, '--comment', comment]);
      assert.equal(ack.code, 1);
      assert.match(ack.stderr, error);
    }
    const open = JSON.parse(cli(['alerts', '--db', db, '--format', 'json', '--status', 'open']).stdout) as { alert_id: number }[];
    assert.deepEqual(open.map((a) => a.alert_id), [2]);
  });

  test('alerts ack on a store held by a process that is not run says what it is and what to do', async () => {
    const store = await AuditStore.open(db);
    try {
      const ack = cli(['alerts', 'ack', '2', '--db', db]);
      assert.equal(ack.code, 1);
      assert.match(ack.stderr, /cannot acknowledge: .* is held by a process that is not `auditduck run`.*stop serve, then run this again/);
    } finally {
      await store.close();
    }
  });

  test('under auditduck serve, the CLI and the UI point at the one way that works, not at each other', async () => {
    const serve = spawn(process.execPath, [...CLI, 'serve', '--db', db, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        serve.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /at (http:\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        serve.once('exit', (code) => reject(new Error(`serve exited with ${code}`)));
      });
      const ack = cli(['alerts', 'ack', '2', '--db', db]);
      assert.equal(ack.code, 1);
      assert.match(ack.stderr, /stop serve, then run this again/);
      assert.doesNotMatch(ack.stderr, /web UI|dashboard/i);
      const list = (await (await fetch(new URL('/api/dashboards', url))).json()) as { canAcknowledge: boolean; acknowledgeHelp: string };
      assert.equal(list.canAcknowledge, false);
      assert.match(list.acknowledgeHelp, /while it runs neither can `auditduck alerts ack`.*stop serve, then run `auditduck alerts ack ID\.\.\. \[--comment TEXT\]`/);
    } finally {
      const exited = new Promise((resolve) => serve.once('exit', resolve));
      serve.kill('SIGTERM');
      await exited;
    }
    assert.equal(cli(['alerts', 'ack', '2', '--db', db]).code, 0, 'once serve stopped, the ack the messages point at works');
  });

  test('rules list shows every rule', () => {
    const list = JSON.parse(cli(['rules', 'list', '--format', 'json']).stdout) as { id: string; mitre: string }[];
    assert.deepEqual(list.map((r) => r.id), RULE_IDS);
    assert.ok(list.every((r) => /^T\d{4}/.test(r.mitre)));
  });

  test('rules test runs one rule over a log file: positive for its rule, nothing for another', () => {
    const bf = cli(['rules', 'test', 'brute-force', logFile, '--server', 'demo', '--format', 'json']);
    assert.equal(bf.code, 0, bf.stderr);
    const rows = JSON.parse(bf.stdout) as { rule_id: string; count: number; target: string }[];
    assert.deepEqual(rows.map((r) => [r.rule_id, r.target, r.count]), [['brute-force', 'alice', 12]]);
    const other = cli(['rules', 'test', 'copy-program', logFile, '--server', 'demo', '--format', 'json']);
    assert.deepEqual(JSON.parse(other.stdout), []);
    const unknown = cli(['rules', 'test', 'no-such-rule', logFile]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no rule "no-such-rule"; auditduck rules list/);
  });

  test('alerts ack records a --classification, shown by alerts; an unknown one is refused before touching the store', async () => {
    const own = join(dir, 'classified.duckdb');
    const h = await openHarness(undefined, own);
    const s = login({ user: 'dba', at: T0 });
    await h.feed([...s.records, audit('pg1', s.sessionId, minutes(T0, 1), 1, 'ROLE', 'ALTER ROLE', 'ALTER ROLE mallory SUPERUSER;')]);
    await h.close();
    const bad = cli(['alerts', 'ack', '1', '--db', own, '--classification', 'maybe']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /argument 'maybe' is invalid.*true-positive, benign, false-positive/s);
    assert.equal((JSON.parse(cli(['alerts', '--db', own, '--format', 'json', '--status', 'open']).stdout) as unknown[]).length, 1, 'a refused ack acknowledged nothing');
    const ack = cli(['alerts', 'ack', '1', '--db', own, '--classification', 'benign', '--comment', 'DBA on call']);
    assert.equal(ack.code, 0, ack.stderr);
    const acked = JSON.parse(cli(['alerts', '--db', own, '--format', 'json', '--status', 'acknowledged']).stdout) as { alert_id: number; ack_classification: string | null; ack_comment: string }[];
    assert.deepEqual(acked.map((a) => [a.alert_id, a.ack_classification, a.ack_comment]), [[1, 'benign', 'DBA on call']]);
  });
});
