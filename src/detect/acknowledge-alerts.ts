/**
 * Acknowledging alerts: the one write a reader (the web UI) may ask for. Runs on the WRITER's connection;
 * in `auditduck run` the caller serializes it with the pipeline's commits (IngestPipeline.exclusive).
 * Only open alerts change: acknowledging twice, or a retracted alert, is a no-op that the result shows.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQuery } from '../query/run-query.js';

/** The ids that were open and are now acknowledged. */
export async function acknowledgeAlerts(connection: DuckDBConnection, ids: readonly number[], by: string): Promise<number[]> {
  if (ids.length === 0) return [];
  for (const id of ids) if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`${id} is not an alert id`);
  const result = await runQuery(
    connection,
    `UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $by, updated_at = now()
     WHERE alert_id IN (SELECT unnest(string_split($ids, ','))::BIGINT) AND status = 'open' RETURNING alert_id`,
    { ids: ids.join(','), by },
  );
  return result.rows.map((r) => Number(r.alert_id)).sort((a, b) => a - b);
}
