/**
 * The detection stage: an InTransactionWriter that runs every enabled rule on each written batch, inside the
 * batch's transaction, and writes what they find to `alerts` (the outbox). An alert therefore exists
 * exactly when the rows that prove it exist: a crash loses or doubles neither.
 * Input contract: batches in commit order; a batch's rows are already in the tables (windowed rules
 * count them with SQL); `privilegeChanges` carry `effective` as known at the end of the batch.
 * Rolled-back privilege changes raise nothing; an alert whose every change a later batch rolls back is
 * retracted (status `retracted`), and takes back its status when one of them is effective again. A change stored
 * ineffective that a later batch takes into effect is judged in that batch (`takeUnjudged`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { InTransactionWriter, WrittenBatch } from './written-batch.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import { AlertOutbox, type RuleFindings } from './alert-outbox.js';
import { DetectionHandover } from './detection-handover.js';
import { BatchFacts } from './batch-facts.js';
import { takeUnjudged } from './unjudged-changes.js';
import { readFilledChanges } from './filled-changes.js';
import { attributeHanded } from './handed-changes.js';
import { mergeFindings } from './merge-findings.js';
import { StoredWindows } from './stored-windows.js';
import { LastLogins } from './last-logins.js';
import { RoleAttributes } from './role-attributes.js';
import { detectionConfigSchema, type DetectionConfig, type DetectionConfigInput } from './detection-config.js';
import type { Finding, RuleDefinition } from './rule.js';
import { RULE_IDS, RULES, type RuleId } from './rules/registry.js';

export interface DetectorOptions {
  /** Run only these rules, whether enabled in the config or not (`auditduck rules test`). */
  only?: readonly string[];
  /**
   * Whether a source hands this detector's context to a hub's next leader (`run` on Event Hubs): only then are its
   * own window rows, logins and alert keys kept for it (docs/fleet.md).
   */
  handsOver?: boolean;
}

export interface Detector extends InTransactionWriter {
  /** The rules that run, in registry order. */
  readonly ruleIds: readonly RuleId[];
  /** The window's rows and the alert keys a hub's next leader takes over (docs/fleet.md). */
  readonly handover: DetectionHandover;
  /** Runs the scheduled rules (over `roles`) in their own transaction; returns the ids of alerts raised or grown. */
  runScheduledRules(connection: DuckDBConnection, now?: Date): Promise<number[]>;
}

interface ActiveRule {
  id: RuleId;
  rule: RuleDefinition;
  config: { enabled: boolean; suppressMinutes: number };
}

export function createDetector(input: DetectionConfigInput | DetectionConfig = {}, opts: DetectorOptions = {}): Detector {
  const config = detectionConfigSchema.parse(input);
  for (const id of opts.only ?? []) {
    if (!(RULE_IDS as readonly string[]).includes(id)) throw new Error(`no rule "${id}"; auditduck rules list shows the rules`);
  }
  const active: ActiveRule[] = RULE_IDS.map((id) => ({
    id,
    rule: RULES[id] as unknown as RuleDefinition,
    config: config.rules[id] as { enabled: boolean; suppressMinutes: number },
  })).filter((r) => (opts.only ? opts.only.includes(r.id) : r.config.enabled));

  const merged = (r: ActiveRule, findings: Finding[]): RuleFindings => ({
    rule: { id: r.id, severity: r.rule.severity, mitre: r.rule.mitre, suppressMinutes: r.config.suppressMinutes },
    findings: mergeFindings(findings, r.config.suppressMinutes * 60_000),
  });

  const entryReaders = active.filter((r) => r.rule.readsEntry !== undefined);
  const suppressMinutesOf = (ruleId: string): number => (config.rules as Record<string, { suppressMinutes: number } | undefined>)[ruleId]?.suppressMinutes ?? 60;
  const handover = new DetectionHandover(horizons(active), opts.handsOver === true);
  // Kept from batch to batch in step with the store; a rolled-back batch drops them (read again from the store).
  const lastLogins = new LastLogins();
  const attributes = [...new Set(active.flatMap((r) => (r.rule.evaluate ? (r.rule.roleAttributes ?? []) : [])))];
  const roleAttributes = new RoleAttributes(attributes);
  const outbox = new AlertOutbox();

  return {
    ruleIds: active.map((r) => r.id),
    handover,
    // `dormant-role-login` follows the users' last logins through the sessions each batch merges into the store.
    readsMergedSessions: config.enabled && active.some((r) => r.id === 'dormant-role-login'),

    rolledBack(): void {
      lastLogins.forget();
      roleAttributes.forget();
      outbox.forget();
    },

    // Audit entries are most of a trail (pgbench's BEGIN and END alone are two in seven): a batch keeps only those
    // a rule reads, and those with privilege changes, whose session tells the rules who made the change. Of the
    // session lines only logins are read (`BatchFacts.logins`): who a session is comes from the batch's sessions,
    // which every session line of the batch changed, so received and disconnected lines are not held to the commit.
    keepsEntry(entry: ParsedEntry, madeChanges: boolean): boolean {
      if (!config.enabled) return false;
      if (entry.kind === 'session') return entry.session.event === 'authorized';
      return entry.kind !== 'audit' || madeChanges || entryReaders.some((r) => r.rule.readsEntry!(entry));
    },

    async inTransaction(connection: DuckDBConnection, batch: WrittenBatch): Promise<void> {
      if (!config.enabled) return;
      // Before the rules: a finding of this batch grows an alert taken back, as it would have had it never been retracted.
      if (batch.ineffective.some((m) => m.effective)) {
        const reopened = await outbox.reopenRedone(connection);
        // The story of one a hub's other leader raised since (it took the change into effect there) stands there.
        const elsewhere = reopened.filter((a) => handover.keys.raisedElsewhere(a, suppressMinutesOf(a.ruleId) * 60_000));
        await outbox.keepRetracted(connection, elsewhere.map((a) => a.alertId));
        handover.alertsReopened(reopened.filter((a) => !elsewhere.includes(a)), batch);
      }
      const takenBack = await takeUnjudged(connection, batch);
      // Judged here as a change of this store taken back into effect is: the last leader's store judged it never.
      takenBack.unjudged.push(...(await attributeHanded(connection, batch.handedIntoEffect ?? [])));
      const facts = new BatchFacts(
        batch,
        config.exclude,
        takenBack,
        await readFilledChanges(connection, batch.actorsFilled ?? []),
        handover.evidence.fillActors(batch.sessions),
      );
      // Every windowed rule's stored rows in one read a table, not one query a rule.
      const stored = await StoredWindows.read(
        connection,
        active.flatMap((r) => (r.rule.evaluate && r.rule.spans ? r.rule.spans(facts, r.config) : [])),
        (table) => handover.evidence.foreign(table),
      );
      if (attributes.length > 0) await roleAttributes.begin(connection, batch);
      const found: RuleFindings[] = [];
      for (const r of active) {
        if (!r.rule.evaluate) continue;
        try {
          // Before the findings: an alert the batch disproves must not be grown by one of them.
          const disproved = r.rule.disproves?.(facts, r.config, lastLogins) ?? [];
          if (disproved.length > 0) handover.keys.forgetRetracted(await outbox.retractDisproved(connection, r.id, disproved));
          const findings = await r.rule.evaluate({ connection, facts, config: r.config, stored, lastLogins, roleAttributes, handedLogins: handover.logins });
          if (findings.length === 0) continue;
          // An alert a hub's last leader raised for the same key is in its store: not raised here again.
          const ruleFindings = merged(r, findings);
          const fresh = handover.keys.notRaisedElsewhere(r.id, r.config.suppressMinutes * 60_000, ruleFindings.findings);
          if (fresh.length > 0) found.push({ ...ruleFindings, findings: fresh });
        } catch (error) {
          throw new Error(`detection rule ${r.id} failed: ${(error as Error).message}`);
        }
      }
      if (attributes.length > 0) await roleAttributes.end(connection);
      // Every rule's alerts in one outbox write: a few statements a batch, not a few a rule.
      if (found.length > 0) {
        let ids: number[][];
        try {
          ids = await outbox.record(connection, found);
        } catch (error) {
          throw new Error(`detection could not write the alerts of ${found.map((f) => f.rule.id).join(', ')}: ${(error as Error).message}`);
        }
        found.forEach((f, i) => handover.alertsWritten(f.rule.id, f.findings, ids[i]!, batch));
      }
      if (batch.ineffective.length > 0) handover.keys.forgetRetracted(await outbox.retractUndone(connection));
    },

    sealed(batch: WrittenBatch): void {
      if (!config.enabled) return;
      handover.sealed(batch);
    },

    async runScheduledRules(connection: DuckDBConnection, now = new Date()): Promise<number[]> {
      const ids: number[] = [];
      if (!config.enabled) return ids;
      await connection.run('BEGIN TRANSACTION');
      try {
        const found: RuleFindings[] = [];
        for (const r of active) {
          if (!r.rule.scheduled) continue;
          found.push(merged(r, await r.rule.scheduled({ connection, now, config: r.config })));
        }
        for (const written of await outbox.record(connection, found)) ids.push(...written);
        await connection.run('COMMIT');
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => undefined);
        outbox.forget();
        throw new Error(`scheduled detection rules failed, no alert of this run was stored: ${(error as Error).message}`);
      }
      return ids;
    },
  };
}

/**
 * How far back the handover keeps rows and alert keys: the longest window of an active rule, failures-then-success's
 * window for logins (the only rule that counts logins), and the longest suppression window (a finding within it
 * grows the alert instead of raising one).
 */
function horizons(active: readonly ActiveRule[]): { windowMinutes: number; loginMinutes: number; suppressMinutes: number } {
  let windowMinutes = 0;
  let loginMinutes = 0;
  let suppressMinutes = 0;
  for (const r of active) {
    const w = (r.config as { windowMinutes?: unknown }).windowMinutes;
    if (r.rule.spans && typeof w === 'number') windowMinutes = Math.max(windowMinutes, w);
    if (r.id === 'failures-then-success' && typeof w === 'number') loginMinutes = w;
    suppressMinutes = Math.max(suppressMinutes, r.config.suppressMinutes);
  }
  return { windowMinutes, loginMinutes, suppressMinutes };
}
