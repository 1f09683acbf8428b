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
import type { DeadLetter } from '../../decode/log-record.js';
import { ParseError } from '../../decode/log-record.js';
import type { PrivilegeChange, StatementChange } from './privilege-change.js';
import { analyzeStatement, type StatementEvent, type TransactionOp } from './statement-changes.js';

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
]);
const statementStart =
  /^\s*(?:(?:create|alter|drop)\s+(?:role|user|group)\b|grant\b|revoke\b|set\b|reset\b|alter\s+(?:system|database|default)\b|reassign\b|drop\s+owned\b|(?:create|drop)\s+extension\b|do\b)/i;
const transactionStart = /^\s*(?:begin|start|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b/i;

/** Cheap prefilter (runs on every entry): could this entry change privileges or security settings? */
export function mayChangePrivileges(entry: ParsedEntry): boolean {
  if (entry.kind === 'audit') {
    const a = entry.audit;
    if (auditClasses.has(a.className)) return a.className === 'ROLE' || a.command === 'SET' || a.command === 'RESET';
    if (a.className === 'DDL') return ddlCommands.has(a.command);
    return a.className === 'FUNCTION' && a.command === 'DO';
  }
  if (entry.kind === 'statement') return statementStart.test(stripLeadingComments(entry.rawStatement));
  return false;
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

interface SessionState {
  inTx: boolean;
  aborted: boolean;
  txChanges: PrivilegeChange[];
  savepoints: { name: string; index: number }[];
  sessionAuth: string | null;
  role: string | null;
  roleAtBegin: string | null;
  localRole: boolean;
  pending: Pending | null;
}

/** What observe returns for a line that changes nothing: one frozen array, not a new one per line. */
const NONE: readonly PrivilegeChange[] = Object.freeze([]);

export function createPrivilegeAnalyzer(): PrivilegeAnalyzer {
  /** By server, then session id ('' for none): two lookups, no key string built per line. */
  const sessions = new Map<string, Map<string, SessionState>>();
  let marks: IneffectiveMark[] = [];
  let dead: DeadLetter[] = [];
  let seq = 0;

  // The last session asked for: a session's lines mostly come in runs, and this runs for every audit line.
  let last: { server: string; sessionId: string | null; state: SessionState } | null = null;
  const peek = (server: string, sessionId: string | null): SessionState | undefined => {
    if (last !== null && last.sessionId === sessionId && last.server === server) return last.state;
    return sessions.get(server)?.get(sessionId ?? '');
  };
  const stateOf = (server: string, sessionId: string | null): SessionState => {
    let s = peek(server, sessionId);
    if (!s) {
      s = { inTx: false, aborted: false, txChanges: [], savepoints: [], sessionAuth: null, role: null, roleAtBegin: null, localRole: false, pending: null };
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

  const endTx = (s: SessionState, rolledBack: boolean): void => {
    s.inTx = false;
    s.aborted = false;
    // New arrays only when used (nothing else holds these, and most transactions leave both empty).
    if (s.txChanges.length > 0) s.txChanges = [];
    if (s.savepoints.length > 0) s.savepoints = [];
    if (rolledBack || s.localRole) s.role = s.roleAtBegin;
    s.localRole = false;
  };

  /** An aborted transaction can run nothing: a change seen afterwards means it ended unseen. */
  const closeAbortedTx = (entry: ParsedEntry, s: SessionState): void => {
    if (!s.aborted) return;
    mark(entry, s.txChanges, 'aborted');
    endTx(s, true);
  };

  const applyTx = (entry: ParsedEntry, s: SessionState, tx: TransactionOp): void => {
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

  const build = (entry: ParsedEntry, s: SessionState, c: StatementChange, userName: string | null, statement: string): PrivilegeChange => {
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
  const play = (entry: ParsedEntry, s: SessionState, events: StatementEvent[], userName: string | null, statement: string): PrivilegeChange[] => {
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
    const relevant = mayChangePrivileges(entry) || transactionStart.test(raw);
    if (!relevant) return [];
    const ev = events(entry, raw, { truncated: false }, entry.statement);
    if (!ev) return [];
    pending.changes = play(entry, s, ev, userName, entry.statement);
    return pending.changes;
  };

  const isDuplicate = (s: SessionState, audit: Extract<ParsedEntry, { kind: 'audit' }>['audit'], text: string): boolean => {
    const p = s.pending;
    if (!p) return false;
    const core = text.replace(/\s*<REDACTED>\s*$/, '').replace(/;\s*$/, '').trim();
    if (!core || !(p.raw.includes(core) || p.unquoted.includes(core))) return false;
    if (p.fromAudit) {
      if (p.statementId === null || (audit.statementId !== p.statementId && audit.statementId !== p.statementId + 1)) return false;
    } else if (audit.substatementId !== 1 && audit.statementId !== p.statementId) return false;
    p.statementId = audit.statementId;
    p.confirmed = true;
    return true;
  };

  const observeAudit = (entry: Extract<ParsedEntry, { kind: 'audit' }>, userName: string | null): PrivilegeChange[] => {
    const a = entry.audit;
    const text = entry.rawStatement ?? a.statement;
    const s = stateOf(entry.record.server, entry.record.sessionId);
    if (text !== null && isDuplicate(s, a, text)) return [];
    const tx = auditTransactionOp(a.command, text ?? '');
    if (tx) {
      applyTx(entry, s, tx);
      return [];
    }
    if (!mayChangePrivileges(entry) || text === null) return [];
    const truncated = /<REDACTED>\s*$/.test(text) && (a.command === 'CREATE ROLE' || a.command === 'ALTER ROLE');
    const ev = events(entry, text, { truncated, command: a.command }, a.statement ?? '');
    if (!ev) return [];
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
          if ((className === 'READ' || className === 'WRITE') && !peek(entry.record.server, entry.record.sessionId)?.pending) return NONE;
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
