/**
 * Findings → rows of `alerts`, inside the batch's transaction (the table is the outbox the delivery loop
 * reads). A finding whose rule and dedup key match an alert seen within the rule's suppression window
 * grows that alert (count, last_seen, evidence samples) instead of raising a new one; a retracted alert
 * never grows. Windows are in event time (logged_at), so replaying the same logs gives the same alerts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQuery } from '../query/run-query.js';
import type { MergedFinding } from './merge-findings.js';
import type { Severity } from './rule.js';

/** Evidence keeps this many samples; the rest are counted in `omittedSamples`. */
const MAX_SAMPLES = 20;

export interface RuleIdentity {
  id: string;
  severity: Severity;
  mitre: string;
  suppressMinutes: number;
}

export interface Evidence {
  samples: Record<string, unknown>[];
  omittedSamples: number;
}

/** Writes one finding; returns the alert id and whether it is new. */
export async function recordFinding(connection: DuckDBConnection, rule: RuleIdentity, finding: MergedFinding): Promise<{ alertId: number; created: boolean }> {
  const at = finding.at.toISOString();
  const first = (finding.firstAt ?? finding.at).toISOString();
  const suppressMs = Math.round(rule.suppressMinutes * 60_000);
  const existing = await runQuery(
    connection,
    `SELECT alert_id, evidence::VARCHAR AS evidence FROM alerts
     WHERE rule_id = $rule AND server = $server AND dedup_key = $key AND status <> 'retracted'
       AND $at::TIMESTAMPTZ BETWEEN first_seen - to_milliseconds($ms::BIGINT) AND last_seen + to_milliseconds($ms::BIGINT)
     ORDER BY last_seen DESC LIMIT 1`,
    { rule: rule.id, server: finding.server, key: finding.dedupKey, at, ms: String(suppressMs) },
  );
  const count = finding.count ?? 1;
  const row = existing.rows[0];
  let alertId: number;
  let created: boolean;
  if (row) {
    alertId = Number(row.alert_id);
    created = false;
    const evidence = addSamples(JSON.parse(String(row.evidence ?? '{}')) as Partial<Evidence>, finding.samples);
    await runQuery(
      connection,
      `UPDATE alerts SET count = count + $inc::BIGINT, last_seen = greatest(last_seen, $at::TIMESTAMPTZ),
         first_seen = least(first_seen, $first::TIMESTAMPTZ), evidence = $evidence::JSON, updated_at = now()
       WHERE alert_id = $id::BIGINT`,
      { inc: String(finding.increment ?? count), at, first, evidence: JSON.stringify(evidence), id: String(alertId) },
    );
  } else {
    created = true;
    const evidence = addSamples({}, finding.samples);
    const inserted = await runQuery(
      connection,
      `INSERT INTO alerts (rule_id, severity, server, first_seen, last_seen, actor, target, summary, evidence, mitre, status, dedup_key, count)
       VALUES ($rule, $severity, $server, $first::TIMESTAMPTZ, $at::TIMESTAMPTZ, nullif($actor, ''), nullif($target, ''), $summary,
               $evidence::JSON, $mitre, 'open', $key, $count::BIGINT)
       RETURNING alert_id`,
      {
        rule: rule.id,
        severity: finding.severity ?? rule.severity,
        server: finding.server,
        first,
        at,
        actor: finding.actor ?? '',
        target: finding.target ?? '',
        summary: finding.summary,
        evidence: JSON.stringify(evidence),
        mitre: rule.mitre,
        key: finding.dedupKey,
        count: String(count),
      },
    );
    alertId = Number(inserted.rows[0]!.alert_id);
  }
  for (const ref of finding.changes ?? []) {
    await runQuery(
      connection,
      `INSERT INTO alert_changes VALUES ($id::BIGINT, $server, nullif($session, ''), $at::TIMESTAMPTZ, $seq::BIGINT)`,
      { id: String(alertId), server: ref.server, session: ref.sessionId ?? '', at: ref.loggedAt.toISOString(), seq: String(ref.seq) },
    );
  }
  return { alertId, created };
}

/**
 * Alerts that stand only on privilege changes a rollback has since undone are retracted (status
 * `retracted`): they stay for the record, are not delivered if not yet delivered, and never grow.
 */
export async function retractUndone(connection: DuckDBConnection): Promise<number> {
  const result = await runQuery(
    connection,
    `UPDATE alerts SET status = 'retracted', updated_at = now()
     WHERE status <> 'retracted' AND alert_id IN (
       SELECT l.alert_id FROM alert_changes l JOIN privilege_changes p
         ON p.server = l.server AND p.session_id IS NOT DISTINCT FROM l.session_id AND p.logged_at = l.logged_at AND p.seq = l.seq
       GROUP BY l.alert_id HAVING bool_and(NOT p.effective))
     RETURNING alert_id`,
  );
  return result.rows.length;
}

function addSamples(evidence: Partial<Evidence>, more: readonly Record<string, unknown>[]): Evidence {
  const samples = evidence.samples ?? [];
  let omitted = evidence.omittedSamples ?? 0;
  for (const sample of more) {
    if (samples.length < MAX_SAMPLES) samples.push(sample);
    else omitted++;
  }
  return { samples, omittedSamples: omitted };
}
