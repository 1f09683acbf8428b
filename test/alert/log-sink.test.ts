/** The log sink: one line per alert that says what happened where, at a level that follows the severity. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import type { AlertMessage } from '../../src/alert/alert-message.js';
import { createLogSink } from '../../src/alert/index.js';
import { alertLogLine } from '../../src/alert/sinks/log-sink.js';

const alert = (over: Partial<AlertMessage>): AlertMessage => ({
  alertId: 7,
  ruleId: 'admin-granted',
  title: 'Admin rights granted',
  severity: 'high',
  server: 'pg-prod-eu-02',
  firstSeen: '2026-11-24T10:00:00.000Z',
  lastSeen: '2026-11-24T10:00:00.000Z',
  actor: 'mallory',
  target: 'backdoor',
  summary: 'mallory granted pg_write_server_files to backdoor',
  mitre: 'T1098 Account Manipulation',
  count: 1,
  status: 'open',
  dedupKey: 'k',
  evidence: null,
  ...over,
});

async function logged(alerts: AlertMessage[]): Promise<{ level: number; msg: string; alert: Record<string, unknown> }[]> {
  const lines: string[] = [];
  const sink = createLogSink(pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) })));
  for (const a of alerts) await sink.deliver(a);
  return lines.map((l) => JSON.parse(l) as { level: number; msg: string; alert: Record<string, unknown> });
}

describe('log sink', () => {
  test('one line per alert: severity, rule, actor -> target, server and the id to acknowledge', async () => {
    const [line] = await logged([alert({})]);
    assert.equal(line!.msg, '[high] admin-granted mallory -> backdoor on pg-prod-eu-02 (alert 7)');
  });

  test('the level follows the severity: critical is an error, high a warning, the rest information', async () => {
    const lines = await logged(['critical', 'high', 'medium', 'low'].map((severity) => alert({ severity })));
    assert.deepEqual(lines.map((l) => [l.msg.split(' ')[0], l.level]), [['[critical]', 50], ['[high]', 40], ['[medium]', 30], ['[low]', 30]]);
  });

  test('JSON lines keep the alert as fields, the summary with it', async () => {
    const [line] = await logged([alert({})]);
    assert.deepEqual(
      { id: line!.alert.id, rule: line!.alert.rule, severity: line!.alert.severity, summary: line!.alert.summary },
      { id: 7, rule: 'admin-granted', severity: 'high', summary: 'mallory granted pg_write_server_files to backdoor' },
    );
  });

  for (const [what, actor, target, expected] of [
    ['no target', 'mallory', null, '[high] admin-granted mallory on pg-prod-eu-02 (alert 7)'],
    ['no actor', null, '10.0.0.9', '[high] admin-granted -> 10.0.0.9 on pg-prod-eu-02 (alert 7)'],
    ['neither', null, null, '[high] admin-granted on pg-prod-eu-02 (alert 7)'],
  ] as const) {
    test(`an alert with ${what} leaves out what it does not know`, () => {
      assert.equal(alertLogLine(alert({ actor, target })), expected);
    });
  }
});
