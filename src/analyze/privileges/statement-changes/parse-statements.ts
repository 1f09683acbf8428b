/** SQL text → parse-tree statements, with PostgreSQL's own grammar (libpg-query, WebAssembly). */
import './wasm-baseline-compiler.js';
import { loadModule, parseSync } from 'libpg-query';
import type { Node } from 'libpg-query';
import { ParseError } from '../../../contracts/log-record.js';

/** Loads the WebAssembly parser once; call before the first statement is parsed. */
export function loadStatementParser(): Promise<void> {
  return loadModule();
}

/** Throws a `ParseError` whose message holds no token of the text (a token may be a password). */
export function parseStatements(sql: string): Node[] {
  try {
    return (parseSync(sql).stmts ?? []).flatMap((s) => (s.stmt ? [s.stmt] : []));
  } catch (err) {
    throw new ParseError(`statement does not parse: ${safeParserMessage(err)}`);
  }
}

/** The parser quotes the offending token, which may be a password: keep only the message and position. */
function safeParserMessage(err: unknown): string {
  const e = err as { message?: string; sqlDetails?: { cursorPosition?: number } };
  const msg = (e.message ?? String(err)).replace(/ at or near ".*"$/s, '');
  const pos = e.sqlDetails?.cursorPosition;
  return pos !== undefined ? `${msg} (at character ${pos})` : msg;
}
