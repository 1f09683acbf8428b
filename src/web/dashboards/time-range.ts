/**
 * The pickers' time range checked once for the whole page: a bad From or Until is one message at the
 * picker, not one error per panel. Also where the data lies, so a page can fit its range to a capture
 * and say how much of it (and how many open alerts) lie outside the range shown.
 */
import { parseTimeOrAgo } from '../../contracts/duration.js';
import { parseSavedQuery } from '../../query/saved-queries.js';
import type { RunSaved } from './alert-page.js';

export interface TimeRange {
  /** ISO instants the pickers resolve to; until null = now. */
  since: string | null;
  until: string | null;
  /** The first and last event in the store (audit events and failed logins), on the picked server. */
  first: string | null;
  last: string | null;
  events: { inRange: number; outside: number };
  /** Open alerts whose last sighting lies outside the range: the dashboards show them anyway. */
  openAlerts: { total: number; outside: number };
}

/** A picker value that is neither a time nor a duration back from now, named by its picker. */
export class BadTime extends Error {
  constructor(
    readonly field: 'since' | 'until',
    value: string,
  ) {
    super(`${field === 'since' ? 'From' : 'Until'} "${value}" is neither a time (2026-11-27 or 2026-11-27T02:20:00Z) nor a duration back from now (7 days, 36h, PT1H)`);
  }
}

const EXTENT = parseSavedQuery(
  'time-range',
  `-- Where the data lies against a range, and the open alerts outside it.
-- @param since time = null : start of the range, NULL for all
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
WITH events AS (
  SELECT logged_at FROM audit_events WHERE $server IS NULL OR server = $server
  UNION ALL
  SELECT logged_at FROM auth_failures WHERE $server IS NULL OR server = $server
),
inside AS (
  SELECT ($since IS NULL OR logged_at >= CAST($since AS TIMESTAMPTZ)) AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ)) AS yes FROM events
)
SELECT (SELECT min(logged_at) FROM events) AS first, (SELECT max(logged_at) FROM events) AS last,
       (SELECT count(*) FILTER (WHERE yes) FROM inside) AS in_range, (SELECT count(*) FILTER (WHERE NOT yes) FROM inside) AS outside,
       (SELECT count(*) FROM alerts WHERE status = 'open' AND ($server IS NULL OR server = $server)) AS open_total,
       (SELECT count(*) FROM alerts WHERE status = 'open' AND ($server IS NULL OR server = $server)
          AND NOT (($since IS NULL OR last_seen >= CAST($since AS TIMESTAMPTZ)) AND ($until IS NULL OR last_seen < CAST($until AS TIMESTAMPTZ)))) AS open_outside`,
);

/** since/until as typed (a time or a duration back from now) → ISO instants; BadTime names the picker at fault. */
export function resolveRange(since: string | undefined, until: string | undefined, now = new Date()): { since: string | null; until: string | null } {
  const one = (field: 'since' | 'until', text: string | undefined): string | null => {
    if (text === undefined || text.trim() === '') return null;
    const t = parseTimeOrAgo(text.trim(), now);
    if (t === null || Number.isNaN(t.getTime())) throw new BadTime(field, text);
    return t.toISOString();
  };
  return { since: one('since', since), until: one('until', until) };
}

export async function describeRange(run: RunSaved, page: Readonly<Record<string, string>>, now = new Date()): Promise<TimeRange> {
  const range = resolveRange(page.since, page.until, now);
  const server = page.server?.trim() ? page.server.trim() : null;
  const [row] = (await run(EXTENT, { since: range.since, until: range.until, server })).rows;
  return {
    ...range,
    first: row?.first === null || row?.first === undefined ? null : String(row.first),
    last: row?.last === null || row?.last === undefined ? null : String(row.last),
    events: { inRange: Number(row?.in_range ?? 0), outside: Number(row?.outside ?? 0) },
    openAlerts: { total: Number(row?.open_total ?? 0), outside: Number(row?.open_outside ?? 0) },
  };
}
