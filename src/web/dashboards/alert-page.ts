/**
 * One alert as an analyst reads it, like an incident page: the alert, its rule (description, MITRE
 * technique with a link), the privilege changes it stands on with where they came from, the timeline of
 * its sessions (and of the addresses it names) around it, and the entities it involves, each of a kind
 * that has a page of its own.
 */
import type { Rows } from '../../query/format-rows.js';
import type { PlainValue } from '../../query/row-values.js';
import { parseSavedQuery, type SavedQuery } from '../../query/saved-queries.js';
import { RULES } from '../../detect/rules/registry.js';
import type { LinkKind } from './dashboard-file.js';

type Row = Record<string, PlainValue>;
export type RunSaved = (query: SavedQuery, given: Readonly<Record<string, string | null>>) => Promise<Rows>;

/** Something the alert involves. Kinds with a page link there; an application or database is shown as text. */
export interface AlertEntity {
  kind: LinkKind | 'application' | 'database';
  value: string;
  server: string;
}

export interface AlertRule {
  id: string;
  title: string;
  description: string;
  trigger: string;
  mitre: { technique: string; url: string | null } | null;
}

export interface AlertPage {
  alert: Row;
  rule: AlertRule;
  /** Evidence samples, one object each, for a table with one column per key. */
  evidence: { samples: Row[]; other: Row };
  changes: Row[];
  timeline: Row[];
  entities: AlertEntity[];
  /** The window the timeline covers. */
  window: { from: string; to: string };
}

/** How far before the first and after the last event the timeline reaches. */
const TIMELINE_MARGIN_MS = 10 * 60 * 1000;
const TIMELINE_MAX_ROWS = 500;

const ALERT = parseSavedQuery(
  'alert',
  `-- One alert with how it was handled.
-- @param alert_id int : the alert
SELECT alert_id, status, severity, rule_id, server, first_seen, last_seen, count, actor, target, summary, mitre, evidence,
       acknowledged_at, acknowledged_by, ack_comment, ack_classification, created_at
FROM alerts WHERE alert_id = CAST($alert_id AS BIGINT)`,
);

const CHANGES = parseSavedQuery(
  'alert-changes',
  `-- The privilege changes an alert stands on, with the session they came from.
-- @param alert_id int : the alert
SELECT c.logged_at, c.session_id, p.actor, p.acting_role, p.action, p.role_name, p.attribute, p.value, p.granted_role,
       p.grantee, p.object_name, p.effective, p.statement, s.client_addr, s.application_name, s.database_name
FROM alert_changes c
LEFT JOIN privilege_changes p ON p.server = c.server AND p.session_id IS NOT DISTINCT FROM c.session_id
  AND p.logged_at = c.logged_at AND p.seq IS NOT DISTINCT FROM c.seq
LEFT JOIN sessions s ON s.server = c.server AND s.session_id = c.session_id
WHERE c.alert_id = CAST($alert_id AS BIGINT)
ORDER BY c.logged_at, c.seq`,
);

const TIMELINE = parseSavedQuery(
  'alert-timeline',
  `-- What the alert's sessions did, and what its client addresses tried, around the alert.
-- @param server text : the alert's server
-- @param sessions text : session ids, comma-separated
-- @param addresses text : client addresses, comma-separated
-- @param from time : start of the window
-- @param to time : end of the window
-- @param max_rows int : at most this many rows
SELECT * FROM (
  SELECT started_at AS logged_at, 'session start' AS kind, session_id, user_name, client_addr, application_name,
         database_name AS what, concat_ws(' ', auth_method, CASE WHEN ssl THEN '(TLS)' WHEN NOT ssl THEN '(no TLS)' END) AS detail
  FROM sessions WHERE server = $server AND list_contains(string_split($sessions, ','), session_id)
  UNION ALL
  SELECT logged_at, 'statement', session_id, user_name, client_addr, application_name, concat_ws(' ', class, command, object_name), statement
  FROM audit_events WHERE server = $server AND list_contains(string_split($sessions, ','), session_id)
  UNION ALL
  SELECT logged_at, 'login failed', session_id, user_name, client_addr, NULL, database_name, reason
  FROM auth_failures WHERE server = $server AND list_contains(string_split($addresses, ','), client_addr)
  UNION ALL
  SELECT ended_at, 'session end', session_id, user_name, client_addr, application_name, database_name, NULL
  FROM sessions WHERE server = $server AND ended_at IS NOT NULL AND list_contains(string_split($sessions, ','), session_id)
) t
WHERE logged_at BETWEEN CAST($from AS TIMESTAMPTZ) AND CAST($to AS TIMESTAMPTZ)
ORDER BY logged_at, kind
LIMIT CAST($max_rows AS INTEGER)`,
);

export class AlertNotFound extends Error {}

export async function loadAlertPage(run: RunSaved, id: number): Promise<AlertPage> {
  const alerts = await run(ALERT, { alert_id: String(id) });
  const alert = alerts.rows[0];
  if (!alert) throw new AlertNotFound(`no alert with id ${id}`);
  const evidence = evidenceOf(alert.evidence ?? null);
  const changes = (await run(CHANGES, { alert_id: String(id) })).rows;
  const entities = alertEntities(alert, evidence.samples, changes);
  const sessions = entities.filter((e) => e.kind === 'session').map((e) => e.value);
  // Failed logins from its addresses matter to an alert that counts them (a spray has no session); beside a
  // session's statements they are noise.
  const addresses = sessions.length > 0 ? [] : entities.filter((e) => e.kind === 'client').map((e) => e.value);
  const from = new Date(Date.parse(String(alert.first_seen)) - TIMELINE_MARGIN_MS).toISOString();
  const to = new Date(Date.parse(String(alert.last_seen)) + TIMELINE_MARGIN_MS).toISOString();
  const timeline = (
    await run(TIMELINE, {
      server: String(alert.server),
      sessions: sessions.join(','),
      addresses: addresses.join(','),
      from,
      to,
      max_rows: String(TIMELINE_MAX_ROWS),
    })
  ).rows;
  // The rows the alert stands on, marked so the page can pick them out of their session.
  const key = (session: PlainValue | undefined, at: PlainValue | undefined, statement: PlainValue | undefined) => `${String(session)}|${String(at)}|${String(statement)}`;
  const inAlert = new Set(changes.map((c) => key(c.session_id, c.logged_at, c.statement)));
  for (const row of timeline) row.in_alert = row.kind === 'statement' && inAlert.has(key(row.session_id, row.logged_at, row.detail));
  return { alert: { ...alert, evidence: null }, rule: ruleOf(String(alert.rule_id), alert.mitre), evidence, changes, timeline, entities, window: { from, to } };
}

/** The rule as written in src/detect/rules; an id no rule has any more (renamed, a user's old store) still reads. */
export function ruleOf(ruleId: string, storedMitre: PlainValue | undefined): AlertRule {
  const rule = (RULES as Record<string, { title: string; description: string; trigger: string; mitre: string } | undefined>)[ruleId];
  const technique = typeof storedMitre === 'string' && storedMitre !== '' ? storedMitre : (rule?.mitre ?? null);
  return {
    id: ruleId,
    title: rule?.title ?? ruleId,
    description: rule?.description ?? 'This rule is not among the built-in rules of this version.',
    trigger: rule?.trigger ?? '',
    mitre: technique === null ? null : { technique, url: mitreUrl(technique) },
  };
}

/** `T1110.003 Brute Force: Password Spraying` → https://attack.mitre.org/techniques/T1110/003/ */
export function mitreUrl(technique: string): string | null {
  const m = /^(T\d{4})(?:\.(\d{3}))?\b/.exec(technique.trim());
  if (!m) return null;
  return `https://attack.mitre.org/techniques/${m[1]}/${m[2] ? `${m[2]}/` : ''}`;
}

/** Evidence is stored as `{"samples": [...], ...}`; anything else is shown as one sample. */
export function evidenceOf(stored: PlainValue): { samples: Row[]; other: Row } {
  let value: unknown = stored;
  if (typeof stored === 'string') {
    try {
      value = JSON.parse(stored);
    } catch {
      return { samples: [{ evidence: stored }], other: {} };
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { samples: [], other: {} };
  const { samples, ...other } = value as { samples?: unknown };
  const rows = Array.isArray(samples) ? samples.filter((s): s is Row => s !== null && typeof s === 'object' && !Array.isArray(s)) : [value as Row];
  return { samples: rows, other: Array.isArray(samples) ? (other as Row) : {} };
}

const ROLE_KEYS = ['actor', 'actingRole', 'roleName', 'grantee', 'grantedRole'] as const;
const SETTING_ACTIONS = new Set(['set-parameter', 'reset-parameter']);

/**
 * Who and what an alert involves, from the alert, its evidence samples (camelCase, as rules write them) and
 * the changes it stands on (snake_case columns). PUBLIC is not a role one can open.
 */
export function alertEntities(alert: Row, samples: readonly Row[], changes: readonly Row[]): AlertEntity[] {
  const server = String(alert.server);
  const found = new Map<string, AlertEntity>();
  const add = (kind: AlertEntity['kind'], value: PlainValue | undefined) => {
    if (typeof value !== 'string' || value.trim() === '') return;
    if (kind === 'role' && value.toUpperCase() === 'PUBLIC') return;
    found.set(`${kind}\0${value}`, { kind, value, server });
  };
  add('server', server);
  add('role', alert.actor);
  const look = (r: Row, key: (camel: string) => string) => {
    for (const k of ROLE_KEYS) add('role', r[key(k)]);
    add('session', r[key('sessionId')]);
    add('client', r[key('clientAddr')]);
    add('application', r[key('application')] ?? r[key('applicationName')]);
    add('database', r[key('database')] ?? r[key('databaseName')]);
    if (SETTING_ACTIONS.has(String(r[key('action')]))) add('setting', r[key('attribute')]);
  };
  for (const s of samples) look(s, (k) => k);
  for (const c of changes) look(c, snakeCase);
  // The target is a role unless the evidence says it is an address or a setting (`password_encryption@session`).
  const target = alert.target;
  if (typeof target === 'string' && !found.has(`client\0${target}`) && !/@/.test(target) && ![...found.values()].some((e) => e.kind === 'setting' && target.startsWith(e.value))) {
    if (changes.length > 0 || samples.some((s) => ROLE_KEYS.some((k) => s[k] === target))) add('role', target);
  }
  const order: AlertEntity['kind'][] = ['role', 'session', 'client', 'setting', 'server', 'application', 'database'];
  return [...found.values()].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.value.localeCompare(b.value));
}

function snakeCase(camel: string): string {
  if (camel === 'application') return 'application_name';
  if (camel === 'database') return 'database_name';
  return camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
