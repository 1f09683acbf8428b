/**
 * The alert keys a hub's leader hands to the next one (docs/fleet.md), so that an alert the last leader raised is
 * not raised again from evidence that goes on after the takeover. Kept: the keys of this instance's own alerts
 * (a mirror of its `alert_keys` rows: grown, dropped when the outbox retracts them, back when `AlertOutbox.reopenRedone`
 * takes them back), those of its store
 * that a handover brought back, and the keys adopted from the last leader. A finding whose key an adopted one covers (same rule, server and dedup key,
 * within the rule's suppression window) grows nothing here: that alert is in the other store, and the
 * finding's evidence only stretches the adopted key. Bounded: keys seen more than the longest suppression
 * window before the newest go, and at most `MAX_KEYS` are kept.
 */
import type { MergedFinding } from './merge-findings.js';
import type { ReopenedAlert } from './alert-outbox.js';
import type { CommittedCheck } from '../contracts/handover-part.js';

export const MAX_KEYS = 10_000;

interface HandedKey {
  rule: string;
  server: string;
  dedupKey: string;
  firstMs: number;
  lastMs: number;
  /** The batch that raised the alert: when it never committed, the key is not adopted. */
  source: string;
  position: string;
  /** The instance whose store holds the alert (null: this one). */
  holder: string | null;
}

const FIELDS = ['rule', 'server', 'dedupKey', 'firstMs', 'lastMs', 'source', 'position', 'holder'] as const;

export interface KeysDoc {
  fields: readonly string[];
  keys: unknown[][];
}

const keyOf = (rule: string, server: string, dedupKey: string) => `${rule}\u0000${server}\u0000${dedupKey}`;

export class HandedAlertKeys {
  /** Own alerts by alert id. */
  private readonly own = new Map<number, HandedKey>();
  /**
   * Keys of alerts this instance's store holds that came back in a handover (raised before this process started, or
   * handed on by the leaders since): not checked here (the outbox finds them in `alert_keys`), but handed on again,
   * or a later leader would not know them.
   */
  private readonly ownHandedBack = new Map<string, HandedKey>();
  private readonly adopted = new Map<string, HandedKey>();
  private newestMs = -Infinity;
  private moved = 0;

  constructor(private readonly horizonMinutes: number) {}

  /**
   * Moves when a key comes or goes: what makes the leader write its handover again inside the transaction. A key
   * that only stretches (its alert grows) is carried by the next write, whatever moves it.
   */
  version(): number {
    return this.moved;
  }

  /**
   * The findings an adopted key does not cover; those it covers stretch it (as growing its alert would) and are
   * dropped.
   */
  notRaisedElsewhere(rule: string, suppressMs: number, findings: readonly MergedFinding[]): MergedFinding[] {
    if (this.adopted.size === 0) return [...findings];
    return findings.filter((f) => {
      const k = this.adopted.get(keyOf(rule, f.server, f.dedupKey));
      const at = f.at.getTime();
      const first = (f.firstAt ?? f.at).getTime();
      if (!k || at < k.firstMs - suppressMs || first > k.lastMs + suppressMs) return true;
      k.lastMs = Math.max(k.lastMs, at);
      k.firstMs = Math.min(k.firstMs, first);
      return false;
    });
  }

  /**
   * Whether an adopted key covers this alert of this store's (same rule, server and dedup key, within `suppressMs`):
   * the alert of its story stands in the other store.
   */
  raisedElsewhere(alert: Pick<ReopenedAlert, 'ruleId' | 'server' | 'dedupKey' | 'firstSeen' | 'lastSeen'>, suppressMs: number): boolean {
    const k = this.adopted.get(keyOf(alert.ruleId, alert.server, alert.dedupKey));
    return k !== undefined && alert.lastSeen.getTime() >= k.firstMs - suppressMs && alert.firstSeen.getTime() <= k.lastMs + suppressMs;
  }

  /** The alerts the outbox wrote for a rule's findings of one batch (ids in finding order). */
  recordWritten(rule: string, findings: readonly MergedFinding[], ids: readonly number[], batch: { source: string; position: string }): void {
    findings.forEach((f, i) => {
      const id = ids[i]!;
      const at = f.at.getTime();
      const first = (f.firstAt ?? f.at).getTime();
      const k = this.own.get(id);
      if (k) {
        k.lastMs = Math.max(k.lastMs, at);
        k.firstMs = Math.min(k.firstMs, first);
      } else {
        this.own.set(id, { rule, server: f.server, dedupKey: f.dedupKey, firstMs: first, lastMs: at, source: batch.source, position: batch.position, holder: null });
        this.moved++;
      }
      this.newestMs = Math.max(this.newestMs, at);
    });
    if (findings.length > 0) this.prune();
  }

  /** Alerts retracted (undone, or disproved by rows stored since): their keys left `alert_keys`, and leave the handover. */
  forgetRetracted(ids: readonly number[]): void {
    for (const id of ids) if (this.own.delete(id)) this.moved++;
  }

  /**
   * Alerts `AlertOutbox.reopenRedone` took back: their keys are in `alert_keys` again, and in the handover, as raised by
   * the batch that took them back (if it never commits, they stay retracted and the next leader does not adopt them).
   */
  recordReopened(alerts: readonly ReopenedAlert[], batch: { source: string; position: string }): void {
    for (const a of alerts) {
      const firstMs = a.firstSeen.getTime();
      const lastMs = a.lastSeen.getTime();
      const known = this.own.get(a.alertId);
      if (known) {
        known.firstMs = Math.min(known.firstMs, firstMs);
        known.lastMs = Math.max(known.lastMs, lastMs);
        continue;
      }
      this.own.set(a.alertId, { rule: a.ruleId, server: a.server, dedupKey: a.dedupKey, firstMs, lastMs, source: batch.source, position: batch.position, holder: null });
      this.newestMs = Math.max(this.newestMs, lastMs);
      this.moved++;
    }
    if (alerts.length > 0) this.prune();
  }

  handOver(self: string): KeysDoc {
    const row = (k: HandedKey) => [k.rule, k.server, k.dedupKey, k.firstMs, k.lastMs, k.source, k.position, k.holder ?? self];
    return { fields: FIELDS, keys: [...this.own.values(), ...this.ownHandedBack.values(), ...this.adopted.values()].map(row) };
  }

  /**
   * Takes the last leader's keys, but those raised by a batch that never committed (this leader reads it again);
   * those of alerts `self` holds only to hand them on.
   */
  adopt(doc: KeysDoc, self: string, committed: CommittedCheck): number {
    if (JSON.stringify(doc.fields) !== JSON.stringify(FIELDS)) throw new Error('the detection handover has alert keys of another shape');
    let taken = 0;
    for (const raw of doc.keys) {
      const [rule, server, dedupKey, firstMs, lastMs, source, position, holder] = Array.isArray(raw) ? raw : [];
      if (
        typeof rule !== 'string' || typeof server !== 'string' || typeof dedupKey !== 'string' || !Number.isFinite(firstMs) || !Number.isFinite(lastMs) ||
        typeof source !== 'string' || typeof position !== 'string' || typeof holder !== 'string'
      ) {
        throw new Error('the detection handover has an alert key of another shape');
      }
      if (!committed(source, position)) continue;
      const k = keyOf(rule, server, dedupKey);
      const into = holder === self ? this.ownHandedBack : this.adopted;
      const known = into.get(k);
      const key: HandedKey = { rule, server, dedupKey, firstMs: firstMs as number, lastMs: lastMs as number, source, position, holder: holder === self ? null : holder };
      if (known) {
        known.firstMs = Math.min(known.firstMs, key.firstMs);
        known.lastMs = Math.max(known.lastMs, key.lastMs);
      } else into.set(k, key);
      this.newestMs = Math.max(this.newestMs, key.lastMs);
      taken++;
    }
    this.prune();
    if (taken > 0) this.moved++;
    return taken;
  }

  private prune(): void {
    const oldest = this.newestMs - this.horizonMinutes * 60_000;
    const before = this.own.size + this.ownHandedBack.size + this.adopted.size;
    for (const keys of [this.own, this.ownHandedBack, this.adopted] as Map<unknown, HandedKey>[]) {
      for (const [id, k] of keys) if (k.lastMs < oldest) keys.delete(id);
      for (const id of keys.keys()) {
        if (keys.size <= MAX_KEYS) break;
        keys.delete(id);
      }
    }
    if (this.own.size + this.ownHandedBack.size + this.adopted.size !== before) this.moved++;
  }
}
