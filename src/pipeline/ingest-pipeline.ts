/**
 * decode results → parse → attribute → store, one source batch at a time. Every source (files, stdin,
 * Event Hubs, Log Analytics) goes through here, so what one learns about sessions serves all of them.
 * Input contract: results in source order; batches from different sources may interleave.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DeadLetter, DecodeResult } from '../contracts/log-record.js';
import { parseRecord } from '../parse/parse-record.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import { SessionTracker, type Attribution, type SessionState } from '../analyze/sessions/session-tracker.js';
import { decodeHandover, encodeSessionHandover } from '../analyze/sessions/session-handover.js';
import type { CommittedCheck, HandoverPart } from '../contracts/handover-part.js';
import type { InTransactionWriter, WrittenBatch } from '../detect/written-batch.js';
import type { AuditStore, BeforeCommit, CommitCounts, CommitOptions, CommitTarget } from '../store/audit-store.js';
import type { BatchRows } from '../store/batch-rows.js';
import { ReplayBases } from '../snapshot/replay-bases.js';
import { DerivedRows, type DerivingBatch } from './derived-rows.js';
import type { ChunkFile } from '../store/chunk-file.js';
import { analyzerReads, createPrivilegeAnalyzer, type HandedChange } from '../analyze/privileges/privilege-analyzer.js';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import { loadStatementParser } from '../analyze/privileges/statement-changes.js';
import { RequestJoiner } from '../analyze/control-plane/request-joiner.js';
import type { ControlPlaneEvent } from '../contracts/control-plane-event.js';
import { logTimeProblem } from '../decode/log-time.js';

/** Rows of a batch however gathered (data chunks, a worker's CSV text): what gathering writes to. */
type AnyBatchRows = BatchRows<unknown>;

/**
 * Decoded results gathered together into the open batch: the look-ahead for a session's lines. Small, so that
 * decoded records are garbage before V8's next scavenge instead of being copied by it (4,096: 20% slower).
 */
const RESULTS_PER_ADD = 1024;

export interface CommittedBatchCounts extends CommitCounts {
  /** Rows of earlier batches whose user this batch's session lines filled in. */
  lateAttributed: number;
  records: number;
  skipped: number;
  /** Skipped records by Azure category. */
  skippedCategories: Map<string, number>;
  /** Dead letters by the kind of their reason (`deadLetterKind`), for /metrics. */
  deadLetterReasons: Map<string, number>;
}

/**
 * A batch a worker thread gathered (`sealForFold`): the rows that depend on its range alone in a chunk file, and
 * what the analyses that carry state from range to range read, for the store's writer to run them at the fold.
 */
export interface ChunkBatch extends Omit<SealedBatch, 'batch' | 'written'> {
  chunk: ChunkFile;
  /** Sessions whose rows in the chunk lack their user or application (late attribution looks at them). */
  unattributed: BatchRows['unattributed'];
  /** In log order: the session lines, the entries the privilege analysis reads and those detection may keep. */
  forFold: ParsedEntry[];
  /** Activity Log events, not yet joined with their Start or outcome. */
  controlPlane: ControlPlaneEvent[];
}

export interface SealedBatch {
  batch: BatchRows;
  written: WrittenBatch;
  target: CommitTarget;
  records: number;
  skipped: number;
  skippedCategories: Map<string, number>;
  deadLetterReasons: Map<string, number>;
}

/**
 * A batch being gathered: the driver (drive-source.ts) pushes results as it decodes them and seals the batch where it cuts it.
 * Rows go into the store's chunks as they are gathered, so a large batch is not held as JS objects until its commit.
 */
export interface GatheringBatch<R extends AnyBatchRows = BatchRows> {
  readonly rows: R;
  /** Decoded, not yet gathered. */
  pending: DecodeResult[];
  /** Results pushed so far, gathered or pending: what the driver cuts transactions by. */
  results: number;
  /** The entries some observer keeps (`InTransactionWriter.keepsEntry`), with their attributions below. */
  readonly entries: ParsedEntry[];
  readonly attributions: Attribution[];
  readonly changes: PrivilegeChange[];
  /** Changes a hub's last leader handed over that this batch's lines took into effect (their rows are in its store). */
  readonly handed: HandedChange[];
  readonly sessions: Set<SessionState>;
  /** A worker thread's batch: what the store's writer analyses at the fold (`ChunkBatch.forFold`). */
  readonly forFold: ParsedEntry[];
  readonly controlPlane: ControlPlaneEvent[];
  records: number;
  skipped: number;
  readonly skippedCategories: Map<string, number>;
  readonly deadLetterReasons: Map<string, number>;
}

function pickDeriving(batch: BatchRows): DerivingBatch {
  const { unattributed, sessionKeys, serversWithChanges, changes, ineffective } = batch;
  return { unattributed, sessionKeys, serversWithChanges, changes, ineffective };
}

function addDeadLetter(open: GatheringBatch<AnyBatchRows>, dead: DeadLetter): void {
  open.rows.addDeadLetter(dead);
  const kind = deadLetterKind(dead.reason);
  open.deadLetterReasons.set(kind, (open.deadLetterReasons.get(kind) ?? 0) + 1);
}

/**
 * A reason's kind, few enough to be a metric label: the text before its first colon (reasons read
 * "event body is not valid JSON: <parser message>"), digits folded, at most 60 characters.
 */
export function deadLetterKind(reason: string): string {
  const head = reason.split(':', 1)[0]!.trim().toLowerCase().replace(/\d+/g, 'N');
  return head.length > 60 ? head.slice(0, 60) : head || 'unknown';
}

export class IngestPipeline {
  readonly sessions = new SessionTracker();
  private readonly privileges = createPrivilegeAnalyzer();
  /** Activity Log Start records wait here for their outcome (and outcomes for their Start). */
  private readonly requests = new RequestJoiner();
  /** Commits run one at a time, in the order their batches were prepared (one DuckDB connection, one transaction). */
  private commits: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: AuditStore,
    private readonly observers: readonly InTransactionWriter[],
    /** Off only to measure what the analysis costs (the bench). */
    private readonly analyzePrivileges: boolean,
    /**
     * A worker thread's pipeline: it leaves what carries state from range to range (the privilege analysis, the
     * Activity Log join, detection's attributions and the sessions table) to the store's writer, which folds the
     * ranges in file order, so that none of it depends on which worker read which range.
     */
    private readonly foldLater: boolean,
    private readonly derived: DerivedRows,
    /** The replay bases of this store: whoever stores a snapshot in it while this pipeline runs must tell them. */
    readonly replayBases: ReplayBases,
  ) {}

  static async create(store: AuditStore, opts: { observers?: InTransactionWriter[]; analyzePrivileges?: boolean; foldLater?: boolean } = {}): Promise<IngestPipeline> {
    const analyze = opts.analyzePrivileges ?? true;
    if (analyze && !opts.foldLater) await loadStatementParser();
    const bases = new ReplayBases();
    return new IngestPipeline(store, opts.observers ?? [], analyze, opts.foldLater ?? false, await DerivedRows.load(store.connection, bases), bases);
  }

  async processBatch(results: readonly DecodeResult[], target: CommitTarget): Promise<CommittedBatchCounts> {
    return this.commitBatch(this.prepareBatch(results, target));
  }

  /** One source batch gathered and sealed at once (a backfill window, a test's batch). */
  prepareBatch(results: readonly DecodeResult[], target: CommitTarget): SealedBatch {
    const open = this.openBatch();
    this.push(open, results);
    return this.seal(open, target);
  }

  openBatch(): GatheringBatch;
  /** A batch gathered into rows of another kind (a worker's CSV text). */
  openBatch<R extends AnyBatchRows>(rows: R): GatheringBatch<R>;
  openBatch(rows: AnyBatchRows = this.store.newBatch()): GatheringBatch<AnyBatchRows> {
    return {
      rows,
      pending: [],
      results: 0,
      entries: [],
      attributions: [],
      changes: [],
      handed: [],
      sessions: new Set(),
      forFold: [],
      controlPlane: [],
      records: 0,
      skipped: 0,
      skippedCategories: new Map(),
      deadLetterReasons: new Map(),
    };
  }

  /**
   * Results as the driver decodes them, in source order. The CPU half (parse, attribute, analyse, gather rows) is
   * synchronous, so the driver can prepare the next batch while DuckDB commits the one before.
   */
  push(open: GatheringBatch<AnyBatchRows>, results: Iterable<DecodeResult>): void {
    for (const result of results) {
      open.pending.push(result);
      open.results++;
      if (open.pending.length >= RESULTS_PER_ADD) this.gather(open);
    }
  }

  private gather(open: GatheringBatch<AnyBatchRows>): void {
    const { rows: batch, pending: results } = open;
    open.pending = [];
    const parsed: ParsedEntry[] = [];
    const controlPlane = open.controlPlane;

    for (const result of results) {
      switch (result.kind) {
        case 'record': {
          const { record } = result;
          const timeProblem = logTimeProblem(record.loggedAt);
          if (timeProblem) {
            batch.addDeadLetter({ source: record.source, position: record.position, reason: `record not stored: ${timeProblem}`, raw: record.message });
            break;
          }
          const outcome = parseRecord(record);
          parsed.push(outcome.entry);
          if (outcome.dead) addDeadLetter(open, outcome.dead);
          break;
        }
        case 'control-plane': {
          const { event } = result;
          const timeProblem = logTimeProblem(event.loggedAt);
          if (timeProblem) batch.addDeadLetter({ source: event.source, position: event.position, reason: `Activity Log record not stored: ${timeProblem}`, raw: event.operation });
          else controlPlane.push(event);
          break;
        }
        case 'dead':
          addDeadLetter(open, result.dead);
          break;
        case 'skipped':
          open.skipped++;
          open.skippedCategories.set(result.category, (open.skippedCategories.get(result.category) ?? 0) + 1);
          break;
        default:
          result satisfies never;
      }
    }

    // Sessions first: a connection line later in these results still attributes an audit line before it.
    // Lines of a session that come later are stored unattributed and filled in by the store at commit.
    for (const entry of parsed) if (entry.kind === 'session') this.sessions.observe(entry);

    for (const entry of parsed) {
      const { record } = entry;
      const who = this.sessions.attribute(record);
      if (!this.foldLater) this.analyse(open, entry, who);
      else if (this.readAtFold(entry)) open.forFold.push(entry);
      if (entry.kind === 'audit') batch.addAuditEvent(record, entry.audit, who);
      else batch.addLogRecord(record, entry.kind);
      if (entry.kind === 'auth-failure') batch.addAuthFailure(record, entry.failure, who);
    }
    open.records += parsed.length;
    // Taken now, not at seal: another source's batch may be sealed before this one and must not carry these.
    batch.markIneffective(this.privileges.ineffective());
    open.handed.push(...this.privileges.takenOver());
    for (const dead of this.privileges.deadLetters()) addDeadLetter(open, dead);
    for (const state of this.sessions.takeChanged()) open.sessions.add(state);
  }

  /** The privilege analysis of one entry and whether observers keep it, in log order (state moves from entry to entry). */
  private analyse(open: GatheringBatch<AnyBatchRows>, entry: ParsedEntry, who: Attribution): void {
    const changesBefore = open.changes.length;
    if (this.analyzePrivileges) for (const change of this.privileges.observe(entry, who)) open.changes.push(change);
    const changed = open.changes.length > changesBefore;
    if (this.observers.some((o) => o.keepsEntry?.(entry, changed) ?? true)) {
      open.entries.push(entry);
      open.attributions.push(who);
    }
  }

  /** What the store's writer reads of a worker's entry at the fold: whether the analysis might change privileges is known only there. */
  private readAtFold(entry: ParsedEntry): boolean {
    if (entry.kind === 'session') return true;
    const analysed = this.analyzePrivileges && analyzerReads(entry);
    return analysed || this.observers.some((o) => o.keepsEntry?.(entry, analysed) ?? true);
  }

  /** A worker thread's batch (`foldLater`): its rows, and what the store's writer analyses when it folds them in. */
  sealForFold<R extends AnyBatchRows>(open: GatheringBatch<R>): Omit<ChunkBatch, 'chunk' | 'target'> & { rows: R } {
    this.gather(open);
    const { rows, forFold, controlPlane, records, skipped, skippedCategories, deadLetterReasons } = open;
    return { rows, unattributed: rows.unattributed, forFold, controlPlane, records, skipped, skippedCategories, deadLetterReasons };
  }

  seal(open: GatheringBatch, target: CommitTarget): SealedBatch {
    this.gather(open);
    const { rows: batch, changes, entries, attributions } = open;
    // Entries gathered before their session's lines get who the batch knows now, as the store does at commit.
    for (let i = 0; i < entries.length; i++) if (attributions[i]!.userName === null) attributions[i] = this.sessions.attribute(entries[i]!.record);
    // Appended last: a rollback later in this batch has already flipped `effective` on these objects.
    for (const change of changes) batch.addPrivilegeChange(change, target.source, target.position);
    const sessions = [...open.sessions];
    batch.setSessions(sessions);

    const joined = this.requests.join(open.controlPlane);
    for (const event of joined.events) batch.addControlPlaneEvent(event);
    batch.completedControlPlane.push(...joined.completed);
    const controlPlaneEvents = [...joined.events, ...joined.completed];

    const written: WrittenBatch = {
      entries,
      attributions,
      privilegeChanges: changes,
      sessions,
      ineffective: batch.ineffective,
      ...(open.handed.length > 0 ? { handedIntoEffect: open.handed } : {}),
      controlPlaneEvents,
      source: target.source,
      position: target.position,
    };
    for (const observer of this.observers) observer.sealed?.(written);
    return { batch, written, target, records: open.records, skipped: open.skipped, skippedCategories: open.skippedCategories, deadLetterReasons: open.deadLetterReasons };
  }

  /**
   * What this pipeline knows, for the next leader of a hub (docs/fleet.md): its sessions, and the parts of the
   * analyzer and the observers (open transactions, the detection context). A number that moves with it, and the body.
   */
  readonly sessionHandover = {
    version: (): number => this.handoverParts().reduce((sum, part) => sum + part.version(), this.sessions.version()),
    /** What detection learnt in a transaction (alerts raised, evidence rows): the leader writes again before COMMIT when it moved. */
    inTransactionVersion: (): number => this.handoverParts().reduce((sum, part) => sum + (part.inTransactionVersion?.() ?? 0), 0),
    encode: (self = 'unnamed'): Uint8Array =>
      encodeSessionHandover(this.sessions.handOver(), Object.fromEntries(this.handoverParts().map((part) => [part.name, part.handOver(self)]))),
    /**
     * Takes the sessions (and the other parts) a previous leader knew. Those with rows in this store still waiting
     * for their user (stored when this instance led before) are upserted with the next batch, whose late attribution
     * fills them. Returns how many sessions were taken; throws on a body that is not a handover.
     */
    adopt: (body: Uint8Array, from: { self: string; committed: CommittedCheck } = { self: '', committed: () => true }): number => {
      const handed = decodeHandover(body);
      const taken = this.adoptSessions(handed.sessions).taken;
      for (const part of this.handoverParts()) {
        if (handed.parts[part.name] !== undefined) part.adopt(handed.parts[part.name], from.self, from.committed);
      }
      return taken;
    },
    /** Whether rows in this store wait for their user: a standby then reads the leader's handover. */
    waiting: (): boolean => this.derived.anyPending(),
    /**
     * A standby's turn: takes the leader's sessions and fills its own waiting rows now, in a transaction of its
     * own (no batch of the hub comes to carry them). Resolves to the rows filled.
     */
    fill: async (body: Uint8Array): Promise<number> => {
      // No transaction unless the handover brings the user of a session whose rows wait here.
      if (this.adoptSessions(decodeHandover(body).sessions).completing === 0) return 0;
      const counts = await this.processBatch([], { sourceKey: null, source: 'fleet:session-handover', position: '' });
      return counts.lateAttributed;
    },
  };

  private handoverParts(): HandoverPart[] {
    const parts: HandoverPart[] = [];
    if (this.analyzePrivileges) parts.push(this.privileges.handover);
    for (const observer of this.observers) if (observer.handover) parts.push(observer.handover);
    return parts;
  }

  private adoptSessions(sessions: SessionState[]): { taken: number; completing: number } {
    const keys = this.sessions.adopt(sessions);
    const waiting = this.derived.pendingAmong(keys).filter((k) => this.sessions.knowsUser(k));
    this.sessions.markChanged(waiting);
    return { taken: keys.length, completing: waiting.length };
  }

  /**
   * A stream's last committed position, read in turn with the commits: a source asking while a batch commits
   * must not run a statement on the writer's connection in the middle of that transaction.
   */
  readPosition(sourceKey: string): Promise<string | null> {
    return this.exclusive(() => this.store.readPosition(sourceKey));
  }

  /** Resolves when every commit and exclusive write asked for so far has finished. */
  drain(): Promise<unknown> {
    return this.commits;
  }

  /** Runs other writes to the store (scheduled rules) in turn with the batches, so they never conflict. */
  exclusive<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
    const run = () => work(this.store.connection);
    const result = this.commits.then(run, run);
    this.commits = result.catch(() => undefined);
    return result;
  }

  /**
   * The I/O half: the batch's rows, what observers add, and its position, in one transaction.
   * `alsoInTransaction` writes more with them (the pipeline's own alerts).
   */
  commitBatch(prepared: SealedBatch, alsoInTransaction?: (connection: DuckDBConnection) => Promise<void>): Promise<CommittedBatchCounts> {
    const { batch, target } = prepared;
    return this.commitWith(prepared, batch, (beforeCommit, opts) => this.store.commit(batch, target, beforeCommit, opts), alsoInTransaction);
  }

  /**
   * A batch a worker thread gathered into a chunk file (pipeline/parallel/), committed as `commitBatch` does. Its
   * session lines, privilege analysis, Activity Log join and what detection reads are done here, where the ranges
   * come in file order: a worker knows only the ranges it read, and which those were depends on timing. Call in fold order.
   */
  commitChunk(prepared: ChunkBatch): Promise<CommittedBatchCounts> {
    const open = this.openBatch();
    // As `gather` does: the range's session lines first, then each entry with who is known of its session now.
    for (const entry of prepared.forFold) if (entry.kind === 'session') this.sessions.observe(entry);
    for (const entry of prepared.forFold) this.analyse(open, entry, this.sessions.attribute(entry.record));
    open.controlPlane.push(...prepared.controlPlane);
    // These rows (sessions, privilege changes and their dead letters, Activity Log) go in with the chunk's.
    const sealed = this.seal(open, prepared.target);
    const { batch } = sealed;
    const deadLetterReasons = new Map(prepared.deadLetterReasons);
    for (const [kind, n] of sealed.deadLetterReasons) deadLetterReasons.set(kind, (deadLetterReasons.get(kind) ?? 0) + n);
    const deriving: DerivingBatch = { ...pickDeriving(batch), unattributed: prepared.unattributed };
    return this.commitWith(
      { ...prepared, written: sealed.written, deadLetterReasons },
      deriving,
      (beforeCommit, opts) => this.store.commitChunk(prepared.chunk, batch, prepared.target, beforeCommit, opts),
    );
  }

  private commitWith(
    prepared: Omit<SealedBatch, 'batch'>,
    deriving: DerivingBatch,
    store: (beforeCommit: BeforeCommit, opts: CommitOptions) => Promise<CommitCounts>,
    alsoInTransaction?: (connection: DuckDBConnection) => Promise<void>,
  ): Promise<CommittedBatchCounts> {
    const { written, records, skipped, skippedCategories, deadLetterReasons } = prepared;
    const work = async (): Promise<CommittedBatchCounts> => {
      // Taken before the transaction begins: what it reads of the snapshots is as of then.
      const derive = this.derived.forBatch(deriving, prepared.target);
      let lateAttributed = 0;
      try {
        const counts = await store(
          async (connection, merged) => {
            const late = await derive(connection);
            lateAttributed = late.rows;
            const batch: WrittenBatch = { ...written, ...(merged === null ? {} : { mergedSessions: merged }), ...(late.filledChanges.length > 0 ? { actorsFilled: late.filledChanges } : {}) };
            for (const observer of this.observers) await observer.inTransaction(connection, batch);
            if (alsoInTransaction) await alsoInTransaction(connection);
          },
          { mergedSessions: this.observers.some((o) => o.readsMergedSessions === true) },
        );
        return { ...counts, lateAttributed, records, skipped, skippedCategories, deadLetterReasons };
      } catch (error) {
        this.derived.forget();
        for (const observer of this.observers) observer.rolledBack?.();
        throw error;
      }
    };
    const result = this.commits.then(work, work);
    this.commits = result.catch(() => undefined);
    return result;
  }
}
