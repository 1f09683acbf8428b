/**
 * Dashboards are data: one JSON file per dashboard in `dashboards/` (and in any extra folder a user
 * names), each a list of panels that name a saved query in `queries/` and say how to draw its rows.
 * Files are read on every request, so an edited or added file shows on the next reload.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** `dashboards/` at the package root, from src/web/dashboards/ and dist/web/dashboards/ alike. */
export const DEFAULT_DASHBOARDS_DIR = fileURLToPath(new URL('../../../dashboards/', import.meta.url));

export const CHART_TYPES = ['line', 'bar', 'stacked-bar', 'table', 'number', 'graph', 'fields'] as const;
export type ChartType = (typeof CHART_TYPES)[number];

/**
 * What a table cell can link to, each kind a page of its own: a role's timeline, a session's statements,
 * a client address's sessions and failures, a setting's changes, a server's timeline, an alert's page.
 */
export const LINK_KINDS = ['role', 'session', 'client', 'setting', 'server', 'alert'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

/** Dashboard, panel and saved-query names: they become URL segments and file names. */
export const NAME = /^[a-z0-9][a-z0-9_-]*$/;

const columnName = z.string().min(1);

const PanelSchema = z.strictObject({
  id: z.string().regex(NAME, 'a panel id is lower-case letters, digits, - and _').describe('unique in the dashboard; used in URLs'),
  title: z.string().min(1),
  description: z.string().optional().describe('shown under the title; the saved query description when absent'),
  query: z.string().regex(NAME, 'a saved query name is a file name in queries/ without .sql').describe('saved query (queries/NAME.sql)'),
  chart: z.enum(CHART_TYPES),
  params: z
    .record(z.string(), z.string().nullable())
    .default({})
    .describe('fixed parameter values; they win over the pickers. "$name" is the page value of name (e.g. {"actor": "$role"})'),
  x: columnName.optional().describe('line/bar/stacked-bar: the column along the x axis (default: the first)'),
  y: z.union([columnName, z.array(columnName).min(1)]).optional().describe('line/bar/stacked-bar: value column(s) (default: the last)'),
  series: columnName.optional().describe('line/bar/stacked-bar: a column whose values become one series each'),
  value: columnName.optional().describe('number: the column shown (default: the first) of the first row'),
  from: columnName.optional().describe('graph: the column an edge starts at (default: member)'),
  to: columnName.optional().describe('graph: the column an edge points to (default: role_name)'),
  links: z.record(columnName, z.enum(LINK_KINDS)).default({}).describe('columns whose values link to the page of their kind'),
  acknowledge: z.boolean().default(false).describe('table: a checkbox per row (alert_id column) and an Acknowledge button'),
  width: z.enum(['full', 'half', 'third']).default('half'),
});

const PageParamSchema = z.strictObject({
  name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
  label: z.string().optional(),
  required: z.boolean().default(false),
});

export const DashboardSchema = z.strictObject({
  title: z.string().min(1),
  description: z.string().default(''),
  order: z.number().default(100).describe('position in the navigation; lower first'),
  nav: z.boolean().default(true).describe('listed in the navigation; false for pages reached by links (a session, an address)'),
  defaults: z.record(z.string(), z.string()).default({}).describe('picker values when the URL gives none, e.g. {"since": "7 days"}'),
  params: z.array(PageParamSchema).default([]).describe('page inputs besides since/until/server (e.g. role)'),
  panels: z.array(PanelSchema).min(1),
});

export type Panel = z.infer<typeof PanelSchema>;
export type Dashboard = z.infer<typeof DashboardSchema> & { name: string; path: string };

export function parseDashboard(name: string, text: string, path = `${name}.json`): Dashboard {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not JSON: ${(error as Error).message}`);
  }
  const parsed = DashboardSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`);
  }
  const ids = new Set<string>();
  for (const p of parsed.data.panels) {
    if (ids.has(p.id)) throw new Error(`${path}: two panels have the id "${p.id}"`);
    ids.add(p.id);
  }
  return { ...parsed.data, name, path };
}

export interface DashboardListing {
  dashboards: Dashboard[];
  /** Files that could not be read: shown on the index page instead of breaking it. */
  errors: { path: string; error: string }[];
}

/** Every dashboard in `dirs`; a name in an earlier folder hides the same name in a later one. */
export function loadDashboards(dirs: readonly string[]): DashboardListing {
  const byName = new Map<string, Dashboard>();
  const errors: DashboardListing['errors'] = [];
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    } catch (error) {
      errors.push({ path: dir, error: `cannot read the folder: ${(error as Error).message}` });
      continue;
    }
    for (const file of files) {
      const name = basename(file, '.json');
      if (byName.has(name)) continue;
      const path = join(dir, file);
      if (!NAME.test(name)) {
        errors.push({ path, error: 'a dashboard file name is lower-case letters, digits, - and _, then .json' });
        continue;
      }
      try {
        byName.set(name, parseDashboard(name, readFileSync(path, 'utf8'), path));
      } catch (error) {
        errors.push({ path, error: (error as Error).message });
      }
    }
  }
  const dashboards = [...byName.values()].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  return { dashboards, errors };
}
