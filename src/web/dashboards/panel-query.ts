/**
 * A panel's saved query. The pickers (since, until, server, role, ...) reach a query only as the
 * parameters it declares; the panel's fixed params win over them. Reads run through a ReadOnlySession.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
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

/**
 * Page values → the values a query gets: only what it declares, blanks left to the query's defaults. A
 * panel's fixed value "$name" is the page's value of name, so one query serves pages whose inputs are
 * named otherwise (actor-changes' `actor` on the role page's `role`).
 */
export function panelParams(query: SavedQuery, panel: Pick<Panel, 'params'>, page: Readonly<Record<string, string>>): Record<string, string | null> {
  const given: Record<string, string | null> = {};
  for (const p of query.params) {
    const value = page[p.name];
    if (value !== undefined && value.trim() !== '') given[p.name] = value.trim();
  }
  for (const [name, fixed] of Object.entries(panel.params)) {
    const ref = fixed === null ? null : /^\$([a-z_][a-z0-9_]*)$/.exec(fixed);
    if (!ref) given[name] = fixed;
    else if ((page[ref[1]!] ?? '').trim() !== '') given[name] = page[ref[1]!]!.trim();
    else delete given[name];
  }
  return given;
}

export interface QueryListing {
  queries: SavedQuery[];
  /** Files that could not be read: listed on the page instead of hiding every other query. */
  errors: { path: string; error: string }[];
}

/** Every saved query in `dirs`; a name in an earlier folder hides the same name in a later one. */
export function listQueriesIn(dirs: readonly string[]): QueryListing {
  const byName = new Map<string, SavedQuery>();
  const errors: QueryListing['errors'] = [];
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
    } catch (error) {
      errors.push({ path: dir, error: `cannot read the folder: ${(error as Error).message}` });
      continue;
    }
    for (const file of files) {
      const name = basename(file, '.sql');
      if (byName.has(name) || !NAME.test(name)) continue;
      const path = join(dir, file);
      try {
        byName.set(name, parseSavedQuery(name, readFileSync(path, 'utf8'), path));
      } catch (error) {
        errors.push({ path, error: (error as Error).message });
      }
    }
  }
  return { queries: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), errors };
}

/** URL values → a query's parameters: only those it declares (others are the page's, not the query's), blanks left to defaults. */
export function queryParamsFromUrl(query: SavedQuery, url: URL): Record<string, string | null> {
  const given: Record<string, string | null> = {};
  for (const p of query.params) {
    const value = url.searchParams.get(p.name);
    if (value !== null && value.trim() !== '') given[p.name] = value.trim();
  }
  return given;
}
