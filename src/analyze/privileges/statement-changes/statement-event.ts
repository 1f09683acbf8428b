/** What a statement's text says, in order: the changes it makes and the transaction control around them. */
import type { StatementChange, PrivilegeAction } from '../privilege-change.js';

export interface StatementContext {
  /** pgaudit cut the text at `PASSWORD <REDACTED>`. */
  truncated: boolean;
  /** The pgaudit COMMAND (`CREATE ROLE`, `ALTER ROLE`), used when the truncated text no longer parses. */
  command?: string;
}

/** Transaction control found in the same text, in order with the changes (the analyzer needs both). */
export type TransactionOp =
  | { op: 'begin' }
  | { op: 'commit' }
  | { op: 'rollback' }
  | { op: 'savepoint'; name: string }
  | { op: 'release'; name: string }
  | { op: 'rollback-to'; name: string };

export type StatementEvent = { kind: 'change'; change: StatementChange } | { kind: 'transaction'; tx: TransactionOp };

/** A change event: the fields given, every other field of the row null (or false). */
export function change(fields: Partial<StatementChange> & { action: PrivilegeAction }): StatementEvent {
  return { kind: 'change', change: { ...blankChange(), ...fields } };
}

function blankChange(): StatementChange {
  return {
    action: 'alter-role', roleName: null, attribute: null, value: null, grantedRole: null, privileges: null, objectType: null,
    objectName: null, grantee: null, withOption: null, grantor: null, truncated: false, uncertain: null, passwordStrength: null,
  };
}
