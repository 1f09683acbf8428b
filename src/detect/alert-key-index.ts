/**
 * The outbox's look-up, in memory: the rows of `alert_keys` (the alerts a finding may grow) seen at or after a floor,
 * kept in step with the table by the outbox's writes and retractions. A batch's findings are matched here, not by a
 * statement a batch (about 10 ms of DuckDB's CPU for a few dozen findings, whatever they found). A finding older than
 * the floor (a late row, a backfill) first reads the keys of its own window from the table. Keys seen more than
 * `keepMicros` before the newest leave memory, not the table: a long run holds its last day's alerts, not its history.
 * The table stays the truth: when a batch rolls back, `forget` drops everything, read again as needed.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQuery } from '../query/run-query.js';

const DAY_MICROS = 86_400_000_000;

export interface AlertKey {
  alertId: number;
  ruleId: string;
  server: string;
  dedupKey: string;
  firstMicros: number;
  lastMicros: number;
}

const keyOf = (ruleId: string, server: string, dedupKey: string) => `${ruleId}\u0000${server}\u0000${dedupKey}`;

export class AlertKeyIndex {
  private readonly byKey = new Map<string, AlertKey[]>();
  private readonly byId = new Map<number, AlertKey>();
  /** Every row of `alert_keys` last seen at or after the floor is here (+∞: none read yet). */
  private floorMicros = Infinity;
  private newestMicros = -Infinity;

  constructor(private readonly keepMicros = DAY_MICROS) {}

  /** Reads from `alert_keys` the keys last seen at or after `fromMicros` that are not here yet. */
  async cover(connection: DuckDBConnection, fromMicros: number): Promise<void> {
    fromMicros = Math.floor(fromMicros);
    if (fromMicros >= this.floorMicros) return;
    const below = Number.isFinite(this.floorMicros);
    const { rows } = await runQuery(
      connection,
      `SELECT alert_id, rule_id, server, dedup_key, epoch_us(first_seen) AS first_us, epoch_us(last_seen) AS last_us FROM alert_keys
       WHERE epoch_us(last_seen) >= $from${below ? ' AND epoch_us(last_seen) < $floor' : ''}`,
      { from: BigInt(fromMicros), ...(below ? { floor: BigInt(this.floorMicros) } : {}) },
    );
    this.floorMicros = fromMicros;
    for (const r of rows) {
      this.add({
        alertId: Number(r.alert_id), ruleId: String(r.rule_id), server: String(r.server), dedupKey: String(r.dedup_key),
        firstMicros: Number(r.first_us), lastMicros: Number(r.last_us),
      });
    }
  }

  /**
   * The key a finding seen from `firstMicros` to `atMicros` grows: of its rule, server and dedup key, one whose seen
   * span the finding's meets within `suppressMicros`, the one seen last. The keys it may match must be covered.
   */
  match(ruleId: string, server: string, dedupKey: string, firstMicros: number, atMicros: number, suppressMicros: number): AlertKey | undefined {
    if (firstMicros - suppressMicros < this.floorMicros) throw new Error('the alert keys of this finding were not read');
    let found: AlertKey | undefined;
    for (const k of this.byKey.get(keyOf(ruleId, server, dedupKey)) ?? []) {
      if (firstMicros > k.lastMicros + suppressMicros || atMicros < k.firstMicros - suppressMicros) continue;
      if (found === undefined || k.lastMicros > found.lastMicros) found = k;
    }
    return found;
  }

  /**
   * A key newly in `alert_keys` (an alert raised, or taken back), or read from it. One last seen below the floor is
   * not held: `cover` reads it from the table when a finding needs it.
   */
  add(key: AlertKey): void {
    if (key.lastMicros < this.floorMicros || this.byId.has(key.alertId)) return;
    const k = keyOf(key.ruleId, key.server, key.dedupKey);
    const same = this.byKey.get(k);
    if (same) same.push(key);
    else this.byKey.set(k, [key]);
    this.byId.set(key.alertId, key);
    this.newestMicros = Math.max(this.newestMicros, key.lastMicros);
  }

  /** A new alert's key, added with a stand-in id, gets the id the alert was given. */
  identify(key: AlertKey, alertId: number): void {
    this.byId.delete(key.alertId);
    key.alertId = alertId;
    this.byId.set(alertId, key);
  }

  /** A key's alert grew by a finding seen from `firstMicros` to `atMicros`. */
  stretch(key: AlertKey, firstMicros: number, atMicros: number): void {
    key.firstMicros = Math.min(key.firstMicros, firstMicros);
    key.lastMicros = Math.max(key.lastMicros, atMicros);
    this.newestMicros = Math.max(this.newestMicros, key.lastMicros);
  }

  /** Keys that left `alert_keys` (their alerts retracted). */
  drop(alertIds: readonly number[]): void {
    for (const id of alertIds) {
      const key = this.byId.get(id);
      if (key === undefined) continue;
      this.byId.delete(id);
      const k = keyOf(key.ruleId, key.server, key.dedupKey);
      const left = this.byKey.get(k)!.filter((other) => other !== key);
      if (left.length === 0) this.byKey.delete(k);
      else this.byKey.set(k, left);
    }
  }

  /** Keys last seen before the newest minus `keepMicros` leave memory; the floor rises to there. */
  prune(): void {
    const oldest = this.newestMicros - this.keepMicros;
    if (!(oldest > this.floorMicros)) return;
    this.drop([...this.byId.values()].filter((k) => k.lastMicros < oldest).map((k) => k.alertId));
    this.floorMicros = oldest;
  }

  /** Whatever this transaction changed is gone: read again from the store. */
  forget(): void {
    this.byKey.clear();
    this.byId.clear();
    this.floorMicros = Infinity;
    this.newestMicros = -Infinity;
  }

  /** How many keys are held (for tests and the bench). */
  get size(): number {
    return this.byId.size;
  }
}
