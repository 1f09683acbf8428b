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
import { AlertKeyIndex, type AlertKey } from './alert-key-index.js';

/** An alert's columns its key table (`alert_keys`) holds too, as `boundRows` binds them. */
const ALERT_KEY_COLUMNS = { alert_id: 'BIGINT', rule_id: 'VARCHAR', server: 'VARCHAR', dedup_key: 'VARCHAR', first_seen: 'TIMESTAMPTZ', last_seen: 'TIMESTAMPTZ' } as const;

/** Evidence keeps this many samples; the rest are counted in `omittedSamples`. */
const MAX_SAMPLES = 20;

/**
 * The evidence of this many alerts, the last written, is held: an alert that grows batch after batch (a brute force
 * going on) is not read back each batch. At most 20 samples each, a few MB.
 */
const EVIDENCE_HELD = 1_000;

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

/** An alert the findings of one write raise: its row as the last of them leaves it. */
interface Raised {
  key: AlertKey;
  rule: RuleIdentity;
  finding: MergedFinding;
  count: number;
  evidence: Evidence;
}

/** A stored alert the findings of one write grow: what they add. */
interface Grown {
  key: AlertKey;
  increment: number;
  samples: Record<string, unknown>[];
}

/**
 * The detection alerts of one store: findings become rows of `alerts`, inside the batch's transaction, and alerts a
 * later batch undoes or disproves are retracted. Which alert a finding grows is looked up in memory
 * (`AlertKeyIndex`, in step with `alert_keys`), and the evidence of the alerts it wrote last is held, so one that grows
 * is not read back; `forget` when a batch rolls back.
 */
export class AlertOutbox {
  /** Each alert's evidence (JSON) as this outbox last wrote it, by alert id, oldest written first (`EVIDENCE_HELD`). */
  private readonly evidence = new Map<number, string>();

  constructor(private readonly keys = new AlertKeyIndex()) {}

  /** The batch's transaction rolled back: what this outbox knew of it is gone with it. */
  forget(): void {
    this.keys.forget();
    this.evidence.clear();
  }

  /**
   * Writes every rule's findings of one batch; returns each finding's alert id, per rule, in order. A rule's
   * findings are matched only with its own alerts; findings of one key are taken in their order, since an earlier
   * one may raise the alert a later one grows, and new ids are handed out ascending in that order, as one INSERT a
   * finding would. A few statements for all of them (new ids, the evidence of alerts that grow, one write a
   * table), not a few per rule or per finding: each await on DuckDB waits for the main thread, busy preparing the
   * next batch, and each statement costs DuckDB a plan.
   */
  async record(connection: DuckDBConnection, groups: readonly RuleFindings[]): Promise<number[][]> {
    // The alert's text (summary, actor, target, evidence) is output: it passes the redactor like a stored row.
    const findings = groups.map((g) => g.findings.map(redactFinding));
    const order = inKeyOrder(findings);
    const keyOfFinding = findings.map((f) => new Array<AlertKey>(f.length));
    if (order.length === 0) return findings.map(() => []);
    const suppress = groups.map((g) => Math.round(g.rule.suppressMinutes * 60_000) * 1000);
    const span = (f: MergedFinding) => ({ first: (f.firstAt ?? f.at).getTime() * 1000, at: f.at.getTime() * 1000 });
    let from = Infinity;
    for (const { group, index } of order) from = Math.min(from, span(findings[group]![index]!).first - suppress[group]!);
    await this.keys.cover(connection, from);

    const raised: Raised[] = [];
    const grown = new Map<AlertKey, Grown>();
    const raisedBy = new Map<AlertKey, Raised>();
    for (const { group, index } of order) {
      const rule = groups[group]!.rule;
      const finding = findings[group]![index]!;
      const { first, at } = span(finding);
      const key = this.keys.match(rule.id, finding.server, finding.dedupKey, first, at, suppress[group]!);
      if (key === undefined) {
        // A new alert's id is known once all are counted: a stand-in until then.
        const fresh: AlertKey = { alertId: -1 - raised.length, ruleId: rule.id, server: finding.server, dedupKey: finding.dedupKey, firstMicros: first, lastMicros: at };
        this.keys.add(fresh);
        const r: Raised = { key: fresh, rule, finding, count: finding.count ?? 1, evidence: addSamples({}, finding.samples) };
        raised.push(r);
        raisedBy.set(fresh, r);
        keyOfFinding[group]![index] = fresh;
        continue;
      }
      this.keys.stretch(key, first, at);
      keyOfFinding[group]![index] = key;
      const increment = finding.increment ?? finding.count ?? 1;
      const r = raisedBy.get(key);
      if (r !== undefined) {
        r.count += increment;
        r.evidence = addSamples(r.evidence, finding.samples);
        continue;
      }
      const g = grown.get(key);
      if (g === undefined) grown.set(key, { key, increment, samples: [...finding.samples] });
      else {
        g.increment += increment;
        g.samples.push(...finding.samples);
      }
    }

    if (raised.length > 0) {
      const allocated = (await runQuery(connection, `SELECT nextval('alert_id_seq') AS id FROM range($n)`, { n: raised.length })).rows.map((row) => Number(row.id));
      allocated.sort((a, b) => a - b);
      raised.forEach((r, k) => this.keys.identify(r.key, allocated[k]!));
    }
    this.keys.prune();
    const ids = keyOfFinding.map((keys) => keys.map((key) => key.alertId));

    // One statement a table, each over its own rows bound as lists (DuckDB takes parameters a statement at a time);
    // the key table's carry no texts or evidence. Of the alerts that grow, only those whose evidence this outbox does
    // not hold are read, by id (DuckDB skips the other row groups by their min/max).
    if (grown.size > 0) {
      const growing = [...grown.values()];
      const unread = growing.filter((g) => !this.evidence.has(g.key.alertId));
      if (unread.length > 0) {
        const read = await runQuery(connection, `SELECT alert_id, evidence::VARCHAR AS evidence FROM alerts WHERE alert_id IN (${unread.map((g) => integer(g.key.alertId)).join(', ')})`);
        for (const row of read.rows) this.evidence.set(Number(row.alert_id), String(row.evidence ?? '{}'));
      }
      const spans = growing.map(({ key }) => ({ id: key.alertId, seen_at: fromMicros(key.lastMicros), first_at: fromMicros(key.firstMicros) }));
      const evidence = growing.map(({ key, samples }) => JSON.stringify(addSamples(JSON.parse(this.evidence.get(key.alertId) ?? '{}') as Partial<Evidence>, samples)));
      const g = boundRows(
        { id: 'BIGINT', inc: 'BIGINT', seen_at: 'TIMESTAMPTZ', first_at: 'TIMESTAMPTZ', evidence: 'VARCHAR' },
        growing.map(({ increment }, k) => ({ ...spans[k]!, inc: increment, evidence: evidence[k]! })),
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
      growing.forEach(({ key }, k) => this.wrote(key.alertId, evidence[k]!));
    }
    if (raised.length > 0) {
      const keys = raised.map(({ key }) => ({
        alert_id: key.alertId, rule_id: key.ruleId, server: key.server, dedup_key: key.dedupKey, first_seen: fromMicros(key.firstMicros), last_seen: fromMicros(key.lastMicros),
      }));
      const evidence = raised.map((r) => JSON.stringify(r.evidence));
      const n = boundRows(
        { ...ALERT_KEY_COLUMNS, severity: 'VARCHAR', actor: 'VARCHAR', target: 'VARCHAR', summary: 'VARCHAR', evidence: 'VARCHAR', mitre: 'VARCHAR', count: 'BIGINT' },
        raised.map(({ rule, finding, count }, k) => ({
          ...keys[k]!, severity: finding.severity ?? rule.severity, actor: optional(finding.actor), target: optional(finding.target), summary: finding.summary,
          evidence: evidence[k]!, mitre: rule.mitre, count,
        })),
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
      raised.forEach(({ key }, k) => this.wrote(key.alertId, evidence[k]!));
    }
    const changes = findings.flatMap((fs, group) =>
      fs.flatMap((finding, index) =>
        (finding.changes ?? []).map((c) => ({ alert_id: ids[group]![index]!, server: c.server, session_id: optional(c.sessionId), logged_at: c.loggedAt, seq: c.seq })),
      ),
    );
    if (changes.length > 0) {
      const c = boundRows({ alert_id: 'BIGINT', server: 'VARCHAR', session_id: 'VARCHAR', logged_at: 'TIMESTAMPTZ', seq: 'BIGINT' }, changes);
      await connection.run(`INSERT INTO alert_changes SELECT alert_id, server, session_id, logged_at, seq FROM ${c.sql}`, c.values, c.types);
    }
    return ids;
  }
  /**
   * Alerts that stand only on privilege changes a rollback has since undone are retracted (status `retracted`):
   * they stay for the record, are not delivered if not yet delivered, and never grow (unless a change of theirs is
   * effective again: `reopenRedone`). Returns the ids retracted.
   */
  async retractUndone(connection: DuckDBConnection): Promise<number[]> {
    const result = await runQuery(
      connection,
      `UPDATE alerts SET status = 'retracted', updated_at = now()
       WHERE status <> 'retracted' AND alert_id IN (
         SELECT l.alert_id FROM alert_changes l JOIN privilege_changes p
           ON p.server = l.server AND p.session_id IS NOT DISTINCT FROM l.session_id AND p.logged_at = l.logged_at AND p.seq = l.seq
         GROUP BY l.alert_id HAVING bool_and(NOT p.effective))
       RETURNING alert_id`,
    );
    return this.keysLeave(connection, result.rows.map((row) => Number(row.alert_id)));
  }

  /**
   * Alerts of `ruleId` whose whole seen span lies in one of `spans` (rows stored since disprove them: a rule defined
   * on the set of rows judged them before an earlier row arrived) are retracted, as undone ones are. Returns the ids
   * retracted.
   */
  async retractDisproved(connection: DuckDBConnection, ruleId: string, spans: readonly DisprovedSpan[]): Promise<number[]> {
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
    return this.keysLeave(connection, result.rows.map((row) => Number(row.alert_id)));
  }

  /**
   * Retracted alerts that stand on a privilege change effective again (lines read out of order: the COMMIT of its
   * transaction came after the disconnection that undid it) take back the status the retraction took from them:
   * `acknowledged` if someone had acknowledged them (the acknowledgement stays as it was), else `open`; they may
   * grow again.
   */
  async reopenRedone(connection: DuckDBConnection): Promise<ReopenedAlert[]> {
    const result = await runQuery(
      connection,
      `UPDATE alerts SET status = CASE WHEN acknowledged_at IS NULL THEN 'open' ELSE 'acknowledged' END, updated_at = now()
       WHERE status = 'retracted' AND alert_id IN (
         SELECT l.alert_id FROM alert_changes l JOIN privilege_changes p
           ON p.server = l.server AND p.session_id IS NOT DISTINCT FROM l.session_id AND p.logged_at = l.logged_at AND p.seq = l.seq
         GROUP BY l.alert_id HAVING bool_or(p.effective))
       RETURNING alert_id, rule_id, server, dedup_key, epoch_us(first_seen) AS first_us, epoch_us(last_seen) AS last_us`,
    );
    // Drift and pipeline alerts (ids with a dot) never grow: they have no key.
    const keyed = result.rows
      .map((row) => ({
        alertId: Number(row.alert_id), ruleId: String(row.rule_id), server: String(row.server), dedupKey: String(row.dedup_key),
        firstMicros: Number(row.first_us), lastMicros: Number(row.last_us),
      }))
      .filter((k) => !k.ruleId.includes('.'))
      .sort((a, b) => a.alertId - b.alertId);
    if (keyed.length > 0) {
      await connection.run(
        `INSERT INTO alert_keys SELECT rule_id, server, dedup_key, alert_id, first_seen, last_seen FROM alerts
         WHERE alert_id IN (${keyed.map((a) => integer(a.alertId)).join(', ')}) ORDER BY alert_id`,
      );
      for (const key of keyed) this.keys.add({ ...key });
    }
    return keyed.map(({ firstMicros, lastMicros, ...a }) => ({ ...a, firstSeen: fromMicros(firstMicros), lastSeen: fromMicros(lastMicros) }));
  }

  /**
   * Alerts `reopenRedone` took back whose story stands as another store's alert (a hub's other leader took their
   * change into effect and raised it there): retracted again, so one alert stands.
   */
  async keepRetracted(connection: DuckDBConnection, ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await connection.run(`UPDATE alerts SET status = 'retracted', updated_at = now() WHERE alert_id IN (${ids.map(integer).join(', ')})`);
    await this.keysLeave(connection, ids);
  }

  /** A retracted alert never grows: its key leaves `alert_keys`, and the index. */
  private async keysLeave(connection: DuckDBConnection, ids: readonly number[]): Promise<number[]> {
    if (ids.length > 0) await connection.run(`DELETE FROM alert_keys WHERE alert_id IN (${ids.map(integer).join(', ')})`);
    this.keys.drop(ids);
    for (const id of ids) this.evidence.delete(id);
    return [...ids];
  }

  /** Holds the evidence just written for an alert, as the last written: the oldest held beyond `EVIDENCE_HELD` go. */
  private wrote(alertId: number, evidence: string): void {
    this.evidence.delete(alertId);
    this.evidence.set(alertId, evidence);
    for (const oldest of this.evidence.keys()) {
      if (this.evidence.size <= EVIDENCE_HELD) break;
      this.evidence.delete(oldest);
    }
  }
}

/** An alert `reopenRedone` took back, with the key it is found by again. */
export interface ReopenedAlert {
  alertId: number;
  ruleId: string;
  server: string;
  dedupKey: string;
  firstSeen: Date;
  lastSeen: Date;
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

/**
 * The findings of every rule, in the order they are taken: in rounds where each rule, server and key appears once
 * (an earlier finding of a key may raise the alert a later one grows), each round in rule and finding order.
 */
function inKeyOrder(findings: readonly (readonly MergedFinding[])[]): { group: number; index: number }[] {
  const rounds: { group: number; index: number }[][] = [];
  findings.forEach((fs, group) => {
    const seen = new Map<string, number>();
    fs.forEach((f, index) => {
      const key = `${f.server}\u0000${f.dedupKey}`;
      const round = seen.get(key) ?? 0;
      seen.set(key, round + 1);
      (rounds[round] ??= []).push({ group, index });
    });
  });
  return rounds.flat();
}

/** NULL for no value, as an empty string was. */
function optional(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value;
}

function integer(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  return String(value);
}

/** A time of the store's (microseconds since the epoch) as a Date, which keeps milliseconds. */
function fromMicros(micros: number): Date {
  return new Date(Math.trunc(micros / 1000));
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
