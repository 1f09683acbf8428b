/**
 * The one driver of the flow: it pulls a source's batches, decodes them, gathers their rows through the
 * pipeline and commits each with its position, then tells the batch (`committed`: Event Hubs checkpoints)
 * and every after-commit hook. Files, stdin, Event Hubs, the demo stream and Log Analytics all go through here.
 * Input contract: a `BatchSource` (sources/source-batch.ts). Commits happen in the order batches were pulled;
 * while one commits, the next is read and prepared (DuckDB commits off the main thread).
 * After commit: hooks run in commit order, after COMMIT returned; what they do is outside the transaction
 * (waking the alert delivery, metrics, progress; an exporter of committed rows subscribes here too).
 */
import type { DecodeResult } from '../contracts/log-record.js';
import type { SourceBatch } from '../sources/source-batch.js';
import type { CommitTarget } from '../store/audit-store.js';
import type { CommittedBatchCounts, GatheringBatch, IngestPipeline, SealedBatch } from './ingest-pipeline.js';

/** Turns a source's items into decode results; one per source kind (pipeline/source-decoders.ts). */
export interface BatchDecoder<B extends SourceBatch<unknown>> {
  decode(batch: B): Iterable<DecodeResult> | Promise<Iterable<DecodeResult>>;
  /** Where the stream resumes after what was decoded so far: a decoder holding lines back resumes at the first held. */
  resumeAt?(batch: B): string;
  /** The stream ended after `batch`: what the decoder still holds. */
  flush?(batch: B): Iterable<DecodeResult>;
}

export interface CommittedBatch<B> {
  /** The last source batch of the transaction (several when `group` gathers them). */
  batch: B;
  target: CommitTarget;
  counts: CommittedBatchCounts;
}

/** Told after each commit (and after the batch's own `committed`), in commit order; a hook that throws stops the drive. */
export type AfterCommit<B> = (committed: CommittedBatch<B>) => void | Promise<void>;

/** How a prepared batch is committed: plainly (a failure ends the drive), or retried (run: pipeline/batch-retry.ts). */
export type CommitStrategy<B> = (batch: B, prepared: SealedBatch, prepareAgain: () => SealedBatch) => Promise<CommittedBatchCounts>;

export interface DriveOptions<B extends SourceBatch<unknown>> {
  pipeline: IngestPipeline;
  decoder: BatchDecoder<B>;
  /**
   * Consecutive batches gathered into one transaction until either bound is reached (files: thousands of reads
   * per commit). Without it each source batch is a transaction of its own.
   */
  group?: { results: number; bytes: number; bytesOf(batch: B): number; isLast(batch: B): boolean };
  /** Commits in flight at once: 1 for a source read in order (files, windows); more when the source orders its own streams (Event Hubs). */
  maxInFlight?: number;
  commit?: CommitStrategy<B>;
  afterCommit?: readonly AfterCommit<B>[];
}

export async function driveSource<B extends SourceBatch<unknown>>(source: AsyncIterable<B> | Iterable<B>, opts: DriveOptions<B>): Promise<void> {
  const { pipeline, decoder } = opts;
  const maxInFlight = opts.maxInFlight ?? 1;
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  let open: GatheringBatch | null = null;
  // Only the batches that want to hear of their commit are kept: a file's reads hold their lines, and a
  // transaction gathers thousands of them (kept, they cost tens of MB of peak memory).
  let gathered = { bytes: 0, told: [] as B[], last: null as B | null };

  const targetOf = (batch: B): CommitTarget => ({
    sourceKey: batch.sourceKey,
    source: batch.source,
    position: decoder.resumeAt?.(batch) ?? batch.position,
    ...(batch.marks ? { marks: batch.marks } : {}),
  });

  const commit = async (last: B, covered: readonly B[], prepared: SealedBatch, prepareAgain: () => SealedBatch): Promise<void> => {
    let counts: CommittedBatchCounts;
    try {
      counts = await (opts.commit ? opts.commit(last, prepared, prepareAgain) : pipeline.commitBatch(prepared));
    } catch (error) {
      for (const b of covered) b.abandoned?.(error);
      throw error;
    }
    // The source first (Event Hubs checkpoints): its rows are committed whatever a hook does next.
    for (const b of covered) await b.committed?.();
    for (const hook of opts.afterCommit ?? []) await hook({ batch: last, target: prepared.target, counts });
  };

  const start = async (last: B, covered: readonly B[], prepared: SealedBatch, prepareAgain: () => SealedBatch): Promise<void> => {
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (failure) throw failure.error;
    const work = commit(last, covered, prepared, prepareAgain).catch((error: unknown) => {
      failure ??= { error };
    });
    const tracked = work.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  try {
    for await (const batch of source) {
      if (failure) break;
      const results = await decoder.decode(batch);
      if (!opts.group) {
        // Decoded again for each attempt a retrying commit makes: the first prepared batch is spent by then.
        const prepareAgain = (): SealedBatch => pipeline.prepareBatch([...resultsOf(decoder, batch)], targetOf(batch));
        const first = pipeline.prepareBatch([...results], targetOf(batch));
        await start(batch, [batch], first, prepareAgain);
        continue;
      }
      open ??= pipeline.openBatch();
      pipeline.push(open, results);
      gathered.bytes += opts.group.bytesOf(batch);
      if (batch.committed || batch.abandoned) gathered.told.push(batch);
      gathered.last = batch;
      const last = opts.group.isLast(batch);
      if (last && decoder.flush) pipeline.push(open, decoder.flush(batch));
      if (last || open.results >= opts.group.results || gathered.bytes >= opts.group.bytes) {
        const sealed = pipeline.seal(open, targetOf(batch));
        const covered = gathered.told;
        open = null;
        gathered = { bytes: 0, told: [], last: null };
        await start(batch, covered, sealed, () => {
          throw new Error('a gathered transaction cannot be prepared again');
        });
      }
    }
    // A source that ended without saying its last batch was: what is gathered still commits.
    if (open && !failure) {
      const last = gathered.last!;
      await start(last, gathered.told, pipeline.seal(open, targetOf(last)), () => {
        throw new Error('a gathered transaction cannot be prepared again');
      });
    }
  } catch (error) {
    // A read error must not close the store under the commit in flight: DuckDB would block for good.
    await Promise.allSettled([...inFlight]);
    throw error;
  }
  await Promise.allSettled([...inFlight]);
  if (failure) throw (failure as { error: unknown }).error;
}

/** A decoder's results again, for a batch whose decoding is synchronous (hub events). */
function resultsOf<B extends SourceBatch<unknown>>(decoder: BatchDecoder<B>, batch: B): Iterable<DecodeResult> {
  const results = decoder.decode(batch);
  if (results instanceof Promise) throw new Error('a batch decoded asynchronously cannot be prepared again');
  return results;
}
