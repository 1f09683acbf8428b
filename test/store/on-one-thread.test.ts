/**
 * `onOneThread`: many small statements on one DuckDB thread, the work told how many may run side by side, the
 * instance's thread count put back after, and the work's own failure reported when putting it back fails too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { onOneThread } from '../../src/store/on-one-thread.js';

async function threads(c: DuckDBConnection): Promise<number> {
  return Number((await c.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0]![0]);
}

async function withInstance(run: (c: DuckDBConnection, instance: DuckDBInstance) => Promise<void>): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:', { threads: '3' });
  try {
    await run(await instance.connect(), instance);
  } finally {
    instance.closeSync();
  }
}

describe('work on one DuckDB thread', () => {
  it('runs the work on one thread and puts the thread count back, whether it succeeds or fails', async () => {
    await withInstance(async (c) => {
      assert.equal(await onOneThread(c, () => threads(c)), 1);
      assert.equal(await threads(c), 3);
      await assert.rejects(onOneThread(c, () => Promise.reject(new Error('the work failed'))), /the work failed/);
      assert.equal(await threads(c), 3);
    });
  });

  it('tells the work the threads the instance had, and 1 where its configuration is locked', async () => {
    await withInstance(async (c) => {
      assert.deepEqual(await onOneThread(c, async (sideBySide) => [sideBySide, await threads(c)]), [3, 1]);
      await c.run('SET lock_configuration = true');
      assert.deepEqual(await onOneThread(c, async (sideBySide) => [sideBySide, await threads(c)]), [1, 3]);
    });
  });

  it("reports the work's failure, not the failure to put the threads back after it", async () => {
    await withInstance(async (c) => {
      await assert.rejects(
        onOneThread(c, async () => {
          // The connection is gone: putting the thread count back fails as well.
          c.closeSync();
          throw new Error('the batch failed');
        }),
        /the batch failed/,
      );
    });
  });
});
