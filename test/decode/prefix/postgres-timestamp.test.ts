import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEpochSeconds, parsePostgresTimestamp } from '../../../src/decode/prefix/postgres-timestamp.js';

const CASES: [string, string | null][] = [
  ['2026-11-24 14:55:15.123 UTC', '2026-11-24T14:55:15.123Z'],
  ['2026-11-24 14:55:15 UTC', '2026-11-24T14:55:15.000Z'],
  ['2026-11-24 14:55:15 GMT', '2026-11-24T14:55:15.000Z'],
  ['2026-11-24 15:55:15.5 CET', '2026-11-24T14:55:15.500Z'],
  ['2026-07-24 16:55:15 CEST', '2026-07-24T14:55:15.000Z'],
  ['2026-11-24 18:55:15.001 +04', '2026-11-24T14:55:15.001Z'],
  ['2026-11-24 09:25:15 -0530', '2026-11-24T14:55:15.000Z'],
  ['2026-11-24 20:25:15 +05:30', '2026-11-24T14:55:15.000Z'],
  ['2026-11-24 09:55:15 EST', '2026-11-24T14:55:15.000Z'],
  ['2026-11-24 14:55:15.123456 UTC', '2026-11-24T14:55:15.123Z'],
  ['2026-11-24 14:55:15 IST', null], // India, Ireland or Israel: no guess
  ['2026-11-24 14:55:15', null], // no zone
  ['2026-13-24 14:55:15 UTC', null],
  ['yesterday', null],
];
for (const [text, iso] of CASES) {
  test(`parsePostgresTimestamp(${JSON.stringify(text)}) is ${iso ?? 'null'}`, () => {
    assert.equal(parsePostgresTimestamp(text)?.toISOString() ?? null, iso);
  });
}

test('parseEpochSeconds reads %n with milliseconds', () => {
  assert.equal(parseEpochSeconds('1764204299.360')?.toISOString(), '2025-11-27T00:44:59.360Z');
  assert.equal(parseEpochSeconds('abc'), null);
});
