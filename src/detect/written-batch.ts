import type { DuckDBConnection } from '@duckdb/node-api';
import type { HandoverPart } from '../contracts/handover-part.js';
import type { HandedChange, IneffectiveMark } from '../analyze/privileges/privilege-analyzer.js';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import type { Attribution, SessionState } from '../analyze/sessions/session-tracker.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import type { ControlPlaneEvent } from '../contracts/control-plane-event.js';
import type { MergedSession } from '../store/audit-store.js';
import type { ChangeKey } from '../store/late-attribution.js';

/**
 * Detection's input: what one batch brought, handed over after its rows are written into the batch's open
 * transaction and before COMMIT (so not yet committed: what detection writes commits or rolls back with it).
 * Text is redacted; `rawStatement` fields of entries are unredacted and must not be stored or logged.
 */
export interface WrittenBatch {
  /** The entries some observer keeps (`keepsEntry`), in log order; `attributions` are theirs. */
  entries: readonly ParsedEntry[];
  /** Who entries[i] is attributed to when the batch was built (null fields: not known yet). */
  attributions: readonly Attribution[];
  privilegeChanges: readonly PrivilegeChange[];
  /** Sessions this batch changed, merged with what was known before. */
  sessions: readonly SessionState[];
  /** Changes of earlier batches turned ineffective by this one (or effective again: `effective` true). */
  ineffective: readonly IneffectiveMark[];
  /**
   * Changes a hub's last leader stored ineffective and handed over, that this batch's lines took into effect (a COMMIT
   * read after the takeover): their rows are in that leader's store, not in this one. Absent when none.
   */
  handedIntoEffect?: readonly HandedChange[];
  /**
   * Azure Activity Log events of this batch (outcomes filled from their Start where known), then outcomes of
   * earlier batches completed by a Start in this one (`completedLate`).
   */
  controlPlaneEvents: readonly ControlPlaneEvent[];
  source: string;
  /** The batch's position in its source (Event Hubs: its last sequence number). */
  position: string;
  /**
   * In the transaction, for a writer that `readsMergedSessions`: the batch's sessions as `sessions` now holds them
   * (the store merges what it knew with what the batch brings). Absent when the batch came another way.
   */
  mergedSessions?: readonly MergedSession[];
  /**
   * In the transaction: privilege changes of earlier batches whose actor late attribution filled in by this one
   * (their session's login came after them). Absent when none.
   */
  actorsFilled?: readonly ChangeKey[];
}

/**
 * Detection as the pipeline drives it: a stage that runs inside the batch's transaction, after its rows are
 * appended: what it writes (alerts) commits or rolls back with the batch, so a crash never loses or doubles it.
 */
export interface InTransactionWriter {
  inTransaction(connection: DuckDBConnection, batch: WrittenBatch): Promise<void>;
  /**
   * Whether it reads this entry from `WrittenBatch.entries` (`madeChanges`: the privilege analysis found changes
   * in it); without it, every entry is kept for it.
   */
  keepsEntry?(entry: ParsedEntry, madeChanges: boolean): boolean;
  /** Whether it reads `WrittenBatch.mergedSessions` (the store then reads them back with its upsert). */
  readonly readsMergedSessions?: boolean;
  /** Told when a batch's transaction rolled back: what it learnt of the store in `inTransaction` is not in it. */
  rolledBack?(): void;
  /** What it hands to a hub's next leader (docs/fleet.md), if anything. */
  readonly handover?: HandoverPart;
  /**
   * Told when a batch is sealed, before its transaction begins (and again for each attempt): what it keeps of
   * the batch for its handover is then in the handover written before the COMMIT.
   */
  sealed?(batch: WrittenBatch): void;
}
