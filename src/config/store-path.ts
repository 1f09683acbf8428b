/** DESIGN: `--db`, else `AUDITDUCK_DB`, else `./auditduck.duckdb`. */
export const DEFAULT_DB_PATH = './auditduck.duckdb';

export function resolveDbPath(option: string | undefined): string {
  return option ?? process.env.AUDITDUCK_DB ?? DEFAULT_DB_PATH;
}
