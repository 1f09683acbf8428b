/**
 * A panel's saved query. The pickers (since, until, server, role, ...) reach a query only as the
 * parameters it declares; the panel's fixed params win over them. Reads run through a ReadOnlySession.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_QUERIES_DIR, parseSavedQuery, type SavedQuery } from '../../query/saved-queries.js';
import { NAME, type Panel } from './dashboard-file.js';

/** The saved query `name` from the first folder that has it. */
export function findQueryIn(dirs: readonly string[], name: string): SavedQuery {
  if (!NAME.test(name)) throw new Error(`"${name}" is not a saved query name (lower-case letters, digits, - and _)`);
  for (const dir of dirs) {
    const path = join(dir, `${name}.sql`);
    if (existsSync(path)) return parseSavedQuery(name, readFileSync(path, 'utf8'), path);
  }
  throw new Error(`no saved query named "${name}" in ${dirs.join(', ')}`);
}

export function defaultQueryDirs(extra: readonly string[] = []): string[] {
  return [...extra, DEFAULT_QUERIES_DIR];
}

/** Page values → the values a query gets: only what it declares, blanks left to the query's defaults. */
export function panelParams(query: SavedQuery, panel: Pick<Panel, 'params'>, page: Readonly<Record<string, string>>): Record<string, string | null> {
  const given: Record<string, string | null> = {};
  for (const p of query.params) {
    const value = page[p.name];
    if (value !== undefined && value.trim() !== '') given[p.name] = value.trim();
  }
  return { ...given, ...panel.params };
}
