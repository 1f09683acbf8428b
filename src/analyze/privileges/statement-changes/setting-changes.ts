/** SET / RESET of a parameter at one scope (session, transaction, role, database, system) → one change. */
import type { NodeOf } from './parse-tree.js';
import { change, type StatementEvent } from './statement-event.js';
import { settingValue } from '../security-parameters.js';
import { redactSettingValue } from '../../../redact/index.js';

export interface SettingScope {
  scope: string;
  /** The database of ALTER DATABASE / ALTER ROLE … IN DATABASE. */
  objectName: string | null;
  /** The role of ALTER ROLE … SET (`ALL` for ALTER ROLE ALL). */
  role: string | null;
}

export function settingChange(s: NodeOf<'VariableSetStmt'>, at: SettingScope, truncated: boolean): StatementEvent {
  const reset = s.kind === 'VAR_RESET' || s.kind === 'VAR_RESET_ALL';
  const value = reset ? null : settingValue(s);
  return change({
    action: reset ? 'reset-parameter' : 'set-parameter',
    roleName: at.role,
    attribute: s.kind === 'VAR_RESET_ALL' ? 'ALL' : (s.name ?? null),
    // The value is what the rules and privilege_changes see: a credential setting's is redacted here.
    value: value === null ? null : redactSettingValue(s.name ?? null, value),
    objectType: at.scope,
    objectName: at.objectName,
    truncated,
  });
}
