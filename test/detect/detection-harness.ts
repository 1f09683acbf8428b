/** A store in memory with the pipeline and a detector, for feeding synthetic batches one at a time. */
import type { DecodeResult } from '../../src/contracts/log-record.js';
import { createDetector, type Detector, type DetectionConfigInput } from '../../src/detect/index.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { runQuery } from '../../src/query/run-query.js';
import type { PlainValue } from '../../src/query/row-values.js';
import { AuditStore } from '../../src/store/audit-store.js';

export const NO_EXCLUSIONS = { users: [], databases: [], clientAddrs: [] };

export interface Harness {
  store: AuditStore;
  detector: Detector;
  feed(results: DecodeResult[]): Promise<void>;
  alerts(rule?: string): Promise<Record<string, PlainValue>[]>;
  close(): Promise<void>;
}

export async function openHarness(config: DetectionConfigInput = { exclude: NO_EXCLUSIONS }, path = ':memory:'): Promise<Harness> {
  const store = await AuditStore.open(path);
  const detector = createDetector(config);
  const pipeline = await IngestPipeline.create(store, { observers: [detector] });
  let n = 0;
  return {
    store,
    detector,
    async feed(results) {
      await pipeline.processBatch(results, { sourceKey: null, source: 'synthetic', position: String(++n) });
    },
    async alerts(rule) {
      const sql = `SELECT * EXCLUDE (evidence), evidence::VARCHAR AS evidence FROM alerts ${rule ? 'WHERE rule_id = $rule' : ''} ORDER BY alert_id`;
      return (await runQuery(store.connection, sql, rule ? { rule } : {})).rows;
    },
    close: () => store.close(),
  };
}
