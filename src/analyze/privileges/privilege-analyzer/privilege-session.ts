/** A session as the privilege analyzer follows it: its transaction, savepoints, role and pending statement. */
import type { PrivilegeChange } from '../privilege-change.js';

/**
 * A statement whose audit entries may follow and repeat it (dedup), or whose ERROR may follow and undo it.
 */
export interface PendingStatement {
  raw: string;
  /** `raw` with doubled quotes undone: a DO block's EXECUTE literal, as its substatement is logged. */
  unquoted: string;
  /** The text as stored (redacted). */
  text: string;
  changes: PrivilegeChange[];
  /** pgaudit logged it: it ran. */
  confirmed: boolean;
  failed: boolean;
  statementId: number | null;
  /** An audit entry's own text (DO block, multi-statement string): only its statement id and the next match. */
  fromAudit: boolean;
}

/**
 * An Entra principal's creation, read from the function call. The statements the function runs follow with the
 * same statement id (CREATE ROLE, SECURITY LABEL): what they repeat is dropped, what they add (the object id
 * `pgaadauth_create_principal` looked up) is kept. `statementId` is null until pgaudit confirms a logged statement.
 */
export interface EntraCall {
  statementId: number | null;
  roleName: string;
  /** `action|attribute` → value, for every change said so far about the role. */
  said: Map<string, string | null>;
  pending: PendingStatement;
}

/** A COMMIT or ROLLBACK by its pgaudit statement id. */
export interface TransactionEnd {
  id: number;
  rolledBack: boolean;
}

export interface PrivilegeSession {
  inTx: boolean;
  /** The pgaudit statement id of the BEGIN of the open transaction (null: not from an audit entry). */
  beginId: number | null;
  /** The last transaction ends of the session seen here, by statement id (for a hub's next leader). */
  ends: TransactionEnd[];
  /** Ends a hub's last leader saw (its store holds them), ascending: one may close a transaction opened here. */
  foreignEnds: TransactionEnd[];
  aborted: boolean;
  txChanges: PrivilegeChange[];
  savepoints: { name: string; index: number }[];
  sessionAuth: string | null;
  role: string | null;
  roleAtBegin: string | null;
  localRole: boolean;
  pending: PendingStatement | null;
  entraCall: EntraCall | null;
}

export function newPrivilegeSession(): PrivilegeSession {
  return { inTx: false, beginId: null, ends: [], foreignEnds: [], aborted: false, txChanges: [], savepoints: [], sessionAuth: null, role: null, roleAtBegin: null, localRole: false, pending: null, entraCall: null };
}

export function pendingStatement(
  raw: string,
  text: string,
  from: { statementId: number | null; fromAudit: boolean; confirmed: boolean },
): PendingStatement {
  return { raw, unquoted: raw.replace(/''/g, "'"), text, changes: [], failed: false, ...from };
}
