/**
 * The lake's cost (issue 18): exporting what an ingest committed to a directory lake, as a fraction of the
 * ingest's own time (target < 15%), and the lake's Parquet bytes per record against the DuckDB store's.
 * Each round ingests the same synthetic Event Hubs bodies into a fresh store, then exports it; the figures
 * are the medians of the rounds. The export is timed on the open store, as `run` pays it (staging with DuckDB's
 * COPY, checksums, the copy into the lake, the records), in one segment for everything; `run` cuts one a
 * minute, which writes the same rows in more, smaller files. Besides its wall time: the time it held the
 * store's writer (all `run`'s ingestion waits for; the COPYs run on a connection beside it) and its CPU
 * seconds against the ingest's (steadier than wall time on a shared machine). The store is not confined as
 * `run`'s is, so the export stages on one DuckDB thread as `ingest --lake` does. The same store is also exported
 * as `run` does it, confined (its configuration locked, src/store/on-one-thread.ts): with DuckDB's default threads,
 * and with the one thread AUDITDUCK_THREADS=1 gives it; CPU only.
 *
 * The files it writes are counted: one COPY per (server, date) of each events table and one per changed state
 * table, so the input's number of servers (2 by default; the second argument) sets how many COPYs it makes.
 *
 *   node --import tsx bench/lake-export.bench.ts [records] [servers]     (default 200000 records, 2 servers)
 */
import { copyFile, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { writeSyntheticBodies } from './generate-bodies.js';
import { LakeExporter, openLakeStorage, parseLakeLocation, stagingDirOf, type Exclusive } from '../src/lake/index.js';
import { AuditStore } from '../src/store/audit-store.js';
import { ingestFiles } from '../src/pipeline/ingest-files.js';
import { confineDatabase } from '../src/query/confine-database.js';

const TARGET_FRACTION = 0.15;
const ROUNDS = 3;
const log = pino({ level: 'silent' });

interface Round {
  ingestSeconds: number;
  exportSeconds: number;
  /** CPU seconds of this process (DuckDB's threads included): on a shared machine, less moved by other load than the wall time. */
  ingestCpuSeconds: number;
  exportCpuSeconds: number;
  /** The export's CPU seconds on a store confined as `run`'s, with DuckDB's default threads, and with AUDITDUCK_THREADS=1. */
  runExportCpuSeconds: number;
  runOneThreadExportCpuSeconds: number;
  /** How long the export held the store's writer: what ingestion waits for in `run`. */
  writerHeldSeconds: number;
  storeBytes: number;
  lakeBytes: number;
  eventsBytes: number;
  /** Data files the export wrote: one DuckDB COPY each. */
  files: number;
}

export async function benchLakeExport(records: number, servers?: number): Promise<Round> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-bench-lake-'));
  try {
    const input = join(dir, 'hub.jsonl');
    await writeSyntheticBodies(input, records, servers);
    const rounds: Round[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const db = join(dir, `store-${round}.duckdb`);
      const lake = join(dir, `lake-${round}`);
      const started = performance.now();
      const cpu = process.cpuUsage();
      await ingestFiles([input], { dbPath: db, format: 'auto', logLinePrefix: '%t-%c-', log });
      const ingestCpuSeconds = cpuSecondsSince(cpu);
      const ingestSeconds = (performance.now() - started) / 1000;
      // Copies of the store as the ingest left it, for the exports as `run` does them.
      for (const copy of ['run', 'run1']) await copyFile(db, join(dir, `store-${round}-${copy}.duckdb`));
      const { seconds: exportSeconds, cpuSeconds: exportCpuSeconds, writerHeldSeconds } = await timeExport(db, lake, 'ingest');
      const { cpuSeconds: runExportCpuSeconds } = await timeExport(join(dir, `store-${round}-run.duckdb`), `${lake}-run`, 'run');
      const { cpuSeconds: runOneThreadExportCpuSeconds } = await timeExport(join(dir, `store-${round}-run1.duckdb`), `${lake}-run1`, 'run, AUDITDUCK_THREADS=1');
      const files = await sizes(lake);
      rounds.push({
        ingestSeconds,
        exportSeconds,
        ingestCpuSeconds,
        exportCpuSeconds,
        runExportCpuSeconds,
        runOneThreadExportCpuSeconds,
        writerHeldSeconds,
        storeBytes: (await stat(db)).size,
        lakeBytes: files.reduce((n, f) => n + f.bytes, 0),
        eventsBytes: files.filter((f) => !f.path.includes('snapshot=') && !f.path.startsWith('_manifest')).reduce((n, f) => n + f.bytes, 0),
        files: files.filter((f) => !f.path.startsWith('_manifest')).length,
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
  console.log(`  of it, writer held      ${r.writerHeldSeconds.toFixed(2)} s  = ${((r.writerHeldSeconds / r.ingestSeconds) * 100).toFixed(1)}% (ingestion waits only for this, the snapshot; the cut and the COPYs run beside it)`);
  console.log(`  in CPU seconds          ${r.exportCpuSeconds.toFixed(2)} of ${r.ingestCpuSeconds.toFixed(2)} s = ${((r.exportCpuSeconds / r.ingestCpuSeconds) * 100).toFixed(1)}%`);
  const ofIngest = (cpu: number) => `${cpu.toFixed(2)} s = ${((cpu / r.ingestCpuSeconds) * 100).toFixed(1)}%`;
  console.log(`  as run, in CPU          ${ofIngest(r.runExportCpuSeconds)} (configuration locked, DuckDB's default threads)`);
  console.log(`  as run, 1 thread        ${ofIngest(r.runOneThreadExportCpuSeconds)} (AUDITDUCK_THREADS=1)`);
  console.log(`  files (one COPY each)   ${r.files}`);
  console.log(`DuckDB store              ${(r.storeBytes / records).toFixed(1)} bytes/record (${(r.storeBytes / 1e6).toFixed(1)} MB)`);
  console.log(`lake, all files           ${(r.lakeBytes / records).toFixed(1)} bytes/record (${(r.lakeBytes / 1e6).toFixed(1)} MB)`);
  console.log(`lake, events tables only  ${(r.eventsBytes / records).toFixed(1)} bytes/record (zstd Parquet)`);
}

/**
 * Stage and publish everything the store holds on the open store (opening it is not timed): as `ingest --lake`
 * does, or as `run` does, whose store is confined for its query API (settings locked), on DuckDB's default threads
 * or on the one AUDITDUCK_THREADS=1 gives it.
 */
export async function timeExport(db: string, lakeDir: string, as: 'ingest' | 'run' | 'run, AUDITDUCK_THREADS=1'): Promise<{ seconds: number; cpuSeconds: number; writerHeldSeconds: number }> {
  const threads = process.env.AUDITDUCK_THREADS;
  if (as === 'run, AUDITDUCK_THREADS=1') process.env.AUDITDUCK_THREADS = '1';
  const store = await AuditStore.open(db).finally(() => (threads === undefined ? delete process.env.AUDITDUCK_THREADS : (process.env.AUDITDUCK_THREADS = threads)));
  try {
    if (as !== 'ingest') await confineDatabase(store.connection, { writableDirs: [stagingDirOf(db)] });
    let writerHeldSeconds = 0;
    const exclusive: Exclusive = async (work) => {
      const held = performance.now();
      try {
        return await work(store.connection);
      } finally {
        writerHeldSeconds += (performance.now() - held) / 1000;
      }
    };
    const started = performance.now();
    const cpu = process.cpuUsage();
    const exporter = await LakeExporter.start({ lake: await openLakeStorage(parseLakeLocation(lakeDir)), stagingDir: stagingDirOf(db), exclusive, connect: () => store.db.instance.connect(), intervalMs: 3_600_000, log });
    // `ingest --lake` ends with the export it began; `run` stops with one more (docs/lake.md).
    await (as === 'ingest' ? exporter.finish() : exporter.stop());
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = cpuSecondsSince(cpu);
    if (exporter.status().lastError !== null) throw new Error(exporter.status().lastError!);
    return { seconds, cpuSeconds, writerHeldSeconds };
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

function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function median(rounds: Round[]): Round {
  const pick = (key: keyof Round) => [...rounds].sort((a, b) => a[key] - b[key])[Math.floor(rounds.length / 2)]![key];
  return {
    ingestSeconds: pick('ingestSeconds'),
    exportSeconds: pick('exportSeconds'),
    ingestCpuSeconds: pick('ingestCpuSeconds'),
    exportCpuSeconds: pick('exportCpuSeconds'),
    runExportCpuSeconds: pick('runExportCpuSeconds'),
    runOneThreadExportCpuSeconds: pick('runOneThreadExportCpuSeconds'),
    writerHeldSeconds: pick('writerHeldSeconds'),
    storeBytes: pick('storeBytes'),
    lakeBytes: pick('lakeBytes'),
    eventsBytes: pick('eventsBytes'),
    files: pick('files'),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const records = Number(process.argv[2] ?? 200_000);
  const servers = Number(process.argv[3] ?? 2);
  console.log(`# lake export (${records} records from ${servers} servers, median of ${ROUNDS} rounds)`);
  reportLakeExport(records, await benchLakeExport(records, servers));
}
