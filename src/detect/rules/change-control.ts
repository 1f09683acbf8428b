/** Change control: bursts of privilege statements by one actor, privilege changes outside a change window. */
import { z } from 'zod';
import type { PrivilegeAction, PrivilegeChange } from '../../analyze/privileges/privilege-change.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { actorName, changeEvidence, changeRef } from './change-evidence.js';
import type { BatchFacts, ChangeFact } from '../batch-facts.js';
import type { StoredPrivilegeChange } from '../stored-windows.js';
import { keyedSpanOf, newBursts, type FreshRow } from './windowed-counts.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../../store/sql-literal.js';
import { boundRows } from '../../store/bound-rows.js';

/** Actions that switch who the session is, not who may do what. */
const SESSION_SWITCHES: readonly PrivilegeAction[] = ['set-role', 'reset-role', 'set-session-authorization'];
/** Setting changes: a privilege change unless they only set the session's own setting. */
const SETTING_CHANGES: readonly PrivilegeAction[] = ['set-parameter', 'reset-parameter'];
const SESSION_SCOPE = 'session';

/** Changes that alter who may do what (not a session switching roles or its own settings). */
export function isPrivilegeChange(c: Pick<PrivilegeChange, 'action' | 'objectType'>): boolean {
  if (SESSION_SWITCHES.includes(c.action)) return false;
  return !(SETTING_CHANGES.includes(c.action) && c.objectType === SESSION_SCOPE);
}

/** The privilege changes a burst counts (but those of allowed actors), keyed by actor. */
function burstChanges(changes: readonly ChangeFact[], allowActors: readonly string[]): ChangeFact[] {
  return changes.filter((f) => isPrivilegeChange(f.change) && !(f.change.actor !== null && allowActors.includes(f.change.actor)));
}

/**
 * Rows of changes a window may have judged without (`BatchFacts.recountedChanges`, `recountedHanded`) that no burst
 * alert of their actor covers (within its span): counted now. Those an alert covers were counted when they arrived.
 */
async function recountedUncounted(connection: DuckDBConnection, recounted: readonly FreshRow[]): Promise<FreshRow[]> {
  const keyed = recounted.filter((r) => r.key !== null);
  if (keyed.length === 0) return [];
  const r = boundRows(
    { i: 'BIGINT', r_server: 'VARCHAR', r_actor: 'VARCHAR', r_at_us: 'BIGINT' },
    keyed.map((row, i) => ({ i, r_server: row.server, r_actor: row.key!, r_at_us: Math.round(row.atMicros) })),
  );
  const reader = await connection.runAndReadAll(
    `SELECT r.i FROM ${r.sql} r
     WHERE NOT EXISTS (SELECT 1 FROM alert_keys k WHERE k.rule_id = ${sqlString(PRIVILEGE_BURST)} AND k.server = r.r_server AND k.dedup_key = r.r_actor
                         AND r.r_at_us BETWEEN epoch_us(k.first_seen) AND epoch_us(k.last_seen))
     ORDER BY r.i`,
    r.values,
    r.types,
  );
  return reader.getRows().map(([i]) => keyed[Number(i)]!);
}

const fresh = (changes: readonly ChangeFact[]): FreshRow[] => changes.map((f) => ({ server: f.change.server, key: f.change.actor, atMicros: f.change.loggedAt.getTime() * 1000 }));

/** The rows a batch looks at again for bursts: its recounted changes, and the handed ones it filled the actor of. */
function recountedRows(facts: BatchFacts, allowActors: readonly string[]): FreshRow[] {
  const handed = facts.recountedHanded.filter((r) => effectivePrivilegeChange(r) && !(r.actor !== null && allowActors.includes(r.actor)));
  return [...fresh(burstChanges(facts.recountedChanges, allowActors)), ...handed.map((r) => ({ server: r.server, key: r.actor, atMicros: r.atMicros }))];
}

const byActor = (r: StoredPrivilegeChange): string | null => r.actor;
const effectivePrivilegeChange = (r: StoredPrivilegeChange) => r.effective && isPrivilegeChange({ action: r.action as PrivilegeAction, objectType: r.objectType });

const PRIVILEGE_BURST = 'privilege-burst';

export const privilegeBurst = defineRule({
  id: PRIVILEGE_BURST,
  title: 'Burst of privilege changes by one actor',
  severity: 'medium',
  mitre: 'T1098 Account Manipulation',
  trigger: 'at least `threshold` effective privilege, role or server-setting changes by one actor within `windowMinutes`',
  description: 'Mass grants or role changes outside a reviewed migration: scripted persistence or a compromised admin.',
  config: baseRuleConfig.extend({
    threshold: z.number().int().positive().default(20).describe('changes that make a burst'),
    windowMinutes: z.number().positive().default(5).describe('sliding window'),
    allowActors: z.array(z.string()).default([]).describe('actors whose bursts are expected (migration users)'),
  }),
  // The span holds every recounted row too: which of them count is known only in `evaluate`.
  spans: (facts, config) => [keyedSpanOf('privilege_changes', [...fresh(burstChanges(facts.changes, config.allowActors)), ...recountedRows(facts, config.allowActors)], config.windowMinutes)],
  async evaluate({ connection, facts, config, stored }) {
    const changes = burstChanges([...facts.changes, ...facts.recountedChanges], config.allowActors);
    const rows = [...fresh(burstChanges(facts.changes, config.allowActors)), ...(await recountedUncounted(connection, recountedRows(facts, config.allowActors)))];
    const span = keyedSpanOf('privilege_changes', rows, config.windowMinutes);
    if (span === null) return [];
    const bursts = newBursts<StoredPrivilegeChange>(stored.rows(span), rows, {
      keyOf: byActor, where: effectivePrivilegeChange, minutes: config.windowMinutes, threshold: config.threshold,
    });
    return bursts.map(({ server, key: actor, at, firstAt, added, largest }): Finding => {
      const n = largest.length;
      // A burst a handed row completes may have no change of this store's batch to show.
      const last = changes.filter((f) => f.change.server === server && f.change.actor === actor).at(-1);
      return {
        server,
        at,
        firstAt,
        actor,
        target: null,
        dedupKey: actor,
        count: added,
        summary: `${actor} made ${n} privilege changes within ${config.windowMinutes} minutes`,
        evidence: { changesInWindow: n, last: last ? changeEvidence(last) : null },
      };
    });
  },
});

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

const changeWindow = z.strictObject({
  days: z.array(z.enum(DAYS)).min(1).describe('weekdays the window is open'),
  from: z.string().regex(HHMM).describe('opens at HH:MM (local to timeZone)'),
  to: z.string().regex(HHMM).describe('closes at HH:MM; before `from` means it runs past midnight'),
});

export type ChangeWindow = z.infer<typeof changeWindow>;

/** Whether `at` falls in one of the windows, read in `timeZone` (an IANA name). */
export function inChangeWindow(at: Date, windows: readonly ChangeWindow[], timeZone: string): boolean {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = part('weekday').toLowerCase().slice(0, 3);
  const time = `${part('hour')}:${part('minute')}`;
  const previous = DAYS[(DAYS.indexOf(day as (typeof DAYS)[number]) + 6) % 7];
  return windows.some((w) => {
    if (w.from <= w.to) return w.days.includes(day as ChangeWindow['days'][number]) && time >= w.from && time < w.to;
    // Overnight: the evening part belongs to the listed day, the early morning to the day before it.
    return (w.days.includes(day as ChangeWindow['days'][number]) && time >= w.from) || (previous !== undefined && w.days.includes(previous) && time < w.to);
  });
}

export const changeOutsideWindow = defineRule({
  id: 'change-outside-window',
  title: 'Privilege change outside the change window',
  severity: 'medium',
  mitre: 'T1098 Account Manipulation',
  trigger: 'a privilege, role or server-setting change whose time is outside every configured change window (off until windows are configured)',
  description: 'Changes are reviewed and scheduled; one at 3 a.m. on a Sunday was not.',
  config: baseRuleConfig.extend({
    enabled: z.boolean().default(false).describe('run this rule (needs `windows`)'),
    windows: z.array(changeWindow).default([{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }]),
    timeZone: z.string().default('UTC').describe('IANA time zone the windows are written in'),
    allowActors: z.array(z.string()).default([]).describe('actors allowed to change at any time'),
  }),
  evaluate({ facts, config }) {
    const findings: Finding[] = [];
    for (const fact of facts.changes) {
      const c = fact.change;
      if (!isPrivilegeChange(c) || (c.actor !== null && config.allowActors.includes(c.actor))) continue;
      if (inChangeWindow(c.loggedAt, config.windows, config.timeZone)) continue;
      findings.push({
        server: c.server,
        at: c.loggedAt,
        actor: c.actor,
        target: c.roleName ?? c.objectName ?? c.attribute,
        dedupKey: c.actor ?? '',
        summary: `${actorName(c.actor)} made a privilege change (${c.action}) outside the change window`,
        evidence: changeEvidence(fact),
        changes: [changeRef(fact)],
      });
    }
    return findings;
  },
});
