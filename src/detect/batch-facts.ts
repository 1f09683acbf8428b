/**
 * One committed batch as the rules read it: privilege changes that took effect, auth failures, logins and
 * entries, each with who (user, database, client) did it, minus the globally excluded traffic (Azure's
 * maintenance: user `azuresu`, database `azure_maintenance`). Never by loopback address: Azure's PgBouncer
 * connects from there, so a pooled attacker would vanish with it. Built once per batch, shared by every rule.
 */
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import type { Attribution, SessionState } from '../analyze/sessions/session-tracker.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import type { WrittenBatch } from './written-batch.js';
import type { ControlPlaneEvent } from '../contracts/control-plane-event.js';
import { sessionKey } from '../contracts/session-key.js';
import type { TakenBack, TakenIntoEffect } from './unjudged-changes.js';
import type { StoredPrivilegeChange } from './stored-windows.js';

export interface Exclusions {
  users: readonly string[];
  databases: readonly string[];
  applications: readonly string[];
  clientAddrs: readonly string[];
}

export interface ChangeFact {
  change: PrivilegeChange;
  who: Attribution;
}

export interface EntryFact {
  entry: ParsedEntry;
  who: Attribution;
}

/** An auth failure with the session it belongs to and who that session is, as the rules read it. */
export interface AttributedAuthFailure {
  server: string;
  sessionId: string | null;
  at: Date;
  sqlstate: string;
  userName: string | null;
  clientAddr: string | null;
  reason: string;
}

export interface LoginFact {
  server: string;
  sessionId: string;
  at: Date;
  session: SessionState;
}

const NOBODY: Attribution = { userName: null, databaseName: null, clientAddr: null, applicationName: null };

export class BatchFacts {
  readonly changes: readonly ChangeFact[];
  readonly entries: readonly EntryFact[];
  readonly authFailures: readonly AttributedAuthFailure[];
  readonly logins: readonly LoginFact[];
  /**
   * Azure Activity Log events about servers (control plane), outcomes filled from their Start. Not subject to
   * the exclusions, which name database users and client hosts, not Azure callers.
   */
  readonly controlPlane: readonly ControlPlaneEvent[];

  /**
   * Changes of earlier batches a window may have judged without: judged when they arrived and undone since, that
   * this batch's marks took back into effect, or stored without their actor, that this batch's late attribution
   * filled in. No rule judges them again, but `privilege-burst` counts them where no alert of its own covers them.
   */
  readonly recountedChanges: readonly ChangeFact[];
  /**
   * Changes the last leader handed over without their actor, whose session this batch names (`fillActors`): the
   * other store holds them, so only windows count them here, where no alert covers them.
   */
  readonly recountedHanded: readonly StoredPrivilegeChange[];

  /**
   * `takenBack`: changes of earlier batches this batch's marks took into effect (a COMMIT read late). Those stored
   * ineffective and never judged are judged with the batch's own, as if they had arrived effective in it.
   */
  constructor(
    readonly batch: WrittenBatch,
    private readonly exclusions: Exclusions,
    takenBack: TakenBack = { unjudged: [], redone: [] },
    actorsFilled: readonly TakenIntoEffect[] = [],
    handedFilled: readonly StoredPrivilegeChange[] = [],
  ) {
    const sessions = new Map<string, SessionState>();
    for (const s of batch.sessions) sessions.set(sessionKey(s.server, s.sessionId), s);
    const attributed = new Map<string, Attribution>();
    batch.entries.forEach((e, i) => {
      const a = batch.attributions[i];
      if (a && e.record.sessionId !== null && a.userName !== null) attributed.set(sessionKey(e.record.server, e.record.sessionId), a);
    });
    const whoOfSession = (server: string, sessionId: string | null): Attribution => {
      if (sessionId === null) return NOBODY;
      const k = sessionKey(server, sessionId);
      const s = sessions.get(k);
      const a = attributed.get(k);
      return {
        userName: s?.userName ?? a?.userName ?? null,
        databaseName: s?.databaseName ?? a?.databaseName ?? null,
        clientAddr: s?.clientAddr ?? a?.clientAddr ?? null,
        applicationName: s?.applicationName ?? a?.applicationName ?? null,
      };
    };

    const arrived = batch.privilegeChanges.filter((c) => c.effective).map((change) => ({ change, session: whoOfSession(change.server, change.sessionId) }));
    const facts = (changes: readonly { change: PrivilegeChange; session: Attribution }[]): ChangeFact[] =>
      changes.map(({ change, session }) => ({ change, who: { ...session, userName: change.actor ?? session.userName } })).filter((c) => !this.excluded(c.who));
    this.changes = facts([...arrived, ...takenBack.unjudged]);
    this.recountedChanges = facts([...takenBack.redone, ...actorsFilled]);
    this.recountedHanded = handedFilled.filter((c) => !this.excluded({ ...NOBODY, userName: c.actor }));

    const entries: EntryFact[] = [];
    const failures: AttributedAuthFailure[] = [];
    const logins: LoginFact[] = [];
    batch.entries.forEach((entry, i) => {
      const { record } = entry;
      const attribution = batch.attributions[i] ?? NOBODY;
      const session = whoOfSession(record.server, record.sessionId);
      const who: Attribution = {
        userName: attribution.userName ?? session.userName,
        databaseName: attribution.databaseName ?? session.databaseName,
        clientAddr: attribution.clientAddr ?? session.clientAddr,
        applicationName: attribution.applicationName ?? session.applicationName,
      };
      if (entry.kind === 'auth-failure') {
        const f = entry.failure;
        const failure = {
          server: record.server,
          sessionId: record.sessionId,
          at: record.loggedAt,
          sqlstate: f.sqlstate,
          userName: f.userName ?? who.userName,
          clientAddr: f.clientAddr ?? who.clientAddr,
          reason: f.reason,
        };
        if (!this.excluded({ ...who, userName: failure.userName, clientAddr: failure.clientAddr, databaseName: f.databaseName ?? who.databaseName })) failures.push(failure);
        return;
      }
      if (this.excluded(who)) return;
      entries.push({ entry, who });
      if (entry.kind === 'session' && entry.session.event === 'authorized' && record.sessionId !== null) {
        const state = sessions.get(sessionKey(record.server, record.sessionId));
        if (state) logins.push({ server: record.server, sessionId: record.sessionId, at: record.loggedAt, session: state });
      }
    });
    this.entries = entries;
    this.authFailures = failures;
    this.logins = logins;
    this.controlPlane = batch.controlPlaneEvents;
  }

  /** Whether traffic of this user / database / application / client is excluded from every rule. */
  excluded(who: Partial<Attribution>): boolean {
    const { users, databases, applications, clientAddrs } = this.exclusions;
    return (
      (who.userName != null && users.includes(who.userName)) ||
      (who.databaseName != null && databases.includes(who.databaseName)) ||
      (who.applicationName != null && applications.includes(who.applicationName)) ||
      (who.clientAddr != null && clientAddrs.includes(who.clientAddr))
    );
  }
}

