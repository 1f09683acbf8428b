/**
 * Compiles a PostgreSQL `log_line_prefix` into one anchored regex, the way pgBadger's `--prefix` and the
 * pganalyze collector do: each `%` escape is a row of ESCAPES (regex fragment → fields it fills → setter).
 * The work is done once per prefix; matching a line is a single `exec` plus the setters of its groups.
 *
 * Input contract: one rendered log line, without its newline. The regex also requires a known level
 * (`LOG:`, `DETAIL:`, ...) right after the prefix, because free-text escapes (`%u`, `%a`, `%d`) have no
 * end of their own and because real prefixes sometimes have no separator before the level.
 */
import { LEVEL_ALTERNATION } from './log-level.js';
import { parseEpochSeconds, parsePostgresTimestamp } from './postgres-timestamp.js';

export { splitLevel, isMainLevel, isSubLevel, MAIN_LEVELS, SUB_LEVELS } from './log-level.js';

/** Azure Database for PostgreSQL - Flexible Server's default (and Single Server's): time, session id. */
export const AZURE_LOG_LINE_PREFIX = '%t-%c-';

export interface PrefixMatch {
  /** The text after the prefix, starting at `LEVEL:  `. */
  rest: string;
  /** The level that follows the prefix (`LOG`, `DETAIL`, ...); `splitLevel(rest)` gives the same. */
  level?: string;
  loggedAt?: Date;
  sessionId?: string;
  pid?: number;
  userName?: string;
  databaseName?: string;
  clientAddr?: string;
  clientPort?: number;
  applicationName?: string;
  sqlstate?: string;
  lineNumber?: number;
  commandTag?: string;
  virtualXid?: string;
  xid?: string;
  backendType?: string;
  queryId?: string;
  /** `%P`: the leader's pid when this process is a parallel worker. */
  leaderPid?: number;
  /** `%s`: when the session started. */
  sessionStartedAt?: Date;
}

export interface CompiledPrefix {
  prefix: string;
  match(line: string): PrefixMatch | null;
  /** Names of the PrefixMatch fields this prefix can fill (e.g. `sessionId` only with `%c`). */
  carries: Set<string>;
}

type PrefixField = Exclude<keyof PrefixMatch, 'rest' | 'level'>;

interface Escape {
  /** Regex for the value, with no capturing group of its own. */
  fragment: string;
  fills: readonly PrefixField[];
  /** Called with the non-empty captured value; absent for escapes whose value auditduck does not keep. */
  set?: (m: PrefixMatch, value: string) => void;
}

// Names, databases and application names are cut by PostgreSQL at NAMEDATALEN-1 = 63 bytes; the bound
// keeps backtracking cheap on lines that do not match (a 40 kB statement must not cost 40k^3 steps).
const NAME = '.{0,63}?';
const HOST = '[^\\s]{0,255}?';
const TIME = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}';
const ZONE = ' (?:[A-Za-z]{1,6}|[+-]\\d{2}(?::?\\d{2})?)';

/** PostgreSQL prints `[unknown]` for a user, database or application it does not know yet: no value. */
const UNKNOWN = '[unknown]';

let lastTimeText = '';
let lastTimeMs: number | null = null;
/** Lines of one second share their `%t` text; parse each text once. */
function cachedTimestamp(text: string): Date | undefined {
  if (text !== lastTimeText) {
    lastTimeText = text;
    lastTimeMs = parsePostgresTimestamp(text)?.getTime() ?? null;
  }
  return lastTimeMs === null ? undefined : new Date(lastTimeMs);
}

const ESCAPES = {
  a: { fragment: NAME, fills: ['applicationName'], set: (m, v) => { if (v !== UNKNOWN) m.applicationName = v; } },
  u: { fragment: NAME, fills: ['userName'], set: (m, v) => { if (v !== UNKNOWN) m.userName = v; } },
  d: { fragment: NAME, fills: ['databaseName'], set: (m, v) => { if (v !== UNKNOWN) m.databaseName = v; } },
  r: {
    fragment: `${HOST}(?:\\(\\d+\\))?`,
    fills: ['clientAddr', 'clientPort'],
    set: (m, v) => {
      const open = v.endsWith(')') ? v.lastIndexOf('(') : -1;
      if (open < 0) { m.clientAddr = v; return; }
      if (open > 0) m.clientAddr = v.slice(0, open);
      m.clientPort = Number(v.slice(open + 1, -1));
    },
  },
  h: { fragment: HOST, fills: ['clientAddr'], set: (m, v) => { m.clientAddr = v; } },
  b: { fragment: '.{0,96}?', fills: ['backendType'], set: (m, v) => { m.backendType = v; } },
  p: { fragment: '\\d+', fills: ['pid'], set: (m, v) => { m.pid = Number(v); } },
  P: { fragment: '\\d*', fills: ['leaderPid'], set: (m, v) => { m.leaderPid = Number(v); } },
  t: { fragment: TIME + ZONE, fills: ['loggedAt'], set: (m, v) => { const t = cachedTimestamp(v); if (t) m.loggedAt = t; } },
  m: {
    fragment: `${TIME}\\.\\d{3}${ZONE}`,
    fills: ['loggedAt'],
    set: (m, v) => { const t = parsePostgresTimestamp(v); if (t) m.loggedAt = t; },
  },
  n: { fragment: '\\d+\\.\\d{3}', fills: ['loggedAt'], set: (m, v) => { const t = parseEpochSeconds(v); if (t) m.loggedAt = t; } },
  i: { fragment: '.{0,64}?', fills: ['commandTag'], set: (m, v) => { m.commandTag = v; } },
  e: { fragment: '[0-9A-Z]{5}', fills: ['sqlstate'], set: (m, v) => { m.sqlstate = v; } },
  c: { fragment: '[0-9a-f]+\\.[0-9a-f]+', fills: ['sessionId'], set: (m, v) => { m.sessionId = v; } },
  l: { fragment: '\\d+', fills: ['lineNumber'], set: (m, v) => { m.lineNumber = Number(v); } },
  s: {
    fragment: TIME + ZONE,
    fills: ['sessionStartedAt'],
    set: (m, v) => { const t = parsePostgresTimestamp(v); if (t) m.sessionStartedAt = t; },
  },
  v: { fragment: '(?:\\d+/\\d+)?', fills: ['virtualXid'], set: (m, v) => { m.virtualXid = v; } },
  x: { fragment: '\\d+', fills: ['xid'], set: (m, v) => { m.xid = v; } },
  Q: { fragment: '-?\\d+', fills: ['queryId'], set: (m, v) => { m.queryId = v; } },
  '%': { fragment: '%', fills: [] },
} satisfies Record<string, Escape>;

type EscapeChar = keyof typeof ESCAPES;
const isEscapeChar = (c: string): c is EscapeChar => Object.hasOwn(ESCAPES, c);

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** One piece of a prefix: literal text, a known escape (with PostgreSQL's optional `%-10u` padding), or `%q`. */
type Token =
  | { kind: 'literal'; text: string }
  | { kind: 'escape'; char: EscapeChar; padded: boolean }
  | { kind: 'unknown'; text: string }
  | { kind: 'stop-for-non-session' };

function tokenize(prefix: string): Token[] {
  const tokens: Token[] = [];
  const re = /%(-?\d*)(.?)|[^%]+/gs;
  for (const m of prefix.matchAll(re)) {
    const whole = m[0];
    if (!whole.startsWith('%')) { tokens.push({ kind: 'literal', text: whole }); continue; }
    const char = m[2] ?? '';
    if (char === 'q') tokens.push({ kind: 'stop-for-non-session' });
    else if (isEscapeChar(char)) tokens.push({ kind: 'escape', char, padded: (m[1] ?? '') !== '' });
    else tokens.push({ kind: 'unknown', text: whole });
  }
  return tokens;
}

export function compilePrefix(prefix: string): CompiledPrefix {
  const setters: Array<NonNullable<Escape['set']>> = [];
  const carries = new Set<string>();
  let source = '^';
  let optionalOpen = false;
  for (const token of tokenize(prefix)) {
    switch (token.kind) {
      case 'literal':
        source += escapeRegex(token.text);
        break;
      case 'unknown':
        break; // PostgreSQL prints nothing for an escape it does not know.
      case 'stop-for-non-session':
        if (!optionalOpen) { source += '(?:'; optionalOpen = true; }
        break;
      case 'escape': {
        const escape: Escape = ESCAPES[token.char];
        let fragment = escape.fragment;
        if (escape.set !== undefined) {
          fragment = `(${fragment})`;
          setters.push(escape.set);
          for (const field of escape.fills) carries.add(field);
        }
        // Padding (`%-10u`, `%10p`) fills with spaces on one side or the other.
        source += token.padded ? ` *${fragment} *` : fragment;
        break;
      }
      default: {
        const exhaustive: never = token;
        throw new Error(`unhandled prefix token ${JSON.stringify(exhaustive)}`);
      }
    }
  }
  if (optionalOpen) source += ')?';
  source += `(?=(${LEVEL_ALTERNATION}):(?: |$))`;
  const regex = new RegExp(source, 's');
  const levelGroup = setters.length + 1;

  return {
    prefix,
    carries,
    match(line: string): PrefixMatch | null {
      const m = regex.exec(line);
      if (m === null) return null;
      const out: PrefixMatch = { rest: line.slice(m[0].length), level: m[levelGroup] };
      for (let i = 0; i < setters.length; i++) {
        const value = m[i + 1];
        // Empty values (`%u` of a background process, `%P` outside parallel query) stay undefined.
        if (value !== undefined && value !== '') (setters[i] as NonNullable<Escape['set']>)(out, value);
      }
      return out;
    },
  };
}

/** What a prefix costs auditduck, in words a DBA can act on (as the pganalyze collector warns). */
export function validatePrefix(prefix: string): string[] {
  const tokens = tokenize(prefix);
  const has = (...chars: string[]): boolean =>
    tokens.some((t) => t.kind === 'escape' && chars.includes(t.char));
  const warnings: string[] = [];
  if (!has('t', 'm', 'n')) warnings.push('no %t/%m/%n: lines carry no time, so every stderr record becomes a dead letter');
  else if (!has('m', 'n')) warnings.push('no %m/%n: times have whole seconds only (use %m for milliseconds)');
  if (!has('c')) {
    warnings.push(has('p')
      ? 'no %c: sessions can only be tied by pid, and pids are reused after disconnect'
      : 'no %c or %p: lines cannot be tied to a session at all');
  }
  if (!has('u') || !has('d')) warnings.push('no %u/%d: users come from connection lines');
  if (!has('r', 'h')) warnings.push('no %r/%h: client addresses come from connection lines');
  for (const t of tokens) {
    if (t.kind === 'unknown') warnings.push(`unknown escape '${t.text}': PostgreSQL prints nothing for it`);
  }
  return warnings;
}
