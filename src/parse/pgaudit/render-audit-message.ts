/**
 * An entry back into the message pgaudit writes for it (pgaudit.c: fields joined by commas, each through
 * append_valid_csv). Used where a message must be rebuilt from redacted fields, and by the store, which
 * keeps an audit line's text only when this rebuild would not give it back (migration 7's log_records view
 * renders stored entries the same way, in SQL).
 */
import type { AuditEntry } from './audit-entry.js';

const PREFIX = 'AUDIT: ';

/** pgaudit's quoting: a field is quoted only when it holds a comma, a quote or a line break; NULL is empty. */
export function renderCsv(fields: readonly (string | null)[]): string {
  return fields.map(csvField).join(',');
}

export function renderAuditMessage(a: AuditEntry): string {
  return `${PREFIX}${renderCsv(auditFields(a))}`;
}

/** Whether renderAuditMessage(a) is `message`, without building it: the store asks this of every audit line. */
export function rendersAuditMessage(a: AuditEntry, message: string): boolean {
  if (!message.startsWith(PREFIX)) return false;
  let at = PREFIX.length;
  const fields = auditFields(a);
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) {
      if (message.charCodeAt(at) !== 0x2c) return false;
      at++;
    }
    const text = csvField(fields[i]!);
    if (!message.startsWith(text, at)) return false;
    at += text.length;
  }
  return at === message.length;
}

function auditFields(a: AuditEntry): (string | null)[] {
  const statement = a.statementLogged === 'logged' ? a.statement : `<${a.statementLogged}>`;
  const fields = [a.auditType, String(a.statementId), String(a.substatementId), a.className, a.command, a.objectType, a.objectName, statement, a.parameter];
  if (a.rows !== null) fields.push(String(a.rows));
  return fields;
}

function csvField(f: string | null): string {
  if (f === null) return '';
  for (let i = 0; i < f.length; i++) {
    const c = f.charCodeAt(i);
    if (c === 0x2c || c === 0x22 || c === 0x0a || c === 0x0d) return `"${f.replace(/"/g, '""')}"`;
  }
  return f;
}
