/** How a privilege change appears in an alert: its evidence sample and the reference a retraction follows. */
import type { ChangeFact, EntryFact } from '../batch-facts.js';
import type { ChangeRef, Finding } from '../rule.js';

/** Statement text in evidence is already redacted; it is cut so one alert stays small. */
const MAX_STATEMENT = 500;

export function changeEvidence({ change, who }: ChangeFact): Record<string, unknown> {
  return {
    loggedAt: change.loggedAt.toISOString(),
    sessionId: change.sessionId,
    actor: change.actor,
    actingRole: change.actingRole,
    action: change.action,
    roleName: change.roleName,
    attribute: change.attribute,
    value: change.value,
    grantedRole: change.grantedRole,
    privileges: change.privileges,
    objectType: change.objectType,
    objectName: change.objectName,
    grantee: change.grantee,
    database: who.databaseName,
    clientAddr: who.clientAddr,
    application: who.applicationName,
    statement: clip(change.statement),
  };
}

export function changeRef({ change }: ChangeFact): ChangeRef {
  return { server: change.server, sessionId: change.sessionId, loggedAt: change.loggedAt, seq: change.seq };
}

/** A finding about one privilege change: evidence, retraction reference, time and actor filled in. */
export function changeFinding(fact: ChangeFact, f: Pick<Finding, 'summary' | 'dedupKey' | 'target'> & Partial<Finding>): Finding {
  return {
    server: fact.change.server,
    at: fact.change.loggedAt,
    actor: fact.change.actor ?? fact.who.userName,
    evidence: changeEvidence(fact),
    changes: [changeRef(fact)],
    ...f,
  };
}

export function entryEvidence({ entry, who }: EntryFact, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const r = entry.record;
  return {
    loggedAt: r.loggedAt.toISOString(),
    sessionId: r.sessionId,
    level: r.level,
    kind: entry.kind,
    user: who.userName,
    database: who.databaseName,
    clientAddr: who.clientAddr,
    application: who.applicationName,
    message: clip(r.message),
    source: r.source,
    position: r.position,
    ...extra,
  };
}

export function clip(text: string | null): string | null {
  if (text === null) return null;
  return text.length > MAX_STATEMENT ? `${text.slice(0, MAX_STATEMENT)}…` : text;
}

/** Who the actor is, for summaries: `alice` or `an unattributed session`. */
export function actorName(name: string | null): string {
  return name ?? 'an unattributed session';
}
