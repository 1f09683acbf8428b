/**
 * Reading an old lake (issue 18): what opening a directory lake for `query --lake` costs when it holds N segments,
 * against the same with four times as many, as `run` leaves one after a week and after a month (a segment a minute).
 * The lakes are made from one real export whose events files are linked under each segment's own name, with
 * chained manifest entries and a checkpoint every 1,000 segments as the exporter writes them.
 *
 * Two figures at each size: the manifest read as readers do now (the newest checkpoint and the entries after it)
 * and as they did before checkpoints (every entry), and the whole open (`openLakeDatabase`: the manifest, then the
 * views, which DuckDB makes by listing each table's folder). The manifest read should not grow with the lake
 * (target: within 1.25× at four times the segments); the views still list every file.
 *
 *   node --import tsx bench/lake-read.bench.ts [segments]     (default 2500: N, and 4 × N)
 */
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { writeSyntheticBodies } from './generate-bodies.js';
import { entriesAfter, exportStoreToLake, openLakeDatabase, openLakeStorage, parseLakeLocation } from '../src/lake/index.js';
import { readManifest, writeCheckpoint } from '../src/lake/manifest-checkpoints.js';
import { CHECKPOINT_EVERY, summarize } from '../src/lake/manifest-summary.js';
import { manifestPath, sealEntry, serializeEntry, type ManifestEntry } from '../src/lake/manifest.js';
import { ingestFiles } from '../src/pipeline/ingest-files.js';

const ROUNDS = 3;
const TARGET_RATIO = 1.25;
const log = pino({ level: 'silent' });

interface Reads {
  fromCheckpoint: number;
  everyEntry: number;
  open: number;
}

/** A lake of `segments` segments, each with the events files of `base`'s first one (linked, not copied). */
async function agedLake(base: string, out: string, segments: number): Promise<void> {
  const first = JSON.parse(await readFile(join(base, manifestPath(1)), 'utf8')) as ManifestEntry;
  const events = first.files.filter((f) => /^(audit_events|log_lines|auth_failures)\//.test(f.path));
  const lake = await openLakeStorage(parseLakeLocation(out));
  let previous: string | null = null;
  for (let seq = 1; seq <= segments; seq++) {
    const segment = `${String(seq).padStart(8, '0')}-${seq.toString(16).padStart(12, '0')}`;
    const files = await Promise.all(
      events.map(async (f) => {
        const path = f.path.replace(/date=[0-9-]+/, `date=${new Date(Date.UTC(2026, 0, 1) + seq * 60_000).toISOString().slice(0, 10)}`).replace(/part-00000001-[0-9a-f]{12}/, `part-${segment}`);
        await mkdir(dirname(join(out, path)), { recursive: true });
        await link(join(base, f.path), join(out, path));
        return { ...f, path };
      }),
    );
    const createdAt = new Date(Date.UTC(2026, 0, 1) + seq * 60_000).toISOString();
    const entry = sealEntry({ format: first.format, seq, segment, createdAt, previous, positions: first.positions, files, tables: first.tables });
    await mkdir(dirname(join(out, manifestPath(seq))), { recursive: true });
    await writeFile(join(out, manifestPath(seq)), serializeEntry(entry));
    if (seq % CHECKPOINT_EVERY === 0) await writeCheckpoint(lake, entry);
    previous = entry.hash;
  }
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    await work();
    times.push((performance.now() - started) / 1000);
  }
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

async function readsOf(dir: string): Promise<Reads> {
  const lake = await openLakeStorage(parseLakeLocation(dir));
  return {
    fromCheckpoint: await timed(() => readManifest(lake)),
    everyEntry: await timed(async () => summarize(await entriesAfter(lake, 0))),
    open: await timed(async () => (await openLakeDatabase(dir)).close()),
  };
}

const segments = Number(process.argv[2] ?? 2500);
const dir = await mkdtemp(join(tmpdir(), 'auditduck-bench-lake-read-'));
try {
  const input = join(dir, 'hub.jsonl');
  await writeSyntheticBodies(input, 2000, 2);
  await ingestFiles([input], { dbPath: join(dir, 'store.duckdb'), format: 'auto', logLinePrefix: '%t-%c-', log });
  await exportStoreToLake(join(dir, 'store.duckdb'), join(dir, 'base'), log);
  const sizes = [segments, 4 * segments];
  const reads: Reads[] = [];
  for (const n of sizes) {
    await agedLake(join(dir, 'base'), join(dir, `lake-${n}`), n);
    reads.push(await readsOf(join(dir, `lake-${n}`)));
  }
  const [young, old] = reads as [Reads, Reads];
  const row = (label: string, pick: (r: Reads) => number) =>
    console.log(`${label.padEnd(44)} ${pick(young).toFixed(2)} s   ${pick(old).toFixed(2)} s   ${(pick(old) / pick(young)).toFixed(2)}×`);
  console.log(`${''.padEnd(44)} ${`${sizes[0]} segs`.padEnd(9)} ${`${sizes[1]} segs`.padEnd(9)} ratio`);
  row('manifest, from the newest checkpoint', (r) => r.fromCheckpoint);
  row('manifest, every entry (before checkpoints)', (r) => r.everyEntry);
  row('open for query --lake (manifest and views)', (r) => r.open);
  const ratio = old.fromCheckpoint / young.fromCheckpoint;
  console.log(`the manifest read at four times the segments: ${ratio.toFixed(2)}× (target within ${TARGET_RATIO}×) ${ratio <= TARGET_RATIO ? 'ok' : 'MISSED'}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
