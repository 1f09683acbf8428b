import type { StatementChange } from '../../../src/analyze/privileges/privilege-change.js';

/** One line per change, only the fields that are set, so a table of cases stays readable. */
export function summarize(c: StatementChange): string {
  const parts: string[] = [c.action];
  const add = (k: string, v: unknown): void => {
    if (v !== null && v !== undefined && v !== false) parts.push(`${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  };
  add('role', c.roleName);
  add('attr', c.attribute);
  add('value', c.value);
  add('granted', c.grantedRole);
  add('privs', c.privileges);
  add('type', c.objectType);
  add('object', c.objectName);
  add('grantee', c.grantee);
  if (c.withOption !== null) parts.push(`option=${c.withOption}`);
  add('grantor', c.grantor);
  add('truncated', c.truncated);
  add('uncertain', c.uncertain);
  if (c.passwordStrength) add('strength', `len${c.passwordStrength.length}`);
  return parts.join(' ');
}
