/**
 * Acknowledging alerts: the one write a reader (the web UI, `alerts ack`) may ask for. Runs on the WRITER's
 * connection; in `auditduck run` the caller serializes it with the pipeline's commits (IngestPipeline.exclusive).
 * Only open alerts change: acknowledging twice, or a retracted alert, is a no-op that the result shows.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQuery } from '../query/run-query.js';
import { redactStoredText } from '../redact/index.js';

/** A comment is a note, not a report: long enough for a ticket link and a sentence or two. */
export const MAX_ACK_COMMENT_CHARS = 2000;

/** What the person who handled an alert judged it, as incident queues (Sentinel, Defender) classify them. */
export const ACK_CLASSIFICATIONS = ['true-positive', 'benign', 'false-positive'] as const;
export type AckClassification = (typeof ACK_CLASSIFICATIONS)[number];

/**
 * The ids that were open and are now acknowledged. `comment` and `classification` are stored with each of
 * them (alerts.ack_comment, alerts.ack_classification).
 */
export async function acknowledgeAlerts(
  connection: DuckDBConnection,
  ids: readonly number[],
  by: string,
  comment: string | null = null,
  classification: AckClassification | null = null,
): Promise<number[]> {
  if (ids.length === 0) return [];
  for (const id of ids) if (!Number.isSafeInteger(id) || id <= 0) throw new Error(`${id} is not an alert id`);
  if (comment !== null && comment.length > MAX_ACK_COMMENT_CHARS) throw new Error(`the comment is ${comment.length} characters; at most ${MAX_ACK_COMMENT_CHARS}`);
  if (classification !== null && !ACK_CLASSIFICATIONS.includes(classification)) {
    throw new Error(`"${String(classification)}" is not a classification; use ${ACK_CLASSIFICATIONS.join(', ')}`);
  }
  // Written by SQL, not through the store's tables: the redaction every stored text gets is applied here.
  const result = await runQuery(
    connection,
    `UPDATE alerts SET status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $by, ack_comment = nullif($comment, ''),
       ack_classification = nullif($classification, ''), updated_at = now()
     WHERE alert_id IN (SELECT unnest(string_split($ids, ','))::BIGINT) AND status = 'open' RETURNING alert_id`,
    { ids: ids.join(','), by, comment: comment === null ? '' : redactStoredText(comment), classification: classification ?? '' },
  );
  return result.rows.map((r) => Number(r.alert_id)).sort((a, b) => a - b);
}
