/**
 * Evaluates the windows between consecutive snapshots of each server, once the stored trail of that
 * server reaches past the window's end (Event Hubs delivers logs minutes late: judging earlier would
 * call a change drift only because its audit line had not arrived). Each window is evaluated once; its
 * unexplained differences become `drift` rows and, one per row, a high-severity alert
 * `drift.change-not-in-trail` in the `alerts` outbox, in the same transaction.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQuery } from '../query/run-query.js';
import { redactStoredText, redactStrings } from '../redact/index.js';
import { readEffectiveChanges } from '../store/role-tables.js';
import {
  insertDriftWindow, pendingDriftWindows, readRoleBase, snapshotServers, trailReachesTo, type SnapshotRef,
} from './snapshot-tables.js';
import { computeDrift, type DriftRow } from './drift.js';

export const DRIFT_RULE = {
  id: 'drift.change-not-in-trail',
  severity: 'high',
  /** Account Manipulation: a role change made where the audit trail cannot see it. */
  mitre: 'T1098',
} as const;

export interface DriftWindowResult {
  server: string;
  from: SnapshotRef;
  to: SnapshotRef;
  status: 'evaluated' | 'waiting-for-trail';
  /** For waiting windows: how far the stored trail reaches (null: no log of this server stored at all). */
  trailReachesTo: Date | null;
  drift: DriftRow[];
}

export interface EvaluateDriftOptions {
  servers?: readonly string[];
  /** Evaluate even when the trail does not reach past a window yet (tests, or a server whose logs are gone). */
  force?: boolean;
}

export async function evaluateDrift(connection: DuckDBConnection, opts: EvaluateDriftOptions = {}): Promise<DriftWindowResult[]> {
  const servers = opts.servers ?? (await snapshotServers(connection));
  const results: DriftWindowResult[] = [];
  for (const server of servers) {
    const pending = await pendingDriftWindows(connection, server);
    if (pending.length === 0) continue;
    const reaches = await trailReachesTo(connection, server);
    for (const [from, to] of pending) {
      if (!opts.force && (reaches === null || reaches.getTime() < to.takenAt.getTime())) {
        results.push({ server, from, to, status: 'waiting-for-trail', trailReachesTo: reaches, drift: [] });
        continue;
      }
      await connection.run('BEGIN TRANSACTION');
      try {
        const changes = await readEffectiveChanges(connection, server, to.takenAt);
        const drift = computeDrift(await readRoleBase(connection, from), await readRoleBase(connection, to), changes);
        await insertDriftWindow(connection, from, to, drift);
        for (const d of drift) await raiseAlert(connection, d, from, to);
        await connection.run('COMMIT');
        results.push({ server, from, to, status: 'evaluated', trailReachesTo: reaches, drift });
      } catch (error) {
        await connection.run('ROLLBACK').catch(() => undefined);
        throw new Error(`evaluating drift of ${server} between ${from.takenAt.toISOString()} and ${to.takenAt.toISOString()} failed: ${(error as Error).message}`);
      }
    }
  }
  return results;
}

export function describeDrift(d: DriftRow): string {
  switch (d.kind) {
    case 'role':
      return `role ${d.role} ${d.after === 'present' ? 'appeared' : 'disappeared'}`;
    case 'attribute':
      return `${d.role}.${d.attribute} changed from ${d.before ?? 'NULL'} to ${d.after ?? 'NULL'}`;
    case 'membership':
      return `${d.role} in ${d.granted_role}: ${d.before} → ${d.after}`;
    default:
      return d.kind satisfies never;
  }
}

async function raiseAlert(connection: DuckDBConnection, d: DriftRow, from: SnapshotRef, to: SnapshotRef): Promise<void> {
  const summary = `change not in the audit trail: ${describeDrift(d)} between ${d.window_start.toISOString()} and ${d.window_end.toISOString()}`;
  const evidence = { drift: { ...d, window_start: d.window_start.toISOString(), window_end: d.window_end.toISOString() }, from_snapshot_id: from.snapshotId, to_snapshot_id: to.snapshotId };
  await runQuery(
    connection,
    `INSERT INTO alerts (rule_id, severity, server, first_seen, last_seen, actor, target, summary, evidence, mitre, status, dedup_key, count)
     VALUES ($rule, $severity, $server, $first::TIMESTAMPTZ, $last::TIMESTAMPTZ, NULL, $target, $summary, $evidence::JSON, $mitre, 'open', $key, 1)`,
    {
      rule: DRIFT_RULE.id,
      severity: DRIFT_RULE.severity,
      server: d.server,
      first: d.window_start.toISOString(),
      last: d.window_end.toISOString(),
      target: d.role,
      // Role names and setting values come from the servers: the alert's text passes the redactor like a stored row.
      summary: redactStoredText(summary),
      evidence: JSON.stringify(redactStrings(evidence)),
      mitre: DRIFT_RULE.mitre,
      key: `${to.snapshotId}:${d.kind}:${d.role}:${d.attribute ?? ''}:${d.granted_role ?? ''}`,
    },
  );
}
