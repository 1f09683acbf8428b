import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { confineDatabase } from '../../src/query/confine-database.js';
import { closeDatabase, openDatabase, type Database } from '../../src/store/open-database.js';
import { newApiToken, startQueryApi, type QueryApi } from '../../src/web/query-api.js';

describe('query API', () => {
  let db: Database;
  let api: QueryApi;
  let exportDir: string;
  const token = newApiToken();
  const post = (body: unknown, auth = `Bearer ${token}`) =>
    fetch(`http://127.0.0.1:${api.port}/api/query`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify(body) });

  before(async () => {
    db = await openDatabase(':memory:');
    await db.connection.run(`INSERT INTO dead_letters VALUES ('s', '1', 'r', 'raw', now())`);
    exportDir = await mkdtemp(join(tmpdir(), 'auditduck-query-api-'));
    await confineDatabase(db.connection, { writableDirs: [exportDir] });
    api = await startQueryApi({ connection: await db.instance.connect(), exportDir, limits: { timeoutMs: 1_000, maxRows: 1_000 }, port: 0, token });
  });
  after(async () => {
    await api.close();
    await closeDatabase(db);
    await rm(exportDir, { recursive: true, force: true });
  });

  test('returns rows as --format json does, with bound parameters', async () => {
    const r = await post({ sql: 'SELECT source, $x AS x, 1 AS n FROM dead_letters', params: { x: 'y' } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { columns: ['source', 'x', 'n'], rows: [{ source: 's', x: 'y', n: 1 }] });
  });

  test('a missing or wrong token is 401', async () => {
    assert.equal((await post({ sql: 'SELECT 1' }, 'Bearer nope')).status, 401);
    assert.equal((await post({ sql: 'SELECT 1' }, '')).status, 401);
  });

  test('a statement that could write is 403 and the table is unchanged', async () => {
    const r = await post({ sql: 'DELETE FROM dead_letters' });
    assert.equal(r.status, 403);
    assert.match(((await r.json()) as { error: string }).error, /refused: statement 1 is DELETE/);
    const count = await post({ sql: 'SELECT count(*) AS n FROM dead_letters' });
    assert.deepEqual(((await count.json()) as { rows: unknown[] }).rows, [{ n: 1 }]);
  });

  test('bad JSON, unknown fields and SQL errors are 400 with the reason', async () => {
    const bad = await fetch(`http://127.0.0.1:${api.port}/api/query`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{' });
    assert.equal(bad.status, 400);
    assert.equal((await post({ sql: 'SELECT 1', extra: true })).status, 400);
    const r = await post({ sql: 'SELECT * FROM no_such_table' });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /no_such_table/);
  });
});
