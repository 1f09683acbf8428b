/**
 * Writes an AuditEntry back the way pgaudit.c does (`append_valid_csv` and the parameter loop), so tests
 * can check that parsing loses nothing. Test-only: the pipeline never writes pgaudit text.
 */
import type { AuditEntry } from '../../src/pgaudit/audit-entry.js';

/** pgaudit's append_valid_csv: quote only when the value holds `,` `"` CR or LF; NULL writes nothing. */
export function appendValidCsv(value: string | null): string {
  if (value === null) return '';
  if (/[,"\r\n]/.test(value)) return `"${value.replaceAll('"', '""')}"`;
  return value;
}

/** The PARAMETER field for logged bind parameters: each one CSV-quoted, the joined list quoted again. */
export function serializeParameters(parameters: readonly string[]): string {
  if (parameters.length === 0) return '<none>';
  return appendValidCsv(parameters.map(appendValidCsv).join(','));
}

export function serializeLikePgaudit(entry: AuditEntry): string {
  const statement =
    entry.statementLogged === 'logged' ? appendValidCsv(entry.statement) : `<${entry.statementLogged}>`;
  // Markers are written bare; logged parameters are rebuilt from the split list, not from `parameter`.
  const parameter = entry.parameters === null ? (entry.parameter ?? '') : serializeParameters(entry.parameters);
  const fields = [
    entry.auditType,
    String(entry.statementId),
    String(entry.substatementId),
    entry.className,
    appendValidCsv(entry.command),
    appendValidCsv(entry.objectType),
    appendValidCsv(entry.objectName),
    statement,
    parameter,
  ];
  if (entry.rows !== null) fields.push(String(entry.rows));
  return `AUDIT: ${fields.join(',')}`;
}
