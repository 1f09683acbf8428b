/**
 * The detection context a hub's leader hands to the next one (docs/fleet.md): the rows windowed rules count and
 * the logins failures-then-success ends at (`WindowEvidence`), the keys of the alerts raised (`HandedAlertKeys`) and each role's last login (`HandedLogins`,
 * dormant-role-login's look-back), so that evidence split by a takeover is counted whole and an alert is raised in
 * one store only.
 */
import type { CommittedCheck, HandoverPart } from '../contracts/handover-part.js';
import { HandedAlertKeys, type KeysDoc } from './handed-alert-keys.js';
import { WindowEvidence, type EvidenceDoc } from './window-evidence.js';
import { HandedLogins, type LoginsDoc } from './handed-logins.js';
import type { MergedFinding } from './merge-findings.js';
import type { ReopenedAlert } from './alert-outbox.js';
import type { WrittenBatch } from './written-batch.js';

export class DetectionHandover implements HandoverPart {
  readonly name = 'detection';
  readonly evidence: WindowEvidence;
  readonly keys: HandedAlertKeys;
  readonly logins = new HandedLogins();

  /**
   * `keepsOwn`: whether this instance's own rows, logins and alert keys are kept, for a handover some source writes
   * (`run` on Event Hubs). Without it (`ingest`, `run` on files) only what a handover brings is kept: the bounded
   * evidence would otherwise be held, tens of megabytes of it, for no one.
   */
  constructor(
    horizons: { windowMinutes: number; loginMinutes: number; suppressMinutes: number },
    readonly keepsOwn: boolean,
  ) {
    this.evidence = new WindowEvidence(horizons);
    this.keys = new HandedAlertKeys(horizons.suppressMinutes);
  }

  /** A batch sealed, before its transaction: its rows and logins, kept for the next leader. */
  sealed(batch: WrittenBatch): void {
    if (!this.keepsOwn) return;
    this.evidence.recordBatch(batch);
    this.evidence.takeIntoEffect(batch.handedIntoEffect ?? []);
    this.logins.recordBatch(batch);
  }

  /** A rule's alerts written in a batch's transaction. */
  alertsWritten(rule: string, findings: readonly MergedFinding[], ids: readonly number[], batch: WrittenBatch): void {
    if (this.keepsOwn) this.keys.recordWritten(rule, findings, ids, batch);
  }

  /** Alerts a batch took back from retracted. */
  alertsReopened(alerts: readonly ReopenedAlert[], batch: WrittenBatch): void {
    if (this.keepsOwn) this.keys.recordReopened(alerts, batch);
  }

  version(): number {
    return this.evidence.version() + this.keys.version() + this.logins.version();
  }

  /** The evidence rows are kept when a batch is sealed (before its transaction); alerts are known only in it. */
  inTransactionVersion(): number {
    return this.keys.version();
  }

  handOver(self: string): { evidence: EvidenceDoc; keys: KeysDoc; logins: LoginsDoc } {
    return { evidence: this.evidence.handOver(self), keys: this.keys.handOver(self), logins: this.logins.handOver(self) };
  }

  adopt(doc: unknown, self: string, committed: CommittedCheck): number {
    const d = doc as { evidence?: EvidenceDoc; keys?: KeysDoc; logins?: LoginsDoc } | null;
    if (!d || typeof d !== 'object' || !d.evidence || !d.keys || !Array.isArray(d.evidence.auth) || !Array.isArray(d.evidence.changes) || !Array.isArray(d.keys.keys)) {
      throw new Error('the detection handover is not of this format');
    }
    // A leader of the version before hands over no logins.
    const logins = d.logins && Array.isArray(d.logins.logins) ? this.logins.adopt(d.logins, self, committed) : 0;
    return this.evidence.adopt(d.evidence, self, committed) + this.keys.adopt(d.keys, self, committed) + logins;
  }
}
