/**
 * One pgaudit entry: the text after `AUDIT: ` split into its fields.
 * `AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS]`
 */
export interface AuditEntry {
  auditType: 'SESSION' | 'OBJECT';
  statementId: number;
  substatementId: number;
  /** READ, WRITE, FUNCTION, ROLE, DDL, MISC, MISC_SET (kept as logged). */
  className: string;
  command: string;
  /** Empty field → null. */
  objectType: string | null;
  objectName: string | null;
  /** null when pgaudit wrote `<not logged>` or `<previously logged>` (see `statementLogged`). */
  statement: string | null;
  statementLogged: 'logged' | 'not logged' | 'previously logged';
  /** The PARAMETER field as logged: `<none>`, `<not logged>`, `<previously logged>`, or the inner CSV text. */
  parameter: string | null;
  /** The bind parameters split from the inner CSV; null unless parameters were logged. `<long param suppressed>` stays as that marker. */
  parameters: string[] | null;
  /** The 10th field (pgaudit.log_rows = on); null when absent. */
  rows: number | null;
}
