/**
 * pgaudit truncation: `… PASSWORD <REDACTED>`. Options before the password are certain (PostgreSQL rejects a
 * repeated option); everything else the statement could set is uncertain (docs/privilege-analysis.md).
 */
import type { Node, RoleSpec } from 'libpg-query';
import { change, type StatementEvent } from './statement-event.js';
import { parseStatements } from './parse-statements.js';
import { eventsOfNode } from './node-handlers.js';
import { nodeTag, roleName } from './parse-tree.js';
import { roleAttributes } from './role-options.js';

/** How many trailing tokens are dropped, one at a time, before the prefix is given up as unparseable. */
const MAX_DROPPED_TOKENS = 8;

/** The changes a CREATE/ALTER ROLE cut at its password makes for certain, and a password row listing what is uncertain. */
export function truncatedRoleEvents(sql: string, command: string | undefined): StatementEvent[] {
  const stmt = parseablePrefix(sql)?.at(-1);
  const tag = stmt ? nodeTag(stmt) : null;
  if (!stmt || (tag !== 'CreateRoleStmt' && tag !== 'AlterRoleStmt')) {
    // The role name itself was cut: only the pgaudit COMMAND is left.
    const creates = /^create/i.test(command ?? sql.trim());
    return [
      change({ action: creates ? 'create-role' : 'alter-role', roleName: null, truncated: true }),
      change({ action: 'set-password', roleName: null, attribute: 'has_password', value: 'unknown', truncated: true, uncertain: [...roleAttributes, 'memberships'] }),
    ];
  }
  const events = eventsOfNode(stmt, true);
  const role = tag === 'CreateRoleStmt' ? ((stmt as { CreateRoleStmt: { role?: string } }).CreateRoleStmt.role ?? null) : roleName((stmt as { AlterRoleStmt: { role?: RoleSpec } }).AlterRoleStmt.role);
  const known = new Set(events.flatMap((e) => (e.kind === 'change' && e.change.attribute ? [e.change.attribute] : [])));
  const uncertain = [...roleAttributes.filter((a) => !known.has(a)), 'memberships'];
  events.push(change({ action: 'set-password', roleName: role, attribute: 'has_password', value: 'unknown', truncated: true, uncertain }));
  return events;
}

/** The text before `PASSWORD <REDACTED>`, parsed as it is, then with its last tokens dropped until it parses. */
function parseablePrefix(sql: string): Node[] | null {
  const cut = sql.search(/\s*<REDACTED>\s*$/);
  let prefix = (cut >= 0 ? sql.slice(0, cut) : sql).replace(/password$/i, '').replace(/\bencrypted\s*$/i, '');
  for (let attempt = 0; attempt < MAX_DROPPED_TOKENS && prefix.trim(); attempt++) {
    try {
      return parseStatements(prefix);
    } catch {
      prefix = prefix.replace(/\s*\S+\s*$/, ''); // drop the last token and try again
    }
  }
  return null;
}
