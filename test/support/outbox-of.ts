/**
 * The detector keeps one `AlertOutbox` a store; tests that write findings straight to a connection get one a
 * connection, kept as long as it is.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { AlertOutbox, type RuleIdentity } from '../../src/detect/alert-outbox.js';
import type { MergedFinding } from '../../src/detect/merge-findings.js';

const outboxes = new WeakMap<DuckDBConnection, AlertOutbox>();

export function outboxOf(connection: DuckDBConnection): AlertOutbox {
  let outbox = outboxes.get(connection);
  if (outbox === undefined) outboxes.set(connection, (outbox = new AlertOutbox()));
  return outbox;
}

/** One rule's findings of a batch; each finding's alert id, in order. */
export async function recordFindings(connection: DuckDBConnection, rule: RuleIdentity, findings: readonly MergedFinding[]): Promise<number[]> {
  return (await outboxOf(connection).record(connection, [{ rule, findings }]))[0]!;
}
