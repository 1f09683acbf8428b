/**
 * What a batch changes in rows stored before it, inside its transaction: user and client filled into rows
 * stored before their session's lines (late attribution), and the roles of every server whose changes the
 * batch touched, replayed on the server's latest snapshot. The analysis (which sessions, extend or redo a
 * replay) is analyze/'s, the SQL the store's, the replay base the snapshot stage's; this runs them in order.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { PendingAttribution } from '../analyze/sessions/pending-attribution.js';
import { RoleReplays } from '../analyze/roles/role-replays.js';
import type { CommitTarget } from '../store/audit-store.js';
import type { BatchRows } from '../store/batch-rows.js';
import { attributeLate, readPendingAttribution, type LateAttribution } from '../store/late-attribution.js';
import { readEffectiveChanges, RoleTableWriter } from '../store/role-tables.js';
import type { ReplayBases } from '../snapshot/replay-bases.js';

/** What of a batch the derived rows read: its sessions and the changes it brings. */
export type DerivingBatch = Pick<BatchRows, 'unattributed' | 'sessionKeys' | 'serversWithChanges' | 'changes' | 'ineffective'>;

export class DerivedRows {
  private readonly replays = new RoleReplays();
  private readonly roleTables = new RoleTableWriter();

  private constructor(
    private readonly pending: PendingAttribution,
    private readonly bases: ReplayBases,
  ) {}

  /** Picks up the sessions a previous process left waiting for their user. */
  static async load(connection: DuckDBConnection, bases: ReplayBases): Promise<DerivedRows> {
    return new DerivedRows(new PendingAttribution(await readPendingAttribution(connection)), bases);
  }

  /** Whether rows of some session still wait for their user. */
  anyPending(): boolean {
    return this.pending.any();
  }

  /** Of these sessions (`sessionKey`s), those with stored rows still waiting for their user. */
  pendingAmong(keys: Iterable<string>): string[] {
    return this.pending.pendingAmong(keys);
  }

  /**
   * The work for one batch, to run inside its transaction; taken before the transaction begins (a snapshot
   * committed after that is not seen by it). Resolves to the rows attributed late.
   */
  forBatch(batch: DerivingBatch, cause: Pick<CommitTarget, 'source' | 'position'>): (connection: DuckDBConnection) => Promise<LateAttribution> {
    const baseOf = this.bases.beforeTransaction();
    return async (connection) => {
      // Pending before this batch: rows of an earlier transaction, which the lake may hold without their user.
      const storedBefore = new Set(this.pending.pendingAmong([...batch.unattributed.keys(), ...batch.sessionKeys]));
      const candidates = this.pending.candidates(batch.unattributed, batch.sessionKeys);
      const late = await attributeLate(connection, candidates, { source: cause.source, position: cause.position, storedBefore });
      this.pending.completed(late.completed);
      const stale = new Set(late.privilegeServers);
      for (const server of new Set([...batch.serversWithChanges, ...stale])) {
        const base = await baseOf(connection, server);
        const rows = await this.replays.replay({
          server,
          added: batch.changes.filter((ch) => ch.server === server && ch.effective),
          marks: batch.ineffective,
          stale: stale.has(server),
          base,
          readStored: () => readEffectiveChanges(connection, server),
        });
        await this.roleTables.write(connection, server, rows, base);
      }
      return late;
    };
  }

  /** The batch did not commit: what was kept about replays and written rows may include it. */
  forget(): void {
    this.replays.forget();
    this.roleTables.forget();
    this.bases.invalidate();
  }
}
