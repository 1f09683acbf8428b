/** `auditduck alerts` (list, filter, ack) and `auditduck rules` (list, test) as a user runs them. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuditStore } from '../../src/store/audit-store.js';
import { RULE_IDS } from '../../src/detect/index.js';
import { audit, failedLogin, login, minutes } from '../support/detection-records.js';
import { openHarness } from '../detect/detection-harness.js';

const ROOT = new URL('../../', import.meta.url).pathname;

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
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

  test('alerts ack acknowledges as the OS user; --status filters; unknown ids are reported', () => {
    const ack = cli(['alerts', 'ack', '1', '999', '--db', db]);
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, /acknowledged 1 alert\(s\): 1/);
    assert.match(ack.stderr, /not open or not found: 999/);
    const acked = JSON.parse(cli(['alerts', '--db', db, '--format', 'json', '--status', 'acknowledged']).stdout) as { alert_id: number }[];
    assert.deepEqual(acked.map((a) => a.alert_id), [1]);
    const by = JSON.parse(cli(['query', '--db', db, '--format', 'json', 'SELECT acknowledged_by FROM alerts WHERE alert_id = 1']).stdout) as { acknowledged_by: string }[];
    assert.deepEqual(by, [{ acknowledged_by: userInfo().username }]);
    const open = JSON.parse(cli(['alerts', '--db', db, '--format', 'json', '--status', 'open']).stdout) as { alert_id: number }[];
    assert.deepEqual(open.map((a) => a.alert_id), [2]);
  });

  test('alerts ack has no way to sign as someone else', () => {
    const ack = cli(['alerts', 'ack', '2', '--db', db, '--by', 'the-ciso']);
    assert.notEqual(ack.code, 0);
    assert.match(ack.stderr, /unknown option '--by'/);
  });

  test('alerts ack says what to do when another process holds the store', async () => {
    const store = await AuditStore.open(db);
    try {
      const ack = cli(['alerts', 'ack', '2', '--db', db]);
      assert.notEqual(ack.code, 0);
      assert.match(ack.stderr, /held by another process.*Acknowledge in its web UI.*stop it, acknowledge/);
    } finally {
      await store.close();
    }
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
});
