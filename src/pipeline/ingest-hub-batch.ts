import { decodeEventBody } from '../decode/azure/index.js';
import type { CompiledPrefix } from '../decode/prefix/compile-prefix.js';
import type { HubEvent, SourceBatch } from '../sources/source-batch.js';
import type { CommittedBatchCounts, IngestPipeline } from './ingest-pipeline.js';

/**
 * Event Hubs events (and the demo stream, which imitates them) → the pipeline. Each event body holds
 * many records; a record's position is `<sequence number>#<index in the body>`.
 */
export function ingestHubBatch(pipeline: IngestPipeline, prefix: CompiledPrefix, batch: SourceBatch<HubEvent>): Promise<CommittedBatchCounts> {
  const open = pipeline.openBatch();
  for (const event of batch.items) pipeline.push(open, decodeEventBody(event.body, { source: batch.source, position: String(event.sequenceNumber), prefix }));
  return pipeline.commitBatch(pipeline.seal(open, { sourceKey: batch.sourceKey, source: batch.source, position: batch.position }));
}
