/**
 * The delivery loop: reads the outbox (`alerts`), hands each open alert to every sink until the sink
 * acknowledges it, and records each attempt in `alert_deliveries`, so a sink that is down for an hour, or
 * a restart, loses nothing. Only committed alerts are visible here, so an alert of a batch that rolled
 * back is never sent. A failing alert backs off exponentially on its own; a failing sink also pauses as
 * a whole (in memory) so a dead receiver is not hammered. Alerts never tried go first, then the longest
 * waiting: one alert a receiver keeps rejecting does not block the others. Order is by alert id while healthy.
 * Give it its own connection (`instance.connect()`): the ingest's connection holds batch transactions.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Logger } from 'pino';
import { runQuery } from '../query/run-query.js';
import { ALERT_COLUMNS, toAlertMessage } from './alert-message.js';
import type { AlertSink } from './alert-sink.js';
import { redactStoredText } from '../parse/redact/index.js';

export interface DeliveryOptions {
  connection: DuckDBConnection;
  sinks: readonly AlertSink[];
  log: Logger;
  /** How often the outbox is polled; `wake()` polls at once. Default 250 ms. */
  pollMs?: number;
  /** First retry delay, doubled per failed attempt up to `maxBackoffMs`. Defaults 1 s and 5 min. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Alerts older than this are not sent to a sink that never got them (a sink added to an old store). Default 7 days. */
  maxAgeMs?: number;
  /** Alerts read per sink per pass. Default 100. */
  batchSize?: number;
}

export interface AlertDelivery {
  /** Poll now (e.g. right after a batch committed). */
  wake(): void;
  /** One pass over every sink; resolves when it is done. Returns how many deliveries succeeded. */
  runOnce(): Promise<number>;
  /** Finishes the pass in flight, then stops. */
  stop(): Promise<void>;
  /** Each sink's run of failures (none while it delivers), for /readyz and /metrics. */
  health(): SinkDeliveryHealth[];
}

export interface SinkDeliveryHealth {
  sink: string;
  consecutiveFailures: number;
  /** The first failure of the current run; null while the sink delivers. */
  failingSince: Date | null;
  lastError: string | null;
}

export function backoffMs(attempts: number, initialMs: number, maxMs: number): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempts - 1));
}

export function startAlertDelivery(opts: DeliveryOptions): AlertDelivery {
  const { connection, sinks, log } = opts;
  const pollMs = opts.pollMs ?? 250;
  const initial = opts.initialBackoffMs ?? 1_000;
  const max = opts.maxBackoffMs ?? 300_000;
  const maxAge = opts.maxAgeMs ?? 7 * 86_400_000;
  const batchSize = opts.batchSize ?? 100;
  const paused = new Map<string, { until: number; failures: number; since: Date; lastError: string }>();
  let stopped = false;
  let running: Promise<number> | null = null;
  let timer: NodeJS.Timeout | null = null;

  const record = async (alertId: number, sink: string, existing: boolean, delivered: boolean, attempts: number, error: string | null) => {
    const params = {
      id: String(alertId),
      sink,
      attempts: String(attempts),
      next: delivered ? '' : new Date(Date.now() + backoffMs(attempts, initial, max)).toISOString(),
      delivered: delivered ? 'yes' : '',
      // A sink's error may quote what it was sent or where: it is stored text like any other.
      error: error === null ? '' : redactStoredText(error),
    };
    const next = `nullif($next, '')::TIMESTAMPTZ`;
    const at = `CASE WHEN $delivered = 'yes' THEN now() END`;
    if (existing) {
      await runQuery(
        connection,
        `UPDATE alert_deliveries SET attempts = $attempts::INTEGER, next_attempt_at = ${next}, delivered_at = ${at}, last_error = nullif($error, '')
         WHERE alert_id = $id::BIGINT AND sink = $sink`,
        params,
      );
    } else {
      await runQuery(connection, `INSERT INTO alert_deliveries VALUES ($id::BIGINT, $sink, $attempts::INTEGER, ${next}, ${at}, nullif($error, ''))`, params);
    }
  };

  const passForSink = async (sink: AlertSink): Promise<number> => {
    const pause = paused.get(sink.name);
    if (pause && pause.until > Date.now()) return 0;
    const due = await runQuery(
      connection,
      `SELECT ${ALERT_COLUMNS}, d.attempts FROM alerts a
       LEFT JOIN alert_deliveries d ON d.alert_id = a.alert_id AND d.sink = $sink
       WHERE a.status = 'open' AND d.delivered_at IS NULL AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= now())
         AND a.created_at >= now() - to_milliseconds($age::BIGINT)
       ORDER BY d.next_attempt_at ASC NULLS FIRST, a.alert_id LIMIT $limit::INTEGER`,
      { sink: sink.name, age: String(maxAge), limit: String(batchSize) },
    );
    let delivered = 0;
    for (const row of due.rows) {
      if (stopped) break;
      const alert = toAlertMessage(row);
      const attempts = row.attempts === null ? 0 : Number(row.attempts);
      try {
        await sink.deliver(alert);
      } catch (error) {
        const message = (error as Error).message;
        await record(alert.alertId, sink.name, row.attempts !== null, false, attempts + 1, message);
        const failures = (paused.get(sink.name)?.failures ?? 0) + 1;
        const since = paused.get(sink.name)?.since ?? new Date();
        paused.set(sink.name, { until: Date.now() + backoffMs(failures, initial, max), failures, since, lastError: message });
        log.warn({ sink: sink.name, alertId: alert.alertId, attempts: attempts + 1, error: message }, 'alert delivery failed; will retry');
        break;
      }
      await record(alert.alertId, sink.name, row.attempts !== null, true, attempts + 1, null);
      paused.delete(sink.name);
      delivered++;
    }
    return delivered;
  };

  const runOnce = (): Promise<number> => {
    // One pass at a time: a wake during a pass waits for it rather than delivering twice.
    running ??= (async () => {
      await Promise.resolve(); // `running` is set before the pass can finish
      let n = 0;
      try {
        for (const sink of sinks) n += await passForSink(sink);
      } catch (error) {
        log.error({ error: (error as Error).message }, 'alert delivery pass failed; retrying on the next poll');
      } finally {
        running = null;
      }
      return n;
    })();
    return running;
  };

  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void runOnce().then(schedule), pollMs);
  };
  schedule();

  return {
    wake() {
      if (!stopped) void runOnce();
    },
    runOnce,
    health: () =>
      sinks.map((sink) => {
        const pause = paused.get(sink.name);
        return { sink: sink.name, consecutiveFailures: pause?.failures ?? 0, failingSince: pause?.since ?? null, lastError: pause?.lastError ?? null };
      }),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
