/**
 * Parsed entries → privilege changes, with who did them and whether they took effect.
 * Input contract: entries of one server session arrive in log order (the pipeline routes a session's
 * lines in order; sessions may interleave). `session.userName` is the session's user if the store knows
 * it. Changes are returned as soon as they are seen with `effective: true`; a later ROLLBACK, an ERROR
 * that aborts the transaction, or a failed statement turns them ineffective: `ineffective()` drains
 * those marks so the store can update rows it already wrote (the same objects are also flipped).
 *
 * Dedup (one change = one row): a `log_statement` line is logged before the statement runs and pgaudit
 * after it succeeded, so the statement line comes first. Its clear text wins (no truncation); a later
 * audit entry of the same session whose text is contained in that statement's text (at top level, or
 * a substatement of the same statement id) is skipped. Audit entries alone are used when no statement line was logged.
 */
import type { ParsedEntry } from '../../parse/parsed-entry.js';
import type { DeadLetter } from '../../contracts/log-record.js';
import { ParseError } from '../../contracts/log-record.js';
import type { PrivilegeChange, StatementChange } from './privilege-change.js';
import { analyzeStatement, type StatementEvent, type TransactionOp } from './statement-changes.js';
import { ENTRA_CALL } from './entra-principals.js';

/** Rows to mark `effective = false`: `seqs` are the analyzer's `seq` of each change; `from`/`until` bound their `logged_at`. */
export interface IneffectiveMark {
  server: string;
  sessionId: string | null;
  from: Date;
  until: Date;
  seqs: number[];
  reason: 'rollback' | 'rollback-to-savepoint' | 'aborted' | 'failed' | 'disconnected';
}

export interface PrivilegeAnalyzer {
  /** The changes the line makes; the array is not to be kept or changed (lines that change nothing share one). */
  observe(entry: ParsedEntry, session: { userName: string | null }): readonly PrivilegeChange[];
  /** Marks found since the last call. */
  ineffective(): IneffectiveMark[];
  /** Statements that could change privileges but do not parse, since the last call. */
  deadLetters(): DeadLetter[];
}

const auditClasses = new Set(['ROLE', 'MISC', 'MISC_SET']);
const ddlCommands = new Set([
  'ALTER SYSTEM', 'CREATE EXTENSION', 'DROP EXTENSION', 'ALTER DATABASE', 'REASSIGN OWNED', 'DROP OWNED',
  'CREATE ROLE', 'ALTER ROLE', 'DROP ROLE', 'GRANT', 'REVOKE', 'ALTER DEFAULT PRIVILEGES', 'ALTER ROLE SET',
  'SECURITY LABEL',
]);
const statementStart =
  /^\s*(?:(?:create|alter|drop)\s+(?:role|user|group)\b|grant\b|revoke\b|set\b|reset\b|alter\s+(?:system|database|default)\b|reassign\b|drop\s+owned\b|(?:create|drop)\s+extension\b|security\s+label\b|do\b)/i;
const transactionStart = /^\s*(?:begin|start|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b/i;

/** Cheap prefilter (runs on every entry): could this entry change privileges or security settings? */
export function mayChangePrivileges(entry: ParsedEntry): boolean {
  if (entry.kind === 'audit') {
    const a = entry.audit;
    if (auditClasses.has(a.className)) return a.className === 'ROLE' || a.command === 'SET' || a.command === 'RESET';
    if (a.className === 'DDL') return ddlCommands.has(a.command);
    if (a.className === 'FUNCTION' && a.command === 'DO') return true;
    return isEntraCall(entry);
  }
  if (entry.kind === 'statement') return statementStart.test(stripLeadingComments(entry.rawStatement)) || ENTRA_CALL.test(entry.rawStatement);
  return false;
}

/**
 * The call of a function that creates an Entra principal, as pgaudit logs it: the READ entry of the statement and
 * the FUNCTION EXECUTE entries of the functions, all with the calling statement's text.
 */
function isEntraCall(entry: Extract<ParsedEntry, { kind: 'audit' }>): boolean {
  const { className, statement } = entry.audit;
  return (className === 'READ' || className === 'FUNCTION') && statement !== null && ENTRA_CALL.test(statement);
}

function stripLeadingComments(sql: string): string {
  if (!/^\s*(?:--|\/\*)/.test(sql)) return sql;
  return sql.replace(/^(?:\s*(?:--[^\n]*\n?|\/\*[\s\S]*?\*\/))+/, '');
}

interface Pending {
  raw: string;
  unquoted: string;
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
interface EntraCall {
  statementId: number | null;
  roleName: string;
  /** `action|attribute` → value, for every change said so far about the role. */
  said: Map<string, string | null>;
  pending: Pending;
}

/** A session as the privilege analyzer follows it: its transaction, savepoints, role and pending statement. */
interface PrivilegeSession {
  inTx: boolean;
  aborted: boolean;
  txChanges: PrivilegeChange[];
  savepoints: { name: string; index: number }[];
  sessionAuth: string | null;
  role: string | null;
  roleAtBegin: string | null;
  localRole: boolean;
  pending: Pending | null;
  entraCall: EntraCall | null;
}

/** What observe returns for a line that changes nothing: one frozen array, not a new one per line. */
const NONE: readonly PrivilegeChange[] = Object.freeze([]);

export function createPrivilegeAnalyzer(): PrivilegeAnalyzer {
  /** By server, then session id ('' for none): two lookups, no key string built per line. */
  const sessions = new Map<string, Map<string, PrivilegeSession>>();
  let marks: IneffectiveMark[] = [];
  let dead: DeadLetter[] = [];
  let seq = 0;

  // The last session asked for: a session's lines mostly come in runs, and this runs for every audit line.
  let last: { server: string; sessionId: string | null; state: PrivilegeSession } | null = null;
  const peek = (server: string, sessionId: string | null): PrivilegeSession | undefined => {
    if (last !== null && last.sessionId === sessionId && last.server === server) return last.state;
    return sessions.get(server)?.get(sessionId ?? '');
  };
  const stateOf = (server: string, sessionId: string | null): PrivilegeSession => {
    let s = peek(server, sessionId);
    if (!s) {
      s = { inTx: false, aborted: false, txChanges: [], savepoints: [], sessionAuth: null, role: null, roleAtBegin: null, localRole: false, pending: null, entraCall: null };
      let byId = sessions.get(server);
      if (!byId) sessions.set(server, (byId = new Map()));
      byId.set(sessionId ?? '', s);
    }
    if (last?.state !== s) last = { server, sessionId, state: s };
    return s;
  };

  const mark = (entry: ParsedEntry, changes: PrivilegeChange[], reason: IneffectiveMark['reason']): void => {
    const live = changes.filter((c) => c.effective);
    if (live.length === 0) return;
    for (const c of live) c.effective = false;
    marks.push({
      server: entry.record.server,
      sessionId: entry.record.sessionId,
      from: live[0]!.loggedAt,
      until: live.at(-1)!.loggedAt,
      seqs: live.map((c) => c.seq),
      reason,
    });
  };

  const endTx = (s: PrivilegeSession, rolledBack: boolean): void => {
    s.inTx = false;
    s.aborted = false;
    // New arrays only when used (nothing else holds these, and most transactions leave both empty).
    if (s.txChanges.length > 0) s.txChanges = [];
    if (s.savepoints.length > 0) s.savepoints = [];
    if (rolledBack || s.localRole) s.role = s.roleAtBegin;
    s.localRole = false;
  };

  /** An aborted transaction can run nothing: a change seen afterwards means it ended unseen. */
  const closeAbortedTx = (entry: ParsedEntry, s: PrivilegeSession): void => {
    if (!s.aborted) return;
    mark(entry, s.txChanges, 'aborted');
    endTx(s, true);
  };

  const applyTx = (entry: ParsedEntry, s: PrivilegeSession, tx: TransactionOp): void => {
    switch (tx.op) {
      case 'begin':
        closeAbortedTx(entry, s); // the aborted transaction before it ended without a logged COMMIT/ROLLBACK
        if (!s.inTx) {
          s.inTx = true;
          s.roleAtBegin = s.role;
        }
        return;
      case 'commit':
        // COMMIT of an aborted transaction is a rollback.
        if (s.aborted) mark(entry, s.txChanges, 'aborted');
        endTx(s, s.aborted);
        return;
      case 'rollback':
        mark(entry, s.txChanges, 'rollback');
        endTx(s, true);
        return;
      case 'savepoint':
        s.savepoints.push({ name: tx.name, index: s.txChanges.length });
        return;
      case 'release': {
        const i = lastIndexOf(s.savepoints, tx.name);
        if (i >= 0) s.savepoints.length = i;
        return;
      }
      case 'rollback-to': {
        const i = lastIndexOf(s.savepoints, tx.name);
        if (i < 0) return;
        mark(entry, s.txChanges.slice(s.savepoints[i]!.index), 'rollback-to-savepoint');
        s.txChanges.length = s.savepoints[i]!.index;
        s.savepoints.length = i + 1;
        s.aborted = false;
        return;
      }
      default: {
        const never: never = tx;
        return never;
      }
    }
  };

  const build = (entry: ParsedEntry, s: PrivilegeSession, c: StatementChange, userName: string | null, statement: string): PrivilegeChange => {
    const actor = s.sessionAuth ?? userName;
    const current = s.role ?? actor;
    const resolve = (name: string | null): string | null => {
      if (name === 'CURRENT_USER' || name === 'CURRENT_ROLE') return current ?? name;
      if (name === 'SESSION_USER') return actor ?? name;
      return name;
    };
    // Every field named, not spread: one object shape for every row the store and the replay read.
    return {
      action: c.action,
      roleName: resolve(c.roleName),
      attribute: c.attribute,
      value: c.value,
      grantedRole: resolve(c.grantedRole),
      privileges: c.privileges,
      objectType: c.objectType,
      objectName: c.objectName,
      grantee: resolve(c.grantee),
      withOption: c.withOption,
      grantor: resolve(c.grantor),
      truncated: c.truncated,
      uncertain: c.uncertain,
      passwordStrength: c.passwordStrength,
      server: entry.record.server,
      loggedAt: entry.record.loggedAt,
      sessionId: entry.record.sessionId,
      actor,
      actingRole: s.role !== null && s.role !== actor ? s.role : null,
      statement,
      effective: true,
      seq: ++seq,
    };
  };

  /** Turns events into rows, keeping transaction state and the current role in step. */
  const play = (entry: ParsedEntry, s: PrivilegeSession, events: StatementEvent[], userName: string | null, statement: string): PrivilegeChange[] => {
    const out: PrivilegeChange[] = [];
    for (const e of events) {
      if (e.kind === 'transaction') {
        applyTx(entry, s, e.tx);
        continue;
      }
      closeAbortedTx(entry, s);
      const row = build(entry, s, e.change, userName, statement);
      out.push(row);
      if (s.inTx) s.txChanges.push(row);
      const c = e.change;
      if (c.action === 'set-role') {
        const v = c.value?.toLowerCase() === 'none' ? null : c.value;
        if (c.objectType === 'transaction') s.localRole = true;
        s.role = v;
      } else if (c.action === 'reset-role') s.role = null;
      else if (c.action === 'set-session-authorization') {
        s.sessionAuth = c.value === 'DEFAULT' ? null : c.value;
        s.role = null;
      }
    }
    return out;
  };

  const events = (entry: ParsedEntry, sql: string, ctx: { truncated: boolean; command?: string }, redacted: string): StatementEvent[] | null => {
    try {
      return analyzeStatement(sql, ctx);
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      dead.push({ source: entry.record.source, position: entry.record.position, reason: err.message, raw: redacted });
      return null;
    }
  };

  const observeStatement = (entry: Extract<ParsedEntry, { kind: 'statement' }>, userName: string | null): PrivilegeChange[] => {
    const s = stateOf(entry.record.server, entry.record.sessionId);
    const raw = entry.rawStatement;
    const pending: Pending = { raw, unquoted: raw.replace(/''/g, "'"), text: entry.statement, changes: [], confirmed: false, failed: false, statementId: null, fromAudit: false };
    s.pending = pending;
    s.entraCall = null;
    const relevant = mayChangePrivileges(entry) || transactionStart.test(raw);
    if (!relevant) return [];
    const ev = events(entry, raw, { truncated: false }, entry.statement);
    if (!ev) return [];
    pending.changes = play(entry, s, ev, userName, entry.statement);
    rememberEntraCall(s, pending, null);
    return pending.changes;
  };

  const isDuplicate = (s: PrivilegeSession, audit: Extract<ParsedEntry, { kind: 'audit' }>['audit'], text: string): boolean => {
    const p = s.pending;
    if (!p) return false;
    const core = text.replace(/\s*<REDACTED>\s*$/, '').replace(/;\s*$/, '').trim();
    if (!core || !(p.raw.includes(core) || p.unquoted.includes(core))) return false;
    if (p.fromAudit) {
      if (p.statementId === null || (audit.statementId !== p.statementId && audit.statementId !== p.statementId + 1)) return false;
    } else if (audit.substatementId !== 1 && audit.statementId !== p.statementId) return false;
    p.statementId = audit.statementId;
    if (s.entraCall?.pending === p) {
      // pgaudit logs a call's READ and FUNCTION entries as it starts: the call may still fail.
      s.entraCall.statementId ??= audit.statementId;
      return true;
    }
    p.confirmed = true;
    return true;
  };

  const rememberEntraCall = (s: PrivilegeSession, pending: Pending, statementId: number | null): void => {
    const created = pending.changes.find((c) => c.action === 'create-role');
    if (!created?.roleName || !ENTRA_CALL.test(pending.raw)) return;
    const said = new Map<string, string | null>();
    for (const c of pending.changes) if (c.roleName === created.roleName) said.set(saidKey(c), c.value);
    s.entraCall = { statementId, roleName: created.roleName, said, pending };
  };

  /** Of the changes a statement run by an Entra function makes, those its call did not already say. */
  const newToEntraCall = (s: PrivilegeSession, a: Extract<ParsedEntry, { kind: 'audit' }>['audit'], ev: StatementEvent[]): StatementEvent[] => {
    const call = s.entraCall;
    if (!call || a.substatementId <= 1 || (call.statementId !== null && call.statementId !== a.statementId)) return ev;
    return ev.filter((e) => {
      if (e.kind !== 'change' || e.change.roleName !== call.roleName) return true;
      const key = saidKey(e.change);
      if (call.said.has(key) && call.said.get(key) === e.change.value) return false;
      call.said.set(key, e.change.value);
      return true;
    });
  };

  const observeAudit = (entry: Extract<ParsedEntry, { kind: 'audit' }>, userName: string | null): PrivilegeChange[] => {
    const a = entry.audit;
    const text = entry.rawStatement ?? a.statement;
    const s = stateOf(entry.record.server, entry.record.sessionId);
    if (text !== null && isDuplicate(s, a, text)) return [];
    if (s.entraCall && a.substatementId === 1 && a.statementId !== s.entraCall.statementId) s.entraCall = null;
    const tx = auditTransactionOp(a.command, text ?? '');
    if (tx) {
      applyTx(entry, s, tx);
      return [];
    }
    if (!mayChangePrivileges(entry) || text === null) return [];
    const truncated = /<REDACTED>\s*$/.test(text) && (a.command === 'CREATE ROLE' || a.command === 'ALTER ROLE');
    const parsed = events(entry, text, { truncated, command: a.command }, a.statement ?? '');
    if (!parsed) return [];
    if (isEntraCall(entry)) {
      // The READ entry of the call and the FUNCTION entries after it carry the same text: read the first. The call
      // is pending until its statement ends: an ERROR for it (the role exists) means it changed nothing.
      const pending: Pending = { raw: text, unquoted: text.replace(/''/g, "'"), text: a.statement ?? '', changes: [], confirmed: false, failed: false, statementId: a.statementId, fromAudit: true };
      s.pending = pending;
      pending.changes = play(entry, s, parsed, userName, a.statement ?? '');
      rememberEntraCall(s, pending, a.statementId);
      return pending.changes;
    }
    const ev = newToEntraCall(s, a, parsed);
    if (s.entraCall && ev !== parsed) {
      const added = play(entry, s, ev, userName, a.statement ?? '');
      s.entraCall.pending.changes.push(...added);
      return added;
    }
    // A DO block's substatements (same statement id) repeat what the block already said, and pgaudit ≤ 16
    // logs a multi-statement string whole on each of its statements (consecutive ids): read it once.
    if (a.command === 'DO' || /;\s*\S/.test(text)) {
      s.pending = { raw: text, unquoted: text.replace(/''/g, "'"), text: a.statement ?? '', changes: [], confirmed: true, failed: false, statementId: a.statementId, fromAudit: true };
    }
    return play(entry, s, ev, userName, a.statement ?? '');
  };

  const observeError = (entry: ParsedEntry): void => {
    const s = stateOf(entry.record.server, entry.record.sessionId);
    if (s.inTx) {
      s.aborted = true;
      // Without savepoints the whole transaction is lost, whatever ends it (its COMMIT is not even audit-logged).
      if (s.savepoints.length === 0) mark(entry, s.txChanges, 'aborted');
      return;
    }
    const p = s.pending;
    if (!p || p.confirmed || p.failed) return;
    const failing = entry.record.statement;
    if (failing !== null && failing.trim() !== p.text.trim() && failing.trim() !== p.raw.trim()) return;
    p.failed = true;
    mark(entry, p.changes, 'failed');
  };

  return {
    observe(entry, session) {
      const userName = session.userName ?? entry.record.userName;
      switch (entry.kind) {
        case 'statement':
          return observeStatement(entry, userName);
        case 'audit': {
          // Most lines are reads and writes: they change nothing unless their session awaits the audit line of a
          // logged statement (and a session never seen has no state to keep: an ERROR finds nothing to mark).
          const { className } = entry.audit;
          if ((className === 'READ' || className === 'WRITE') && !peek(entry.record.server, entry.record.sessionId)?.pending && !isEntraCall(entry)) return NONE;
          return observeAudit(entry, userName);
        }
        case 'session':
          if (entry.session.event === 'disconnected') {
            const s = peek(entry.record.server, entry.record.sessionId);
            if (s?.inTx) mark(entry, s.txChanges, 'disconnected');
            sessions.get(entry.record.server)?.delete(entry.record.sessionId ?? '');
            if (last?.state === s) last = null;
          }
          return NONE;
        case 'auth-failure':
          return NONE;
        case 'other':
          if (entry.record.level === 'ERROR' && peek(entry.record.server, entry.record.sessionId)) observeError(entry);
          return NONE;
        default: {
          const never: never = entry;
          return never;
        }
      }
    },
    ineffective() {
      const out = marks;
      marks = [];
      return out;
    },
    deadLetters() {
      const out = dead;
      dead = [];
      return out;
    },
  };
}

const saidKey = (c: StatementChange): string => `${c.action}|${c.attribute ?? ''}`;

function lastIndexOf(points: { name: string }[], name: string): number {
  for (let i = points.length - 1; i >= 0; i--) if (points[i]!.name === name) return i;
  return -1;
}

/** pgaudit MISC command tags of transaction control; names come from the text (best effort). */
function auditTransactionOp(command: string, text: string): TransactionOp | null {
  switch (command) {
    case 'BEGIN':
    case 'START TRANSACTION':
      return BEGIN;
    case 'COMMIT':
    case 'PREPARE TRANSACTION':
      return COMMIT;
    case 'ROLLBACK':
      return /^\s*(?:rollback|abort)\s+(?:work\s+|transaction\s+)?to\b/i.test(text)
        ? { op: 'rollback-to', name: savepointName(text, /\bto\s+(?:savepoint\s+)?(?:"([^"]+)"|(\w+))/i) }
        : ROLLBACK;
    case 'SAVEPOINT':
      return { op: 'savepoint', name: savepointName(text, /savepoint\s+(?:"([^"]+)"|(\w+))/i) };
    case 'RELEASE':
      return { op: 'release', name: savepointName(text, /release\s+(?:savepoint\s+)?(?:"([^"]+)"|(\w+))/i) };
    default:
      return null;
  }
}

// One each: every transaction of every session begins and ends with one of these.
const BEGIN: TransactionOp = Object.freeze({ op: 'begin' });
const COMMIT: TransactionOp = Object.freeze({ op: 'commit' });
const ROLLBACK: TransactionOp = Object.freeze({ op: 'rollback' });

/** A quoted name as written, an unquoted one folded to lower case, as PostgreSQL does. */
function savepointName(text: string, re: RegExp): string {
  const m = re.exec(text);
  return m ? (m[1] !== undefined ? m[1] : (m[2] ?? '').toLowerCase()) : '';
}
