/**
 * Values sent inside SQL text (the commit's multi-statement queries take no parameters) come back from
 * DuckDB exactly: quotes, semicolons, backslashes and NUL included, so a file path or role name can
 * neither break the statement nor change it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';

import { sqlString } from '../../src/store/sql-literal.js';

describe('sqlString', () => {
  it('evaluates back to the very string, whatever it holds (property)', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      const hostile = fc.constantFrom("'", "''", ';', '\\', '\0', '\n', '--', '/*', "'); DROP TABLE t; --", 'é', '🦆');
      await fc.assert(
        fc.asyncProperty(fc.string({ unit: fc.oneof(hostile, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: 20 }), async (value) => {
          const [row] = (await c.runAndReadAll(`SELECT ${sqlString(value)} AS v; `)).getRowObjectsJS();
          assert.equal(row!.v, value);
        }),
        { numRuns: 300 },
      );
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
