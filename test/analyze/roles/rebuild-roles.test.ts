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
