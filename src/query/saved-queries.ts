/**
 * Saved investigations: one `.sql` file per question in `queries/`. The header comment says what the query
 * answers and declares its parameters:
 *
 *   -- Who holds superuser rights now.            ← description (every line before the first @param)
 *   -- @param server text = null : one server, or all servers
 *   -- @param since time = '7 days' : start of the range
 *
 * Types: `text` (the default), `time` (an ISO time or a duration back from now: `7 days`, `36h`, `PT1H`),
 * `int`, `bool`. A parameter without `= default` is required. Values reach DuckDB only as bound VARCHAR
 * parameters (`$since`); the SQL casts them (`CAST($since AS TIMESTAMPTZ)`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTimeOrAgo } from '../contracts/duration.js';
import type { QueryParams } from './read-only-query.js';

export const PARAM_TYPES = ['text', 'time', 'int', 'bool'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

export interface SavedQueryParam {
  name: string;
  type: ParamType;
  /** undefined: required; null: SQL NULL ("all"). */
  defaultValue: string | null | undefined;
  description: string;
}

export interface SavedQuery {
  name: string;
  description: string;
  params: SavedQueryParam[];
  sql: string;
  path: string;
}

/** `queries/` at the package root, from src/query/ and from dist/query/ alike. */
export const DEFAULT_QUERIES_DIR = fileURLToPath(new URL('../../queries/', import.meta.url));

const PARAM_LINE =
  /^--\s*@param\s+([a-z_][a-z0-9_]*)(?:\s+([a-z]+))?(?:\s*=\s*('(?:[^']|'')*'|null|-?\d+|true|false))?\s*(?::\s*(.*))?$/i;

export function parseSavedQuery(name: string, text: string, path = `${name}.sql`): SavedQuery {
  const lines = text.split(/\r?\n/);
  const description: string[] = [];
  const params: SavedQueryParam[] = [];
  let bodyStart = 0;
  for (; bodyStart < lines.length; bodyStart++) {
    const line = lines[bodyStart]!.trim();
    if (line === '') continue;
    if (!line.startsWith('--')) break;
    if (/^--\s*@param\b/i.test(line)) {
      const m = PARAM_LINE.exec(line);
      if (!m) throw new Error(`${path}: cannot read the parameter line "${line}" (write: -- @param name [text|time|int|bool] [= 'default' | = null] [: description])`);
      const type = (m[2]?.toLowerCase() ?? 'text') as ParamType;
      if (!PARAM_TYPES.includes(type)) throw new Error(`${path}: parameter ${m[1]} has unknown type ${m[2]} (use ${PARAM_TYPES.join(', ')})`);
      params.push({ name: m[1]!, type, defaultValue: literalValue(m[3]), description: m[4]?.trim() ?? '' });
    } else if (params.length === 0) {
      description.push(line.replace(/^--\s?/, ''));
    }
  }
  const sql = lines.slice(bodyStart).join('\n').trim();
  if (description.join('').trim() === '') throw new Error(`${path}: the header comment must say what the query answers`);
  if (sql === '') throw new Error(`${path}: no SQL after the header`);
  const used = new Set([...sql.matchAll(/\$([a-z_][a-z0-9_]*)/gi)].map((m) => m[1]!));
  for (const p of params) if (!used.has(p.name)) throw new Error(`${path}: parameter ${p.name} is declared but $${p.name} is not used`);
  for (const u of used) if (!params.some((p) => p.name === u)) throw new Error(`${path}: $${u} is used but not declared with -- @param`);
  return { name, description: description.join(' ').trim(), params, sql, path };
}

function literalValue(raw: string | undefined): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw.toLowerCase() === 'null') return null;
  if (raw.startsWith("'")) return raw.slice(1, -1).replace(/''/g, "'");
  return raw.toLowerCase();
}

export function loadSavedQueries(dir = DEFAULT_QUERIES_DIR): SavedQuery[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.sql')).sort();
  } catch (error) {
    throw new Error(`cannot read the saved queries in ${dir}: ${(error as Error).message}`);
  }
  return files.map((f) => parseSavedQuery(basename(f, '.sql'), readFileSync(join(dir, f), 'utf8'), join(dir, f)));
}

export function findSavedQuery(name: string, dir = DEFAULT_QUERIES_DIR): SavedQuery {
  const all = loadSavedQueries(dir);
  const found = all.find((q) => q.name === name);
  if (!found) throw new Error(`no saved query named "${name}"; the saved queries are: ${all.map((q) => q.name).join(', ')}`);
  return found;
}

/** `k=v` strings (from `--param` or the shell) → a map; the value may itself hold `=`. */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of assignments) {
    const at = a.indexOf('=');
    if (at <= 0) throw new Error(`a parameter is name=value, got "${a}"`);
    out[a.slice(0, at).trim()] = a.slice(at + 1);
  }
  return out;
}

/**
 * Given values (strings; `null` or the text `null` means SQL NULL) plus defaults → the bound values.
 * Time values become ISO instants, so `since=7 days` means seven days before `now`.
 */
export function resolveParams(query: SavedQuery, given: Readonly<Record<string, string | null>>, now = new Date()): QueryParams {
  for (const key of Object.keys(given)) {
    if (!query.params.some((p) => p.name === key)) {
      throw new Error(`${query.name} has no parameter "${key}"; its parameters are: ${query.params.map((p) => p.name).join(', ') || 'none'}`);
    }
  }
  const out: Record<string, string | null> = {};
  for (const p of query.params) {
    const raw = p.name in given ? given[p.name]! : p.defaultValue;
    if (raw === undefined) throw new Error(`${query.name} needs --param ${p.name}=VALUE (${p.description || p.type})`);
    out[p.name] = raw === null || raw.toLowerCase() === 'null' ? null : normalize(query.name, p, raw, now);
  }
  return out;
}

function normalize(queryName: string, p: SavedQueryParam, raw: string, now: Date): string {
  const fail = (what: string) => new Error(`${queryName}: parameter ${p.name}="${raw}" is not ${what}`);
  switch (p.type) {
    case 'text':
      return raw;
    case 'int':
      if (!/^-?\d+$/.test(raw.trim())) throw fail('an integer');
      return raw.trim();
    case 'bool':
      if (!/^(true|false)$/i.test(raw.trim())) throw fail('true or false');
      return raw.trim().toLowerCase();
    case 'time': {
      const t = parseTimeOrAgo(raw, now);
      if (t === null) throw fail("a time (ISO 8601) or a duration back from now ('7 days', '36h', 'PT1H')");
      return t.toISOString();
    }
    default:
      return p.type satisfies never;
  }
}
