/** Audit tampering: pgaudit or PostgreSQL logging turned down, pgaudit dropped or unloaded. */
import { z } from 'zod';
import type { PrivilegeChange } from '../../analyze/privileges/privilege-change.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { actorName, changeFinding } from './change-evidence.js';

/** `pgaudit.log` classes (`all` covers every one; `-x` takes one away). */
function auditedClasses(value: string): Set<string> {
  const all = ['read', 'write', 'function', 'role', 'ddl', 'misc', 'misc_set'];
  const out = new Set<string>();
  for (const raw of value.toLowerCase().split(',')) {
    const item = raw.trim().replace(/^'|'$/g, '');
    const minus = item.startsWith('-');
    const names = item.replace(/^-/, '') === 'all' ? all : [item.replace(/^-/, '')];
    for (const n of names) minus ? out.delete(n) : out.add(n);
  }
  return out;
}

/**
 * Settings whose new value blinds the audit trail: parameter → "does this value turn it down?". A row per
 * parameter, so adding one is a line, not a branch.
 */
export const TURNED_DOWN: Readonly<Record<string, (value: string, required: readonly string[]) => boolean>> = {
  'pgaudit.log': (v, required) => {
    const classes = auditedClasses(v);
    return required.some((c) => !classes.has(c));
  },
  'pgaudit.log_statement': (v) => isOff(v),
  'pgaudit.role': (v) => v.trim() === '' || v.trim() === "''",
  log_connections: (v) => isOff(v),
  log_disconnections: (v) => isOff(v),
  logging_collector: (v) => isOff(v),
  log_min_messages: (v) => ['error', 'log', 'fatal', 'panic'].includes(v.toLowerCase()),
  log_min_error_statement: (v) => ['fatal', 'panic'].includes(v.toLowerCase()),
  log_destination: (v) => v.trim() === '' || v.trim() === "''",
  shared_preload_libraries: (v) => !/\bpgaudit\b/i.test(v),
};

function isOff(v: string): boolean {
  return ['off', 'false', '0', 'no', 'none'].includes(v.trim().toLowerCase());
}

export const auditTampering = defineRule({
  id: 'audit-tampering',
  title: 'Audit logging turned down or removed',
  severity: 'high',
  mitre: 'T1562.001 Impair Defenses: Disable or Modify Tools',
  trigger:
    'SET / ALTER SYSTEM / ALTER ROLE|DATABASE … SET of pgaudit.log losing a required class (default role, ddl), pgaudit.log_statement off, log_connections / log_disconnections off, shared_preload_libraries without pgaudit…; DROP EXTENSION pgaudit',
  description:
    'Whoever turns auditing down is about to do something they do not want seen. A session-level SET pgaudit.log is not itself audited by pgaudit (it silences the session first): only log_statement = all shows it. RESET is not flagged (it returns to the configured value).',
  config: baseRuleConfig.extend({
    requiredClasses: z.array(z.string()).default(['role', 'ddl']).describe('pgaudit.log classes whose loss counts as tampering'),
  }),
  evaluate({ facts, config }) {
    const findings: Finding[] = [];
    for (const fact of facts.changes) {
      const c = fact.change;
      const what = tampering(c, config.requiredClasses);
      if (what === null) continue;
      findings.push(changeFinding(fact, { target: c.attribute ?? c.objectName, dedupKey: c.sessionId ?? c.attribute ?? '', summary: `${actorName(c.actor)} ${what}` }));
    }
    return findings;
  },
});

function tampering(c: PrivilegeChange, required: readonly string[]): string | null {
  if (c.action === 'drop-extension' && c.objectName?.toLowerCase() === 'pgaudit') return 'dropped the pgaudit extension';
  const name = c.attribute?.toLowerCase() ?? '';
  const scope = c.objectType === 'session' ? 'for the session' : c.objectType === 'system' ? 'server-wide (ALTER SYSTEM)' : `for ${c.objectType} ${c.objectName ?? c.roleName ?? ''}`.trim();
  if (c.action === 'set-parameter' && c.value !== null && TURNED_DOWN[name]?.(c.value, required)) return `set ${name} = ${c.value} ${scope}`;
  return null;
}
