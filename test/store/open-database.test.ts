import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';

const saved = process.env.AUDITDUCK_THREADS;
afterEach(() => {
  if (saved === undefined) delete process.env.AUDITDUCK_THREADS;
  else process.env.AUDITDUCK_THREADS = saved;
});

async function threadsOf(path: string): Promise<number> {
  const db = await openDatabase(path);
  try {
    return Number((await db.connection.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0]);
  } finally {
    await closeDatabase(db);
  }
}

describe('DuckDB threads (AUDITDUCK_THREADS)', () => {
  it('sets the threads of the store: for the whole instance, before any lock', async () => {
    process.env.AUDITDUCK_THREADS = '1';
    assert.equal(await threadsOf(':memory:'), 1);
    process.env.AUDITDUCK_THREADS = '3';
    assert.equal(await threadsOf(':memory:'), 3);
  });

  it('refuses what is not a whole number of threads, naming the variable', async () => {
    for (const bad of ['0', 'two', '1.5', '-1', '']) {
      process.env.AUDITDUCK_THREADS = bad;
      await assert.rejects(openDatabase(':memory:'), /AUDITDUCK_THREADS must be a whole number of threads, 1 or more \(got "[^"]*"\)/, bad);
    }
  });
});
