import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { boundRows } from '../../src/store/bound-rows.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';

const COLUMNS = { n: 'BIGINT', text: 'VARCHAR', at: 'TIMESTAMPTZ', flag: 'BOOLEAN' } as const;

describe('boundRows', () => {
  it('gives back every row as given, in order: any text, integers, times to the millisecond and nulls (property)', async () => {
    const db = await openDatabase(':memory:');
    try {
      const row = fc.record({
        n: fc.option(fc.maxSafeInteger().map((n) => (n === 0 ? 0 : n)), { nil: null }),
        text: fc.option(fc.string({ unit: 'binary' }), { nil: null }),
        at: fc.option(fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true }), { nil: null }),
        flag: fc.option(fc.boolean(), { nil: null }),
      });
      await fc.assert(
        fc.asyncProperty(fc.array(row, { maxLength: 50 }), async (rows) => {
          const bound = boundRows(COLUMNS, rows);
          const read = await db.connection.runAndReadAll(`SELECT n, text, epoch_ms("at") AS "at", flag FROM ${bound.sql}`, bound.values, bound.types);
          const got = read.getRows().map(([n, text, at, flag]) => ({
            n: n === null ? null : Number(n),
            text,
            at: at === null ? null : new Date(Number(at)),
            flag,
          }));
          assert.deepEqual(got, rows.map((r) => ({ ...r })));
        }),
        { numRuns: 50 },
      );
    } finally {
      await closeDatabase(db);
    }
  });

  it('takes a bigint for an integer beyond 2^53, exactly', async () => {
    const db = await openDatabase(':memory:');
    try {
      const bound = boundRows({ n: 'BIGINT' }, [{ n: 2n ** 62n + 1n }, { n: -(2n ** 62n) }]);
      const read = await db.connection.runAndReadAll(`SELECT n FROM ${bound.sql}`, bound.values, bound.types);
      assert.deepEqual(read.getRows().map(([n]) => n), [2n ** 62n + 1n, -(2n ** 62n)]);
    } finally {
      await closeDatabase(db);
    }
  });

  it('refuses what it cannot bind as asked: a fraction for an integer, an invalid time, a column name that is not one', () => {
    assert.throws(() => boundRows({ n: 'BIGINT' }, [{ n: 1.5 }]), /not an integer: 1.5/);
    assert.throws(() => boundRows({ n: 'BIGINT' }, [{ n: 2 ** 60 }]), /not an integer/);
    assert.throws(() => boundRows({ at: 'TIMESTAMPTZ' }, [{ at: new Date(Number.NaN) }]), /not a time/);
    assert.throws(() => boundRows({ 'n; DROP TABLE alerts': 'BIGINT' }, []), /not a column name/);
  });
});
