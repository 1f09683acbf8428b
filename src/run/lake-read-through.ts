/**
 * `run` with a lake: its query API and dashboards read the rows hot retention dropped from the lake, as
 * plain `auditduck query` does, so the same SQL answers the same whether `run` is up or not. Each reading
 * connection gets the temporary views of lake/hot-and-lake-views.ts (one definition for every reader), over the
 * lake's folders:
 *
 * - at the start, with the cutoff of what earlier passes dropped (not awaited: a slow lake never holds up the
 *   start; each connection's reads wait for it, and a failure is logged and mended by the next pass);
 * - before each retention pass drops rows, with the cutoff it drops to: the views then reach every file whose
 *   rows the pass may drop, and read those rows only once the pass's horizon is committed.
 *
 * The manifest is read once from its newest checkpoint; after that each pass adds the segments it verified (those
 * published since). A directory lake is read where it is; a Blob lake's files with dropped rows are copied beside
 * the store (`<store>.lake-mirror/`), once each, since DuckDB cannot read Blob here: for those, the hot tables'
 * files not copied yet (the days retention keeps) are kept in memory.
 */
import { mkdir } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import {
  addEntry,
  copyFiles,
  entriesAfter,
  directoryRoot,
  droppedRowFiles,
  emptySummary,
  HOT_TABLES,
  horizonsReach,
  openLakeStorage,
  parseLakeLocation,
  readManifest,
  shadowWithLakeRows,
  summarize,
  type HotHorizon,
  type ManifestEntry,
  type ManifestFile,
  type ManifestSummary,
} from '../lake/index.js';
import type { ReadOnlySession } from '../query/read-only-session.js';

export interface LakeReadThrough {
  /** The folder the confined store must let its readers read. */
  readonly dir: string;
  /** A session whose connection reads through; reads queued on it after this wait for the views. */
  attach(session: ReadOnlySession): void;
  /** hot-retention's `beforeDrop`: makes the views reach the verified segments' files before the pass drops their rows. */
  beforeDrop(verified: readonly ManifestEntry[], upTo: Reach): Promise<void>;
}

export function mirrorDirOf(dbPath: string): string {
  return `${dbPath}.lake-mirror`;
}

type Reach = { throughSeq: number; before: Date };

/** What the views are made from: the widest reach of the horizons, and the manifest folded. Null: nothing dropped. */
type Listed = { reach: Reach; summary: ManifestSummary } | null;

/** `readHorizons` reads the store's hot_horizons (on the writer, between commits). */
export async function openLakeReadThrough(lakeText: string, dbPath: string, readHorizons: () => Promise<HotHorizon[]>, log: Logger): Promise<LakeReadThrough> {
  const lake = await openLakeStorage(parseLakeLocation(lakeText));
  const root = directoryRoot(lake);
  const dir = root ?? mirrorDirOf(dbPath);
  if (root === null) await mkdir(dir, { recursive: true });
  const sessions: ReadOnlySession[] = [];

  // The manifest as read so far, and for a Blob lake the hot tables' files of its segments not copied yet (those
  // with dropped rows are copied, then forgotten): read once, then grown by what each pass verified.
  let read: { summary: ManifestSummary; entries: ManifestEntry[] } | null = null;
  const readLake = async (verified: readonly ManifestEntry[]) => {
    const last = read?.summary.seq ?? 0;
    const fresh = verified.filter((e) => e.seq > last);
    const follows = fresh.length === 0 ? read !== null : fresh[0]!.seq === last + 1;
    if (follows) {
      read ??= { summary: emptySummary(), entries: [] };
      for (const entry of fresh) addEntry(read.summary, entry);
      if (root === null) for (const entry of fresh) read.entries.push(hotFilesOnly(entry));
    } else if (root !== null) {
      read = { summary: await readManifest(lake), entries: [] };
    } else {
      const entries = await entriesAfter(lake, 0);
      read = { summary: summarize(entries), entries: entries.map(hotFilesOnly) };
    }
    return read;
  };

  /** The reach of what was dropped so far (and of the pass about to drop), its files present in `dir`. */
  const listFiles = async (verified: readonly ManifestEntry[], upcoming: Reach | null): Promise<Listed> => {
    const reach = widest(horizonsReach(await readHorizons()), upcoming);
    if (reach === null) return null;
    const known = await readLake(verified);
    if (root === null) {
      const dropped = droppedRowFiles(known.entries, reach);
      await copyFiles(lake, dropped, dir);
      forgetCopied(known, new Set(dropped));
    }
    log.debug({ segments: known.summary.seq, throughSeq: reach.throughSeq, before: reach.before.toISOString() }, 'reading the rows hot retention dropped from the lake');
    return { reach, summary: known.summary };
  };
  const shadow = (c: DuckDBConnection, listed: Listed) => (listed ? shadowWithLakeRows(c, dir, listed.reach, listed.summary) : Promise.resolve([]));
  // Not awaited: a slow lake must not hold up the start; the reads of each session wait for it instead.
  let listed: Promise<Listed> = listFiles([], null);
  listed.catch(() => undefined); // reported by each session that waits for it
  const explain = (error: unknown) =>
    log.error({ err: error, lake: lake.description }, 'cannot read the rows hot retention dropped from the lake: queries over older periods miss them until the next retention pass lists them');

  return {
    dir,
    attach(session) {
      sessions.push(session);
      const pending = listed;
      void session.between(async (c) => shadow(c, await pending)).catch(explain);
    },
    async beforeDrop(verified, upTo) {
      await listed.catch(() => undefined); // what it read is known before more is added
      listed = listFiles(verified, upTo);
      const made = await listed;
      // Every reader reaches them before the pass commits; a failure here keeps the rows in the store.
      for (const session of sessions) await session.between((c) => shadow(c, made));
    },
  };
}

/** A file copied beside the store is never looked at again: what is kept is only what later passes may drop. */
function forgetCopied(read: { entries: ManifestEntry[] }, copied: ReadonlySet<ManifestFile>): void {
  if (copied.size === 0) return;
  read.entries = read.entries.map((e) => ({ ...e, files: e.files.filter((f) => !copied.has(f)) })).filter((e) => e.files.length > 0);
}

function hotFilesOnly(entry: ManifestEntry): ManifestEntry {
  return { ...entry, files: entry.files.filter((f) => HOT_TABLES.includes(f.table)), tables: {}, positions: {} };
}

function widest(a: Reach | null, b: Reach | null): Reach | null {
  if (a === null) return b;
  if (b === null) return a;
  return { throughSeq: Math.max(a.throughSeq, b.throughSeq), before: new Date(Math.max(a.before.getTime(), b.before.getTime())) };
}
