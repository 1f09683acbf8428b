/**
 * libpq conninfo strings (`host=h password='se cret'`): whether a string is one, and the span of the
 * password value in it. Conninfo quoting uses backslash escapes, unlike SQL's doubled quotes.
 */
import { describeSecret } from './describe-secret.js';
import { REDACTED, REDACTED_LITERAL, type Edit } from './edit.js';
import type { Token } from './sql-lexer.js';

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

/**
 * libpq conninfo value after `password =`: `'…'` with backslash escapes, or a bare word.
 * A bare value stops at whitespace or `;` (ADO-style strings), and at `&` in a URL query.
 */
export function conninfoEdit(src: string, word: Token, conninfo: boolean): { edit: Edit | null; end: number } | null {
  let p = word.end;
  while (p < src.length && /\s/.test(src[p] as string)) p++;
  if (src[p] !== '=') return null;
  const eq = p;
  p++;
  while (p < src.length && /\s/.test(src[p] as string)) p++;
  const finding = (value: string) => describeSecret('connection-password', value);
  if (src[p] === "'") {
    if (!conninfo) return null; // top-level SQL: `password = 'x'` is a SQL literal, the keyword rule takes it
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
  if (!conninfo && (eq !== word.end || p !== eq + 1)) return null;
  if (!conninfo && /[$(]/.test(src[p] ?? '')) return null;
  const inQuery = /[?&]/.test(src[word.start - 1] ?? '');
  const stop = conninfo ? (inQuery ? /[\s;&#]/ : /[\s;]/) : /[\s;&#'"),]/;
  let i = p;
  while (i < src.length && !stop.test(src[i] as string)) i++;
  const value = src.slice(p, i);
  if (value === '' || value === REDACTED) return { edit: null, end: i };
  return { edit: { start: p, end: i, replacement: REDACTED, finding: finding(value) }, end: i };
}
