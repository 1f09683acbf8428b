/**
 * decode results → parse → attribute → store, one source batch at a time. Every source (files, stdin,
 * Event Hubs, Log Analytics) goes through here, so what one learns about sessions serves all of them.
 * Input contract: results in source order; batches from different sources may interleave.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DecodeResult } from '../decode/log-record.js';
import { parseRecord } from '../parse/parse-record.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import { SessionTracker, type Attribution } from '../analyze/sessions/session-tracker.js';
import type { BatchObserver, CommittedBatch } from './committed-batch.js';
import type { AuditStore, CommitCounts, CommitTarget } from '../store/audit-store.js';
import type { StoreBatch } from '../store/store-batch.js';
import { createPrivilegeAnalyzer } from '../analyze/privileges/privilege-analyzer.js';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import { loadStatementParser } from '../analyze/privileges/statement-changes.js';
import { RequestJoiner } from '../analyze/control-plane/request-joiner.js';
import type { ControlPlaneEvent } from '../decode/control-plane-event.js';

export interface BatchSummary extends CommitCounts {
  records: number;
  skipped: number;
  /** Skipped records by Azure category. */
  skippedCategories: Map<string, number>;
}

export interface PreparedBatch {
  batch: StoreBatch;
  committed: CommittedBatch;
  target: CommitTarget;
  skipped: number;
  skippedCategories: Map<string, number>;
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
    private readonly observers: readonly BatchObserver[],
    /** Off only to measure what the analysis costs (the bench). */
    private readonly analyzePrivileges: boolean,
  ) {}

  static async create(store: AuditStore, opts: { observers?: BatchObserver[]; analyzePrivileges?: boolean } = {}): Promise<IngestPipeline> {
    const analyze = opts.analyzePrivileges ?? true;
    if (analyze) await loadStatementParser();
    return new IngestPipeline(store, opts.observers ?? [], analyze);
  }

  async processBatch(results: readonly DecodeResult[], target: CommitTarget): Promise<BatchSummary> {
    return this.commitBatch(this.prepareBatch(results, target));
  }

  /**
   * The CPU half: parse, attribute, analyse, gather columns. Synchronous, so a caller can prepare the
   * next batch while DuckDB commits the previous one. Batches must be committed in the order prepared.
   */
  prepareBatch(results: readonly DecodeResult[], target: CommitTarget): PreparedBatch {
    const batch = this.store.newBatch();
    const parsed: ParsedEntry[] = [];
    const controlPlane: ControlPlaneEvent[] = [];
    const skippedCategories = new Map<string, number>();
    let skipped = 0;

    for (const result of results) {
      switch (result.kind) {
        case 'record': {
          const outcome = parseRecord(result.record);
          parsed.push(outcome.entry);
          if (outcome.dead) batch.addDeadLetter(outcome.dead);
          break;
        }
        case 'control-plane':
          controlPlane.push(result.event);
          break;
        case 'dead':
          batch.addDeadLetter(result.dead);
          break;
        case 'skipped':
          skipped++;
          skippedCategories.set(result.category, (skippedCategories.get(result.category) ?? 0) + 1);
          break;
        default:
          result satisfies never;
      }
    }

    // Sessions first: a connection line later in the batch still attributes an audit line before it.
    for (const entry of parsed) if (entry.kind === 'session') this.sessions.observe(entry);

    const changes: PrivilegeChange[] = [];
    const attributions: Attribution[] = [];
    for (const entry of parsed) {
      const { record } = entry;
      const who = this.sessions.attribute(record);
      attributions.push(who);
      if (entry.kind === 'audit') batch.addAuditEvent(record, entry.audit, who);
      else batch.addLogRecord(record, entry.kind);
      if (entry.kind === 'auth-failure') batch.addAuthFailure(record, entry.failure, who);
      if (this.analyzePrivileges) for (const change of this.privileges.observe(entry, who)) changes.push(change);
    }
    // Appended last: a rollback later in this batch has already flipped `effective` on these objects.
    for (const change of changes) batch.addPrivilegeChange(change, target.source, target.position);
    const ineffective = this.privileges.ineffective();
    batch.markIneffective(ineffective);
    for (const dead of this.privileges.deadLetters()) batch.addDeadLetter(dead);
    const sessions = this.sessions.takeChanged();
    batch.setSessions(sessions);

    const joined = this.requests.join(controlPlane);
    for (const event of joined.events) batch.addControlPlaneEvent(event);
    batch.completedControlPlane.push(...joined.completed);
    const controlPlaneEvents = [...joined.events, ...joined.completed];

    const committed: CommittedBatch = { entries: parsed, attributions, privilegeChanges: changes, sessions, ineffective, controlPlaneEvents, source: target.source };
    return { batch, committed, target, skipped, skippedCategories };
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

  /** The I/O half: the batch's rows, what observers add, and its position, in one transaction. */
  commitBatch(prepared: PreparedBatch): Promise<BatchSummary> {
    const { batch, committed, target, skipped, skippedCategories } = prepared;
    const work = async (): Promise<BatchSummary> => {
      const counts = await this.store.commit(batch, target, async (connection) => {
        for (const observer of this.observers) await observer.inTransaction(connection, committed);
      });
      return { ...counts, records: committed.entries.length, skipped, skippedCategories };
    };
    const result = this.commits.then(work, work);
    this.commits = result.catch(() => undefined);
    return result;
  }
}
