/** An Entra function's call and the statements it runs: what they repeat of the call is dropped, what they add kept. */
import type { ParsedEntry } from '../../../parse/parsed-entry.js';
import type { StatementChange } from '../privilege-change.js';
import type { StatementEvent } from '../statement-changes.js';
import { ENTRA_CALL } from '../entra-principals.js';
import type { EntraCall, PendingStatement } from './privilege-session.js';

type Audit = Extract<ParsedEntry, { kind: 'audit' }>['audit'];

/** The call a pending statement makes when it creates a role through an Entra function, else null. */
export function entraCallOf(pending: PendingStatement, statementId: number | null): EntraCall | null {
  const created = pending.changes.find((c) => c.action === 'create-role');
  if (!created?.roleName || !ENTRA_CALL.test(pending.raw)) return null;
  const said = new Map<string, string | null>();
  for (const c of pending.changes) if (c.roleName === created.roleName) said.set(saidKey(c), c.value);
  return { statementId, roleName: created.roleName, said, pending };
}

/**
 * Of the changes a statement run by an Entra function makes, those its call did not already say; `events`
 * itself when the audit entry is not a statement the call runs.
 */
export function newToEntraCall(call: EntraCall | null, a: Audit, events: StatementEvent[]): StatementEvent[] {
  if (!call || a.substatementId <= 1 || (call.statementId !== null && call.statementId !== a.statementId)) return events;
  return events.filter((e) => {
    if (e.kind !== 'change' || e.change.roleName !== call.roleName) return true;
    const key = saidKey(e.change);
    if (call.said.has(key) && call.said.get(key) === e.change.value) return false;
    call.said.set(key, e.change.value);
    return true;
  });
}

const saidKey = (c: StatementChange): string => `${c.action}|${c.attribute ?? ''}`;
