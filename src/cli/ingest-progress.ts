/**
 * The progress line of `auditduck ingest` on a terminal (stderr; stdout stays for the summary), and what
 * it says when Ctrl-C stops the ingest: where the stored part ends and that the same command resumes there.
 */
import { statSync } from 'node:fs';
import type { IngestProgress } from '../pipeline/ingest-path.js';

export interface IngestProgressLine {
  update(progress: IngestProgress): void;
  /** Clears the line before the summary or an error is printed. */
  end(): void;
  /** One sentence for Ctrl-C: what is stored and how to go on. */
  interruptedMessage(): string;
}

/** `pg.log: 120,000 records, 48,000 records/s, 37% of 1.2 GB` — percent only for files, whose size is known. */
export function renderIngestProgress(p: IngestProgress, recordsPerSecond: number, sizeBytes: number | null): string {
  const parts = [`${p.source}: ${p.records.toLocaleString('en-US')} records`, `${Math.round(recordsPerSecond).toLocaleString('en-US')} records/s`];
  if (sizeBytes !== null && sizeBytes > 0) parts.push(`${Math.min(100, Math.floor((p.position / sizeBytes) * 100))}% of ${formatBytes(sizeBytes)}`);
  return parts.join(', ');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function interruptedMessage(last: IngestProgress | null): string {
  if (last === null) return 'interrupted before the first batch was stored: nothing of this run was kept; run the same command again to start over';
  return `interrupted: ${last.records.toLocaleString('en-US')} records stored, ${last.source} up to byte ${last.position}; run the same command again to resume from there (nothing is read twice)`;
}

export function createIngestProgressLine(stream: NodeJS.WriteStream = process.stderr, now: () => number = () => performance.now()): IngestProgressLine {
  const startedAt = now();
  const sizes = new Map<string, number | null>();
  let last: IngestProgress | null = null;
  let drawn = false;
  const sizeOf = (source: string): number | null => {
    if (!sizes.has(source)) {
      let size: number | null = null;
      try {
        // stdin has no size; in a gzip file positions count decompressed bytes, which its size does not tell.
        size = source.startsWith('stdin') || source.endsWith('.gz') ? null : statSync(source).size;
      } catch {
        size = null;
      }
      sizes.set(source, size);
    }
    return sizes.get(source) ?? null;
  };
  return {
    update(progress) {
      last = progress;
      if (!stream.isTTY) return;
      const seconds = Math.max((now() - startedAt) / 1000, 0.001);
      stream.write(`\r${renderIngestProgress(progress, progress.records / seconds, sizeOf(progress.source))}\u001b[K`);
      drawn = true;
    },
    end() {
      if (drawn) stream.write('\r\u001b[K');
      drawn = false;
    },
    interruptedMessage: () => interruptedMessage(last),
  };
}
