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

export class DetectionHandover implements HandoverPart {
  readonly name = 'detection';
  readonly evidence: WindowEvidence;
  readonly keys: HandedAlertKeys;
  readonly logins = new HandedLogins();

  constructor(horizons: { windowMinutes: number; loginMinutes: number; suppressMinutes: number }) {
    this.evidence = new WindowEvidence(horizons);
    this.keys = new HandedAlertKeys(horizons.suppressMinutes);
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
