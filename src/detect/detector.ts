/**
 * The detection stage: an InTransactionWriter that runs every enabled rule on each written batch, inside the
 * batch's transaction, and writes what they find to `alerts` (the outbox). An alert therefore exists
 * exactly when the rows that prove it exist: a crash loses or doubles neither.
 * Input contract: batches in commit order; a batch's rows are already in the tables (windowed rules
 * count them with SQL); `privilegeChanges` carry `effective` as known at the end of the batch.
 * Rolled-back privilege changes raise nothing; an alert whose every change a later batch rolls back is
 * retracted (status `retracted`).
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { InTransactionWriter, WrittenBatch } from './written-batch.js';
import type { ParsedEntry } from '../parse/parsed-entry.js';
import { recordFindings, retractUndone } from './alert-outbox.js';
import { BatchFacts } from './batch-facts.js';
import { mergeFindings } from './merge-findings.js';
import { detectionConfigSchema, type DetectionConfig, type DetectionConfigInput } from './detection-config.js';
import type { Finding, RuleDefinition } from './rule.js';
import { RULE_IDS, RULES, type RuleId } from './rules/registry.js';

export interface DetectorOptions {
  /** Run only these rules, whether enabled in the config or not (`auditduck rules test`). */
  only?: readonly string[];
}

export interface Detector extends InTransactionWriter {
  /** The rules that run, in registry order. */
  readonly ruleIds: readonly RuleId[];
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

  const write = async (connection: DuckDBConnection, r: ActiveRule, findings: Finding[], ids: number[]) => {
    const merged = mergeFindings(findings, r.config.suppressMinutes * 60_000);
    for (const id of await recordFindings(connection, { id: r.id, severity: r.rule.severity, mitre: r.rule.mitre, suppressMinutes: r.config.suppressMinutes }, merged)) ids.push(id);
  };

  const entryReaders = active.filter((r) => r.rule.readsEntry !== undefined);

  return {
    ruleIds: active.map((r) => r.id),

    keepsEntry(entry: ParsedEntry): boolean {
      if (!config.enabled) return false;
      const readOrWrite = entry.kind === 'audit' && (entry.audit.className === 'READ' || entry.audit.className === 'WRITE');
      return !readOrWrite || entryReaders.some((r) => r.rule.readsEntry!(entry));
    },

    async inTransaction(connection: DuckDBConnection, batch: WrittenBatch): Promise<void> {
      if (!config.enabled) return;
      const facts = new BatchFacts(batch, config.exclude);
      const ids: number[] = [];
      for (const r of active) {
        if (!r.rule.evaluate) continue;
        try {
          await write(connection, r, await r.rule.evaluate({ connection, facts, config: r.config }), ids);
        } catch (error) {
          throw new Error(`detection rule ${r.id} failed: ${(error as Error).message}`);
        }
      }
      if (batch.ineffective.length > 0) await retractUndone(connection);
    },

    async runScheduledRules(connection: DuckDBConnection, now = new Date()): Promise<number[]> {
      const ids: number[] = [];
      if (!config.enabled) return ids;
      await connection.run('BEGIN TRANSACTION');
      try {
        for (const r of active) {
          if (!r.rule.scheduled) continue;
          await write(connection, r, await r.rule.scheduled({ connection, now, config: r.config }), ids);
        }
        await connection.run('COMMIT');
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => undefined);
        throw new Error(`scheduled detection rules failed, no alert of this run was stored: ${(error as Error).message}`);
      }
      return ids;
    },
  };
}
