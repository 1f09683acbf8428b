/**
 * Decodes PostgreSQL's plain stderr log (a `logging_collector` file, `docker logs`, an Azure message)
 * into LogRecords, given the server's log_line_prefix.
 *
 * Input contract: the lines of one file in order. With the logging collector, an entry and its
 * DETAIL/HINT/CONTEXT/STATEMENT lines are written as one chunk, so they follow each other directly.
 * - A line matching the prefix with a main level (LOG, ERROR, ...) starts an entry.
 * - A line starting with a TAB continues the field before it (PostgreSQL writes `\n\t` for each newline
 *   in a message, detail or statement); the one tab is stripped and the lines joined with `\n`.
 * - A prefixed DETAIL / HINT / STATEMENT line fills that field of the held entry of the same session.
 *   CONTEXT, QUERY and LOCATION lines (and their continuations) are consumed but not kept: LogRecord has
 *   no field for them, Azure never sends them, and a CONTEXT may quote a function body with a password.
 * - Anything else is a dead letter; decoding goes on with the next line.
 * An entry is emitted only when the next entry starts (or at flush): until then `pendingStart()` is its offset.
 */
import type { DecodeResult, LogRecord } from '../log-record.js';
import type { LineDecoder, SourceLine } from '../../sources/source-line.js';
import type { CompiledPrefix, PrefixMatch } from '../../parse/prefix/compile-prefix.js';
import { isMainLevel, isSubLevel, type SubLevel } from '../../parse/prefix/log-level.js';

export interface StderrDecoderOptions {
  prefix: CompiledPrefix;
  server: string;
  source: string;
}

type TextField = 'message' | 'detail' | 'hint' | 'statement';

/** Where each sub-level line goes; null = consumed, not kept (see the header). */
const SUB_LEVEL_FIELD = {
  DETAIL: 'detail',
  HINT: 'hint',
  STATEMENT: 'statement',
  CONTEXT: null,
  QUERY: null,
  LOCATION: null,
} as const satisfies Record<SubLevel, TextField | null>;

interface HeldEntry {
  start: number;
  firstLine: string;
  head: PrefixMatch;
  level: string;
  text: Record<TextField, string | null>;
  /** The field that continuation lines extend; null while inside a CONTEXT/QUERY/LOCATION. */
  current: TextField | null;
}

/** `LEVEL:  text` → text; the level is already known from the prefix match. */
function textAfterLevel(rest: string, level: string): string {
  let i = level.length + 1;
  if (rest.charCodeAt(i) === 32) i++;
  if (rest.charCodeAt(i) === 32) i++;
  return rest.slice(i);
}

export function createStderrDecoder(opts: StderrDecoderOptions): LineDecoder<DecodeResult> {
  const { prefix, server, source } = opts;
  const bySession = prefix.carries.has('sessionId') ? 'sessionId' : prefix.carries.has('pid') ? 'pid' : null;
  const noMatchReason = `line does not match log_line_prefix '${prefix.prefix}'`;
  let held: HeldEntry | null = null;
  /** Whether tab lines now belong to the held entry or to a line that was already dead-lettered. */
  let continuesHeld = false;

  const dead = (line: SourceLine, reason: string): DecodeResult => ({
    kind: 'dead',
    dead: { source, position: String(line.start), reason, raw: line.text },
  });

  function emit(entry: HeldEntry): DecodeResult {
    const { head } = entry;
    if (head.loggedAt === undefined) {
      return {
        kind: 'dead',
        dead: {
          source,
          position: String(entry.start),
          reason: prefix.carries.has('loggedAt')
            ? `time in the log line has an unknown zone or is malformed (log_line_prefix '${prefix.prefix}')`
            : `log_line_prefix '${prefix.prefix}' has no %t, %m or %n: the record has no time`,
          raw: entry.firstLine,
        },
      };
    }
    const record: LogRecord = {
      server,
      loggedAt: head.loggedAt,
      sessionId: head.sessionId ?? null,
      pid: head.pid ?? null,
      level: entry.level,
      sqlstate: head.sqlstate ?? null,
      message: entry.text.message ?? '',
      detail: entry.text.detail,
      hint: entry.text.hint,
      statement: entry.text.statement,
      userName: head.userName ?? null,
      databaseName: head.databaseName ?? null,
      clientAddr: head.clientAddr ?? null,
      clientPort: head.clientPort ?? null,
      applicationName: head.applicationName ?? null,
      source,
      position: String(entry.start),
    };
    return { kind: 'record', record };
  }

  function sameSession(a: PrefixMatch, b: PrefixMatch): boolean {
    return bySession === null || a[bySession] === b[bySession];
  }

  /**
   * The last dead-lettered line, held while tab lines continue it: a line and its continuations are one
   * dead letter, so a password on a continuation line is redacted with the statement it belongs to.
   */
  let heldDead: { start: number; reason: string; raw: string } | null = null;

  const releaseDead = (): DecodeResult[] => {
    if (heldDead === null) return [];
    const d = heldDead;
    heldDead = null;
    return [{ kind: 'dead', dead: { source, position: String(d.start), reason: d.reason, raw: d.raw } }];
  };

  function push(line: SourceLine): DecodeResult[] {
    const continuesDead = line.text.charCodeAt(0) === 9 && heldDead !== null && !(held !== null && continuesHeld);
    if (continuesDead) {
      // The store keeps 64 KiB of a dead letter: what lies past that is not kept in memory either.
      if (heldDead!.raw.length < MAX_HELD_DEAD) heldDead!.raw += '\n' + line.text;
      return [];
    }
    const out = releaseDead();
    for (const r of decodeLine(line)) {
      if (r.kind === 'dead' && r.dead.position === String(line.start)) heldDead = { start: line.start, reason: r.dead.reason, raw: r.dead.raw };
      else out.push(r);
    }
    return out;
  }

  function decodeLine(line: SourceLine): DecodeResult[] {
    const { text } = line;
    if (text.charCodeAt(0) === 9 /* \t */) {
      if (held === null || !continuesHeld) {
        return [dead(line, 'continuation line (starts with a tab) has no log entry before it')];
      }
      if (held.current !== null) held.text[held.current] += '\n' + text.slice(1);
      return [];
    }
    const m = prefix.match(text);
    const level = m?.level;
    if (m === null || level === undefined) {
      continuesHeld = false;
      return [dead(line, noMatchReason)];
    }
    if (isMainLevel(level)) {
      const out = held === null ? [] : [emit(held)];
      held = {
        start: line.start,
        firstLine: text,
        head: m,
        level,
        text: { message: textAfterLevel(m.rest, level), detail: null, hint: null, statement: null },
        current: 'message',
      };
      continuesHeld = true;
      return out;
    }
    if (isSubLevel(level)) {
      if (held === null || !sameSession(held.head, m)) {
        continuesHeld = false;
        return [dead(line, `${level} line has no log entry of the same session before it`)];
      }
      const field = SUB_LEVEL_FIELD[level];
      if (field !== null) {
        const value = textAfterLevel(m.rest, level);
        const before = held.text[field];
        held.text[field] = before === null ? value : before + '\n' + value;
      }
      held.current = field;
      continuesHeld = true;
      return [];
    }
    continuesHeld = false;
    return [dead(line, `unknown level '${level}'`)];
  }

  return {
    push,
    flush(): DecodeResult[] {
      const out = held === null ? [] : [emit(held)];
      out.push(...releaseDead());
      held = null;
      continuesHeld = false;
      return out;
    },
    pendingStart(): number | null {
      const starts = [held?.start, heldDead?.start].filter((s): s is number => s !== undefined);
      return starts.length === 0 ? null : Math.min(...starts);
    },
  };
}

const MAX_HELD_DEAD = 64 * 1024;
