import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ReadOnlyViolation, ResultTooLarge } from '../../src/query/read-only-query.js';
import { QueryTimeout, ReadOnlySession } from '../../src/query/read-only-session.js';

describe('ReadOnlySession', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;

  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
    await connection.run('CREATE SEQUENCE s; CREATE TABLE t AS SELECT range AS n FROM range(10)');
  });
  after(() => {
    connection.closeSync();
    instance.closeSync();
  });

  test('a query that fails after its first rows were streamed is an error, never a shorter result', async () => {
    const session = new ReadOnlySession(await instance.connect(), { timeoutMs: 60_000, maxRows: 10_000_000 });
    await assert.rejects(
      session.run(`SELECT CASE WHEN range = 3000000 THEN error('boom') ELSE range END AS x FROM range(4000000)`),
      /failed while its rows were being read/,
    );
    assert.deepEqual((await session.run('SELECT count(*) AS n FROM t')).rows, [{ n: 10 }], 'the session goes on');
  });

  test('a result interrupted at the time limit is a timeout, never a shorter result', async () => {
    const session = new ReadOnlySession(await instance.connect(), { timeoutMs: 300, maxRows: 100_000_000 });
    await assert.rejects(session.run(`SELECT range, md5(range::VARCHAR) AS h FROM range(100000000)`), QueryTimeout);
  });

  test('past the row limit the result is refused', async () => {
    const session = new ReadOnlySession(await instance.connect(), { timeoutMs: 60_000, maxRows: 5 });
    await assert.rejects(session.run('SELECT * FROM t'), ResultTooLarge);
    assert.equal((await session.run('SELECT * FROM t LIMIT 5')).rows.length, 5);
  });

  test('a function that writes is refused by the READ ONLY transaction, and the sequence stays where it was', async () => {
    const session = new ReadOnlySession(await instance.connect());
    await assert.rejects(session.run(`SELECT nextval('s')`), ReadOnlyViolation);
    assert.deepEqual((await connection.runAndReadAll(`SELECT nextval('s') AS v`)).getRowObjectsJson(), [{ v: '1' }]);
  });
});
