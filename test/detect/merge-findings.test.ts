import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeFindings } from '../../src/detect/merge-findings.js';
import type { Finding } from '../../src/detect/rule.js';

const at = (min: number) => new Date(Date.UTC(2026, 10, 24, 10, min));
const f = (key: string, min: number, extra: Partial<Finding> = {}): Finding => ({
  server: 'pg1', at: at(min), actor: 'a', target: key, summary: `${key}@${min}`, dedupKey: key, evidence: { min }, ...extra,
});

describe('mergeFindings', () => {
  it('one write per key within the suppression window, counting every finding and keeping every sample', () => {
    const merged = mergeFindings([f('x', 0), f('y', 1), f('x', 2), f('x', 3)], 60 * 60_000);
    assert.equal(merged.length, 2);
    const x = merged.find((m) => m.dedupKey === 'x')!;
    assert.deepEqual([x.count, x.increment, x.samples.length, x.at, x.firstAt], [3, 3, 3, at(3), undefined]);
  });

  it('findings further apart than the window stay separate alerts', () => {
    assert.equal(mergeFindings([f('x', 0), f('x', 59)], 30 * 60_000).length, 2);
  });

  it('the most severe finding sets the severity; windowed counts add up', () => {
    const [m] = mergeFindings([f('x', 0, { severity: 'high', count: 10, increment: 2 }), f('x', 1, { severity: 'critical' })], 60 * 60_000);
    assert.deepEqual([m!.severity, m!.count, m!.increment], ['critical', 11, 3]);
  });
});
