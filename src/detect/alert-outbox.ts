/**
 * Findings → rows of `alerts`, inside the batch's transaction (the table is the outbox the delivery loop
 * reads). A finding whose rule and dedup key match an alert whose seen span (first_seen..last_seen) its own
 * (firstAt..at) meets within the rule's suppression window grows that alert (count, first_seen, last_seen,
 * evidence samples) instead of raising a new one: a row arriving late, before the alert's first_seen, grows it
 * as one arriving after its last_seen does. A retracted alert never grows. Windows are in event time
 * (logged_at), so replaying the same logs gives the same alerts.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { runQuery } from '../query/run-query.js';
import { sqlString } from '../store/sql-literal.js';
import { boundRows } from '../store/bound-rows.js';
import { redactStoredText, redactStrings } from '../redact/index.js';
import type { MergedFinding } from './merge-findings.js';
import type { DisprovedSpan, Severity } from './rule.js';

/** An alert's columns its key table (`alert_keys`) holds too, as `boundRows` binds them. */
const ALERT_KEY_COLUMNS = { alert_id: 'BIGINT', rule_id: 'VARCHAR', server: 'VARCHAR', dedup_key: 'VARCHAR', first_seen: 'TIMESTAMPTZ', last_seen: 'TIMESTAMPTZ' } as const;

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

/** One rule's merged findings of a batch. */
export interface RuleFindings {
  rule: RuleIdentity;
  findings: readonly MergedFinding[];
}

/** Writes a rule's findings of one batch; returns each finding's alert id, in order. */
export async function recordFindings(connection: DuckDBConnection, rule: RuleIdentity, raw: readonly MergedFinding[]): Promise<number[]> {
  return (await recordRulesFindings(connection, [{ rule, findings: raw }]))[0]!;
}

/**
 * Writes every rule's findings of one batch; returns each finding's alert id, per rule, in order. A few statements
 * for all of them (a look-up that also takes the new ids, a read of the evidence of alerts that grow, one write a
 * table), not a few per rule or per finding: each await on DuckDB waits for the main thread, busy preparing the
 * next batch, and each query costs DuckDB a plan. A rule's findings are matched only with its own alerts, so the
 * rules can share a round; findings of one key go in rounds, in order, since an earlier one may raise the alert a
 * later one grows.
 */
export async function recordRulesFindings(connection: DuckDBConnection, groups: readonly RuleFindings[]): Promise<number[][]> {
  // The alert's text (summary, actor, target, evidence) is output: it passes the redactor like a stored row.
  const findings = groups.map((g) => g.findings.map(redactFinding));
  const ids = findings.map((f) => new Array<number>(f.length));
  const rounds = findings.map(roundsByKey);
  const depth = Math.max(0, ...rounds.map((r) => r.length));
  for (let round = 0; round < depth; round++) {
    const items = rounds.flatMap((r, g) => (r[round] ?? []).map((i) => ({ group: g, index: i })));
    const written = await recordDistinct(connection, items.map(({ group, index }) => ({ rule: groups[group]!.rule, finding: findings[group]![index]! })));
    items.forEach(({ group, index }, k) => (ids[group]![index] = written[k]!));
  }
  return ids;
}

function redactFinding(f: MergedFinding): MergedFinding {
  return {
    ...f,
    summary: redactStoredText(f.summary),
    ...(f.actor ? { actor: redactStoredText(f.actor) } : {}),
    ...(f.target ? { target: redactStoredText(f.target) } : {}),
    samples: f.samples.map((s) => redactStrings(s)),
  };
}

/** Indexes of the findings, in rounds where each server and key appears once, in their order. */
function roundsByKey(findings: readonly MergedFinding[]): number[][] {
  const rounds: number[][] = [];
  const seen = new Map<string, number>();
  findings.forEach((f, i) => {
    const key = `${f.server}\u0000${f.dedupKey}`;
    const round = seen.get(key) ?? 0;
    seen.set(key, round + 1);
    (rounds[round] ??= []).push(i);
  });
  return rounds;
}

interface RuleFinding {
  rule: RuleIdentity;
  finding: MergedFinding;
}

/** Findings whose rule, server and key all differ: none can grow an alert another one raises. */
async function recordDistinct(connection: DuckDBConnection, items: readonly RuleFinding[]): Promise<number[]> {
  // A finding that grows no alert takes a new id from the alerts' own sequence in the same query (CASE takes
  // it only for those); the ids are handed out ascending in finding order, as one INSERT a finding would.
  const f = boundRows(
    { i: 'BIGINT', f_rule: 'VARCHAR', f_server: 'VARCHAR', f_key: 'VARCHAR', f_first: 'TIMESTAMPTZ', f_at: 'TIMESTAMPTZ', f_suppress_ms: 'BIGINT' },
    items.map(({ rule, finding }, i) => ({
      i, f_rule: rule.id, f_server: finding.server, f_key: finding.dedupKey, f_first: finding.firstAt ?? finding.at, f_at: finding.at,
      f_suppress_ms: Math.round(rule.suppressMinutes * 60_000),
    })),
  );
  // The look-up reads the key table (alert_keys), not alerts: alerts holds every alert's evidence and texts.
  const looked = await runQuery(
    connection,
    `WITH f AS ${f.sql},
     hit AS (
       SELECT f.i, k.alert_id
       FROM f JOIN alert_keys k ON k.rule_id = f.f_rule AND k.server = f.f_server AND k.dedup_key = f.f_key
         AND f.f_first <= k.last_seen + to_milliseconds(f.f_suppress_ms) AND f.f_at >= k.first_seen - to_milliseconds(f.f_suppress_ms)
       QUALIFY row_number() OVER (PARTITION BY f.i ORDER BY k.last_seen DESC) = 1)
     SELECT f.i, hit.alert_id, CASE WHEN hit.alert_id IS NULL THEN nextval('alert_id_seq') END AS fresh_id
     FROM f LEFT JOIN hit ON hit.i = f.i ORDER BY f.i`,
    f.values,
    f.types,
  );
  const hits = looked.rows.filter((row) => row.alert_id !== null).map((row) => Number(row.alert_id));
  // Only the alerts that grow are read, by id (DuckDB skips the other row groups by their min/max).
  const evidenceOf = new Map<number, string>();
  if (hits.length > 0) {
    const read = await runQuery(connection, `SELECT alert_id, evidence::VARCHAR AS evidence FROM alerts WHERE alert_id IN (${hits.map(integer).join(', ')})`);
    for (const row of read.rows) evidenceOf.set(Number(row.alert_id), String(row.evidence ?? '{}'));
  }
  const grown = new Map<number, { alertId: number; evidence: string }>();
  const allocated: number[] = [];
  for (const row of looked.rows) {
    if (row.alert_id !== null) grown.set(Number(row.i), { alertId: Number(row.alert_id), evidence: evidenceOf.get(Number(row.alert_id)) ?? '{}' });
    else allocated.push(Number(row.fresh_id));
  }
  allocated.sort((a, b) => a - b);
  const fresh = items.map((_, i) => i).filter((i) => !grown.has(i));
  const freshIds = new Map(fresh.map((i, k) => [i, allocated[k]!]));
  const ids = items.map((_, i) => grown.get(i)?.alertId ?? freshIds.get(i)!);

  // One statement a table, each over its own rows bound as lists (DuckDB takes parameters a statement at a time);
  // the key table's carry no texts or evidence.
  if (grown.size > 0) {
    const spans = [...grown].map(([i, row]) => ({ id: row.alertId, seen_at: items[i]!.finding.at, first_at: items[i]!.finding.firstAt ?? items[i]!.finding.at }));
    const g = boundRows(
      { id: 'BIGINT', inc: 'BIGINT', seen_at: 'TIMESTAMPTZ', first_at: 'TIMESTAMPTZ', evidence: 'VARCHAR' },
      [...grown].map(([i, row], k) => {
        const finding = items[i]!.finding;
        const evidence = addSamples(JSON.parse(row.evidence) as Partial<Evidence>, finding.samples);
        return { ...spans[k]!, inc: finding.increment ?? finding.count ?? 1, evidence: JSON.stringify(evidence) };
      }),
    );
    await connection.run(
      `UPDATE alerts SET count = count + g.inc, last_seen = greatest(last_seen, g.seen_at), first_seen = least(first_seen, g.first_at),
         evidence = g.evidence::JSON, updated_at = now()
       FROM ${g.sql} g WHERE alert_id = g.id`,
      g.values,
      g.types,
    );
    const k = boundRows({ id: 'BIGINT', seen_at: 'TIMESTAMPTZ', first_at: 'TIMESTAMPTZ' }, spans);
    await connection.run(
      `UPDATE alert_keys SET last_seen = greatest(last_seen, k.seen_at), first_seen = least(first_seen, k.first_at) FROM ${k.sql} k WHERE alert_id = k.id`,
      k.values,
      k.types,
    );
  }
  if (fresh.length > 0) {
    const keys = fresh.map((i) => {
      const { rule, finding } = items[i]!;
      return { alert_id: ids[i]!, rule_id: rule.id, server: finding.server, dedup_key: finding.dedupKey, first_seen: finding.firstAt ?? finding.at, last_seen: finding.at };
    });
    const n = boundRows(
      { ...ALERT_KEY_COLUMNS, severity: 'VARCHAR', actor: 'VARCHAR', target: 'VARCHAR', summary: 'VARCHAR', evidence: 'VARCHAR', mitre: 'VARCHAR', count: 'BIGINT' },
      fresh.map((i, k) => {
        const { rule, finding } = items[i]!;
        return {
          ...keys[k]!, severity: finding.severity ?? rule.severity, actor: optional(finding.actor), target: optional(finding.target), summary: finding.summary,
          evidence: JSON.stringify(addSamples({}, finding.samples)), mitre: rule.mitre, count: finding.count ?? 1,
        };
      }),
    );
    await connection.run(
      `INSERT INTO alerts (alert_id, rule_id, severity, server, first_seen, last_seen, actor, target, summary, evidence, mitre, status, dedup_key, count)
       SELECT alert_id, rule_id, severity, server, first_seen, last_seen, actor, target, summary, evidence::JSON, mitre, 'open', dedup_key, count FROM ${n.sql}`,
      n.values,
      n.types,
    );
    const k = boundRows(ALERT_KEY_COLUMNS, keys);
    await connection.run(
      `INSERT INTO alert_keys (rule_id, server, dedup_key, alert_id, first_seen, last_seen) SELECT rule_id, server, dedup_key, alert_id, first_seen, last_seen FROM ${k.sql}`,
      k.values,
      k.types,
    );
  }
  const changes = items.flatMap(({ finding }, i) =>
    (finding.changes ?? []).map((c) => ({ alert_id: ids[i]!, server: c.server, session_id: optional(c.sessionId), logged_at: c.loggedAt, seq: c.seq })),
  );
  if (changes.length > 0) {
    const c = boundRows({ alert_id: 'BIGINT', server: 'VARCHAR', session_id: 'VARCHAR', logged_at: 'TIMESTAMPTZ', seq: 'BIGINT' }, changes);
    await connection.run(`INSERT INTO alert_changes SELECT alert_id, server, session_id, logged_at, seq FROM ${c.sql}`, c.values, c.types);
  }
  return ids;
}

/** NULL for no value, as an empty string was. */
function optional(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value;
}

function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}

/**
 * Alerts that stand only on privilege changes a rollback has since undone are retracted (status
 * `retracted`): they stay for the record, are not delivered if not yet delivered, and never grow (unless a change
 * of theirs is effective again: `reopenRedoneAlerts`).
 */
export async function retractUndone(connection: DuckDBConnection): Promise<number> {
  return (await retractUndoneAlerts(connection)).length;
}

/** `retractUndone`, returning the ids of the alerts it retracted. */
export async function retractUndoneAlerts(connection: DuckDBConnection): Promise<number[]> {
  const result = await runQuery(
    connection,
    `UPDATE alerts SET status = 'retracted', updated_at = now()
     WHERE status <> 'retracted' AND alert_id IN (
       SELECT l.alert_id FROM alert_changes l JOIN privilege_changes p
         ON p.server = l.server AND p.session_id IS NOT DISTINCT FROM l.session_id AND p.logged_at = l.logged_at AND p.seq = l.seq
       GROUP BY l.alert_id HAVING bool_and(NOT p.effective))
     RETURNING alert_id`,
  );
  // A retracted alert never grows: its key leaves the outbox's key table.
  const ids = result.rows.map((row) => integer(Number(row.alert_id)));
  if (ids.length > 0) await connection.run(`DELETE FROM alert_keys WHERE alert_id IN (${ids.join(', ')})`);
  return result.rows.map((row) => Number(row.alert_id));
}

/** An alert `reopenRedoneAlerts` took back, with the key it is found by again. */
export interface ReopenedAlert {
  alertId: number;
  ruleId: string;
  server: string;
  dedupKey: string;
  firstSeen: Date;
  lastSeen: Date;
}

/**
 * Alerts of `ruleId` whose whole seen span lies in one of `spans` (rows stored since disprove them: a rule defined
 * on the set of rows judged them before an earlier row arrived) are retracted, as undone ones are; their keys leave
 * `alert_keys`. Returns the ids retracted.
 */
export async function retractDisprovedAlerts(connection: DuckDBConnection, ruleId: string, spans: readonly DisprovedSpan[]): Promise<number[]> {
  if (spans.length === 0) return [];
  const d = boundRows(
    { d_server: 'VARCHAR', d_key: 'VARCHAR', d_after: 'TIMESTAMPTZ', d_before: 'TIMESTAMPTZ' },
    spans.map((span) => ({ d_server: span.server, d_key: span.dedupKey, d_after: span.after, d_before: span.before })),
  );
  // alert_keys holds every alert not retracted, with its span: the look-up does not read alerts.
  const result = await runQuery(
    connection,
    `UPDATE alerts SET status = 'retracted', updated_at = now()
     WHERE status <> 'retracted' AND alert_id IN (
       SELECT k.alert_id FROM alert_keys k JOIN ${d.sql} d
         ON k.rule_id = ${sqlString(ruleId)} AND k.server = d.d_server AND k.dedup_key = d.d_key AND k.first_seen > d.d_after AND k.last_seen < d.d_before)
     RETURNING alert_id`,
    d.values,
    d.types,
  );
  const ids = result.rows.map((row) => integer(Number(row.alert_id)));
  if (ids.length > 0) await connection.run(`DELETE FROM alert_keys WHERE alert_id IN (${ids.join(', ')})`);
  return result.rows.map((row) => Number(row.alert_id));
}

/**
 * Retracted alerts that stand on a privilege change effective again (lines read out of order: the COMMIT of its
 * transaction came after the disconnection that undid it) take back the status the retraction took from them: `acknowledged` if
 * someone had acknowledged them (the acknowledgement stays as it was), else `open`; they may grow again.
 */
export async function reopenRedoneAlerts(connection: DuckDBConnection): Promise<ReopenedAlert[]> {
  const result = await runQuery(
    connection,
    `UPDATE alerts SET status = CASE WHEN acknowledged_at IS NULL THEN 'open' ELSE 'acknowledged' END, updated_at = now()
     WHERE status = 'retracted' AND alert_id IN (
       SELECT l.alert_id FROM alert_changes l JOIN privilege_changes p
         ON p.server = l.server AND p.session_id IS NOT DISTINCT FROM l.session_id AND p.logged_at = l.logged_at AND p.seq = l.seq
       GROUP BY l.alert_id HAVING bool_or(p.effective))
     RETURNING alert_id, rule_id, server, dedup_key, epoch_ms(first_seen) AS first_ms, epoch_ms(last_seen) AS last_ms`,
  );
  // Drift and pipeline alerts (ids with a dot) never grow: they have no key.
  const reopened = result.rows
    .map((row) => ({
      alertId: Number(row.alert_id), ruleId: String(row.rule_id), server: String(row.server), dedupKey: String(row.dedup_key),
      firstSeen: new Date(Number(row.first_ms)), lastSeen: new Date(Number(row.last_ms)),
    }))
    .sort((a, b) => a.alertId - b.alertId);
  const keyed = reopened.filter((a) => !a.ruleId.includes('.'));
  if (keyed.length > 0) {
    await connection.run(
      `INSERT INTO alert_keys SELECT rule_id, server, dedup_key, alert_id, first_seen, last_seen FROM alerts
       WHERE alert_id IN (${keyed.map((a) => integer(a.alertId)).join(', ')}) ORDER BY alert_id`,
    );
  }
  return keyed;
}

/**
 * Alerts `reopenRedoneAlerts` took back whose story stands as another store's alert (a hub's other leader took their
 * change into effect and raised it there): retracted again, their keys out of `alert_keys`, so one alert stands.
 */
export async function keepRetracted(connection: DuckDBConnection, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  const list = ids.map(integer).join(', ');
  await connection.run(`UPDATE alerts SET status = 'retracted', updated_at = now() WHERE alert_id IN (${list}); DELETE FROM alert_keys WHERE alert_id IN (${list})`);
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
