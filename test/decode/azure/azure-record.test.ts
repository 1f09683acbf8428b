/**
 * The Azure resource-log decoder on records as Microsoft documents them (test/fixtures/azure-resource-logs),
 * not on records built by the project's own envelope script.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeAzureRecord, decodeEventBody } from '../../../src/decode/azure/index.js';
import { compilePrefix } from '../../../src/decode/prefix/compile-prefix.js';

const ctx = { source: 'eventhubs:hub/0', position: '42', prefix: compilePrefix('%t-%c-') };

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../fixtures/azure-resource-logs/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

function recordOf(result: ReturnType<typeof decodeAzureRecord>) {
  assert.equal(result.kind, 'record', JSON.stringify(result));
  return (result as Extract<typeof result, { kind: 'record' }>).record;
}

const FLEXIBLE = fixture('flexible-server-record.json');

describe('Azure PostgreSQLLogs records as documented', () => {
  it('a Flexible Server record gives the audit line, its session, pid, millisecond time and server', () => {
    const r = recordOf(decodeAzureRecord(FLEXIBLE, ctx));
    assert.deepEqual(
      { server: r.server, loggedAt: r.loggedAt.toISOString(), sessionId: r.sessionId, pid: r.pid, level: r.level, sqlstate: r.sqlstate },
      { server: '<name>', loggedAt: '2026-11-24T14:55:15.123Z', sessionId: '6b05a553.26bf', pid: 9919, level: 'LOG', sqlstate: null },
    );
    assert.equal(r.message, 'AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role backdoor login password <REDACTED>,<none>');
    assert.deepEqual({ source: r.source, position: r.position }, { source: 'eventhubs:hub/0', position: '42' });
  });

  it('without LogicalServerName the server is the last segment of resourceId, lower-cased', () => {
    const { LogicalServerName: _dropped, ...withoutName } = FLEXIBLE;
    assert.equal(recordOf(decodeAzureRecord(withoutName, ctx)).server, '<name>');
  });

  it('newer optional PascalCase fields change nothing', () => {
    const newer = { ...FLEXIBLE, properties: { ...(FLEXIBLE.properties as object), AppType: 'PostgreSQL', ServerVersion: '16.4', ReplicaRole: 'Primary' } };
    assert.deepEqual(recordOf(decodeAzureRecord(newer, ctx)), recordOf(decodeAzureRecord(FLEXIBLE, ctx)));
  });

  it('an Event Hubs body of several records decodes each, positioned by its index in the body', () => {
    const body = JSON.stringify({ records: [FLEXIBLE, { ...FLEXIBLE, time: '2026-11-24T14:55:16.000Z' }] });
    const results = decodeEventBody(Buffer.from(body), ctx);
    assert.deepEqual(results.map((x) => recordOf(x).position), ['42#0', '42#1']);
  });

  it('a retired Single Server record joins its prefix, level and text into the line', () => {
    const r = recordOf(decodeAzureRecord(fixture('single-server-record.json'), ctx));
    assert.equal(r.server, '<name>');
    assert.equal(r.sessionId, '6b05a553.26bf');
    assert.equal(r.message, 'AUDIT: SESSION,1,1,ROLE,GRANT,,,grant pg_read_all_data to report,<none>');
    assert.equal(r.detail, null, 'an empty detail is no detail');
  });

  it('another category sharing the envelope is skipped by name, not dead-lettered', () => {
    const sessions = { ...FLEXIBLE, category: 'PostgreSQLFlexSessions', properties: { state: 'active' } };
    assert.deepEqual(decodeAzureRecord(sessions, ctx), { kind: 'skipped', category: 'PostgreSQLFlexSessions' });
  });

  it('a documented record that lost its message or its names is a dead letter with the reason and the raw record', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...FLEXIBLE, properties: { ...(FLEXIBLE.properties as object), message: undefined } }, /no properties.message string/],
      [(({ LogicalServerName: _a, resourceId: _b, ...rest }) => rest)(FLEXIBLE), /names no server/],
      [{ ...FLEXIBLE, properties: { ...(FLEXIBLE.properties as object), message: 'no prefix and no level here' } }, /matches neither log_line_prefix/],
    ];
    for (const [record, reason] of cases) {
      const result = decodeAzureRecord(record, ctx);
      assert.equal(result.kind, 'dead', JSON.stringify(result));
      const dead = (result as Extract<typeof result, { kind: 'dead' }>).dead;
      assert.match(dead.reason, reason);
      assert.deepEqual(JSON.parse(dead.raw), JSON.parse(JSON.stringify(record)));
    }
  });
});
