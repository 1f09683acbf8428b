/**
 * The continuous export of `run`: every `intervalMs` (and when stopping), the rows committed since the last
 * segment, as a snapshot taken between two batch commits, are staged beside the ingestion, then published to the
 * lake.
 * The lake being unreachable never holds up ingestion: staged segments wait in the store and the staging
 * folder, and go out in order once it answers again. Lag and failures are in `status()` for /metrics and
 * /readyz.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { LakeStorage } from './lake-storage.js';
import { onOneThread } from '../store/on-one-thread.js';
import { publishSegment } from './publish-segment.js';
import { writeCheckpoint } from './manifest-checkpoints.js';
import type { ManifestEntry } from './manifest.js';
import { CHECKPOINT_EVERY } from './manifest-summary.js';
import { lastPublishedHash, markPublished, removeUnrecordedStaging, stagedSegments, stageSegment } from './stage-segment.js';

/**
 * The most connections a segment's files are written on at once. Each COPY holds a row group of its file in memory,
 * and a segment has few large files (one a server, day and table): past four, more connections add memory more
 * than speed.
 */
const STAGING_CONNECTIONS = 4;

export type Exclusive = <T>(work: (connection: DuckDBConnection) => Promise<T>) => Promise<T>;

export interface LakeStatus {
  lake: string;
  /** Seconds since the oldest commit not yet in the lake; 0 when the lake has everything committed. */
  lagSeconds: number;
  pendingSegments: number;
  publishedSegments: number;
  consecutiveFailures: number;
  failingSince: string | null;
  lastError: string | null;
  lastPublishedAt: string | null;
}

export interface LakeExportOptions {
  lake: LakeStorage;
  stagingDir: string;
  /** Runs work on the store's writer between batch commits. */
  exclusive: Exclusive;
  /**
   * Opens another connection to the store's database: segments are then written on it, beside the ingestion,
   * and the writer is held only while the cut is read. Without it, staging runs on the writer.
   */
  connect?: () => Promise<DuckDBConnection>;
  intervalMs: number;
  log: Logger;
  /** Told after each segment is in the lake (counts for /metrics). */
  onPublished?: (rows: number, bytes: number) => void;
  onFailure?: (error: Error) => void;
  /** Told after each export that left nothing pending (hot retention hooks in here). */
  onCaughtUp?: () => Promise<void>;
  /** A manifest checkpoint after every this many segments (default CHECKPOINT_EVERY; tests take fewer). */
  checkpointEvery?: number;
}

export class LakeExporter {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** When the oldest commit not yet in the lake was told (null when none is waiting). */
  private pendingSince: number | null = null;
  private commitsTold = 0;
  /** The manifest checkpoint being written, if one is. */
  private checkpointing: Promise<void> | null = null;
  /** The connections segments are staged on, opened as first needed: the first, then its helpers. */
  private stageConnections: Promise<DuckDBConnection>[] = [];
  private readonly state: Omit<LakeStatus, 'lagSeconds'>;

  private constructor(private readonly opts: LakeExportOptions) {
    this.state = { lake: opts.lake.description, pendingSegments: 0, publishedSegments: 0, consecutiveFailures: 0, failingSince: null, lastError: null, lastPublishedAt: null };
  }

  /** Clears what a killed stage left in the staging folder, then exports every `intervalMs`. */
  static async start(opts: LakeExportOptions): Promise<LakeExporter> {
    await mkdir(opts.stagingDir, { recursive: true });
    const exporter = new LakeExporter(opts);
    const removed = await opts.exclusive((c) => removeUnrecordedStaging(c, opts.stagingDir));
    if (removed.length > 0) opts.log.info({ segments: removed }, 'lake: removed files of segments staged but never recorded (the process stopped mid-stage); their rows go into the next segment');
    // Rows committed before this start (an ingest, a run killed before its export) are waiting too.
    exporter.pendingSince = Date.now();
    exporter.timer = setInterval(() => void exporter.exportNow(), opts.intervalMs);
    exporter.timer.unref();
    // What an earlier run left staged or unexported goes out now, not an interval later.
    void exporter.exportNow();
    return exporter;
  }

  /** Called after each batch commit: the lag is counted from the first commit not yet exported. */
  committed(): void {
    this.commitsTold++;
    this.pendingSince ??= Date.now();
  }

  /** Stages what was committed and publishes every staged segment; one export at a time. */
  exportNow(): Promise<void> {
    this.running ??= this.exportOnce().finally(() => (this.running = null));
    return this.running;
  }

  status(now = Date.now()): LakeStatus {
    return { ...this.state, lagSeconds: this.pendingSince === null ? 0 : Math.max(0, (now - this.pendingSince) / 1000) };
  }

  /** Stops exporting without a last export (a start that failed). */
  cancel(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    void Promise.resolve(this.running).finally(() => this.closeStageConnections());
  }

  /** Stops the timer and tries one last export (what fails stays staged for the next start). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.exportNow();
    await this.closeStageConnections();
  }

  /**
   * Stops after the export that `start` began, for a one-off command whose store nothing else writes: a last export
   * only if that one failed (a second try), where `stop`'s last export would cut again to find nothing new; and the
   * checkpoint it began, if any. (`stop` does not wait for one: a checkpoint left unwritten costs readers time, and
   * the next is folded from the one before.)
   */
  async finish(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    if (this.state.lastError !== null) await this.exportNow();
    await this.checkpointing;
    await this.closeStageConnections();
  }

  /**
   * Stages the next segment: on connections of their own when it can open them, holding the writer only while
   * their snapshot is taken; on one DuckDB thread either way (store/on-one-thread.ts). The files are written on as many connections as
   * the instance had threads (at most STAGING_CONNECTIONS), each statement on its own calling thread; on one where
   * its configuration is locked (`run`), whose statements keep every thread.
   */
  private async stage(): Promise<void> {
    const { connect, exclusive, stagingDir } = this.opts;
    if (!connect) {
      await exclusive((c) => onOneThread(c, () => stageSegment(c, stagingDir)));
      return;
    }
    const c = await this.stageConnection(0);
    await onOneThread(c, async (sideBySide) => {
      const helpers: DuckDBConnection[] = [];
      for (let i = 1; i < Math.min(sideBySide, STAGING_CONNECTIONS); i++) helpers.push(await this.stageConnection(i));
      return stageSegment(c, stagingDir, { hold: (take) => exclusive(() => take()), helpers });
    });
  }

  /**
   * The manifest's checkpoint through `entry`, when it is one of every CHECKPOINT_EVERY, written beside the exports:
   * the first in a lake an older version wrote reads every entry, which must not hold up the export. A checkpoint
   * missing costs readers time, not rows: they start from the one before.
   */
  private checkpointAfter(entry: ManifestEntry): void {
    const { lake, log } = this.opts;
    if (entry.seq % (this.opts.checkpointEvery ?? CHECKPOINT_EVERY) !== 0 || this.checkpointing !== null) return;
    this.checkpointing = writeCheckpoint(lake, entry)
      .catch((error: unknown) => log.warn({ err: error, lake: lake.description, segment: entry.segment }, 'lake manifest checkpoint not written; readers read the entries since the one before'))
      .finally(() => (this.checkpointing = null));
  }

  private async stageConnection(i: number): Promise<DuckDBConnection> {
    this.stageConnections[i] ??= this.opts.connect!().then(async (c) => {
      // Days are cut in UTC: connections are per-session on the time zone, unless `run` set it globally.
      const zone = String((await c.runAndReadAll(`SELECT current_setting('TimeZone')`)).getRows()[0]![0]);
      if (zone !== 'UTC' && zone !== 'Etc/UTC') await c.run(`SET TimeZone = 'UTC'`);
      return c;
    });
    return this.stageConnections[i].catch((error: unknown) => {
      this.stageConnections.length = i;
      throw error;
    });
  }

  private async closeStageConnections(): Promise<void> {
    const opening = this.stageConnections;
    this.stageConnections = [];
    for (const c of await Promise.all(opening.map((p) => p.catch(() => null)))) c?.closeSync();
  }

  private async exportOnce(): Promise<void> {
    const { lake, stagingDir, exclusive, log } = this.opts;
    const told = this.commitsTold;
    const startedAt = Date.now();
    try {
      await this.stage();
      const staged = await exclusive((c) => stagedSegments(c));
      this.state.pendingSegments = staged.length;
      for (const segment of staged) {
        const previous = await exclusive((c) => lastPublishedHash(c, segment.seq));
        if (previous === null && segment.seq > 1) throw new Error(`lake segment ${segment.seq - 1} is not published yet, so ${segment.segment} cannot chain to it`);
        const entry = await publishSegment(lake, stagingDir, segment, previous);
        await exclusive((c) => markPublished(c, segment.seq, entry.hash));
        await rm(join(stagingDir, segment.segment), { recursive: true, force: true });
        this.state.pendingSegments--;
        this.state.publishedSegments++;
        this.state.lastPublishedAt = new Date().toISOString();
        const rows = entry.files.reduce((n, f) => n + f.rows, 0);
        this.opts.onPublished?.(rows, entry.files.reduce((n, f) => n + f.bytes, 0));
        log.debug({ segment: entry.segment, files: entry.files.length, rows }, 'lake segment published');
        this.checkpointAfter(entry);
      }
      this.state.consecutiveFailures = 0;
      this.state.failingSince = null;
      this.state.lastError = null;
      // Commits told while this export ran may be in it or not: count the lag from its start to be safe.
      this.pendingSince = this.commitsTold === told ? null : startedAt;
      if (this.opts.onCaughtUp) await this.opts.onCaughtUp();
    } catch (error) {
      this.state.consecutiveFailures++;
      this.state.failingSince ??= new Date().toISOString();
      this.state.lastError = (error as Error).message;
      this.opts.onFailure?.(error as Error);
      log.warn({ err: error, lake: lake.description, failures: this.state.consecutiveFailures }, 'lake export failed; ingestion goes on and the export catches up');
    }
  }
}
