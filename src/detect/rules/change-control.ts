/** Change control: bursts of privilege statements by one actor, privilege changes outside a change window. */
import { z } from 'zod';
import type { PrivilegeChange } from '../../analyze/privileges/privilege-change.js';
import { runQuery } from '../../query/run-query.js';
import type { ChangeFact } from '../batch-facts.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { actorName, changeEvidence, changeRef } from './change-evidence.js';

/** Changes that alter who may do what (not a session switching roles or its own settings). */
export function isPrivilegeChange(c: Pick<PrivilegeChange, 'action' | 'objectType'>): boolean {
  switch (c.action) {
    case 'set-role':
    case 'reset-role':
    case 'set-session-authorization':
      return false;
    case 'set-parameter':
    case 'reset-parameter':
      return c.objectType !== 'session';
    default:
      return true;
  }
}

const SESSION_ONLY_SQL = `action NOT IN ('set-role', 'reset-role', 'set-session-authorization')
  AND NOT (action IN ('set-parameter', 'reset-parameter') AND object_type = 'session')`;

export const privilegeBurst = defineRule({
  id: 'privilege-burst',
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
  async evaluate({ connection, facts, config }) {
    const byActor = new Map<string, ChangeFact[]>();
    for (const fact of facts.changes) {
      const actor = fact.change.actor;
      if (actor === null || config.allowActors.includes(actor) || !isPrivilegeChange(fact.change)) continue;
      const k = `${fact.change.server}\u0000${actor}`;
      byActor.set(k, [...(byActor.get(k) ?? []), fact]);
    }
    const findings: Finding[] = [];
    for (const group of byActor.values()) {
      const { server, actor } = group[0]!.change;
      const at = new Date(Math.max(...group.map((f) => f.change.loggedAt.getTime())));
      const window = await runQuery(
        connection,
        `SELECT count(*) AS n, min(logged_at) AS first FROM privilege_changes
         WHERE server = $server AND actor = $actor AND effective AND ${SESSION_ONLY_SQL}
           AND logged_at > $since::TIMESTAMPTZ AND logged_at <= $at::TIMESTAMPTZ`,
        { server, actor: actor!, since: new Date(at.getTime() - config.windowMinutes * 60_000).toISOString(), at: at.toISOString() },
      );
      const n = Number(window.rows[0]!.n);
      if (n < config.threshold) continue;
      findings.push({
        server,
        at,
        firstAt: new Date(String(window.rows[0]!.first)),
        actor,
        target: null,
        dedupKey: actor!,
        count: n,
        increment: group.length,
        summary: `${actor} made ${n} privilege changes within ${config.windowMinutes} minutes`,
        evidence: { changesInWindow: n, last: changeEvidence(group.at(-1)!) },
      });
    }
    return findings;
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
