import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, parseTimeOrAgo } from '../../src/contracts/duration.js';

const CASES: [string, number | null][] = [
  ['7 days', 7 * 86_400_000], ['36h', 36 * 3_600_000], ['90m', 90 * 60_000], ['2w', 14 * 86_400_000],
  ['1 day 6 hours', 30 * 3_600_000], ['PT1H', 3_600_000], ['P7D', 7 * 86_400_000], ['PT1H30M', 5_400_000],
  ['0 days', 0], ['2026-11-20', null], ['yesterday', null], ['7 fortnights', null], ['', null], ['P', null], ['PT', null],
];

for (const [text, ms] of CASES) {
  test(`"${text}" is ${ms === null ? 'not a duration' : `${ms} ms`}`, () => assert.equal(parseDuration(text), ms));
}

test('a time is a duration back from now, or an ISO time as written', () => {
  const now = new Date('2026-11-24T12:00:00Z');
  assert.equal(parseTimeOrAgo('1 day', now)?.toISOString(), '2026-11-23T12:00:00.000Z');
  assert.equal(parseTimeOrAgo('2026-11-20T01:02:03Z', now)?.toISOString(), '2026-11-20T01:02:03.000Z');
  assert.equal(parseTimeOrAgo('soon', now), null);
});
