/**
 * The lake's cost (issue 18): exporting what an ingest committed to a directory lake, as a fraction of the
 * ingest's own time (target < 15%), and the lake's Parquet bytes per record against the DuckDB store's.
 * Each round ingests the same synthetic Event Hubs bodies into a fresh store, then exports it; the figures
 * are the medians of the rounds. The export is timed on the open store, as `run` pays it (staging with DuckDB's
 * COPY, checksums, the copy into the lake, the records), in one segment for everything; `run` cuts one a
 * minute, which writes the same rows in more, smaller files.
 *
 *   node --import tsx bench/lake-export.bench.ts [records]     (default 200000)
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { writeSyntheticBodies } from './generate-bodies.js';
import { LakeExporter, openLakeStorage, parseLakeLocation, stagingDirOf, type Exclusive } from '../src/lake/index.js';
import { AuditStore } from '../src/store/audit-store.js';
import { ingestFiles } from '../src/pipeline/ingest-files.js';

const TARGET_FRACTION = 0.15;
const ROUNDS = 3;
const log = pino({ level: 'silent' });

interface Round {
  ingestSeconds: number;
  exportSeconds: number;
  storeBytes: number;
  lakeBytes: number;
  eventsBytes: number;
}

export async function benchLakeExport(records: number): Promise<Round> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-bench-lake-'));
  try {
    const input = join(dir, 'hub.jsonl');
    await writeSyntheticBodies(input, records);
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const db = join(dir, `store-${round}.duckdb`);
      const lake = join(dir, `lake-${round}`);
      let started = performance.now();
      await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log });
      const ingestSeconds = (performance.now() - started) / 1000;
      const exportSeconds = await timeExport(db, lake);
      const files = await sizes(lake);
      rounds.push({
        ingestSeconds,
        exportSeconds,
        storeBytes: (await stat(db)).size,
        lakeBytes: files.reduce((n, f) => n + f.bytes, 0),
        eventsBytes: files.filter((f) => !f.path.includes('snapshot=') && !f.path.startsWith('_manifest')).reduce((n, f) => n + f.bytes, 0),
      });
    }
    return median(rounds);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function reportLakeExport(records: number, r: Round): void {
  const fraction = r.exportSeconds / r.ingestSeconds;
  console.log(`ingest into the store     ${r.ingestSeconds.toFixed(2)} s  (${Math.round(records / r.ingestSeconds)} records/s)`);
  console.log(`export to the lake        ${r.exportSeconds.toFixed(2)} s  = ${(fraction * 100).toFixed(1)}% of the ingest (target < ${TARGET_FRACTION * 100}%) ${fraction < TARGET_FRACTION ? 'ok' : 'MISSED'}`);
  console.log(`DuckDB store              ${(r.storeBytes / records).toFixed(1)} bytes/record (${(r.storeBytes / 1e6).toFixed(1)} MB)`);
  console.log(`lake, all files           ${(r.lakeBytes / records).toFixed(1)} bytes/record (${(r.lakeBytes / 1e6).toFixed(1)} MB)`);
  console.log(`lake, events tables only  ${(r.eventsBytes / records).toFixed(1)} bytes/record (zstd Parquet)`);
}

/** Stage and publish everything the store holds, as `run` does on its open store (opening it is not timed). */
async function timeExport(db: string, lakeDir: string): Promise<number> {
  const store = await AuditStore.open(db);
  try {
    const exclusive: Exclusive = (work) => work(store.connection);
    const started = performance.now();
    const exporter = await LakeExporter.start({ lake: await openLakeStorage(parseLakeLocation(lakeDir)), stagingDir: stagingDirOf(db), exclusive, intervalMs: 3_600_000, log });
    await exporter.stop();
    const seconds = (performance.now() - started) / 1000;
    if (exporter.status().lastError !== null) throw new Error(exporter.status().lastError!);
    return seconds;
  } finally {
    await store.close();
  }
}

async function sizes(root: string): Promise<{ path: string; bytes: number }[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries.filter((e) => e.isFile()).map(async (e) => {
      const full = join(e.parentPath, e.name);
      return { path: full.slice(root.length + 1), bytes: (await stat(full)).size };
    }),
  );
}

function median(rounds: Round[]): Round {
  const pick = (key: keyof Round) => [...rounds].sort((a, b) => a[key] - b[key])[Math.floor(rounds.length / 2)]![key];
  return { ingestSeconds: pick('ingestSeconds'), exportSeconds: pick('exportSeconds'), storeBytes: pick('storeBytes'), lakeBytes: pick('lakeBytes'), eventsBytes: pick('eventsBytes') };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.argv[2] ?? 200_000);
  console.log(`# lake export (${records} records, median of ${ROUNDS} rounds)`);
  reportLakeExport(records, await benchLakeExport(records));
}
