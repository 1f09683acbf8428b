/**
 * An alert's page over the investigation fixture: the rule as written in src/detect/rules with its MITRE
 * link, the changes it stands on with where they came from, the entities by kind, the session's timeline
 * with the alert's own statement marked; and the pure pieces (MITRE URLs, evidence, entities) on their own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadOnlySession } from '../../../src/query/read-only-session.js';
import { DEFAULT_QUERY_LIMITS } from '../../../src/query/query-limits.js';
import { resolveParams } from '../../../src/query/saved-queries.js';
import { closeDatabase, openDatabase, type Database } from '../../../src/store/open-database.js';
import { AlertNotFound, alertEntities, evidenceOf, loadAlertPage, mitreUrl, ruleOf, type RunSaved } from '../../../src/web/dashboards/alert-page.js';
import { BadTime, describeRange, resolveRange } from '../../../src/web/dashboards/time-range.js';
import { buildInvestigationFixture, FIXTURE_NOW } from '../../query/investigation-fixture.js';

describe('an alert page over the investigation fixture', () => {
  let dir: string;
  let db: Database;
  let session: ReadOnlySession;
  let run: RunSaved;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auditduck-alert-page-'));
    await buildInvestigationFixture(join(dir, 'fixture.duckdb'));
    db = await openDatabase(join(dir, 'fixture.duckdb'));
    // The fixture's alert 3 stands on mallory's SET pgaudit.log in session m2; give that session its statement.
    await db.connection.run(`INSERT INTO audit_events (server, logged_at, session_id, audit_type, class, command, statement, user_name, client_addr, source, position) VALUES
      ('pg-prod', '2026-11-23 19:59:00+00', 'm2', 'SESSION', 'READ', 'SELECT', 'select current_user', 'mallory', '203.0.113.7', 'fixture', '30'),
      ('pg-prod', '2026-11-23 20:00:00+00', 'm2', 'SESSION', 'MISC', 'SET', 'set pgaudit.log = ''none''', 'mallory', '203.0.113.7', 'fixture', '31'),
      ('pg-prod', '2026-11-23 23:00:00+00', 'm2', 'SESSION', 'READ', 'SELECT', 'select much later', 'mallory', '203.0.113.7', 'fixture', '32')`);
    session = new ReadOnlySession(await db.instance.connect(), DEFAULT_QUERY_LIMITS);
    run = (query, given) => session.run(query.sql, resolveParams(query, given, FIXTURE_NOW));
  });
  after(async () => {
    await session.close();
    await closeDatabase(db);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the changes behind the alert with the session, address and application they came from', async () => {
    const page = await loadAlertPage(run, 3);
    assert.equal(page.alert.summary, 'pgaudit silenced in a session');
    assert.deepEqual(
      page.changes.map((c) => [c.session_id, c.client_addr, c.application_name, c.action, c.attribute]),
      [['m2', '203.0.113.7', 'pgAdmin 4', 'set-parameter', 'pgaudit.log']],
    );
  });

  it('lists its entities by kind: the role, the session, the address, the setting, the server', async () => {
    const page = await loadAlertPage(run, 3);
    assert.deepEqual(
      page.entities.map((e) => [e.kind, e.value]),
      [['role', 'mallory'], ['session', 'm2'], ['client', '203.0.113.7'], ['setting', 'pgaudit.log'], ['server', 'pg-prod'], ['application', 'pgAdmin 4'], ['database', 'postgres']],
    );
  });

  it('draws the session ten minutes either side, its start and its statements, the alert\'s own marked', async () => {
    const page = await loadAlertPage(run, 3);
    assert.deepEqual(page.window, { from: '2026-11-23T19:50:00.000Z', to: '2026-11-23T20:10:00.000Z' });
    assert.deepEqual(
      page.timeline.map((r) => [r.logged_at, r.kind, r.in_alert]),
      [
        ['2026-11-23T19:55:00.000Z', 'session start', false],
        ['2026-11-23T19:59:00.000Z', 'statement', false],
        ['2026-11-23T20:00:00.000Z', 'statement', true],
      ],
    );
  });

  it('an alert that does not exist is AlertNotFound', async () => {
    await assert.rejects(loadAlertPage(run, 99), (e: unknown) => e instanceof AlertNotFound && /no alert with id 99/.test(e.message));
  });

  it('the time range of a page: ISO instants, where the data lies, the open alerts outside it', async () => {
    const range = await describeRange(run, { since: '2026-11-24T00:00:00Z' }, FIXTURE_NOW);
    assert.equal(range.since, '2026-11-24T00:00:00.000Z');
    assert.equal(range.first, '2026-11-20T10:00:00.000Z', 'the first failed login');
    // In range: 5 failed logins of the 24th; outside: 3 fixture audit events, 3 added here, 1 failed login.
    assert.deepEqual(range.events, { inRange: 5, outside: 7 });
    // Alerts 1, 3 and 4 are open, all last seen before the 24th.
    assert.deepEqual(range.openAlerts, { total: 3, outside: 3 });
  });
});

describe('the pieces of an alert page', () => {
  it('links a MITRE technique or sub-technique to attack.mitre.org, and nothing else', () => {
    assert.equal(mitreUrl('T1098 Account Manipulation'), 'https://attack.mitre.org/techniques/T1098/');
    assert.equal(mitreUrl('T1110.003 Brute Force: Password Spraying'), 'https://attack.mitre.org/techniques/T1110/003/');
    assert.equal(mitreUrl('see the runbook'), null);
  });

  it('reads the rule from the registry, the stored technique first', () => {
    const rule = ruleOf('password-spray', 'T1110.003 Brute Force: Password Spraying');
    assert.equal(rule.mitre?.url, 'https://attack.mitre.org/techniques/T1110/003/');
    assert.match(rule.description, /\w/);
    assert.equal(ruleOf('gone-rule', null).mitre, null);
  });

  it('evidence: samples become rows, the rest stays beside them; text that is not JSON is one sample', () => {
    assert.deepEqual(evidenceOf('{"samples":[{"a":1},{"a":2}],"omittedSamples":3}'), { samples: [{ a: 1 }, { a: 2 }], other: { omittedSamples: 3 } });
    assert.deepEqual(evidenceOf('{"clientAddr":"10.0.0.1"}'), { samples: [{ clientAddr: '10.0.0.1' }], other: {} });
    assert.deepEqual(evidenceOf('not json'), { samples: [{ evidence: 'not json' }], other: {} });
    assert.deepEqual(evidenceOf(null), { samples: [], other: {} });
  });

  it('entities from a spray: the address, no role for PUBLIC or for a target that is an address', () => {
    const alert = { server: 'pg1', actor: null, target: '198.51.100.23' };
    const entities = alertEntities(alert, [{ clientAddr: '198.51.100.23', users: ['admin', 'root'], grantee: 'PUBLIC' }], []);
    assert.deepEqual(entities.map((e) => [e.kind, e.value]), [['client', '198.51.100.23'], ['server', 'pg1']]);
  });

  it('a time that is neither ISO nor a duration is BadTime, naming its picker', () => {
    assert.throws(() => resolveRange('7 days', 'whenever'), (e: unknown) => e instanceof BadTime && e.field === 'until');
    assert.deepEqual(resolveRange('36h', undefined, new Date('2026-11-24T12:00:00Z')), { since: '2026-11-23T00:00:00.000Z', until: null });
  });
});
