import { decodeEventBody } from '../decode/azure/index.js';
import type { DecodeResult } from '../decode/log-record.js';
import type { CompiledPrefix } from '../parse/prefix/compile-prefix.js';
import type { HubEvent, SourceBatch } from '../sources/source-batch.js';
import { RECORDS_PER_ADD, type BatchSummary, type IngestPipeline } from './ingest-pipeline.js';

/**
 * Event Hubs events (and the demo stream, which imitates them) → the pipeline. Each event body holds
 * many records; a record's position is `<sequence number>#<index in the body>`.
 */
export function ingestHubBatch(pipeline: IngestPipeline, prefix: CompiledPrefix, batch: SourceBatch<HubEvent>): Promise<BatchSummary> {
  const open = pipeline.openBatch();
  let results: DecodeResult[] = [];
  for (const event of batch.items) {
    for (const r of decodeEventBody(event.body, { source: batch.source, position: String(event.sequenceNumber), prefix })) results.push(r);
    if (results.length >= RECORDS_PER_ADD) {
      pipeline.add(open, results);
      results = [];
    }
  }
  pipeline.add(open, results);
  return pipeline.commitBatch(pipeline.seal(open, { sourceKey: batch.sourceKey, source: batch.source, position: batch.position }));
}
