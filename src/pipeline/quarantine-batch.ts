/**
 * A poison batch set aside: every event of it becomes a dead letter (its body, redacted by the store, and the
 * reason), its position (and the marks of the routed origins it held) is committed so the partition moves on,
 * and a `pipeline.poison-batch` alert is raised, all in one transaction.
 */
import type { HubEvent, SourceBatch } from '../sources/source-batch.js';
import type { DecodeResult } from '../contracts/log-record.js';
import type { CommittedBatchCounts, IngestPipeline } from './ingest-pipeline.js';
import { raisePipelineAlert } from './pipeline-alerts.js';

export const POISON_BATCH_REASON = 'poison batch';

export function quarantineHubBatch(pipeline: IngestPipeline, batch: SourceBatch<HubEvent>, error: unknown, attempts: number): Promise<CommittedBatchCounts> {
  const message = error instanceof Error ? error.message : String(error);
  const reason = `${POISON_BATCH_REASON}: failed ${attempts} times: ${message}`;
  const dead: DecodeResult[] = batch.items.map((event) => ({
    kind: 'dead',
    dead: { source: batch.source, position: String(event.sequenceNumber), reason, raw: bodyText(event.body) },
  }));
  const open = pipeline.openBatch();
  pipeline.push(open, dead);
  const first = batch.items[0]?.sequenceNumber;
  return pipeline.commitBatch(pipeline.seal(open, { sourceKey: batch.sourceKey, source: batch.source, position: batch.position, ...(batch.marks ? { marks: batch.marks } : {}) }), (connection) =>
    raisePipelineAlert(connection, {
      ruleId: 'pipeline.poison-batch',
      source: batch.source,
      summary: `${batch.items.length} events of ${batch.source} (sequence numbers ${first}..${batch.position}) failed ${attempts} times and went to dead_letters: ${message}`,
      evidence: { source: batch.source, from: first ?? null, to: batch.position, events: batch.items.length, attempts, error: message },
      dedupKey: `${batch.sourceKey}@${batch.position}`,
    }),
  );
}

function bodyText(body: unknown): string {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (typeof body === 'string') return body;
  return JSON.stringify(body) ?? String(body);
}
