/** An alert as sinks receive it: the `alerts` row plus the rule's title, read from the outbox. */
import type { DuckDBConnection } from '@duckdb/node-api';
import { RULES } from '../detect/rules/registry.js';
import { runQuery } from '../query/run-query.js';
import type { PlainValue } from '../query/row-values.js';

export interface AlertMessage {
  alertId: number;
  ruleId: string;
  title: string;
  severity: string;
  server: string;
  firstSeen: string;
  lastSeen: string;
  actor: string | null;
  target: string | null;
  summary: string;
  mitre: string | null;
  count: number;
  status: string;
  dedupKey: string;
  evidence: PlainValue;
}

export const ALERT_COLUMNS = `a.alert_id, a.rule_id, a.severity, a.server, a.first_seen, a.last_seen, a.actor, a.target, a.summary,
  a.mitre, a.count, a.status, a.dedup_key, a.evidence::VARCHAR AS evidence`;

export function toAlertMessage(row: Record<string, PlainValue>): AlertMessage {
  const ruleId = String(row.rule_id);
  return {
    alertId: Number(row.alert_id),
    ruleId,
    title: (RULES as Record<string, { title: string }>)[ruleId]?.title ?? ruleId,
    severity: String(row.severity),
    server: String(row.server),
    firstSeen: String(row.first_seen),
    lastSeen: String(row.last_seen),
    actor: row.actor === null ? null : String(row.actor),
    target: row.target === null ? null : String(row.target),
    summary: String(row.summary),
    mitre: row.mitre === null ? null : String(row.mitre),
    count: Number(row.count),
    status: String(row.status),
    dedupKey: String(row.dedup_key),
    evidence: row.evidence === null ? null : (JSON.parse(String(row.evidence)) as PlainValue),
  };
}

export async function readAlert(connection: DuckDBConnection, alertId: number): Promise<AlertMessage | null> {
  const r = await runQuery(connection, `SELECT ${ALERT_COLUMNS} FROM alerts a WHERE alert_id = $id::BIGINT`, { id: String(alertId) });
  return r.rows[0] ? toAlertMessage(r.rows[0]) : null;
}
