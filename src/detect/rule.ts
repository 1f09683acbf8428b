/**
 * What a detection rule is: data a user can read (id, title, severity, MITRE technique, what triggers it,
 * a zod config with thresholds and allowlists) plus an `evaluate` that looks at one committed batch, or a
 * `scheduled` check over the store. Rules return findings; the detector turns them into alerts (dedup,
 * suppression, outbox) so no rule writes to `alerts` itself.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import type { BatchFacts } from './batch-facts.js';
import type { StoredSpan, StoredWindows } from './stored-windows.js';
import type { HandedLogins } from './handed-logins.js';
import type { LastLogins } from './last-logins.js';
import type { RoleAttributes } from './role-attributes.js';

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Every rule's config has these; a rule extends them with its thresholds and allowlists. */
export const baseRuleConfig = z.strictObject({
  enabled: z.boolean().default(true).describe('run this rule'),
  suppressMinutes: z
    .number()
    .positive()
    .default(60)
    .describe('events with the same dedup key within this many minutes of an alert grow that alert instead of raising a new one'),
});

/** A privilege change row an alert stands on: if all of them are rolled back, the alert is retracted. */
export interface ChangeRef {
  server: string;
  sessionId: string | null;
  loggedAt: Date;
  seq: number;
}

/** One thing a rule saw; the detector adds rule id, severity and MITRE technique. */
export interface Finding {
  server: string;
  /** Event time of what was seen (last_seen). */
  at: Date;
  /** Start of what was seen, for windowed rules (first_seen of a new alert); default `at`. */
  firstAt?: Date;
  actor: string | null;
  target: string | null;
  summary: string;
  /** Same key within the suppression window → the same alert grows. Server and rule id are added by the detector. */
  dedupKey: string;
  /** One sample of evidence: ids, times, redacted statement text. Never a secret. */
  evidence: Record<string, unknown>;
  /** Events this finding stands for when it raises a new alert (a windowed count); default 1. */
  count?: number;
  /** Events it adds when it grows an existing alert; default `count`. */
  increment?: number;
  /** Overrides the rule's severity (e.g. SUPERUSER is critical where CREATEROLE is high). */
  severity?: Severity;
  changes?: ChangeRef[];
}

/**
 * Alerts of a rule that a batch's rows show no longer hold: those of `server` and `dedupKey` whose whole seen span
 * (first_seen..last_seen) lies strictly between `after` and `before` (a login stored late, before a later one
 * already called dormant). The detector retracts them before it writes the batch's findings.
 */
export interface DisprovedSpan {
  server: string;
  dedupKey: string;
  after: Date;
  before: Date;
}

export interface BatchRuleContext<C> {
  connection: DuckDBConnection;
  facts: BatchFacts;
  config: C;
  /** The stored rows of the spans every rule named in `spans`, read once a batch. */
  stored: StoredWindows;
  /** Each role's last login a hub's last leader handed over (its store holds them, this one may not). */
  handedLogins: Pick<HandedLogins, 'before'>;
  /** Each user's previous login as `sessions` holds it, kept by the detector from batch to batch. */
  lastLogins: LastLogins;
  /** A role's attributes before a change as `privilege_changes` holds them, kept by the detector (those rules name in `roleAttributes`). */
  roleAttributes: RoleAttributes;
}

export interface ScheduledRuleContext<C> {
  connection: DuckDBConnection;
  now: Date;
  config: C;
}

export interface RuleDefinition<S extends z.ZodObject = z.ZodObject> {
  id: string;
  title: string;
  severity: Severity;
  /** MITRE ATT&CK technique id and name, e.g. `T1110.001 Password Guessing`. */
  mitre: string;
  /** What triggers it, one sentence (docs/detection.md is generated from this). */
  trigger: string;
  description: string;
  config: S;
  evaluate?(ctx: BatchRuleContext<z.infer<S>>): Promise<Finding[]> | Finding[];
  /**
   * The spans of stored tables this rule's windows count over in a batch: the detector reads each table once a
   * batch over every rule's spans and hands the rows to `evaluate` as `stored` (one query, not one a rule).
   */
  spans?(facts: BatchFacts, config: z.infer<S>): (StoredSpan | null)[];
  /**
   * The audit entries this rule reads from `facts.entries`. They are most of a trail, so a batch keeps only those
   * some rule reads, and those the privilege analysis found changes in; a rule that reads others must say which
   * here. Every entry of another kind (logins, auth failures, logged statements) is kept; other session lines are not.
   */
  readsEntry?(entry: ParsedEntry): boolean;
  /** The role attributes whose value before a change `evaluate` reads (`roleAttributes.before`): the detector keeps them. */
  roleAttributes?: readonly string[];
  /**
   * The spans whose alerts of this rule the batch disproves (a rule defined on the set of rows, whose rows may
   * arrive out of order). Called before `evaluate`: `lastLogins` are as the store held them before the batch.
   */
  disproves?(facts: BatchFacts, config: z.infer<S>, lastLogins: LastLogins): DisprovedSpan[];
  scheduled?(ctx: ScheduledRuleContext<z.infer<S>>): Promise<Finding[]>;
}

/** Keeps the config type of each rule while the registry checks them all against one shape. */
export function defineRule<S extends z.ZodObject>(rule: RuleDefinition<S>): RuleDefinition<S> {
  return rule;
}
