/** The query's answer as a table for a terminal: every row, however many the row limit lets through. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORMATTERS } from '../../src/query/format-rows.js';

describe('a table of rows', () => {
  it('lays out more rows than a function call may spread (AUDITDUCK_QUERY_MAX_ROWS raised to 300,000)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ i, name: `role_${i}` }));
    const lines = FORMATTERS.table({ columns: ['i', 'name'], rows }).trimEnd().split('\n');
    assert.equal(lines.length, 2 + 200_000 + 1);
    assert.equal(lines.at(-2), '199999 │ role_199999');
    assert.match(lines.at(-1)!, /200000 rows/);
  });
});
