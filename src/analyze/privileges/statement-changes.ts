/**
 * Statement text → the privilege, role, password and security-setting changes it makes, read from the
 * real PostgreSQL grammar (libpg-query). Pure apart from a bounded cache keyed by the texts that hold no secret hint.
 * Input: one SQL string (possibly several statements; unredacted when the caller has it, since a
 * password literal tells md5 / SCRAM / clear / NULL). Output never holds a password literal.
 *
 * The parts, in statement-changes/: the registry of node types (node-handlers.ts) with role options, object
 * grants, settings and DO-block scanning beside it; truncation recovery; the cache.
 */
import type { StatementChange } from './privilege-change.js';
import type { StatementContext, StatementEvent } from './statement-changes/statement-event.js';
import { parseStatements } from './statement-changes/parse-statements.js';
import { eventsOfNode } from './statement-changes/node-handlers.js';
import { truncatedRoleEvents } from './statement-changes/truncated-role-statement.js';
import { cachedEvents } from './statement-changes/statement-cache.js';

export type { StatementContext, StatementEvent, TransactionOp } from './statement-changes/statement-event.js';
export { loadStatementParser } from './statement-changes/parse-statements.js';
export { cachedStatements } from './statement-changes/statement-cache.js';

/** The changes and transaction control of `sql`, in order. Throws a `ParseError` when a complete text does not parse. */
export function analyzeStatement(sql: string, ctx: StatementContext): StatementEvent[] {
  return cachedEvents(sql, ctx, eventsOfStatement);
}

export function changesFromStatement(sql: string, ctx: StatementContext): StatementChange[] {
  const out: StatementChange[] = [];
  for (const e of analyzeStatement(sql, ctx)) if (e.kind === 'change') out.push(e.change);
  return out;
}

function eventsOfStatement(sql: string, ctx: StatementContext): StatementEvent[] {
  return ctx.truncated ? truncatedRoleEvents(sql, ctx.command) : parseStatements(sql).flatMap((node) => eventsOfNode(node, false));
}
