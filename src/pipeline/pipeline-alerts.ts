/**
 * Alerts the pipeline raises about itself (not about the audited servers), written to the outbox in the
 * transaction of the batch they are about, so they are delivered like any rule's alert.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQuery } from '../query/run-query.js';
import { redactStoredText, redactStrings } from '../parse/redact/index.js';
import type { Severity } from '../detect/rule.js';

export const PIPELINE_ALERTS = {
  /** A batch failed on every attempt for a reason in its data; its events went to dead_letters. */
  'pipeline.poison-batch': { severity: 'high' },
  /** Events expired from the hub before they were read: the audit trail has a hole. */
  'pipeline.events-lost': { severity: 'critical' },
} as const satisfies Record<string, { severity: Severity }>;

export type PipelineAlertId = keyof typeof PIPELINE_ALERTS;

export interface PipelineAlert {
  ruleId: PipelineAlertId;
  /** The stream it is about (`eventhubs:<hub>/<partition>`); stored as the alert's server. */
  source: string;
  summary: string;
  evidence: Record<string, unknown>;
  /** One alert per distinct key: a replay of the same batch does not raise it twice. */
  dedupKey: string;
}

export async function raisePipelineAlert(connection: DuckDBConnection, alert: PipelineAlert): Promise<void> {
  const now = new Date().toISOString();
  await runQuery(
    connection,
    `INSERT INTO alerts (rule_id, severity, server, first_seen, last_seen, actor, target, summary, evidence, mitre, status, dedup_key, count)
     SELECT $rule, $severity, $server, $now::TIMESTAMPTZ, $now::TIMESTAMPTZ, NULL, NULL, $summary, $evidence::JSON, NULL, 'open', $key, 1
     WHERE NOT EXISTS (SELECT 1 FROM alerts WHERE rule_id = $rule AND dedup_key = $key)`,
    {
      rule: alert.ruleId,
      severity: PIPELINE_ALERTS[alert.ruleId].severity,
      server: alert.source,
      now,
      // An error message may quote the batch's data: the alert's text passes the redactor like a stored row.
      summary: redactStoredText(alert.summary),
      evidence: JSON.stringify(redactStrings(alert.evidence)),
      key: alert.dedupKey,
    },
  );
}
