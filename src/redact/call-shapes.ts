/**
 * Call shapes whose secret sits at an argument position rather than after a keyword:
 * `crypt('x', …)`, `format('… PASSWORD %L', …, 'x')`, `' PASSWORD ' || quote_literal('x')`.
 */
import type { SecretFinding } from './secret-finding.js';
import { identName, isLiteral, isOp, nextSignificant, type Token } from './sql-lexer.js';

/** pgcrypto and built-in hashing calls whose first argument is the clear-text password. */
const HASHING_CALLS = new Set(['crypt', 'md5', 'digest', 'hmac', 'sha224', 'sha256', 'sha384', 'sha512', 'pgp_sym_encrypt']);

/** `password = crypt('x', gen_salt('bf'))`: the literal inside the hashing call; otherwise the token itself. */
export function unwrapHashing(src: string, value: Token | null): Token | null {
  const fn = identName(value, src);
  if (fn === null || !HASHING_CALLS.has(fn)) return value;
  const open = nextSignificant(src, (value as Token).end);
  return isOp(open, src, '(') ? loneValue(src, callArguments(src, (open as Token).end)[0]) : value;
}

/**
 * Text that ends where a password value would start: `… PASSWORD `, `… password='`.
 * Written so that no two quantifiers compete for the same spaces (no quadratic backtracking).
 */
const ENDS_WITH_PASSWORD = /\bpassword(\s*=)?(?:\s*')?\s*$/i;

/** `'… PASSWORD ' || quote_literal('s3cret')` and `'… password=' || 'x'`: the literal after the concatenation. */
export function concatenatedSecret(src: string, t: Token, content: string): { value: Token | null; kind: SecretFinding['kind'] } | null {
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
export function callArguments(src: string, from: number): Token[][] {
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
export function loneValue(src: string, arg: Token[] | undefined): Token | null {
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
