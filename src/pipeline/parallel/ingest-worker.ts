/**
 * An ingest worker thread: for each range of a file it is given, the whole path (read, decode, parse,
 * attribute, redact) into a batch, written as CSV chunk files (store/chunk-file.ts). The
 * store's writer folds the chunk in (`IngestPipeline.commitChunk`). It never opens the store: a second DuckDB
 * instance on the store's file, in the same process, corrupts it without an error.
 * What carries state from range to range (sessions, transactions, role changes, Activity Log joins) is the store's
 * writer's, which folds ranges in file order: the worker sends it the entries those analyses read. Its own session
 * lines only attribute the rows it writes; a row whose session it does not know is filled in by the store's late
 * attribution at the fold.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compilePrefix, type CompiledPrefix } from '../../decode/prefix/compile-prefix.js';
import { createDetector } from '../../detect/index.js';
import type { InTransactionWriter } from '../../detect/written-batch.js';
import { createLogger } from '../../logging/logger.js';
import type { FileBatch } from '../../sources/file/file-source.js';
import { readLines } from '../../sources/file/read-lines.js';
import { AuditStore } from '../../store/audit-store.js';
import { csvBatch, writeChunkFile } from '../../store/chunk-file.js';
import { IngestPipeline, type ChunkBatch } from '../ingest-pipeline.js';
import { fileLineDecoder } from '../source-decoders.js';
import type { RangeResult, RangeTask, WorkerSetup } from './range-task.js';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const log = createLogger();
// Only which entries detection may keep matters here: detection itself runs in the store's writer.
const keeper = setup.detection === null ? null : createDetector(setup.detection);
const observers: InTransactionWriter[] = keeper ? [{ keepsEntry: (entry, changed) => keeper.keepsEntry?.(entry, changed) ?? true, inTransaction: async () => undefined }] : [];
// The pipeline's store; nothing is written to it (the rows go to chunk files).
const own = await AuditStore.open(':memory:');
await own.connection.run('SET threads = 1');
const pipeline = await IngestPipeline.create(own, { observers, analyzePrivileges: setup.analyzePrivileges, foldLater: true });
const prefixes = new Map<string, CompiledPrefix>();

async function gather(task: RangeTask): Promise<ChunkBatch> {
  let prefix = prefixes.get(task.logLinePrefix);
  if (!prefix) prefixes.set(task.logLinePrefix, (prefix = compilePrefix(task.logLinePrefix)));
  const { target } = task;
  const decoder = fileLineDecoder({
    source: target.source, format: task.format, firstLine: null, stdin: false, prefix,
    ...(task.server ? { server: task.server } : {}), defaultServer: task.defaultServer, log,
  });
  const open = pipeline.openBatch(csvBatch());
  const last: FileBatch = { sourceKey: target.sourceKey, source: target.source, position: target.position, items: [], bytes: 0, last: true };
  for await (const chunk of readLines(task.path, task.start, task.end)) pipeline.push(open, await decoder.decode({ ...last, items: [chunk], last: false }));
  pipeline.push(open, decoder.flush!(last));
  const { rows, ...sealed } = pipeline.sealForFold(open);
  return { ...sealed, target, chunk: await writeChunkFile(task.out, rows) };
}

// One range at a time, in the order given: the pipeline's state follows the log.
let queue: Promise<void> = Promise.resolve();
port.on('message', (task: RangeTask) => {
  queue = queue.then(async () => {
    let result: RangeResult;
    try {
      result = { id: task.id, batch: await gather(task) };
    } catch (error) {
      result = { id: task.id, error: (error as Error).message };
    }
    port.postMessage(result);
  });
});
