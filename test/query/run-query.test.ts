/**
 * runQueryOverRows answers many inputs with one query whose text does not grow with them, and gives one row per
 * input, in input order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';

import { runQueryOverRows } from '../../src/query/run-query.js';

describe('runQueryOverRows', () => {
  it('gives one row per input in order, from one query the same for any number of inputs', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      const texts: string[] = [];
      const doubled = async (n: number) => {
        const inputs = Array.from({ length: n }, (_, k) => k);
        const rows = await runQueryOverRows(c, { v: 'BIGINT', name: 'VARCHAR' }, inputs.map((k) => ({ v: k, name: `o'${k}` })), (list) => {
          const sql = `SELECT w.v * 2 AS doubled, w.name FROM ${list} w ORDER BY w.i`;
          texts.push(sql);
          return sql;
        });
        assert.deepEqual(rows.map((r) => [Number(r.doubled), r.name]), inputs.map((k) => [k * 2, `o'${k}`]));
      };
      await doubled(3);
      await doubled(1201);
      assert.equal(texts.length, 2);
      assert.equal(texts[1], texts[0]);
      assert.deepEqual(await runQueryOverRows(c, { v: 'BIGINT' }, [], () => assert.fail('no query for no inputs')), []);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
