/**
 * Each server's replay base (its latest live snapshot), read from the store once and kept until a snapshot
 * of that server commits. Whoever commits a snapshot says so (`invalidate`, after COMMIT): the replay of
 * the next batch then stands on it. One object per store writer, passed to the pipeline and the snapshot
 * writer alike, so two stores in one process never share what they cached.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RoleBase } from '../analyze/roles/rebuild-roles.js';
import { latestRoleBase } from './snapshot-tables.js';

export class ReplayBases {
  private readonly bases = new Map<string, RoleBase | undefined>();
  /** Moves on every invalidation: a base read in a transaction that began before one is used, not kept. */
  private generation = 0;

  /**
   * A reader for one store transaction, taken before it begins: the transaction sees the store as it was
   * then, so a base it reads after a snapshot committed since may be the older one, and is used, not kept.
   */
  beforeTransaction(): (connection: DuckDBConnection, server: string) => Promise<RoleBase | undefined> {
    const generation = this.generation;
    return async (connection, server) => {
      if (generation === this.generation && this.bases.has(server)) return this.bases.get(server);
      const base = await latestRoleBase(connection, server);
      if (generation === this.generation) this.bases.set(server, base);
      return base;
    };
  }

  /** A snapshot of `server` committed (or the cached bases may be wrong for another reason): read again next time. */
  invalidate(server?: string): void {
    this.generation++;
    if (server === undefined) this.bases.clear();
    else this.bases.delete(server);
  }
}
