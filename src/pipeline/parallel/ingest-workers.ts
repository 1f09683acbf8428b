/**
 * The pool of ingest worker threads (ingest-worker.ts): a range given to the least busy one, its batch back
 * as a promise. Ranges given to one worker are gathered in the order given.
 */
import { Worker } from 'node:worker_threads';
import type { ChunkBatch } from '../ingest-pipeline.js';
import type { RangeResult, RangeTask, WorkerSetup } from './range-task.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './ingest-worker.ts' : './ingest-worker.js', import.meta.url);

/** Built, the worker is the .js next to this one; run from source (tests), a thread does not inherit tsx's loader, so it registers it first. */
function spawn(setup: WorkerSetup): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData: setup });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`;
  return new Worker(boot, { eval: true, workerData: setup });
}

interface PooledWorker {
  worker: Worker;
  /** Why it stopped, once it has: a range given to it then would wait for good. */
  stopped: Error | null;
  waiting: Map<number, { resolve: (batch: ChunkBatch) => void; reject: (error: Error) => void }>;
}

export class IngestWorkers {
  private nextId = 0;
  private closed = false;

  private constructor(private readonly pool: PooledWorker[]) {}

  static start(count: number, setup: WorkerSetup): IngestWorkers {
    const pool: PooledWorker[] = [];
    for (let i = 0; i < count; i++) {
      const worker = spawn(setup);
      const pooled: PooledWorker = { worker, stopped: null, waiting: new Map() };
      worker.on('message', (result: RangeResult) => {
        const waiter = pooled.waiting.get(result.id);
        if (!waiter) return;
        pooled.waiting.delete(result.id);
        if ('error' in result) waiter.reject(new Error(result.error));
        else waiter.resolve(result.batch);
      });
      // A worker that dies takes its ranges with it: each is reported, nothing of them was committed.
      const failAll = (error: Error) => {
        pooled.stopped ??= error;
        for (const waiter of pooled.waiting.values()) waiter.reject(error);
        pooled.waiting.clear();
      };
      worker.on('error', failAll);
      worker.on('exit', (code) => failAll(new Error(`an ingest worker thread exited (code ${code})`)));
      pool.push(pooled);
    }
    return new IngestWorkers(pool);
  }

  get size(): number {
    return this.pool.length;
  }

  gather(task: Omit<RangeTask, 'id'>): Promise<ChunkBatch> {
    if (this.closed) return Promise.reject(new Error('the ingest workers are closed'));
    const id = this.nextId++;
    const pooled = this.pool.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
    if (pooled.stopped) return Promise.reject(pooled.stopped);
    return new Promise((resolve, reject) => {
      pooled.waiting.set(id, { resolve, reject });
      pooled.worker.postMessage({ ...task, id } satisfies RangeTask);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.pool.map((p) => p.worker.terminate()));
  }
}
