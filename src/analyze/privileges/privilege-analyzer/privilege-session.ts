/** A session as the privilege analyzer follows it: its transactions, role and pending statement. */
import type { PrivilegeChange } from '../privilege-change.js';
import { newTransactionLedger, type TransactionLedger } from './transaction-ledger.js';

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
  /** Its text has transaction control (`BEGIN; GRANT …; COMMIT`): its changes are followed in the order of its events. */
  controlsTransactions: boolean;
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

/**
 * The transaction as its lines arrived (`inTx` … `localRole`) follows the session's role, and judges the changes
 * that have no statement id (those of `log_statement` lines pgaudit did not confirm); `ledger` judges the others.
 */
export interface PrivilegeSession {
  inTx: boolean;
  aborted: boolean;
  txChanges: PrivilegeChange[];
  savepoints: { name: string; index: number }[];
  sessionAuth: string | null;
  role: string | null;
  roleAtBegin: string | null;
  localRole: boolean;
  pending: PendingStatement | null;
  entraCall: EntraCall | null;
  ledger: TransactionLedger;
}

export function newPrivilegeSession(ledger: TransactionLedger = newTransactionLedger()): PrivilegeSession {
  return { inTx: false, aborted: false, txChanges: [], savepoints: [], sessionAuth: null, role: null, roleAtBegin: null, localRole: false, pending: null, entraCall: null, ledger };
}

export function pendingStatement(
  raw: string,
  text: string,
  from: { statementId: number | null; fromAudit: boolean; confirmed: boolean },
): PendingStatement {
  return { raw, unquoted: raw.replace(/''/g, "'"), text, changes: [], failed: false, controlsTransactions: false, ...from };
}
