/**
 * Finds password literals in SQL-ish text and says how to replace them, without changing
 * anything else. Works level by level: string literals, quoted names, comments and
 * dollar-quoted bodies that mention a secret word are decoded and scanned again, and their
 * edits mapped back — so `do $$ … execute 'create role x password ''hunter2''' … $$` is
 * redacted to `''<REDACTED>''` and the block still parses.
 *
 * Which token sequences hold a secret is the KEYWORD_RULES table; the few call shapes that
 * need argument positions (format, set_config, `'… PASSWORD ' || quote_literal(…)`) are
 * separate small functions below.
 */
import type { SecretFinding } from './secret-finding.js';
import { describeSecret } from './describe-secret.js';
import { decodeRange, decodeToken, encodeFor } from './literal-codec.js';
import { identName, isLiteral, isOp, nextSignificant, nextToken, type Token } from './sql-lexer.js';

export const REDACTED = '<REDACTED>';
export const REDACTED_LITERAL = `'${REDACTED}'`;

/** Cheap test for "may hold a secret": text that fails it is returned untouched. */
export const SECRET_HINT = /passw|secret|pwd\s*=|:\/\/|key\w*"?\s*(?:=|to\s)|sig=/i;

export interface Edit {
  start: number;
  end: number;
  replacement: string;
  finding: SecretFinding | null;
}

export interface ScanResult {
  edits: Edit[];
  /** Bind parameters ($N) that stand where a secret literal would. */
  paramIndexes: Set<number>;
  /** An unclosed quote at this level: the text may not be SQL (log prose with an apostrophe). */
  outOfStep: boolean;
}

const isSpace = (c: string | undefined) => c !== undefined && /\s/.test(c);

/**
 * Whether the whole text is a libpq key=value connection string (values bare, or '…' with backslash
 * escapes), read the way libpq reads it. A loop, not a regex: a regex for this backtracks badly.
 */
export function isConninfo(text: string): boolean {
  const n = text.length;
  const skip = (from: number) => {
    let i = from;
    while (isSpace(text[i])) i++;
    return i;
  };
  let i = skip(0);
  if (i === n) return false;
  while (i < n) {
    const keyStart = i;
    while (i < n && /[A-Za-z_]/.test(text[i] as string)) i++;
    if (i === keyStart) return false;
    i = skip(i);
    if (text[i] !== '=') return false;
    i = skip(i + 1);
    if (text[i] === "'") {
      for (i++; i < n && text[i] !== "'"; i++) if (text[i] === '\\') i++;
      if (i >= n) return false;
      i++;
    } else {
      while (i < n && !isSpace(text[i])) i++;
    }
    const valueEnd = i;
    i = skip(i);
    if (i < n && i === valueEnd) return false; // pairs are separated by whitespace
  }
  return true;
}

export interface ScanContext {
  /** The text is a libpq conninfo string: `password='…'` uses backslash escapes, not SQL's doubled quotes. */
  inString: boolean;
  depth: number;
}

interface RuleContext {
  inOptions: boolean;
  afterSet: boolean;
}

interface KeywordRule {
  name: string;
  matches(word: string, ctx: RuleContext): boolean;
  /** `none`: the literal follows the word (`PASSWORD 'x'`); `assign`: after `=`, `:=` or SET's `TO`. */
  connectors: ReadonlyArray<'none' | 'assign'>;
  kind(ctx: RuleContext): SecretFinding['kind'];
}

/** Words whose following literal is a secret. Order matters: the first rule that matches wins. */
export const KEYWORD_RULES: readonly KeywordRule[] = [
  {
    name: 'role PASSWORD option; USER MAPPING / SERVER OPTIONS (password …); password = literal',
    matches: (w) => w === 'password',
    connectors: ['none', 'assign'],
    kind: (c) => (c.inOptions ? 'option-password' : 'password'),
  },
  {
    name: 'assignment or comparison to a column or setting named like password/secret',
    matches: (w) => /passw|secret/.test(w),
    connectors: ['assign'],
    kind: () => 'password',
  },
  {
    name: 'SET / ALTER SYSTEM SET of a setting named like *key',
    matches: (w, c) => c.afterSet && /key$/.test(w),
    connectors: ['assign'],
    kind: () => 'password',
  },
];

const MAX_DEPTH = 16;

function literalEdit(src: string, t: Token, kind: SecretFinding['kind']): Edit | null {
  const value = decodeToken(src, t).text;
  // An empty unclosed quote is the opening half of a concatenation (`' PASSWORD ''' || …`): nothing here.
  if (value === REDACTED || (!t.terminated && value === '')) return null;
  // `$$x$$''` is two tokens, but `'<REDACTED>'''` would be one: keep them apart so a second pass agrees.
  const replacement = src[t.end] === "'" ? `${REDACTED_LITERAL} ` : REDACTED_LITERAL;
  return { start: t.start, end: t.end, replacement, finding: describeSecret(kind, value) };
}

function paramIndex(src: string, t: Token | null): number | null {
  return t !== null && t.kind === 'param' ? Number(src.slice(t.start + 1, t.end)) : null;
}

/** The token after a rule's connector, or null when the connector is not there. */
function valueAfter(src: string, word: Token, rule: KeywordRule, ctx: RuleContext): Token | null {
  const next = nextSignificant(src, word.end);
  if (next === null) return null;
  if (rule.connectors.includes('assign')) {
    const isAssign = isOp(next, src, '=') || isOp(next, src, ':=') || (ctx.afterSet && identName(next, src) === 'to');
    if (isAssign) return nextSignificant(src, next.end);
  }
  return rule.connectors.includes('none') ? next : null;
}

/** pgcrypto and built-in hashing calls whose first argument is the clear-text password. */
const HASHING_CALLS = new Set(['crypt', 'md5', 'digest', 'hmac', 'sha224', 'sha256', 'sha384', 'sha512', 'pgp_sym_encrypt']);

/** `password = crypt('x', gen_salt('bf'))`: the literal inside the hashing call; otherwise the token itself. */
function unwrapHashing(src: string, value: Token | null): Token | null {
  const fn = identName(value, src);
  if (fn === null || !HASHING_CALLS.has(fn)) return value;
  const open = nextSignificant(src, (value as Token).end);
  return isOp(open, src, '(') ? loneValue(src, callArguments(src, (open as Token).end)[0]) : value;
}

/**
 * libpq conninfo value after `password =`: `'…'` with backslash escapes, or a bare word.
 * A bare value stops at whitespace or `;` (ADO-style strings), and at `&` in a URL query.
 */
function conninfoEdit(src: string, word: Token, inString: boolean): { edit: Edit | null; end: number } | null {
  let p = word.end;
  while (p < src.length && /\s/.test(src[p] as string)) p++;
  if (src[p] !== '=') return null;
  const eq = p;
  p++;
  while (p < src.length && /\s/.test(src[p] as string)) p++;
  const finding = (value: string) => describeSecret('connection-password', value);
  if (src[p] === "'") {
    if (!inString) return null; // top-level SQL: `password = 'x'` is a SQL literal, the keyword rule takes it
    let i = p + 1;
    let value = '';
    while (i < src.length && src[i] !== "'") {
      if (src[i] === '\\' && i + 1 < src.length) i++;
      value += src[i];
      i++;
    }
    const end = Math.min(i + 1, src.length);
    return { edit: value === REDACTED ? null : { start: p, end, replacement: REDACTED_LITERAL, finding: finding(value) }, end };
  }
  // Outside a string only `password=value` written without spaces is taken as conninfo (log prose).
  if (!inString && (eq !== word.end || p !== eq + 1)) return null;
  if (!inString && /[$(]/.test(src[p] ?? '')) return null;
  const inQuery = /[?&]/.test(src[word.start - 1] ?? '');
  const stop = inString ? (inQuery ? /[\s;&#]/ : /[\s;]/) : /[\s;&#'"),]/;
  let i = p;
  while (i < src.length && !stop.test(src[i] as string)) i++;
  const value = src.slice(p, i);
  if (value === '' || value === REDACTED) return { edit: null, end: i };
  return { edit: { start: p, end: i, replacement: REDACTED, finding: finding(value) }, end: i };
}

/**
 * Text that ends where a password value would start: `… PASSWORD `, `… password='`.
 * Written so that no two quantifiers compete for the same spaces (no quadratic backtracking).
 */
const ENDS_WITH_PASSWORD = /\bpassword(\s*=)?(?:\s*')?\s*$/i;

/** `'… PASSWORD ' || quote_literal('s3cret')` and `'… password=' || 'x'`: the literal after the concatenation. */
function concatenatedSecret(src: string, t: Token, content: string): { value: Token | null; kind: SecretFinding['kind'] } | null {
  const m = ENDS_WITH_PASSWORD.exec(content);
  if (!m) return null;
  const kind = m[1] ? 'connection-password' : 'password';
  let next = nextSignificant(src, t.end);
  if (!isOp(next, src, '||')) return null;
  next = nextSignificant(src, (next as Token).end);
  const fn = identName(next, src);
  if (fn !== null && /^(quote_literal|quote_nullable)$/.test(fn)) {
    const open = nextSignificant(src, (next as Token).end);
    if (!isOp(open, src, '(')) return null;
    next = nextSignificant(src, (open as Token).end);
  }
  return { value: next, kind };
}

/** The argument tokens of a call, each a list of significant tokens, starting after `(`. */
function callArguments(src: string, from: number): Token[][] {
  const args: Token[][] = [[]];
  let depth = 0;
  let p = from;
  for (let t = nextSignificant(src, p); t !== null; t = nextSignificant(src, p)) {
    p = t.end;
    if (isOp(t, src, '(')) depth++;
    else if (isOp(t, src, ')')) {
      if (depth === 0) return args;
      depth--;
    } else if (depth === 0 && isOp(t, src, ',')) {
      args.push([]);
      continue;
    }
    (args[args.length - 1] as Token[]).push(t);
  }
  return args;
}

/** A lone literal or parameter argument (a cast after it is fine); null for expressions. */
function loneValue(src: string, arg: Token[] | undefined): Token | null {
  const first: Token | null = arg?.[0] ?? null;
  if (!arg || first === null || !(first.kind === 'param' || isLiteral(first))) return null;
  return arg.length === 1 || isOp(arg[1] ?? null, src, '::') ? first : null;
}

/** `format('… password %L', 'secret')`: which argument numbers (1-based after the format string) are secrets. */
export function formatSecretArguments(formatString: string): Set<number> {
  const secret = new Set<number>();
  const spec = /%(?:([0-9]+)\$)?-?(?:[0-9]+|\*)?([sIL%])/g;
  let sequential = 0;
  for (let m = spec.exec(formatString); m !== null; m = spec.exec(formatString)) {
    if (m[2] === '%') continue;
    const n = m[1] !== undefined ? Number(m[1]) : sequential + 1;
    sequential = n;
    if (ENDS_WITH_PASSWORD.test(formatString.slice(0, m.index))) secret.add(n);
  }
  return secret;
}

function recurse(src: string, t: Token, ctx: ScanContext): Edit[] {
  if (ctx.depth >= MAX_DEPTH) return [];
  if (!SECRET_HINT.test(src.slice(t.contentStart, t.contentEnd))) return [];
  const decoded = decodeRange(src, t.contentStart, t.contentEnd, t.style);
  const inner = scanSql(decoded.text, {
    inString: t.kind === 'string' && isConninfo(decoded.text),
    depth: ctx.depth + 1,
  });
  return inner.edits.map((e) => ({
    start: decoded.map[e.start] as number,
    end: decoded.map[e.end] as number,
    replacement: encodeFor(t.style, e.replacement),
    finding: e.finding,
  }));
}

function isSetTarget(prev: Token[], src: string): boolean {
  let i = prev.length - 1;
  while (i >= 1 && isOp(prev[i] ?? null, src, '.') && prev[i - 1]?.kind === 'ident') i -= 2;
  const w = identName(prev[i] ?? null, src);
  return w === 'set' || w === 'local' || w === 'session';
}

export function scanSql(src: string, ctx: ScanContext = { inString: false, depth: 0 }): ScanResult {
  const edits: Edit[] = [];
  const paramIndexes = new Set<number>();
  const handled = new Set<number>(); // starts of literals a rule already redacted
  const prev: Token[] = [];
  let outOfStep = false;
  let parenDepth = 0;
  let optionsDepth = -1;
  let pendingOptions = false;

  const takeValue = (value: Token | null, kind: SecretFinding['kind']): boolean => {
    const n = paramIndex(src, value);
    if (n !== null) {
      paramIndexes.add(n);
      return true;
    }
    if (!isLiteral(value)) return false;
    handled.add(value.start);
    const edit = literalEdit(src, value, kind);
    if (edit) edits.push(edit);
    return true;
  };

  let pos = 0;
  while (pos < src.length) {
    const t = nextToken(src, pos);
    pos = t.end;
    if (t.kind === 'space') continue;
    if (!t.terminated) outOfStep = true;
    if (t.kind === 'comment') {
      edits.push(...recurse(src, t, ctx));
      continue;
    }
    if (t.kind === 'string' || t.kind === 'dollar' || t.kind === 'qident') {
      if (!handled.has(t.start)) {
        if (t.kind !== 'qident') {
          const content = decodeToken(src, t).text;
          const after = concatenatedSecret(src, t, content);
          if (after) takeValue(after.value, after.kind);
        }
        edits.push(...recurse(src, t, ctx));
      }
    } else if (t.kind === 'op') {
      if (isOp(t, src, '(')) {
        parenDepth++;
        if (pendingOptions) optionsDepth = parenDepth;
      } else if (isOp(t, src, ')')) {
        if (parenDepth === optionsDepth) optionsDepth = -1;
        parenDepth--;
      }
    } else if (t.kind === 'ident') {
      const word = src.slice(t.start, t.end).toLowerCase();
      const rctx: RuleContext = { inOptions: optionsDepth !== -1, afterSet: isSetTarget(prev, src) };
      let done = false;
      if (word === 'password') {
        const conninfo = conninfoEdit(src, t, ctx.inString);
        const next = nextSignificant(src, t.end);
        if (conninfo && paramIndex(src, nextSignificant(src, (next as Token).end)) === null) {
          if (conninfo.edit) edits.push(conninfo.edit);
          pos = Math.max(pos, conninfo.end);
          done = true;
        }
      }
      for (const rule of done ? [] : KEYWORD_RULES) {
        if (!rule.matches(word, rctx)) continue;
        if (takeValue(unwrapHashing(src, valueAfter(src, t, rule, rctx)), rule.kind(rctx))) break;
      }
      if (word === 'format' || word === 'set_config') {
        const open = nextSignificant(src, t.end);
        if (isOp(open, src, '(')) {
          const args = callArguments(src, (open as Token).end);
          const first = loneValue(src, args[0]);
          if (isLiteral(first)) {
            const text = decodeToken(src, first).text;
            if (word === 'format') {
              for (const n of formatSecretArguments(text)) takeValue(loneValue(src, args[n]), 'password');
            } else if (/passw|secret|key$/i.test(text)) {
              takeValue(loneValue(src, args[1]), 'password');
            }
          }
        }
      }
      pendingOptions = word === 'options';
      prev.push(t);
      continue;
    }
    pendingOptions = false;
    prev.push(t);
  }
  return { edits, paramIndexes, outOfStep };
}

/** Applies non-overlapping edits (the first one wins on overlap). */
export function applyEdits(src: string, edits: readonly Edit[]): { text: string; secrets: SecretFinding[] } {
  const sorted = [...edits].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  const secrets: SecretFinding[] = [];
  for (const e of sorted) {
    if (e.start < at) continue;
    out += src.slice(at, e.start) + e.replacement;
    at = e.end;
    if (e.finding) secrets.push(e.finding);
  }
  return { text: out + src.slice(at), secrets };
}
