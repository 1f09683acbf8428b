/**
 * An Event Hubs body as `run` receives it (the SDK has parsed it already) that nests too deeply is a dead letter,
 * not a stack overflow that would stop the batch and block its partition on every retry.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEventBody } from '../../../src/decode/azure/index.js';
import { compilePrefix } from '../../../src/decode/prefix/compile-prefix.js';

const ctx = { source: 'eventhubs:hub/0', position: '17', prefix: compilePrefix('%t-%c-') };

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? { x: value } : [value];
  return value;
}

test('a parsed body nested 200,000 levels deep is one dead letter with a reason and a bounded raw text', () => {
  const results = decodeEventBody({ records: [nested(200_000)] }, ctx);
  assert.equal(results.length, 1);
  const result = results[0]!;
  assert.equal(result.kind, 'dead');
  if (result.kind !== 'dead') return;
  assert.equal(result.dead.position, '17');
  assert.match(result.dead.reason, /event body nests deeper than 64 levels/);
  assert.ok(result.dead.raw.length < 1000, `raw is ${result.dead.raw.length} characters`);
});

test('a body nested as deep as the bound is still decoded', () => {
  const results = decodeEventBody({ records: [{ category: 'PostgreSQLFlexSessions', properties: nested(60) }] }, ctx);
  assert.deepEqual(results, [{ kind: 'skipped', category: 'PostgreSQLFlexSessions' }]);
});
