import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportStoreToLake } from '../../src/lake/index.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { silentLogger } from './store-reader.js';
import { syntheticBodies } from './synthetic-events.js';

/** The days of the capture the lake read-through tests thin with `hotDays = 1`. */
export const CAPTURE_DAYS = ['2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24'] as const;

/**
 * Four days of generated audit trail (2,000 records a day) ingested into `DIR/store.duckdb` and exported to the
 * local lake `DIR/lake`, as retention finds them before it drops anything.
 */
export async function storeAndLakeOfFourDays(dir: string): Promise<{ db: string; lake: string }> {
  const db = join(dir, 'store.duckdb');
  const lake = join(dir, 'lake');
  const files: string[] = [];
  for (const [i, day] of CAPTURE_DAYS.entries()) {
    const file = join(dir, `${day}.jsonl`);
    await writeFile(file, [...syntheticBodies({ records: 2_000, seed: 10 + i, start: new Date(`${day}T06:00:00Z`) })].join('\n') + '\n');
    files.push(file);
  }
  await ingestFiles(files, { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
  await exportStoreToLake(db, lake, silentLogger);
  return { db, lake };
}
