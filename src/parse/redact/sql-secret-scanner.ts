/**
 * Finds password literals in SQL-ish text and says how to replace them, without changing
 * anything else. Works level by level: string literals, quoted names, comments and
 * dollar-quoted bodies that mention a secret word are decoded and scanned again, and their
 * edits mapped back — so `do $$ … execute 'create role x password ''hunter2''' … $$` is
 * redacted to `''<REDACTED>''` and the block still parses.
 *
 * Which token sequences hold a secret is the KEYWORD_RULES table; the few call shapes that
 * need argument positions (format, set_config, `'… PASSWORD ' || quote_literal(…)`) are
 * in call-shapes.ts; conninfo values in conninfo.ts.
 */
import type { SecretFinding } from './secret-finding.js';
import { describeSecret } from './describe-secret.js';
import { decodeRange, decodeToken, encodeFor } from './literal-codec.js';
import { identName, isLiteral, isOp, nextSignificant, nextToken, type Token } from './sql-lexer.js';
import { REDACTED, REDACTED_LITERAL, type Edit } from './edit.js';
import { conninfoEdit, isConninfo } from './conninfo.js';
import { textPatternEdits } from './text-patterns.js';
import { callArguments, concatenatedSecret, formatSecretArguments, loneValue, unwrapHashing } from './call-shapes.js';
import { isCredentialSetting } from './credential-names.js';

/**
 * Cheap test for "may hold a secret": text that fails it is returned untouched. `not valid JSON` is
 * V8's JSON.parse message, which quotes the input it choked on, as libpq's URI errors quote the token; a raw `DETAIL:  parameters:` line (or a record's `"detail":"parameters: …"`) has bind values.
 */
export const SECRET_HINT = /pass(?:w|phrase)|secret|pwd\s*=|:\/\/|(?:key|token|credential)\w*"?\s*(?:=|to\s)|sig=|set_config|not valid JSON|percent-encoded|unexpected spaces found|invalid URI query|missing "=" after|detail"?:\s*"?parameters: /i;

export interface ScanResult {
  edits: Edit[];
  /** Bind parameters ($N) that stand where a secret literal would. */
  paramIndexes: Set<number>;
  /** An unclosed quote at this level: the text may not be SQL (log prose with an apostrophe). */
  outOfStep: boolean;
}

export interface ScanContext {
  /** The text is a libpq conninfo string: `password='…'` uses backslash escapes, not SQL's doubled quotes. */
  conninfo: boolean;
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
  /** The value may be a bare word or number (`SET app.api_key = abc123`), not only a literal. */
  bareValue?: boolean;
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
    matches: (w) => /passw|secret/.test(w) && isCredentialSetting(w),
    connectors: ['assign'],
    kind: () => 'password',
  },
  {
    name: 'SET / ALTER SYSTEM|ROLE|DATABASE … SET of a setting named like a credential (*key, passphrase, token)',
    matches: (w, c) => c.afterSet && isCredentialSetting(w),
    connectors: ['assign'],
    bareValue: true,
    kind: () => 'password',
  },
];

const MAX_DEPTH = 16;

/**
 * String constants separated only by whitespace with a newline are one constant in SQL
 * (`PASSWORD 'a'` newline `'b'` is the password `ab`): the literal and its continuations.
 */
function continuedLiteral(src: string, t: Token): Token[] {
  const parts = [t];
  let last = t;
  while (last.kind === 'string' && last.terminated) {
    const gap = nextToken(src, last.end);
    if (gap.kind !== 'space' || !src.slice(gap.start, gap.end).includes('\n')) break;
    const next = nextToken(src, gap.end);
    // PostgreSQL continues a constant only with a plain '…'; E'…' is taken too: a statement the server rejects is still logged.
    if (next.kind !== 'string' || src[next.start] !== "'" && src[next.start]?.toLowerCase() !== 'e') break;
    parts.push(next);
    last = next;
  }
  return parts;
}

function bareEdit(src: string, t: Token, kind: SecretFinding['kind']): Edit | null {
  const value = src.slice(t.start, t.end);
  if (/^(default|local|session|from)$/i.test(value)) return null;
  return { start: t.start, end: t.end, replacement: REDACTED_LITERAL, finding: describeSecret(kind, value) };
}

function literalEdit(src: string, first: Token, kind: SecretFinding['kind']): Edit | null {
  const parts = continuedLiteral(src, first);
  const t = parts[parts.length - 1] as Token;
  const value = parts.map((p) => decodeToken(src, p).text).join('');
  // An empty unclosed quote is the opening half of a concatenation (`' PASSWORD ''' || …`): nothing here.
  if (value === REDACTED || (!t.terminated && value === '')) return null;
  // `$$x$$''` is two tokens, but `'<REDACTED>'''` would be one: keep them apart so a second pass agrees.
  const replacement = src[t.end] === "'" ? `${REDACTED_LITERAL} ` : REDACTED_LITERAL;
  return { start: first.start, end: t.end, replacement, finding: describeSecret(kind, value) };
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

function recurse(src: string, t: Token, ctx: ScanContext): Edit[] {
  if (ctx.depth >= MAX_DEPTH) return [];
  if (!SECRET_HINT.test(src.slice(t.contentStart, t.contentEnd))) return [];
  const decoded = decodeRange(src, t.contentStart, t.contentEnd, t.style);
  const inner = scanSql(decoded.text, {
    conninfo: t.kind === 'string' && isConninfo(decoded.text),
    depth: ctx.depth + 1,
  });
  // Shapes inside the quoting too: `""password"":""x""` in a CSV-quoted pgaudit field is JSON one level down.
  // Where a shape and a SQL rule overlap, applyEdits keeps the one that starts first.
  const edits = [...inner.edits, ...textPatternEdits(decoded.text, inner.outOfStep)];
  return edits.map((e) => ({
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

export function scanSql(src: string, ctx: ScanContext = { conninfo: false, depth: 0 }): ScanResult {
  const edits: Edit[] = [];
  const paramIndexes = new Set<number>();
  const handled = new Set<number>(); // starts of literals a rule already redacted
  const prev: Token[] = [];
  let outOfStep = false;
  let parenDepth = 0;
  let optionsDepth = -1;
  let pendingOptions = false;

  const takeValue = (value: Token | null, kind: SecretFinding['kind'], bare = false): boolean => {
    const n = paramIndex(src, value);
    if (n !== null) {
      paramIndexes.add(n);
      return true;
    }
    if (bare && value !== null && (value.kind === 'ident' || value.kind === 'number')) {
      const edit = bareEdit(src, value, kind);
      if (edit) edits.push(edit);
      return true;
    }
    if (!isLiteral(value)) return false;
    for (const part of continuedLiteral(src, value)) handled.add(part.start);
    const edit = literalEdit(src, value, kind);
    if (edit) edits.push(edit);
    return true;
  };

  /** The keyword rules for `word` at token `t`; true when one took a value. */
  const applyRules = (word: string, t: Token, rctx: RuleContext): boolean => {
    for (const rule of KEYWORD_RULES) {
      if (!rule.matches(word, rctx)) continue;
      if (takeValue(unwrapHashing(src, valueAfter(src, t, rule, rctx)), rule.kind(rctx), rule.bareValue)) return true;
    }
    return false;
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
        if (t.kind !== 'qident' && /passw/i.test(src.slice(t.contentStart, t.contentEnd))) {
          const content = decodeToken(src, t).text;
          const after = concatenatedSecret(src, t, content);
          if (after) takeValue(after.value, after.kind);
        }
        edits.push(...recurse(src, t, ctx));
        // A quoted name is a name: `SET "password" = '…'`.
        if (t.kind === 'qident') applyRules(decodeToken(src, t).text.toLowerCase(), t, { inOptions: optionsDepth !== -1, afterSet: isSetTarget(prev, src) });
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
      if (word === 'password' || word === 'sslpassword') {
        const conninfo = conninfoEdit(src, t, ctx.conninfo);
        const next = nextSignificant(src, t.end);
        if (conninfo && paramIndex(src, nextSignificant(src, (next as Token).end)) === null) {
          if (conninfo.edit) edits.push(conninfo.edit);
          pos = Math.max(pos, conninfo.end);
          done = true;
        }
      }
      if (!done) applyRules(word, t, rctx);
      if (word === 'format' || word === 'set_config') {
        const open = nextSignificant(src, t.end);
        if (isOp(open, src, '(')) {
          const args = callArguments(src, (open as Token).end);
          const first = loneValue(src, args[0]);
          if (isLiteral(first)) {
            const text = decodeToken(src, first).text;
            if (word === 'format') {
              for (const n of formatSecretArguments(text)) takeValue(loneValue(src, args[n]), 'password');
            } else if (isCredentialSetting(text)) {
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
