/**
 * DO blocks: pgaudit logs them verbatim, passwords included. The role statements inside are string literals
 * run by EXECUTE (quotes doubled) or plain PL/pgSQL statements; this finds the texts that may be one.
 */
import type { NodeOf } from './parse-tree.js';
import { stringArg } from './parse-tree.js';

const roleStatementStart =
  /^\s*(?:(?:create|alter|drop)\s+(?:role|user|group)\b|grant\b|revoke\b|alter\s+(?:system|database|default)\b|reassign\b|drop\s+owned\b|(?:create|drop)\s+extension\b|set\s+(?:session\s+|local\s+)?(?:role|session\s+authorization)\b)/i;

/** The block's string literals and plain statements that start like a role statement, in that order. */
export function roleStatementsInDoBlock(s: NodeOf<'DoStmt'>): string[] {
  const body = (s.args ?? []).map((a) => ('DefElem' in a && a.DefElem.defname === 'as' ? stringArg(a.DefElem) : null)).find((b) => b !== null);
  if (!body) return [];
  const candidates: string[] = [];
  for (const m of body.matchAll(/'((?:[^']|'')*)'/g)) candidates.push((m[1] ?? '').replace(/''/g, "'"));
  // Static statements: strip literals, then split the block on `;`.
  const withoutLiterals = body.replace(/'(?:[^']|'')*'/g, "''");
  // A statement starts a piece, or follows the last BEGIN / THEN / ELSE / LOOP in it (IF ... THEN CREATE ROLE ...).
  for (const piece of withoutLiterals.split(';')) candidates.push(piece.replace(/^[\s\S]*\b(?:begin|then|else|loop)\b/i, ''));
  return candidates.filter((c) => roleStatementStart.test(c));
}
