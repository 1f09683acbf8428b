/**
 * Delivery from the outbox to a webhook that fails (500s), goes down (connection refused), comes back slow,
 * then healthy: every alert is acknowledged exactly once, a growing alert is not sent again, nothing is
 * lost, the URL's token never reaches a log line or the store, and each alert exists as soon as the batch
 * that proves it has committed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { DuckDBConnection } from '@duckdb/node-api';
import { pino } from 'pino';
import { createLogSink, createWebhookSink, startAlertDelivery, type AlertDelivery, type AlertMessage, type AlertSink } from '../../src/alert/index.js';
import { acknowledgeAlerts } from '../../src/detect/acknowledge-alerts.js';
import { runQuery } from '../../src/query/run-query.js';
import { audit, failedLogin, login, minutes, record } from '../support/detection-records.js';
import { openHarness, type Harness } from '../detect/detection-harness.js';

const TOKEN = 'T0KEN-s3cr3t-4242';
type Mode = 'fail' | 'slow' | 'up';

interface Receiver {
  port: number;
  mode: Mode;
  acknowledged: { alertId: number; dedupKey: string; receivedAt: number }[];
  rejected: number;
  down(): Promise<void>;
  up(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  let server: Server | null = null;
  const receiver: Receiver = {
    port: 0,
    mode: 'fail',
    acknowledged: [],
    rejected: 0,
    async down() {
      if (!server) return;
      const s = server;
      server = null;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async up() {
      server = createServer((req: IncomingMessage, res: ServerResponse) => {
        let body = '';
        req.setEncoding('utf8').on('data', (c: string) => (body += c));
        req.on('end', () => {
          assert.equal(req.url, `/hooks/${TOKEN}`);
          if (receiver.mode === 'fail') {
            receiver.rejected++;
            res.writeHead(500).end('try later');
            return;
          }
          const ack = () => {
            const alert = JSON.parse(body) as { alert_id: number; dedup_key: string };
            receiver.acknowledged.push({ alertId: alert.alert_id, dedupKey: alert.dedup_key, receivedAt: performance.now() });
            res.writeHead(204).end();
          };
          if (receiver.mode === 'slow') setTimeout(ack, 300);
          else ack();
        });
      });
      await new Promise<void>((resolve) => server!.listen(receiver.port, '127.0.0.1', () => resolve()));
      receiver.port = (server.address() as AddressInfo).port;
    },
  };
  await receiver.up();
  return receiver;
}

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const T0 = new Date('2026-11-24T10:00:00.000Z');

describe('alert delivery through a failing webhook', () => {
  let dir: string;
  let h: Harness;
  let receiver: Receiver;
  let delivery: AlertDelivery;
  let deliveryConnection: DuckDBConnection;
  const logLines: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-delivery-'));
    receiver = await startReceiver();
    h = await openHarness(undefined, join(dir, 'store.duckdb'));
    deliveryConnection = await h.store.db.instance.connect();
    const log = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => (logLines.push(String(chunk)), done()) }));
    delivery = startAlertDelivery({
      connection: deliveryConnection,
      sinks: [createLogSink(log), createWebhookSink({ url: `http://127.0.0.1:${receiver.port}/hooks/${TOKEN}`, timeoutMs: 2_000 })],
      log,
      pollMs: 20,
      initialBackoffMs: 20,
      maxBackoffMs: 200,
    });
  });

  after(async () => {
    await delivery?.stop();
    deliveryConnection?.closeSync();
    await h?.close();
    await receiver?.down();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const attempts = async (alertId: number) =>
    Number((await runQuery(deliveryConnection, `SELECT coalesce(max(attempts), 0) AS n FROM alert_deliveries WHERE alert_id = ${alertId} AND sink = 'webhook'`)).rows[0]!.n);

  it('keeps every alert through 500s, an outage and a slow receiver, and delivers each exactly once', async () => {
    // 1. The receiver answers 500: the alert exists as soon as its batch committed and is retried.
    const dba = login({ user: 'dba', at: T0 });
    await h.feed([...dba.records, audit('pg1', dba.sessionId, minutes(T0, 1), 1, 'ROLE', 'ALTER ROLE', 'ALTER ROLE mallory SUPERUSER;')]);
    assert.equal((await h.alerts('admin-granted')).length, 1, 'the alert commits with the batch that proves it');
    await until('three failed attempts', async () => (await attempts(1)) >= 3);

    // 2. The receiver is down: connection refused. A burst raises one alert that then grows.
    await receiver.down();
    const burst = Array.from({ length: 10 }, (_, i) => failedLogin({ user: 'alice', host: '10.0.0.9', at: new Date(minutes(T0, 2).getTime() + i * 500) })).flat();
    await h.feed(burst);
    await h.feed(failedLogin({ user: 'alice', host: '10.0.0.9', at: minutes(T0, 3) }));
    const bf = await h.alerts('brute-force');
    assert.equal(bf.length, 1);
    assert.equal(bf[0]!.count, 11);
    await until('attempts while down', async () => (await attempts(2)) >= 2);
    const errors = await runQuery(deliveryConnection, `SELECT DISTINCT last_error FROM alert_deliveries WHERE sink = 'webhook'`);
    assert.ok(errors.rows.some((r) => /unreachable/.test(String(r.last_error))), JSON.stringify(errors.rows));

    // 3. Back, but slow: everything pending arrives; a new alert too.
    receiver.mode = 'slow';
    await receiver.up();
    await h.feed([audit('pg1', dba.sessionId, minutes(T0, 4), 2, 'ROLE', 'GRANT', 'GRANT SELECT ON orders TO PUBLIC;')]);
    await until('three alerts acknowledged', () => receiver.acknowledged.length >= 3);

    // 4. Healthy: a new alert arrives well within a second of its batch.
    receiver.mode = 'up';
    await h.feed([audit('pg1', dba.sessionId, minutes(T0, 5), 3, 'ROLE', 'GRANT ROLE', 'GRANT azure_pg_admin TO mallory;')]);
    const committedAt = performance.now();
    delivery.wake();
    await until('the fourth alert', () => receiver.acknowledged.length >= 4);
    const latency = receiver.acknowledged[3]!.receivedAt - committedAt;
    assert.ok(latency < 1000, `delivered ${latency.toFixed(0)} ms after commit`);

    // Grow an already delivered alert: it is not sent again.
    await h.feed(failedLogin({ user: 'alice', host: '10.0.0.9', at: minutes(T0, 4) }));
    await new Promise((r) => setTimeout(r, 200));
    await delivery.runOnce();

    const all = await h.alerts();
    const ids = receiver.acknowledged.map((a) => a.alertId).sort((a, b) => a - b);
    assert.deepEqual(ids, all.map((a) => Number(a.alert_id)), 'each alert acknowledged exactly once');
    assert.ok(receiver.rejected >= 3);
    const delivered = await runQuery(deliveryConnection, `SELECT sink, count(*) AS n FROM alert_deliveries WHERE delivered_at IS NOT NULL GROUP BY sink ORDER BY sink`);
    assert.deepEqual(delivered.rows, [{ sink: 'log', n: 4 }, { sink: 'webhook', n: 4 }]);
    assert.equal(logLines.filter((l) => l.includes('"alert":{"id":')).length, 4, 'the log sink got each alert once');
  });

  it('never logs or stores the webhook token', async () => {
    assert.ok(logLines.length > 0);
    assert.ok(!logLines.join('\n').includes(TOKEN));
    const stored = await runQuery(deliveryConnection, `SELECT string_agg(coalesce(last_error, ''), ' ') AS e FROM alert_deliveries`);
    assert.ok(!String(stored.rows[0]!.e).includes(TOKEN));
  });
});

describe('delivery of an alert retracted and then open again (its COMMIT read after the disconnection)', () => {
  let h: Harness;
  let delivery: AlertDelivery;
  let deliveryConnection: DuckDBConnection;
  const received: AlertMessage[] = [];

  before(async () => {
    h = await openHarness();
    deliveryConnection = await h.store.db.instance.connect();
    const sink: AlertSink = { name: 'collect', deliver: async (alert) => void received.push(alert) };
    // Polled by hand: each step says when delivery ran.
    delivery = startAlertDelivery({ connection: deliveryConnection, sinks: [sink], log: pino({ level: 'silent' }), pollMs: 3_600_000 });
  });

  after(async () => {
    await delivery?.stop();
    deliveryConnection?.closeSync();
    await h?.close();
  });

  /** A grant in a transaction, the disconnection taken as its rollback, and its COMMIT read last. */
  function lateCommit(role: string, at: Date) {
    const s = login({ user: 'dba', at });
    const line = (ms: number, id: number, command: string, text: string) => audit('pg1', s.sessionId, new Date(at.getTime() + ms), id, command === 'GRANT ROLE' ? 'ROLE' : 'MISC', command, text);
    return {
      grant: [...s.records, line(10, 1, 'BEGIN', 'BEGIN;'), line(20, 2, 'GRANT ROLE', `GRANT pg_read_all_data TO ${role};`)],
      disconnection: [record('pg1', new Date(at.getTime() + 70), s.sessionId, 'LOG', 'disconnection: session time: 0:00:01.000 user=dba database=appdb host=10.0.0.5 port=50000')],
      commit: [line(30, 3, 'COMMIT', 'COMMIT;')],
    };
  }
  const statusOf = async (target: string) => (await h.alerts('admin-granted')).filter((a) => a.target === target).map((a) => a.status);
  const receivedFor = (target: string) => received.filter((a) => a.target === target).map((a) => a.status);

  it('does not send again an alert delivered before it was retracted', async () => {
    const story = lateCommit('sent_first', T0);
    await h.feed(story.grant);
    await delivery.runOnce();
    await h.feed(story.disconnection);
    await h.feed(story.commit);
    assert.deepEqual(await statusOf('sent_first'), ['open']);
    await delivery.runOnce();
    assert.deepEqual(receivedFor('sent_first'), ['open'], 'delivered once: its receiver never heard of the retraction');
  });

  it('sends an alert retracted before it was delivered once it is open again', async () => {
    const story = lateCommit('sent_late', minutes(T0, 10));
    await h.feed(story.grant);
    await h.feed(story.disconnection);
    await delivery.runOnce();
    assert.deepEqual(receivedFor('sent_late'), [], 'retracted: not sent');
    await h.feed(story.commit);
    await delivery.runOnce();
    assert.deepEqual(receivedFor('sent_late'), ['open']);
  });

  it('does not send an alert acknowledged before delivery when it comes back (acknowledged)', async () => {
    const story = lateCommit('handled', minutes(T0, 20));
    await h.feed(story.grant);
    const id = Number((await h.alerts('admin-granted')).find((a) => a.target === 'handled')!.alert_id);
    await acknowledgeAlerts(h.store.connection, [id], 'analyst');
    await h.feed(story.disconnection);
    await h.feed(story.commit);
    assert.deepEqual(await statusOf('handled'), ['acknowledged']);
    await delivery.runOnce();
    assert.deepEqual(receivedFor('handled'), []);
  });
});
