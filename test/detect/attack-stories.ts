/**
 * The attack stories of the synthetic detection tests, written once and told for two kinds of client: one on
 * the network, and one that arrives over loopback as every client of Azure's built-in PgBouncer does. Both
 * must raise the same alerts. Records are shaped like Azure's (`%t-%c-` prefix, attribution from connection
 * lines). What a local server cannot easily produce: time windows, suppression, batch boundaries, rollbacks in
 * a later batch, dormant roles, change windows, scheduled rules, md5 logins, Azure's exclusions.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DetectionConfigInput } from '../../src/detect/index.js';
import { audit, failedLogin, login, minutes, type SessionSpec } from '../support/detection-records.js';
import { NO_EXCLUSIONS, openHarness, type Harness } from './detection-harness.js';
import { inChangeWindow } from '../../src/detect/rules/change-control.js';

export interface ClientKind {
  /** The client address of every story that does not name one; undefined: the records' own (on the network). */
  host: string | undefined;
  /** The detection config every story starts from (its exclusions). */
  defaults: DetectionConfigInput;
}

export function tellAttackStories(clients: ClientKind): void {
  const { defaults } = clients;
  const sprayHost = clients.host ?? '10.2.0.1';
  const clientLogin = (spec: SessionSpec) => login({ ...(clients.host ? { host: clients.host } : {}), ...spec });
  const clientFailedLogin = (spec: Parameters<typeof failedLogin>[0]) => failedLogin({ ...(clients.host ? { host: clients.host } : {}), ...spec });

  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const T0 = new Date('2026-11-24T10:00:00.000Z'); // a Tuesday


  function failures(user: string, from: Date, count: number, everyMs: number, host = clients.host ?? '10.0.0.9') {
    return Array.from({ length: count }, (_, i) => clientFailedLogin({ user, host, at: new Date(from.getTime() + i * everyMs) })).flat();
  }

  describe('brute force', () => {
    it('fires in the batch that reaches the threshold, and the burst grows one alert across batches', async () => {
      h = await openHarness(defaults);
      await h.feed(failures('alice', T0, 9, 1000));
      assert.equal((await h.alerts('brute-force')).length, 0, 'nine failures are below the threshold');
      await h.feed(failures('alice', minutes(T0, 1), 1, 1000));
      let bf = await h.alerts('brute-force');
      assert.equal(bf.length, 1, 'the tenth failure, in the next batch, proves it');
      assert.equal(bf[0]!.count, 10);
      await h.feed(failures('alice', minutes(T0, 2), 5, 1000));
      bf = await h.alerts('brute-force');
      assert.equal(bf.length, 1);
      assert.equal(bf[0]!.count, 15);
      assert.equal(bf[0]!.last_seen, new Date(minutes(T0, 2).getTime() + 4001).toISOString());
    });

    it('failures spread wider than the window raise nothing', async () => {
      h = await openHarness(defaults);
      await h.feed(failures('alice', T0, 12, 60_000));
      assert.equal((await h.alerts('brute-force')).length, 0);
    });

    it('a new burst after the suppression window is a new alert', async () => {
      h = await openHarness(defaults);
      await h.feed(failures('alice', T0, 10, 1000));
      await h.feed(failures('alice', minutes(T0, 180), 10, 1000));
      assert.equal((await h.alerts('brute-force')).length, 2);
    });

    it("many failures of one user from one host are brute force, not a spray", async () => {
      h = await openHarness(defaults);
      await h.feed(failures('alice', T0, 20, 1000));
      assert.equal((await h.alerts('password-spray')).length, 0);
      assert.equal((await h.alerts('brute-force')).length, 1);
    });
  });

  describe('password spray and failures followed by success', () => {
    it('five users from one host is a spray; from five hosts it is not', async () => {
      h = await openHarness(defaults);
      const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
      await h.feed(users.flatMap((u, i) => clientFailedLogin({ user: u, host: `10.1.0.${i}`, at: minutes(T0, i) })));
      assert.equal((await h.alerts('password-spray')).length, 0);
      await h.feed(users.flatMap((u, i) => clientFailedLogin({ user: u, host: sprayHost, at: minutes(T0, 10 + i) })));
      const spray = await h.alerts('password-spray');
      assert.equal(spray.length, 1);
      assert.equal(spray[0]!.target, sprayHost);
      // Through a pooler the host is the server itself, and the summary says whom that hides.
      assert.equal(/built-in PgBouncer; their own address is not in the log/.test(String(spray[0]!.summary)), sprayHost === '127.0.0.1');
    });

    it('a success long after the failures is not suspicious', async () => {
      h = await openHarness(defaults);
      await h.feed(failures('bob', T0, 5, 1000));
      await h.feed(clientLogin({ user: 'bob', at: minutes(T0, 30) }).records);
      assert.equal((await h.alerts('failures-then-success')).length, 0);
      await h.feed(failures('bob', minutes(T0, 40), 5, 1000));
      await h.feed(clientLogin({ user: 'bob', at: minutes(T0, 42) }).records);
      assert.equal((await h.alerts('failures-then-success')).length, 1);
    });
  });

  describe('privilege changes across batches', () => {
    it('a change rolled back in a later batch retracts its alert', async () => {
      h = await openHarness(defaults);
      const s = clientLogin({ user: 'dba', at: T0 });
      await h.feed([
        ...s.records,
        audit('pg1', s.sessionId, minutes(T0, 1), 1, 'MISC', 'BEGIN', 'BEGIN;'),
        audit('pg1', s.sessionId, minutes(T0, 1), 2, 'ROLE', 'ALTER ROLE', 'ALTER ROLE mallory SUPERUSER;'),
      ]);
      let admin = await h.alerts('admin-granted');
      assert.equal(admin.length, 1);
      assert.equal(admin[0]!.status, 'open');
      await h.feed([audit('pg1', s.sessionId, minutes(T0, 2), 3, 'MISC', 'ROLLBACK', 'ROLLBACK;')]);
      admin = await h.alerts('admin-granted');
      assert.equal(admin[0]!.status, 'retracted');
    });

    it('a change rolled back in the same batch raises nothing', async () => {
      h = await openHarness(defaults);
      const s = clientLogin({ user: 'dba', at: T0 });
      await h.feed([
        ...s.records,
        audit('pg1', s.sessionId, minutes(T0, 1), 1, 'MISC', 'BEGIN', 'BEGIN;'),
        audit('pg1', s.sessionId, minutes(T0, 1), 2, 'ROLE', 'ALTER ROLE', 'ALTER ROLE mallory SUPERUSER;'),
        audit('pg1', s.sessionId, minutes(T0, 2), 3, 'MISC', 'ROLLBACK', 'ROLLBACK;'),
      ]);
      assert.equal((await h.alerts()).length, 0);
    });

    it('the same grant twice within the suppression window is one alert counting two', async () => {
      h = await openHarness(defaults);
      const s = clientLogin({ user: 'dba', at: T0 });
      await h.feed([...s.records, audit('pg1', s.sessionId, minutes(T0, 1), 1, 'ROLE', 'GRANT ROLE', 'GRANT azure_pg_admin TO mallory;')]);
      await h.feed([audit('pg1', s.sessionId, minutes(T0, 3), 2, 'ROLE', 'GRANT ROLE', 'GRANT azure_pg_admin TO mallory;')]);
      const admin = await h.alerts('admin-granted');
      assert.equal(admin.length, 1);
      assert.equal(admin[0]!.count, 2);
      assert.equal(JSON.parse(String(admin[0]!.evidence)).samples.length, 2);
    });

    it("Azure's maintenance user is excluded by default, and seen when exclusions are off", async () => {
      for (const [config, expected] of [[{}, 0], [{ exclude: NO_EXCLUSIONS }, 1]] as const) {
        h = await openHarness(config);
        const s = clientLogin({ user: 'azuresu', database: 'azure_maintenance', host: '127.0.0.1', at: T0 });
        await h.feed([...s.records, audit('pg1', s.sessionId, minutes(T0, 1), 1, 'ROLE', 'ALTER ROLE', 'ALTER ROLE x SUPERUSER;')]);
        assert.equal((await h.alerts('admin-granted')).length, expected);
        await h.close();
        h = undefined;
      }
    });

    it('a burst counts changes across batches', async () => {
      h = await openHarness({ ...defaults, rules: { 'privilege-burst': { threshold: 6 } } });
      const s = clientLogin({ user: 'ops', at: T0 });
      const grant = (i: number) => audit('pg1', s.sessionId, new Date(T0.getTime() + 1000 + i * 1000), i, 'ROLE', 'GRANT', `GRANT SELECT ON t${i} TO app;`);
      await h.feed([...s.records, ...[1, 2, 3, 4, 5].map(grant)]);
      assert.equal((await h.alerts('privilege-burst')).length, 0);
      await h.feed([6, 7].map(grant));
      const burst = await h.alerts('privilege-burst');
      assert.equal(burst.length, 1);
      assert.equal(burst[0]!.count, 7);
    });
  });

  describe('change window', () => {
    it('is off by default; when on, flags changes outside the window only', async () => {
      const sunday3am = new Date('2026-11-22T03:00:00Z');
      for (const [config, at, expected] of [
        [defaults, sunday3am, 0],
        [{ ...defaults, rules: { 'change-outside-window': { enabled: true } } }, sunday3am, 1],
        [{ ...defaults, rules: { 'change-outside-window': { enabled: true } } }, T0, 0],
      ] as const) {
        h = await openHarness(config);
        const s = clientLogin({ user: 'dba', at });
        await h.feed([...s.records, audit('pg1', s.sessionId, minutes(at, 1), 1, 'ROLE', 'GRANT', 'GRANT SELECT ON t TO app;')]);
        assert.equal((await h.alerts('change-outside-window')).length, expected, `${at.toISOString()}`);
        await h.close();
        h = undefined;
      }
    });

    it('reads windows in their time zone, including windows past midnight', () => {
      const weekdays = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, from: '08:00', to: '18:00' }];
      const w = weekdays.map((x) => ({ ...x, days: [...x.days] }));
      assert.equal(inChangeWindow(new Date('2026-11-24T07:30:00Z'), w, 'UTC'), false);
      assert.equal(inChangeWindow(new Date('2026-11-24T07:30:00Z'), w, 'Europe/Berlin'), true);
      const night = [{ days: ['sat' as const], from: '22:00', to: '02:00' }];
      assert.equal(inChangeWindow(new Date('2026-11-28T23:00:00Z'), night, 'UTC'), true);
      assert.equal(inChangeWindow(new Date('2026-11-29T01:00:00Z'), night, 'UTC'), true);
      assert.equal(inChangeWindow(new Date('2026-11-29T03:00:00Z'), night, 'UTC'), false);
    });
  });

  describe('dormant roles and password rotation', () => {
    it('a login after 40 quiet days fires; after 10 days, or with no history, it does not', async () => {
      h = await openHarness(defaults);
      await h.feed(clientLogin({ user: 'old_app', at: T0 }).records);
      await h.feed(clientLogin({ user: 'fresh', at: T0 }).records);
      await h.feed(clientLogin({ user: 'fresh', at: minutes(T0, 10 * 1440) }).records);
      assert.equal((await h.alerts('dormant-role-login')).length, 0);
      await h.feed(clientLogin({ user: 'old_app', at: minutes(T0, 40 * 1440) }).records);
      const dormant = await h.alerts('dormant-role-login');
      assert.deepEqual(dormant.map((a) => a.target), ['old_app']);
    });

    it('runScheduledRules flags login roles whose password is older than maxAgeDays', async () => {
      h = await openHarness(defaults);
      const s = clientLogin({ user: 'dba', at: T0 });
      await h.feed([
        ...s.records,
        audit('pg1', s.sessionId, minutes(T0, 1), 1, 'ROLE', 'CREATE ROLE', 'CREATE ROLE app LOGIN PASSWORD <REDACTED>'),
        audit('pg1', s.sessionId, minutes(T0, 1), 2, 'ROLE', 'CREATE ROLE', 'CREATE ROLE nopass LOGIN;'),
      ]);
      assert.deepEqual(await h.detector.runScheduledRules(h.store.connection, minutes(T0, 10 * 1440)), []);
      const ids = await h.detector.runScheduledRules(h.store.connection, minutes(T0, 100 * 1440));
      assert.equal(ids.length, 1);
      const stale = await h.alerts('password-not-rotated');
      assert.deepEqual(stale.map((a) => a.target), ['app']);
      // Run again a day later: the same alert grows rather than repeating.
      await h.detector.runScheduledRules(h.store.connection, minutes(T0, 101 * 1440));
      assert.equal((await h.alerts('password-not-rotated')).length, 1);
    });
  });

  describe('md5 and TLS on logins', () => {
    it('a login authenticated with md5 fires; scram does not', async () => {
      h = await openHarness(defaults);
      await h.feed([...clientLogin({ user: 'legacy', method: 'md5', at: T0 }).records, ...clientLogin({ user: 'modern', at: T0 }).records]);
      assert.deepEqual((await h.alerts('md5-password')).map((a) => a.target), ['legacy']);
    });

    it('a session without SSL fires unless its host is allowed', async () => {
      h = await openHarness({ ...defaults, rules: { 'session-without-ssl': { allowHosts: ['10.9.9.9'] } } });
      await h.feed([
        ...clientLogin({ user: 'a', ssl: false, host: '10.0.0.1', at: T0 }).records,
        ...clientLogin({ user: 'b', ssl: false, host: '10.9.9.9', at: T0 }).records,
        ...clientLogin({ user: 'c', at: T0 }).records,
      ]);
      assert.deepEqual((await h.alerts('session-without-ssl')).map((a) => a.actor), ['a']);
    });

    it("a session without SSL from a local client raises nothing: behind Azure's PgBouncer the client's own TLS is not in the log", async () => {
      h = await openHarness(defaults);
      await h.feed([...login({ user: 'pooled', ssl: false, host: '127.0.0.1', at: T0 }).records, ...login({ user: 'socket', ssl: false, host: '[local]', at: T0 }).records]);
      assert.deepEqual(await h.alerts('session-without-ssl'), []);
    });
  });

  describe('entries kept for the rules', () => {
    it('reads and writes are kept only when a rule reads them: a conninfo password in a SELECT still fires', async () => {
      h = await openHarness(defaults);
      const s = clientLogin({ user: 'app', at: T0 });
      await h.feed([
        ...s.records,
        audit('pg1', s.sessionId, minutes(T0, 1), 1, 'READ', 'SELECT', 'SELECT * FROM pgbench_accounts WHERE aid = 1'),
        audit('pg1', s.sessionId, minutes(T0, 2), 2, 'READ', 'SELECT', "SELECT * FROM dblink('host=10.0.0.7 user=etl password=Hunter2secret', 'SELECT 1') AS t(x int)"),
        audit('pg1', s.sessionId, minutes(T0, 3), 3, 'READ', 'SELECT', "SELECT pg_read_file('/etc/passwd')"),
      ]);
      const clear = await h.alerts('password-in-clear');
      assert.equal(clear.length, 1);
      assert.doesNotMatch(String(clear[0]!.evidence), /Hunter2secret/);
      assert.equal((await h.alerts('server-file-access')).length, 1);
    });
  });
}
