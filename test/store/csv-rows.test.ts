/**
 * Rows an ingest worker writes as CSV text come back from DuckDB's read_csv exactly as the same rows appended
 * as data chunks (ColumnarTable) do: text of any content, NULL apart from '', times, numbers, lists, JSON.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ColumnarTable, type ColumnSpec, type RowOf } from '../../src/store/columnar-table.js';
import { CsvRows, csvSelect } from '../../src/store/csv-rows.js';

const SPEC = [
  ['id', 'integer'], ['text', 'varchar'], ['doc', 'json'], ['tags', 'varchar[]'], ['seen', 'timestamptz'], ['ok', 'boolean'], ['n', 'bigint'],
] as const satisfies ColumnSpec;
type Row = RowOf<typeof SPEC>;
const COLUMNS = 'id INTEGER, text VARCHAR, doc JSON, tags VARCHAR[], seen TIMESTAMPTZ, ok BOOLEAN, n BIGINT';

let dir: string;
let connection: DuckDBConnection;
let instance: DuckDBInstance;
let file = 0;

/** The table's rows as text, in id order: what a chunk append and a CSV read must agree on. */
async function contents(table: string): Promise<string[]> {
  const read = await connection.runAndReadAll(`SELECT t::VARCHAR AS r FROM ${table} t ORDER BY id`);
  return read.getRowObjectsJS().map((r) => String(r.r));
}

/** The rows through ColumnarTable (the main thread's way) and through CsvRows + read_csv (a worker's way). */
async function bothWays(rows: Row[]): Promise<{ chunks: string[]; csv: string[] }> {
  await connection.run(`CREATE OR REPLACE TABLE by_chunks (${COLUMNS}); CREATE OR REPLACE TABLE by_csv (${COLUMNS})`);
  const chunks = new ColumnarTable('by_chunks', SPEC);
  const csv = new CsvRows('by_csv', SPEC);
  for (const row of rows) {
    chunks.push(row);
    csv.push(row);
  }
  assert.equal(csv.size, rows.length);
  const appender = await connection.createAppender('by_chunks');
  chunks.appendTo(appender);
  appender.closeSync();
  const path = join(dir, `rows-${file++}.csv`);
  await writeFile(path, Buffer.concat(csv.take()));
  assert.equal(csv.size, 0);
  await connection.run(`INSERT INTO by_csv ${csvSelect(path, SPEC)}`);
  return { chunks: await contents('by_chunks'), csv: await contents('by_csv') };
}

const row = (id: number, text: string | null, more: Partial<{ doc: string | null; tags: string[] | null; seen: Date | null; ok: boolean | null; n: number | null }> = {}): Row => [
  id, text, more.doc ?? null, more.tags ?? null, more.seen ?? null, more.ok ?? null, more.n ?? null,
];

describe('CsvRows', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-csv-rows-'));
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    // The store's memory limit (open-database.ts): read_csv's buffer for long rows must fit in it.
    await connection.run(`SET TimeZone = 'UTC'; SET memory_limit = '128MB'`);
  });
  after(async () => {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives back text of any content, and tells NULL from the empty string', async () => {
    const texts = [
      '', null, 'a', 'tab\there', 'new\nline', 'cr\rlf\r\n', 'q"uo""te', '"', '""', 'nul\u0000byte', ' lead', 'trail ', '\\N', 'NULL',
      'ünïcødé ☃ 🦆', 'lone \ud800 surrogate', 'SELECT a, b FROM t WHERE x = \'1\';', '\t', '\n', 'x'.repeat(9 * 1024 * 1024),
    ];
    // The 9 MiB one (an input line's limit is 8 MiB) in one column, as a row holds one line's text.
    const rows = texts.map((t, i) => row(i, t, t === null || t.length > 1024 ? {} : { doc: JSON.stringify({ t: t.replace(/\ud800/g, '') }), tags: [t, ''] }));
    const { chunks, csv } = await bothWays(rows);
    assert.deepEqual(csv, chunks);
    const [nulls] = (await connection.runAndReadAll(`SELECT count(*) FILTER (text IS NULL) AS nulls, count(*) FILTER (text = '') AS empties FROM by_csv`)).getRowObjectsJS();
    assert.deepEqual(nulls, { nulls: 1n, empties: 1n });
  });

  it('gives back times, integers, booleans and lists across blocks of 2048 rows', async () => {
    const times = [0, 1, 1_795_000_000_123, 253_402_300_799_999, null];
    const numbers = [0, -1, 2 ** 31 - 1, -(2 ** 31), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, null];
    const rows = Array.from({ length: 5000 }, (_, i) =>
      row(i, i % 11 === 0 ? null : `row ${i}`, {
        seen: times[i % times.length] === null ? null : new Date(times[i % times.length]!),
        ok: i % 3 === 0 ? null : i % 2 === 0,
        n: numbers[i % numbers.length]!,
        tags: i % 5 === 0 ? null : i % 5 === 1 ? [] : ['a', `t${i}`, 'with, "comma"'],
      }),
    );
    const { chunks, csv } = await bothWays(rows);
    assert.equal(csv.length, 5000);
    assert.deepEqual(csv, chunks);
  });

  it('redacts text as the chunks do', async () => {
    const { chunks, csv } = await bothWays([row(1, `ALTER ROLE app PASSWORD 'hunter2-secret'`, { tags: [`PASSWORD 'hunter2-secret'`] })]);
    assert.deepEqual(csv, chunks);
    assert.ok(!csv[0]!.includes('hunter2-secret'), csv[0]);
  });

  it('gives back any strings (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(fc.string({ unit: 'binary', maxLength: 40 }), { nil: null }), { minLength: 1, maxLength: 30 }), async (texts) => {
        const { chunks, csv } = await bothWays(texts.map((t, i) => row(i, t)));
        assert.deepEqual(csv, chunks);
      }),
      { numRuns: 40 },
    );
  });
});
