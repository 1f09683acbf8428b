/**
 * A forgiving SQL lexer for the redactor: it only needs to know where literals, quoted names,
 * comments and dollar-quoted bodies start and end, so it never fails — text that is not SQL
 * (log prose, truncated pgaudit statements) still lexes, and an unclosed quote runs to the end
 * with `terminated: false` so the caller knows the lexing may be out of step with the text.
 */

export type TokenKind =
  | 'space'
  | 'comment'
  | 'ident'
  | 'qident'
  | 'string'
  | 'dollar'
  | 'param'
  | 'number'
  | 'op';

/** How the content of a quoted token is escaped, which decides how to decode and re-encode it. */
export type QuoteStyle = 'standard' | 'escape' | 'unicode' | 'dollar' | 'qident' | 'raw';

export interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** For quoted tokens (string, dollar, qident, comment): where the content is. */
  contentStart: number;
  contentEnd: number;
  style: QuoteStyle;
  terminated: boolean;
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_REST = /[A-Za-z0-9_$\u0080-\uffff]*/y;
const SPACE = /\s+/y;
const NUMBER = /[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const PARAM = /\$[0-9]+/y;
const MULTI_CHAR_OPS = ['||', '::', ':=', '<>', '!=', '>=', '<=', '=>'];

function matchAt(re: RegExp, src: string, pos: number): number {
  re.lastIndex = pos;
  return re.test(src) ? re.lastIndex : pos;
}

function simple(kind: TokenKind, start: number, end: number): Token {
  return { kind, start, end, contentStart: start, contentEnd: end, style: 'raw', terminated: true };
}

/** Scans a `'…'` body from `open` (the quote); `backslash` says whether `\` escapes the next character. */
function quoted(src: string, open: number, tokenStart: number, style: QuoteStyle, backslash: boolean): Token {
  let i = open + 1;
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (backslash && c === 92 /* \ */) {
      i += 2;
      continue;
    }
    if (c === 39 /* ' */) {
      if (src.charCodeAt(i + 1) === 39) {
        i += 2;
        continue;
      }
      return { kind: 'string', start: tokenStart, end: i + 1, contentStart: open + 1, contentEnd: i, style, terminated: true };
    }
    i++;
  }
  const end = src.length;
  return { kind: 'string', start: tokenStart, end, contentStart: Math.min(open + 1, end), contentEnd: end, style, terminated: false };
}

function quotedIdent(src: string, start: number): Token {
  let i = start + 1;
  while (i < src.length) {
    if (src.charCodeAt(i) === 34 /* " */) {
      if (src.charCodeAt(i + 1) === 34) {
        i += 2;
        continue;
      }
      return { kind: 'qident', start, end: i + 1, contentStart: start + 1, contentEnd: i, style: 'qident', terminated: true };
    }
    i++;
  }
  return { kind: 'qident', start, end: src.length, contentStart: start + 1, contentEnd: src.length, style: 'qident', terminated: false };
}

function blockComment(src: string, start: number): Token {
  let depth = 1;
  let i = start + 2;
  while (i < src.length) {
    if (src.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (src.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) {
        return { kind: 'comment', start, end: i, contentStart: start + 2, contentEnd: i - 2, style: 'raw', terminated: true };
      }
    } else i++;
  }
  return { kind: 'comment', start, end: src.length, contentStart: start + 2, contentEnd: src.length, style: 'raw', terminated: false };
}

/** The token that starts at `pos` (which must be < src.length). */
export function nextToken(src: string, pos: number): Token {
  const c = src[pos] as string;
  const spaceEnd = matchAt(SPACE, src, pos);
  if (spaceEnd > pos) return simple('space', pos, spaceEnd);

  if (c === "'") return quoted(src, pos, pos, 'standard', false);
  if (c === '"') return quotedIdent(src, pos);
  if (c === '-' && src[pos + 1] === '-') {
    const nl = src.indexOf('\n', pos);
    const end = nl === -1 ? src.length : nl;
    return { kind: 'comment', start: pos, end, contentStart: pos + 2, contentEnd: end, style: 'raw', terminated: true };
  }
  if (c === '/' && src[pos + 1] === '*') return blockComment(src, pos);
  if (c === '$') {
    const paramEnd = matchAt(PARAM, src, pos);
    if (paramEnd > pos) return simple('param', pos, paramEnd);
    const tagEnd = matchAt(DOLLAR_TAG, src, pos);
    if (tagEnd > pos) {
      const tag = src.slice(pos, tagEnd);
      const close = src.indexOf(tag, tagEnd);
      if (close === -1) {
        return { kind: 'dollar', start: pos, end: src.length, contentStart: tagEnd, contentEnd: src.length, style: 'dollar', terminated: false };
      }
      return { kind: 'dollar', start: pos, end: close + tag.length, contentStart: tagEnd, contentEnd: close, style: 'dollar', terminated: true };
    }
    return simple('op', pos, pos + 1);
  }
  if (IDENT_START.test(c)) {
    // String prefixes: E'…', N'…', B'…', X'…', U&'…' — only when the letter starts the word.
    const next = src[pos + 1];
    if (next === "'") {
      if (c === 'e' || c === 'E') return quoted(src, pos + 1, pos, 'escape', true);
      if ('nNbBxX'.includes(c)) return quoted(src, pos + 1, pos, 'standard', false);
    }
    if ((c === 'u' || c === 'U') && next === '&' && src[pos + 2] === "'") return quoted(src, pos + 2, pos, 'unicode', false);
    return simple('ident', pos, matchAt(IDENT_REST, src, pos + 1));
  }
  const numberEnd = matchAt(NUMBER, src, pos);
  if (numberEnd > pos) return simple('number', pos, numberEnd);
  for (const op of MULTI_CHAR_OPS) if (src.startsWith(op, pos)) return simple('op', pos, pos + op.length);
  return simple('op', pos, pos + 1);
}

/** The next token at or after `pos` that is neither space nor comment, or null at the end. */
export function nextSignificant(src: string, pos: number): Token | null {
  let p = pos;
  while (p < src.length) {
    const t = nextToken(src, p);
    if (t.kind !== 'space' && t.kind !== 'comment') return t;
    p = t.end;
  }
  return null;
}

export function isLiteral(t: Token | null): t is Token {
  return t !== null && (t.kind === 'string' || t.kind === 'dollar');
}

export function isOp(t: Token | null, src: string, op: string): boolean {
  return t !== null && t.kind === 'op' && src.slice(t.start, t.end) === op;
}

export function identName(t: Token | null, src: string): string | null {
  return t !== null && t.kind === 'ident' ? src.slice(t.start, t.end).toLowerCase() : null;
}
