/**
 * Each server's role replay, kept from batch to batch so that a batch extends it instead of replaying the
 * server's whole history. Input contract: `replay` is called once per server a batch touched, in commit
 * order; after a batch that did not commit, `forget()` drops everything (what was kept may include it).
 */
import type { PrivilegeChange } from '../privileges/privilege-change.js';
import type { IneffectiveMark } from '../privileges/privilege-analyzer.js';
import { byTimeThenSeq, RoleReplay, type MembershipRow, type RoleBase, type RoleRow } from './rebuild-roles.js';

export interface ReplayInput {
  server: string;
  /** The batch's effective changes of this server. */
  added: readonly PrivilegeChange[];
  /** The batch's marks: changes of earlier batches that turned ineffective (or effective again). */
  marks: readonly IneffectiveMark[];
  /** Rows stored before changed (attributed late): the kept list of changes no longer matches them. */
  stale: boolean;
  /** The server's replay base now (its latest snapshot), or none. */
  base: RoleBase | undefined;
  /** The server's effective changes as stored, in order: read only when the kept list cannot be used. */
  readStored(): Promise<PrivilegeChange[]>;
}

export class RoleReplays {
  /** Each server's effective changes in order, as last replayed: most batches only append to them. */
  private readonly changes = new Map<string, PrivilegeChange[]>();
  private readonly replays = new Map<string, { base: RoleBase | undefined; replay: RoleReplay }>();

  async replay(input: ReplayInput): Promise<{ roles: RoleRow[]; memberships: MembershipRow[] }> {
    const { server, added, base, stale } = input;
    const marked = markedChanges(input.marks, server);
    // A change effective again is in no kept list: the stored ones are read.
    const redone = input.marks.some((m) => m.effective && m.server === server);
    let changes = stale || redone ? undefined : this.changes.get(server);
    if (changes) {
      if (marked.size > 0) changes = changes.filter((ch) => !isMarked(ch, marked));
      if (added.length > 0) changes = appendInOrder(changes, added);
    } else {
      changes = await input.readStored();
    }
    this.changes.set(server, changes);

    // Most batches only add changes after the last one replayed: extend the replay instead of redoing it.
    let kept = this.replays.get(server);
    const extended = kept !== undefined && kept.base === base && marked.size === 0 && !stale && !redone && kept.replay.extend(added);
    if (!extended) {
      kept = { base, replay: new RoleReplay(server, base) };
      kept.replay.extend(changes);
    }
    this.replays.set(server, kept!);
    return kept!.replay.rows();
  }

  forget(): void {
    this.changes.clear();
    this.replays.clear();
  }
}

/** `session\0seq` → the time range the mark covers, for one server. */
function markedChanges(marks: readonly IneffectiveMark[], server: string): Map<string, { from: number; until: number }> {
  const out = new Map<string, { from: number; until: number }>();
  for (const m of marks) {
    if (m.server !== server || m.effective) continue;
    for (const seq of m.seqs) out.set(`${m.sessionId ?? ''}\u0000${seq}`, { from: m.from.getTime(), until: m.until.getTime() });
  }
  return out;
}

function isMarked(change: PrivilegeChange, marked: Map<string, { from: number; until: number }>): boolean {
  const range = marked.get(`${change.sessionId ?? ''}\u0000${change.seq}`);
  const at = change.loggedAt.getTime();
  return range !== undefined && at >= range.from && at <= range.until;
}

/** `changes` (in order) and `added`, in order: most batches only add changes later than all before, so no full sort. */
function appendInOrder(changes: PrivilegeChange[], added: readonly PrivilegeChange[]): PrivilegeChange[] {
  const sorted = [...added].sort(byTimeThenSeq);
  const lastBefore = changes.at(-1);
  if (lastBefore === undefined || byTimeThenSeq(lastBefore, sorted[0]!) <= 0) return changes.concat(sorted);
  return changes.concat(sorted).sort(byTimeThenSeq);
}
