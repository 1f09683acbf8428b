import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assessReadiness, HealthBook, withoutPaths } from '../../src/web/health-book.js';

const thresholds = { partitionFailingMs: 60_000, sinkFailingMs: 300_000 };
const t0 = new Date('2026-12-01T10:00:00Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('readiness', () => {
  it('is ready while partitions commit, and tracks their last commit', () => {
    const book = new HealthBook();
    book.committed('eventhubs:h/0', t0);
    const r = assessReadiness(book.view(), [], [], thresholds, at(1000));
    assert.equal(r.ready, true);
    assert.deepEqual(r.partitions.map((p) => [p.partition, p.state, p.lastCommitAt, p.consecutiveFailures]), [['eventhubs:h/0', 'ok', t0.toISOString(), 0]]);
  });

  it('tolerates a partition failing for less than the threshold, not longer', () => {
    const book = new HealthBook();
    book.failed('eventhubs:h/1', 'data', new TypeError('bad'), t0);
    book.failed('eventhubs:h/1', 'data', new TypeError('bad'), at(30_000));
    assert.equal(assessReadiness(book.view(), [], [], thresholds, at(59_000)).ready, true);
    const late = assessReadiness(book.view(), [], [], thresholds, at(60_000));
    assert.equal(late.ready, false);
    assert.deepEqual(late.reasons, [`partition eventhubs:h/1 has failed 2 times since ${t0.toISOString()}: bad`]);
    book.committed('eventhubs:h/1', at(61_000));
    assert.equal(assessReadiness(book.view(), [], [], thresholds, at(62_000)).ready, true);
  });

  it('is not ready at once when the store cannot commit, and says so without the path', () => {
    const book = new HealthBook();
    book.failed('eventhubs:h/0', 'store', new Error('IO Error: Could not write all bytes to file "/var/lib/auditduck/store.duckdb.wal": No space left on device'), t0);
    const r = assessReadiness(book.view(), [], [], thresholds, t0);
    assert.equal(r.ready, false);
    assert.match(r.reasons[0]!, /^the store cannot commit since .*No space left on device/);
    assert.doesNotMatch(JSON.stringify(r), /var\/lib/);
  });

  it('names an alert sink failing longer than its threshold and a snapshot server that cannot be reached', () => {
    const r = assessReadiness(
      new HealthBook().view(),
      [
        { sink: 'webhook', consecutiveFailures: 4, failingSince: t0, lastError: 'fetch failed' },
        { sink: 'log', consecutiveFailures: 0, failingSince: null, lastError: null },
      ],
      [{ server: 'prod-pg', consecutiveFailures: 2, lastError: 'connect ECONNREFUSED 10.0.0.4:5432' }],
      thresholds,
      at(300_000),
    );
    assert.deepEqual(r.reasons, [
      `alert sink webhook has failed 4 times since ${t0.toISOString()}: fetch failed`,
      'snapshot server prod-pg is unreachable (2 failures): connect ECONNREFUSED 10.0.0.4:5432',
    ]);
  });

  it('forgets a partition this instance no longer reads', () => {
    const book = new HealthBook();
    book.failed('eventhubs:h/0', 'data', new Error('x'), t0);
    book.released('eventhubs:h/0');
    assert.deepEqual(assessReadiness(book.view(), [], [], thresholds, at(600_000)).partitions, []);
  });
});

describe('texts that leave through /healthz and /readyz', () => {
  it('carry no file path', () => {
    assert.equal(withoutPaths('cannot open /data/auditduck/store.duckdb: EACCES'), 'cannot open <path>: EACCES');
    assert.equal(withoutPaths('C:\\data\\auditduck\\store.duckdb is locked'), '<path> is locked');
    assert.equal(withoutPaths('connect ECONNREFUSED 127.0.0.1:5432'), 'connect ECONNREFUSED 127.0.0.1:5432');
  });
});
