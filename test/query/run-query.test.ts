/**
 * runQueryOverValues answers many inputs with few queries and gives one row per input, in input order, also
 * when the inputs take several queries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';

import { runQueryOverValues } from '../../src/query/run-query.js';

describe('runQueryOverValues', () => {
  it('gives one row per input in order, across queries', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      const inputs = Array.from({ length: 1201 }, (_, k) => k);
      let queries = 0;
      const rows = await runQueryOverValues(c, inputs.map(String), (list) => {
        queries++;
        return `SELECT w.v * 2 AS doubled FROM ${list} w(i, v) ORDER BY w.i`;
      });
      assert.deepEqual(rows.map((r) => Number(r.doubled)), inputs.map((k) => k * 2));
      assert.equal(queries, 3);
      assert.deepEqual(await runQueryOverValues(c, [], () => assert.fail('no query for no inputs')), []);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
