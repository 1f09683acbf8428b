/**
 * `run` with a lake: its query API and dashboards read the rows hot retention dropped from the lake, as
 * plain `auditduck query` does, so the same SQL answers the same whether `run` is up or not. Each reading
 * connection gets the temporary views of lake/hot-and-lake-views.ts (one definition for every reader):
 *
 * - at the start, over the files of what earlier passes dropped (not awaited: a slow lake never holds up the
 *   start; each connection's reads wait for it, and a failure is logged and mended by the next pass);
 * - before each retention pass drops rows, over the files of every segment it may drop rows of: the views then
 *   list every file whose rows the pass may drop, and read them only once the pass's horizon is committed. The
 *   manifest is read whole once; after that, each pass adds the segments it verified (those published since).
 *
 * A directory lake is read where it is; a Blob lake's files with dropped rows are mirrored beside the store
 * (`<store>.lake-mirror/`), once each, since DuckDB cannot read Blob here.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { addEntry, droppedRowFiles, emptySummary, filesLocally, HOT_TABLES, summarize, type ManifestSummary, horizonsReach, openLakeStorage, parseLakeLocation, shadowWithLakeRows, verifyLake, type HotHorizon, type ManifestEntry, type ManifestFile } from '../lake/index.js';
import type { ReadOnlySession } from '../query/read-only-session.js';

export interface LakeReadThrough {
  /** The folder the confined store must let its readers read. */
  readonly dir: string;
  /** A session whose connection reads through; reads queued on it after this wait for the views. */
  attach(session: ReadOnlySession): void;
  /** hot-retention's `beforeDrop`: lists the files of the verified segments before the pass drops their rows. */
  beforeDrop(verified: readonly ManifestEntry[], upTo: Reach): Promise<void>;
}

export function mirrorDirOf(dbPath: string): string {
  return `${dbPath}.lake-mirror`;
}

type Reach = { throughSeq: number; before: Date };

/** The files with dropped rows, and the manifest's fold through them. */
type Listed = { files: ManifestFile[]; summary: ManifestSummary };

/** `readHorizons` reads the store's hot_horizons (on the writer, between commits). */
export async function openLakeReadThrough(lakeText: string, dbPath: string, readHorizons: () => Promise<HotHorizon[]>, log: Logger): Promise<LakeReadThrough> {
  const lake = await openLakeStorage(parseLakeLocation(lakeText));
  const mirror = mirrorDirOf(dbPath);
  const { dir } = await filesLocally(lake, [], mirror);
  if (dir === mirror) await mkdir(mirror, { recursive: true });
  const sessions: ReadOnlySession[] = [];

  // The segments read so far, with their files of the tables retention thins (the rest is not needed here): read
  // whole once, then grown by what each pass verified. A pass reads only the segments published since the last.
  // The manifest's fold goes with them: it says whether a table's files differ in their columns.
  let known: ManifestEntry[] | null = null;
  let summary = emptySummary();
  const segmentsThrough = async (verified: readonly ManifestEntry[]): Promise<ManifestEntry[]> => {
    const last = known?.at(-1)?.seq ?? 0;
    const fresh = verified.filter((e) => e.seq > last);
    const follows = fresh.length === 0 ? known !== null : fresh[0]!.seq === last + 1;
    if (follows) {
      for (const entry of fresh) addEntry(summary, entry);
      (known ??= []).push(...fresh.map(hotFilesOnly));
    } else {
      const { entries } = await verifyLake(lake, { checksumsFrom: Number.POSITIVE_INFINITY });
      summary = summarize(entries);
      known = entries.map(hotFilesOnly);
    }
    return known;
  };

  /** The files with rows dropped so far (and by the pass about to drop), present in `dir`. */
  const listFiles = async (verified: readonly ManifestEntry[], upcoming: Reach | null): Promise<Listed> => {
    const reach = widest(horizonsReach(await readHorizons()), upcoming);
    if (reach === null) return { files: [], summary };
    const files = droppedRowFiles(await segmentsThrough(verified), reach);
    await filesLocally(lake, files, dir === mirror ? mirror : undefined);
    log.debug({ files: files.length, throughSeq: reach.throughSeq, before: reach.before.toISOString() }, 'reading the rows hot retention dropped from the lake');
    return { files, summary };
  };
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
      void session.between(async (c) => {
        const { files, summary: fold } = await pending;
        return shadowWithLakeRows(c, dir, files, fold);
      }).catch(explain);
    },
    async beforeDrop(verified, upTo) {
      await listed.catch(() => undefined); // what it read is known before more is added
      listed = listFiles(verified, upTo);
      const { files, summary: fold } = await listed;
      // Every reader lists them before the pass commits; a failure here keeps the rows in the store.
      for (const session of sessions) await session.between((c) => shadowWithLakeRows(c, dir, files, fold));
    },
  };
}

function hotFilesOnly(entry: ManifestEntry): ManifestEntry {
  return { ...entry, files: entry.files.filter((f) => HOT_TABLES.includes(f.table)), tables: {}, positions: {} };
}

function widest(a: Reach | null, b: Reach | null): Reach | null {
  if (a === null) return b;
  if (b === null) return a;
  return { throughSeq: Math.max(a.throughSeq, b.throughSeq), before: new Date(Math.max(a.before.getTime(), b.before.getTime())) };
}
