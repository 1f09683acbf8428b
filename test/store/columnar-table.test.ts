/**
 * Rows appended column-wise come back from DuckDB exactly as given: short ASCII strings take the inline
 * path, the rest DuckDB's own assign, NULLs are validity bits; chunks of more than 2048 rows split.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';
import { ColumnarTable, type ColumnSpec } from '../../src/store/columnar-table.js';

const SPEC = [['id', 'integer'], ['text', 'varchar'], ['doc', 'json'], ['tags', 'varchar[]'], ['seen', 'timestamptz'], ['ok', 'boolean']] as const satisfies ColumnSpec;

async function roundTrip(rows: [number, string | null, string | null, string[] | null, Date | null, boolean | null][]) {
  const instance = await DuckDBInstance.create(':memory:');
  const c = await instance.connect();
  try {
    await c.run(`SET TimeZone = 'UTC'; CREATE TABLE t (id INTEGER, text VARCHAR, doc JSON, tags VARCHAR[], seen TIMESTAMPTZ, ok BOOLEAN)`);
    const table = new ColumnarTable('t', SPEC);
    for (const row of rows) table.push(row);
    const appender = await c.createAppender('t');
    table.appendTo(appender);
    appender.closeSync();
    const read = await c.runAndReadAll('SELECT id, text, CAST(doc AS VARCHAR) AS doc, tags, epoch_ms(seen) AS seen, ok FROM t ORDER BY id');
    return read.getRowObjectsJS().map((r) => [r.id, r.text, r.doc, r.tags, r.seen === null ? null : new Date(Number(r.seen)), r.ok]);
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

describe('ColumnarTable', () => {
  it('keeps edge-case strings exactly, across chunk boundaries', async () => {
    const texts = ['', 'a', 'twelve chars', 'thirteen char', 'ünïcødé', '日本語のテキスト', 'tab\there', 'new\nline', 'x'.repeat(5000), null, 'emoji 🦆', 'y'.repeat(30_000), '日'.repeat(25_000)];
    const rows = Array.from({ length: 5000 }, (_, i) => [i, texts[i % texts.length]!, i % 7 === 0 ? null : `{"n":${i}}`, i % 5 === 0 ? null : ['a', `t${i}`], i % 3 === 0 ? null : new Date(1_795_000_000_000 + i), i % 4 === 0 ? null : i % 2 === 0] as [number, string | null, string | null, string[] | null, Date | null, boolean | null]);
    assert.deepEqual(await roundTrip(rows), rows);
  });

  it('keeps repeated long strings, in runs and scattered, and their neighbours intact', async () => {
    const shared = ['/var/log/postgresql/postgresql-15-main.log', 'public.pgbench_accounts', '6aff8d80.2711', 'ünïcødé but longer than twelve'];
    const rows = Array.from({ length: 4100 }, (_, i) => [i, i % 9 === 0 ? `unique ${i} ${'y'.repeat(i % 40)}` : shared[(i >> (i % 3)) % shared.length]!, null, null, null, null] as [number, string | null, null, null, null, null]);
    assert.deepEqual(await roundTrip(rows), rows);
  });

  it('writes integers, big integers and times of any sign without a value object per cell', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      const spec = [['i', 'integer'], ['b', 'bigint'], ['t', 'timestamptz']] as const satisfies ColumnSpec;
      await c.run(`SET TimeZone = 'UTC'; CREATE TABLE n (i INTEGER, b BIGINT, t TIMESTAMPTZ)`);
      const values = [0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 32, -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
      const times = [0, -1, 1, 1_795_000_000_123, -62_135_596_800_000, 4_102_444_800_000, 253_402_300_799_999];
      const table = new ColumnarTable('n', spec);
      const rows = values.flatMap((b, k) => times.map((t, j) => [k * 100 + j, b, new Date(t)] as [number, number, Date]));
      rows.push([-5, null as unknown as number, null as unknown as Date]);
      for (const r of rows) table.push(r);
      const appender = await c.createAppender('n');
      table.appendTo(appender);
      appender.closeSync();
      const read = (await c.runAndReadAll('SELECT i, b::VARCHAR AS b, epoch_ms(t) AS t FROM n')).getRowObjectsJS();
      assert.deepEqual(
        read.map((r) => [r.i, r.b === null ? null : Number(r.b), r.t === null ? null : new Date(Number(r.t))]),
        rows.map(([i, b, t]) => [i, b, t]),
      );
      assert.equal(String(read.find((r) => r.i === 700)!.b), String(BigInt(Number.MAX_SAFE_INTEGER)));
      // To the microsecond: past 2255 a time's microseconds are beyond a double's exact integers.
      const micros = (await c.runAndReadAll('SELECT epoch_us(t)::VARCHAR AS us FROM n WHERE t IS NOT NULL ORDER BY i')).getRowObjectsJS().map((r) => String(r.us));
      assert.deepEqual(micros, rows.filter(([, , t]) => t !== null).sort((a, b) => a[0] - b[0]).map(([, , t]) => String(BigInt(t.getTime()) * 1000n)));
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });

  it('round-trips arbitrary strings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('a repeated value, long', 'ñ repeated and not ASCII')), { nil: null }), { maxLength: 60 }), async (texts) => {
        // Without NULs (text lines carry none) and lone surrogates (not valid UTF-8 for DuckDB to keep).
        const clean = texts.map((t) => (t === null ? null : t.replace(/\0/g, '').replace(/[\ud800-\udfff]/g, '')));
        const rows = clean.map((t, i) => [i, t, null, null, null, null] as [number, string | null, null, null, null, null]);
        assert.deepEqual((await roundTrip(rows)).map((r) => r[1]), clean);
      }),
      { numRuns: 40 },
    );
  });

  it('reuses chunks between tables of one shape without carrying values, NULLs or strings over', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run(`SET TimeZone = 'UTC'; CREATE TABLE t (id INTEGER, text VARCHAR, doc JSON, tags VARCHAR[], seen TIMESTAMPTZ, ok BOOLEAN)`);
      type Row = [number, string | null, string | null, string[] | null, Date | null, boolean | null];
      // The first table's chunks go back to the pool after its append; the second table's rows are written into them.
      const first: Row[] = Array.from({ length: 4500 }, (_, i) => [i, i % 2 === 0 ? null : `long first-table value ${i}`, i % 3 === 0 ? null : '{}', null, i % 5 === 0 ? null : new Date(i), i % 2 === 0 ? null : true]);
      const second: Row[] = Array.from({ length: 4500 }, (_, i) => [10_000 + i, i % 7 === 0 ? 'short' : null, null, i % 2 === 0 ? ['x'] : null, new Date(1_795_000_000_000 + i), i % 2 === 0]);
      for (const rows of [first, second]) {
        const table = new ColumnarTable('t', SPEC);
        for (const row of rows) table.push(row);
        assert.equal(table.size, rows.length);
        const appender = await c.createAppender('t');
        table.appendTo(appender);
        appender.closeSync();
        assert.equal(table.size, 0);
      }
      const read = await c.runAndReadAll('SELECT id, text, CAST(doc AS VARCHAR) AS doc, tags, epoch_ms(seen) AS seen, ok FROM t WHERE id >= 10000 ORDER BY id');
      assert.deepEqual(
        read.getRowObjectsJS().map((r) => [r.id, r.text, r.doc, r.tags, r.seen === null ? null : new Date(Number(r.seen)), r.ok]),
        second,
      );
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });

  it('redacts secrets in every text column, whatever it is called: the store boundary', async () => {
    const secret = 'Sup3rS3cret';
    const rows = await roundTrip([
      [1, `postgresql://app:${secret}@db.internal/prod`, JSON.stringify({ administratorLoginPassword: secret }), [`password=${secret}`], null, null],
      [2, `ALTER ROLE r PASSWORD '${secret}'`, null, null, null, null],
    ]);
    assert.ok(!JSON.stringify(rows).includes(secret), JSON.stringify(rows));
    assert.equal(rows[0]![1], 'postgresql://app:<REDACTED>@db.internal/prod');
    assert.deepEqual(JSON.parse(String(rows[0]![2])), { administratorLoginPassword: '<REDACTED>' });
  });
});
