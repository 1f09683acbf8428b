/**
 * What the global exclusions hide: Azure's maintenance by its user and database (the defaults), and whatever a
 * configuration names by user, database, application or a non-loopback address. Loopback is never one of them.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detectionConfigSchema, type DetectionConfigInput } from '../../src/detect/index.js';
import { audit, login, minutes, type SessionSpec } from '../support/detection-records.js';
import { openHarness, type Harness } from './detection-harness.js';

const T0 = new Date('2026-11-24T10:00:00.000Z');

/** A session of `who` that makes a role SUPERUSER (admin-granted), as seen with `config`. */
async function escalationAlerts(h: Harness, who: Omit<SessionSpec, 'at'> & { app?: string }): Promise<number> {
  const s = login({ ...who, at: T0 });
  const records = who.app ? s.records.map((r) => (r.kind === 'record' ? { ...r, record: { ...r.record, message: r.record.message.replace('application_name=psql', `application_name=${who.app}`) } } : r)) : s.records;
  await h.feed([...records, audit('pg1', s.sessionId, minutes(T0, 1), 1, 'ROLE', 'ALTER ROLE', 'ALTER ROLE x SUPERUSER;')]);
  return (await h.alerts('admin-granted')).length;
}

const CASES: { name: string; config: DetectionConfigInput; who: Omit<SessionSpec, 'at'> & { app?: string }; alerts: number }[] = [
  { name: "Azure's maintenance user, by default", config: {}, who: { user: 'azuresu', host: '127.0.0.1' }, alerts: 0 },
  { name: "Azure's maintenance database, by default", config: {}, who: { user: 'dba', database: 'azure_maintenance', host: '127.0.0.1' }, alerts: 0 },
  { name: 'a customer over loopback (Azure PgBouncer), by default', config: {}, who: { user: 'dba', host: '127.0.0.1' }, alerts: 1 },
  { name: 'a customer over IPv6 loopback, by default', config: {}, who: { user: 'dba', host: '::1' }, alerts: 1 },
  { name: 'a customer on the network, by default', config: {}, who: { user: 'dba', host: '10.0.0.5' }, alerts: 1 },
  { name: 'an application named in applications', config: { exclude: { applications: ['flyway'] } }, who: { user: 'dba', host: '10.0.0.5', app: 'flyway' }, alerts: 0 },
  { name: 'another application', config: { exclude: { applications: ['flyway'] } }, who: { user: 'dba', host: '10.0.0.5', app: 'psql' }, alerts: 1 },
  { name: 'a network address named in clientAddrs', config: { exclude: { clientAddrs: ['10.20.0.7'] } }, who: { user: 'dba', host: '10.20.0.7' }, alerts: 0 },
];

describe('exclusions', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  for (const c of CASES) {
    it(`${c.name}: ${c.alerts === 0 ? 'hidden' : 'seen'}`, async () => {
      h = await openHarness(c.config);
      assert.equal(await escalationAlerts(h, c.who), c.alerts);
    });
  }

  for (const addr of ['127.0.0.1', '127.0.0.53', '::1', 'localhost']) {
    it(`refuses ${addr} in clientAddrs, saying why`, () => {
      const result = detectionConfigSchema.safeParse({ exclude: { clientAddrs: ['10.0.0.1', addr] } });
      assert.equal(result.success, false);
      assert.match(result.error!.issues[0]!.message, /loopback address cannot be excluded: Azure's built-in PgBouncer connects from it/);
    });
  }
});
