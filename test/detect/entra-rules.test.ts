/**
 * The Entra rules where a local capture is not enough: the mapping before a change comes from an earlier batch,
 * the same label again, a role mapped before the trail began, a mapping removed, MFA not asked for, a rolled-back
 * re-map. Records are pgaudit entries as Flexible Server logs them (docs/azure-identities.md).
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { audit, login, minutes } from '../support/detection-records.js';
import { NO_EXCLUSIONS, openHarness, type Harness } from './detection-harness.js';

const T0 = new Date('2026-11-24T10:00:00.000Z');
const label = (role: string, oid: string, extra = '') => `SECURITY LABEL FOR "pgaadauth" ON ROLE "${role}" IS 'aadauth,oid=${oid},type=user${extra}'`;

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** One admin session running `statements` (class, command, text) one statement id each, from minute `at`. */
function session(at: number, statements: [string, string, string][]) {
  const s = login({ user: 'entra_admin', at: minutes(T0, at) });
  return [...s.records, ...statements.map(([cls, command, text], i) => audit('pg1', s.sessionId, new Date(minutes(T0, at).getTime() + 10 + i), i + 1, cls, command, text))];
}

const fired = async (rule: string) => (await h!.alerts(rule)).map((a) => `${a.target} ${a.status}`);

describe('Entra rules', () => {
  it('a re-map is seen against the mapping an earlier batch made; the same label again is nothing', async () => {
    h = await openHarness();
    await h.feed(session(0, [['READ', 'SELECT', "SELECT * FROM pgaadauth_create_principal_with_oid('dana', 'oid-1', 'user', false, true)"]]));
    await h.feed(session(5, [['DDL', 'SECURITY LABEL', label('dana', 'oid-1')]]));
    assert.deepEqual(await fired('entra-principal-remapped'), []);
    await h.feed(session(10, [['DDL', 'SECURITY LABEL', label('dana', 'oid-2')]]));
    assert.deepEqual(await fired('entra-principal-remapped'), ['dana open']);
  });

  it('a label on a role mapped before the trail began is no re-map, but adding admin is an admin grant', async () => {
    h = await openHarness();
    await h.feed(session(0, [['DDL', 'SECURITY LABEL', label('old-role', 'oid-9', ',admin')]]));
    assert.deepEqual(await fired('entra-principal-remapped'), []);
    assert.deepEqual(await fired('entra-admin-granted'), ['old-role open']);
    await h.feed(session(1, [['DDL', 'SECURITY LABEL', label('old-role', 'oid-9', ',admin')]]));
    assert.deepEqual(await fired('entra-admin-granted'), ['old-role open'], 'already admin: nothing new');
  });

  it('a password on a role whose Entra mapping was removed is not a password on an Entra principal', async () => {
    h = await openHarness();
    await h.feed(session(0, [
      ['READ', 'SELECT', "SELECT * FROM pgaadauth_create_principal_with_oid('erin', 'oid-3', 'user', false, true)"],
      ['DDL', 'SECURITY LABEL', 'SECURITY LABEL FOR pgaadauth ON ROLE erin IS NULL'],
      ['ROLE', 'ALTER ROLE', 'ALTER ROLE erin PASSWORD <REDACTED>'],
    ]));
    assert.deepEqual(await fired('password-on-entra-principal'), []);
    await h.feed(session(1, [['DDL', 'SECURITY LABEL', label('erin', 'oid-3')], ['ROLE', 'ALTER ROLE', 'ALTER ROLE erin PASSWORD <REDACTED>']]));
    assert.deepEqual(await fired('password-on-entra-principal'), ['erin open']);
  });

  it('a principal without MFA raises nothing until the config asks for MFA', async () => {
    const call: [string, string, string] = ['READ', 'SELECT', "SELECT * FROM pgaadauth_create_principal('frank@contoso.com', false, false)"];
    h = await openHarness();
    await h.feed(session(0, [call]));
    assert.deepEqual(await fired('entra-principal-without-mfa'), []);
    await h.close();
    h = await openHarness({ exclude: NO_EXCLUSIONS, rules: { 'entra-principal-without-mfa': { requireMfa: true } } });
    await h.feed(session(0, [call]));
    assert.deepEqual(await fired('entra-principal-without-mfa'), ['frank@contoso.com open']);
  });

  it('a re-map that is rolled back retracts its alert', async () => {
    h = await openHarness();
    await h.feed(session(0, [['READ', 'SELECT', "SELECT * FROM pgaadauth_create_principal_with_oid('gina', 'oid-4', 'user', false, true)"]]));
    // The ROLLBACK arrives in the next batch, after the alert was raised.
    const s = session(1, [['MISC', 'BEGIN', 'BEGIN'], ['DDL', 'SECURITY LABEL', label('gina', 'oid-5')], ['MISC', 'ROLLBACK', 'ROLLBACK']]);
    await h.feed(s.slice(0, -1));
    assert.deepEqual(await fired('entra-principal-remapped'), ['gina open']);
    await h.feed(s.slice(-1));
    assert.deepEqual(await fired('entra-principal-remapped'), ['gina retracted']);
    const roles = await h.store.connection.runAndReadAll(`SELECT entra_oid FROM roles WHERE rolname = 'gina'`);
    assert.deepEqual(roles.getRowObjects(), [{ entra_oid: 'oid-4' }]);
  });
});
