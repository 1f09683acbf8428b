/**
 * The built-in default of `auditduck run` when no Event Hub is configured: the bundled captures in
 * samples/eventhubs/ replayed as if they were the partitions of a hub, one file a partition, in small
 * timed batches, yielded like the real consumer's. It resumes like a real partition: from the last
 * committed sequence number (a line's index), so a restart adds nothing twice.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PushedBatches } from '../pushed-batches.js';
import type { HubEvent, PositionReader, SourceBatch } from '../source-batch.js';

/** samples/eventhubs/ of the installed package (from src/ under tsx and from dist/ alike). */
export const BUNDLED_SAMPLES = fileURLToPath(new URL('../../../samples/eventhubs/', import.meta.url));

export interface DemoSourceOptions {
  dir?: string;
  readPosition: PositionReader;
  maxBatchSize?: number;
  /** Pause between batches, so the demo looks like a stream. */
  intervalMs?: number;
}

export interface DemoSource {
  /** One batch at a time per partition: the next is yielded once the driver committed the one before. */
  batches: AsyncIterable<SourceBatch<HubEvent>>;
  /** Resolves when every sample has been delivered and committed. */
  done: Promise<void>;
  close(): Promise<void>;
}

export async function startDemoSource(opts: DemoSourceOptions): Promise<DemoSource> {
  const dir = opts.dir ?? BUNDLED_SAMPLES;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl')).sort();
  if (files.length === 0) throw new Error(`no samples (*.jsonl) in ${dir}`);
  const partitions = await Promise.all(
    files.map(async (file, index) => {
      const partitionId = String(index);
      const sourceKey = `demo:${basename(file)}`;
      const committed = await opts.readPosition(sourceKey);
      const lines = (await readFile(join(dir, file), 'utf8')).split('\n').filter((l) => l.trim() !== '');
      return { partitionId, sourceKey, source: `demo:${basename(file, '.jsonl')}`, lines, next: committed === null ? 0 : Number(committed) + 1 };
    }),
  );
  const batches = new PushedBatches<HubEvent>();
  let closed = false;
  let wake: (() => void) | null = null;
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });

  const run = async (): Promise<void> => {
    const size = opts.maxBatchSize ?? 2;
    // Round-robin over the partitions, as a consumer of a real hub sees them.
    while (!closed && partitions.some((p) => p.next < p.lines.length)) {
      for (const p of partitions) {
        if (closed || p.next >= p.lines.length) continue;
        const items: HubEvent[] = p.lines.slice(p.next, p.next + size).map((line, i) => ({
          body: line,
          partitionId: p.partitionId,
          sequenceNumber: p.next + i,
          enqueuedTimeUtc: new Date(),
        }));
        const last = items.at(-1)!.sequenceNumber;
        await batches.push({ sourceKey: p.sourceKey, source: p.source, position: String(last), items });
        p.next = last + 1;
      }
      if (!closed) await sleep(opts.intervalMs ?? 250);
    }
  };
  const done = run();
  return {
    batches,
    done,
    async close() {
      closed = true;
      (wake as (() => void) | null)?.();
      await done.catch(() => undefined);
      batches.end();
    },
  };
}
