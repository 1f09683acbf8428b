/**
 * `retention.hotDays`: the store keeps the last N days (UTC) of the events tables; older rows are deleted
 * once they are in the lake, verified. Only rows a verified segment covers go (the first rows of each table,
 * up to the segment's end), so a row not yet exported is never lost. privilege_changes stay whole: the role replay
 * (`roles`, `roles --at`) and drift are rebuilt from them and they are few. State tables stay.
 *
 * Segments count rows in rowid order (stage-segment.ts): the rows deleted are taken off the counts of the
 * segments from the verified one on, in the delete's transaction, so the next segment still starts after the
 * last row the lake holds, however DuckDB renumbers rowids when it compacts (at the checkpoint, or when the
 * store is next opened).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { Exclusive } from './lake-exporter.js';
import type { LakeStorage } from './lake-storage.js';
import type { ManifestEntry } from './manifest.js';
import { LAKE_TABLES, type LakeTableName } from './lake-tables.js';
import { verifySegmentsAfter, type VerifiedSegment } from './verify-lake.js';
import { countRows, rowidOfRow, type SegmentRanges } from './stage-segment.js';

/** Tables retention may thin out, with their time column. */
export const HOT_TABLES: readonly LakeTableName[] = ['log_lines', 'audit_events', 'auth_failures', 'control_plane_events', 'dead_letters'];

/** The first instant kept: midnight UTC `hotDays - 1` days before `now` (hotDays = 1 keeps today). */
export function hotCutoff(hotDays: number, now: Date): Date {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(midnight - (hotDays - 1) * 86_400_000);
}

/**
 * Deletes rows older than the cutoff that verified segments (up to `verifiedThrough`) hold. Runs on the
 * writer; does nothing while a segment is staged but not published.
 */
export async function dropExportedHotRows(c: DuckDBConnection, cutoff: Date, verifiedThrough: number): Promise<Partial<Record<LakeTableName, number>>> {
  const last = (await c.runAndReadAll(`SELECT seq FROM lake_segments WHERE state = 'published' AND seq <= ${Math.floor(verifiedThrough)} ORDER BY seq DESC LIMIT 1`)).getRows();
  if (last.length === 0) return {};
  const verifiedSeq = Number(last[0]![0]);
  const dropped: Partial<Record<LakeTableName, number>> = {};
  await c.run('BEGIN TRANSACTION');
  try {
    // This segment and those after it: their counts go down by the rows deleted, all of which come before their ends.
    const segments = (await c.runAndReadAll(`SELECT seq, ranges::VARCHAR FROM lake_segments WHERE seq >= ${verifiedSeq} ORDER BY seq`)).getRows()
      .map(([seq, ranges]) => ({ seq: Number(seq), ranges: JSON.parse(String(ranges)) as SegmentRanges }));
    for (const segment of segments) await countRows(c, segment.ranges);
    const verified = segments[0]!.ranges;
    for (const name of HOT_TABLES) {
      const spec = LAKE_TABLES[name];
      const end = verified.events[name]?.[1];
      if (spec.kind !== 'events' || end === undefined) continue;
      const lastRowid = await rowidOfRow(c, name, end, verified.lastRowids?.[name]);
      const result = await c.run(`DELETE FROM ${name} WHERE ${spec.time} < '${cutoff.toISOString()}'::TIMESTAMPTZ AND rowid <= ${lastRowid}`);
      dropped[name] = Number(result.rowsChanged);
    }
    if (Object.values(dropped).some((n) => n > 0)) {
      for (const segment of segments) await recordRanges(c, segment.seq, lessRows(segment.ranges, dropped));
      await recordHorizon(c, cutoff, verifiedSeq);
    }
    await c.run('COMMIT');
  } catch (error) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw error;
  }
  return dropped;
}

/** The ranges with `dropped` rows fewer before their ends (a range's start is never before the rows dropped, but the verified segment's own). */
function lessRows(ranges: SegmentRanges, dropped: Partial<Record<LakeTableName, number>>): SegmentRanges {
  const events = { ...ranges.events };
  for (const [name, n] of Object.entries(dropped) as [LakeTableName, number][]) {
    const range = events[name];
    if (range) events[name] = [Math.max(0, range[0] - n), range[1] - n];
  }
  return { ...ranges, events };
}

async function recordRanges(c: DuckDBConnection, seq: number, ranges: SegmentRanges): Promise<void> {
  const update = await c.prepare('UPDATE lake_segments SET ranges = $1 WHERE seq = $2');
  update.bindVarchar(1, JSON.stringify(ranges));
  update.bindInteger(2, seq);
  await update.run();
}

/**
 * What this pass dropped: rows of segments up to `throughSeq` older than `cutoff` (the rows still in the
 * store then are exactly those). A query reads them back from the lake (hot-and-lake-views.ts). A pass
 * that covers an earlier one (no older cutoff, no lower segment) replaces it.
 */
async function recordHorizon(c: DuckDBConnection, cutoff: Date, throughSeq: number): Promise<void> {
  const before = `'${cutoff.toISOString()}'::TIMESTAMPTZ`;
  await c.run(`DELETE FROM hot_horizons WHERE before <= ${before} AND through_seq <= ${Math.floor(throughSeq)}`);
  await c.run(`INSERT INTO hot_horizons VALUES (${before}, ${Math.floor(throughSeq)})`);
}

export interface HotRetentionOptions {
  lake: LakeStorage;
  exclusive: Exclusive;
  hotDays: number;
  log: Logger;
  now?: () => Date;
  /**
   * Told, before a pass drops anything, the segments it verified (those published since the last pass) and what
   * it may drop: rows older than `before` of segments up to `throughSeq`, theirs and earlier verified segments'.
   * `run` makes its readers' views reach those rows here, so no read misses one once they are gone; a failure
   * keeps every row in the store.
   */
  beforeDrop?: (verified: readonly ManifestEntry[], upTo: { throughSeq: number; before: Date }) => Promise<void>;
}

/**
 * Retention as `run` applies it after an export that caught up: the segments published since the last pass
 * (since the store's last horizon, after a restart) are verified (their entries, the chain from the last one
 * verified, their files' checksums), then the old rows go. A pass reads those segments only, so its cost does not
 * grow with the lake's age; the whole lake is `auditduck lake verify`'s. A segment that fails verification keeps
 * its rows and every later one's in the store, and the pass says why.
 */
export function hotRetention(opts: HotRetentionOptions): () => Promise<Partial<Record<LakeTableName, number>>> {
  let lastVerified: VerifiedSegment | null = null;
  return async () => {
    const { after, published } = await opts.exclusive((c) => segmentsToVerify(c, lastVerified));
    const { verified, problems } = await verifySegmentsAfter(opts.lake, after, published);
    lastVerified = verified.length > 0 ? { seq: verified.at(-1)!.seq, hash: verified.at(-1)!.hash } : after;
    if (problems.length > 0) {
      opts.log.error({ problems: problems.slice(0, 10) }, 'lake verification failed: hot retention keeps the rows of this segment and every later one in the store until the lake is intact (auditduck lake verify)');
    }
    if (lastVerified === null) return {};
    const verifiedThrough = lastVerified.seq;
    const cutoff = hotCutoff(opts.hotDays, (opts.now ?? (() => new Date()))());
    await opts.beforeDrop?.(verified, { throughSeq: verifiedThrough, before: cutoff });
    const dropped = await opts.exclusive(async (c) => {
      const rows = await dropExportedHotRows(c, cutoff, verifiedThrough);
      if (Object.values(rows).some((n) => n > 0)) await c.run('CHECKPOINT').catch(() => c.run('FORCE CHECKPOINT'));
      return rows;
    });
    if (Object.values(dropped).some((n) => n > 0)) opts.log.info({ dropped, before: cutoff.toISOString() }, 'hot retention: rows verified in the lake dropped from the store');
    return dropped;
  };
}

/**
 * Where a pass's verification starts, and the segments the store published after it (seq → entry hash). Without a
 * pass before in this process: the segment of the store's last horizon, which a pass verified before it dropped rows.
 */
async function segmentsToVerify(c: DuckDBConnection, last: VerifiedSegment | null): Promise<{ after: VerifiedSegment | null; published: Map<number, string> }> {
  const after =
    last ??
    (await c.runAndReadAll(`SELECT seq, entry_hash FROM lake_segments WHERE state = 'published' AND seq = (SELECT max(through_seq) FROM hot_horizons)`))
      .getRows()
      .map(([seq, hash]) => ({ seq: Number(seq), hash: String(hash) }))[0] ??
    null;
  const rows = (await c.runAndReadAll(`SELECT seq, entry_hash FROM lake_segments WHERE state = 'published' AND seq > ${after?.seq ?? 0} ORDER BY seq`)).getRows();
  return { after, published: new Map(rows.map(([seq, hash]) => [Number(seq), String(hash)])) };
}
