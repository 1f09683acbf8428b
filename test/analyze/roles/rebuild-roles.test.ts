import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivilegeAnalyzer } from '../../../src/analyze/privileges/privilege-analyzer.js';
import { loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';
import { rebuildRoles } from '../../../src/analyze/roles/rebuild-roles.js';
import { sessionEntries } from '../privileges/entries.js';

before(() => loadStatementParser());

/** Runs statements (or audit lines, for truncated text) through the analyzer, then rebuilds. */
function replay(lines: string[], at?: Date) {
  const e = sessionEntries();
  const analyzer = createPrivilegeAnalyzer();
  const entries = lines.map((l) => (l.endsWith('<REDACTED>') ? e.audit('ROLE', l.split(' ')[0]!.toUpperCase() + ' ROLE', l) : e.statement(l)));
  const changes = entries.flatMap((x) => analyzer.observe(x, { userName: 'alice' }));
  return { ...rebuildRoles(changes, { at }), changes };
}

describe('rebuildRoles', () => {
  it('applies PostgreSQL defaults: CREATE USER implies LOGIN, CREATE ROLE and GROUP do not', () => {
    const { roles } = replay(['create user u', 'create role r', 'create group g']);
    assert.deepEqual(roles.map((r) => [r.rolname, r.rolcanlogin, r.rolinherit, r.rolconnlimit, r.rolsuper, r.has_password, r.created_by]), [
      ['g', false, true, -1, false, false, 'alice'], ['r', false, true, -1, false, false, 'alice'], ['u', true, true, -1, false, false, 'alice'],
    ]);
  });
  it('a role first seen by ALTER has unknown attributes as null', () => {
    const { roles } = replay(['alter role old createdb']);
    assert.equal(roles[0]!.rolcreatedb, true);
    assert.equal(roles[0]!.rolsuper, null);
    assert.equal(roles[0]!.created_at, null);
  });
  it('truncation makes what the tail could set uncertain until set again in full', () => {
    const { roles } = replay(['create role y login superuser password <REDACTED>']);
    assert.equal(roles[0]!.rolcanlogin, true);
    assert.ok(!roles[0]!.uncertain.includes('rolcanlogin'));
    assert.ok(roles[0]!.uncertain.includes('rolvaliduntil'));
    assert.ok(roles[0]!.uncertain.includes('has_password'));
    assert.ok(roles[0]!.uncertain.includes('memberships'));
    const later = replay(['create role y login superuser password <REDACTED>', 'alter role y valid until \'2030-01-01\'', 'alter role y password null']);
    assert.ok(!later.roles[0]!.uncertain.includes('rolvaliduntil'));
    assert.ok(!later.roles[0]!.uncertain.includes('has_password'));
    assert.equal(later.roles[0]!.has_password, false);
  });
  it('a rename clears an MD5 password but keeps a SCRAM one', () => {
    const { roles } = replay([
      "create role a password 'md5a3556571e93b0d20722ba62be61e8c2d'", 'alter role a rename to b',
      "create role c password 'SCRAM-SHA-256$4096:c2FsdA==$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc='", 'alter role c rename to d',
    ]);
    assert.deepEqual(roles.map((r) => [r.rolname, r.has_password]), [['b', false], ['d', true]]);
  });
  it('memberships follow IN ROLE / ROLE / ADMIN, GRANT, REVOKE, renames and drops', () => {
    const { memberships } = replay([
      'create role g', 'create role a in role g', 'create role b role a admin c', 'grant g to c with admin option',
      'revoke admin option for g from c', 'alter role a rename to a2', 'drop role b',
    ]);
    assert.deepEqual(memberships.map((m) => [m.role_name, m.member, m.admin_option, m.grantor]), [
      ['g', 'a2', false, 'alice'], ['g', 'c', false, 'alice'],
    ]);
  });
  it('Entra principals: the call and labels set the mapping, IS NULL removes it, a rename keeps it', () => {
    const { roles } = replay([
      "select pgaadauth_create_principal_with_oid('kim', 'o1', 'user', false, true)",
      "security label for pgaadauth on role kim is 'aadauth,oid=o2,type=user,admin'",
      "select * from pgaadauth_create_principal('lee', true, false)",
      "security label for pgaadauth on role lee is null",
      'alter role kim rename to kim2',
      'create role plain',
    ]);
    assert.deepEqual(roles.map((r) => [r.rolname, r.rolcanlogin, r.auth_kind, r.entra_type, r.entra_oid, r.entra_admin, r.entra_mfa]), [
      ['kim2', true, 'entra', 'user', 'o2', true, true],
      ['lee', true, 'postgres', null, null, null, null],
      ['plain', false, 'postgres', null, null, null, null],
    ]);
  });
  it('a snapshot that read the labels gives the mapping; MFA stays from the trail only while the mapping is the same', () => {
    const changes = replay([
      "select pgaadauth_create_principal_with_oid('kim', 'o1', 'user', false, true)",
      "select pgaadauth_create_principal_with_oid('max', 'o3', 'user', false, true)",
    ]).changes;
    const role = (rolname: string, entra: Record<string, unknown>) => ({
      rolname, rolsuper: false, rolinherit: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false,
      rolconnlimit: -1, rolvaliduntil: null, rolbypassrls: false, has_password: false, ...entra,
    });
    const base = {
      server: changes[0]!.server, takenAt: new Date(changes.at(-1)!.loggedAt.getTime() + 1000), memberships: [],
      roles: [
        role('kim', { auth_kind: 'entra', entra_type: 'user', entra_oid: 'o9', entra_admin: false }),
        role('max', { auth_kind: 'entra', entra_type: 'user', entra_oid: 'o3', entra_admin: false }),
        role('old', {}),
      ],
    };
    const { roles } = rebuildRoles(changes, { base });
    assert.deepEqual(roles.map((r) => [r.rolname, r.auth_kind, r.entra_oid, r.entra_mfa]), [
      ['kim', 'entra', 'o9', null], ['max', 'entra', 'o3', true], ['old', null, null, null],
    ]);
  });
  it('ignores ineffective changes', () => {
    const { roles } = replay(['begin', 'create role r', 'rollback']);
    assert.deepEqual(roles, []);
  });
  it('time travel: `at` shows the state at that moment', () => {
    const { changes } = replay(['create role r', 'alter role r superuser']);
    const at = changes[0]!.loggedAt;
    const { roles } = rebuildRoles(changes, { at });
    assert.equal(roles[0]!.rolsuper, false);
    assert.equal(rebuildRoles(changes).roles[0]!.rolsuper, true);
  });
});
