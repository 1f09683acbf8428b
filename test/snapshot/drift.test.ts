import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PrivilegeChange } from '../../src/analyze/privileges/privilege-change.js';
import type { BaseRole, RoleBase } from '../../src/analyze/roles/rebuild-roles.js';
import { rebuildRoles } from '../../src/analyze/roles/rebuild-roles.js';
import { computeDrift } from '../../src/snapshot/drift.js';

const T0 = new Date('2026-11-20T10:00:00Z');
const T1 = new Date('2026-11-20T11:00:00Z');
const mid = new Date('2026-11-20T10:30:00Z');

function role(rolname: string, over: Partial<BaseRole> = {}): BaseRole {
  return {
    rolname, rolsuper: false, rolinherit: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false,
    rolconnlimit: -1, rolvaliduntil: null, rolbypassrls: false, has_password: null, ...over,
  };
}

function snap(takenAt: Date, roles: BaseRole[], memberships: RoleBase['memberships'] = []): RoleBase {
  return { server: 's', takenAt, roles, memberships };
}

let seq = 0;
function change(action: PrivilegeChange['action'], over: Partial<PrivilegeChange> = {}): PrivilegeChange {
  return {
    server: 's', loggedAt: mid, sessionId: 'x', actor: 'admin', actingRole: null, action, roleName: null, attribute: null, value: null,
    grantedRole: null, privileges: null, objectType: null, objectName: null, grantee: null, withOption: null, grantor: null,
    truncated: false, uncertain: null, passwordStrength: null, statement: '', effective: true, seq: seq++, ...over,
  };
}

const rows = (d: ReturnType<typeof computeDrift>) => d.map((r) => `${r.kind} ${r.role} ${r.attribute ?? '-'} ${r.granted_role ?? '-'} ${r.before} -> ${r.after}`);

describe('computeDrift', () => {
  it('explains nothing when the trail is empty: every difference is drift', () => {
    const d = computeDrift(snap(T0, [role('a')]), snap(T1, [role('a', { rolsuper: true }), role('b')], [{ role_name: 'b', member: 'a', admin_option: false, grantor: 'x' }]), []);
    // The new role's membership is part of the new role's story: one row, not two.
    assert.deepEqual(rows(d), ['attribute a rolsuper - false -> true', 'role b - - absent -> present']);
  });

  it('raises nothing for differences the trail explains, including create, rename, drop and grants', () => {
    const before = snap(T0, [role('a'), role('old'), role('gone')]);
    const after = snap(T1, [role('a', { rolcreatedb: true }), role('new'), role('c', { rolcanlogin: false })], [{ role_name: 'c', member: 'a', admin_option: true, grantor: 'admin' }]);
    const trail = [
      change('set-attribute', { roleName: 'a', attribute: 'rolcreatedb', value: 'true' }),
      change('rename-role', { roleName: 'old', value: 'new' }),
      change('drop-role', { roleName: 'gone' }),
      change('create-role', { roleName: 'c', value: 'ROLE' }),
      change('grant-role', { grantedRole: 'c', grantee: 'a', withOption: true }),
    ];
    assert.deepEqual(computeDrift(before, after, trail), []);
  });

  it('ignores trail changes outside the window and rolled-back ones', () => {
    const before = snap(T0, [role('a')]);
    const after = snap(T1, [role('a', { rolsuper: true })]);
    const trail = [
      change('set-attribute', { roleName: 'a', attribute: 'rolsuper', value: 'true', loggedAt: new Date('2026-11-20T09:00:00Z') }),
      change('set-attribute', { roleName: 'a', attribute: 'rolsuper', value: 'true', effective: false }),
    ];
    assert.deepEqual(rows(computeDrift(before, after, trail)), ['attribute a rolsuper - false -> true']);
  });

  it('treats what a pgaudit-truncated statement may have set as explained', () => {
    const before = snap(T0, [role('a'), role('g', { rolcanlogin: false })]);
    const after = snap(T1, [role('a', { rolsuper: true, rolvaliduntil: '2030-01-01T00:00:00.000Z' }), role('g', { rolcanlogin: false })], [{ role_name: 'g', member: 'a', admin_option: false, grantor: null }]);
    const trail = [change('set-password', { roleName: 'a', attribute: 'has_password', value: 'unknown', truncated: true, uncertain: ['rolsuper', 'rolvaliduntil', 'memberships'] })];
    assert.deepEqual(computeDrift(before, after, trail), []);
  });

  it('accepts a VALID UNTIL literal in the server time zone as the same instant within 14 hours', () => {
    const before = snap(T0, [role('a')]);
    const after = snap(T1, [role('a', { rolvaliduntil: '2030-01-01T05:00:00.000Z' })]);
    assert.deepEqual(computeDrift(before, after, [change('set-attribute', { roleName: 'a', attribute: 'rolvaliduntil', value: '2030-01-01' })]), []);
    const far = snap(T1, [role('a', { rolvaliduntil: '2031-01-01T00:00:00.000Z' })]);
    assert.equal(computeDrift(before, far, [change('set-attribute', { roleName: 'a', attribute: 'rolvaliduntil', value: '2030-01-01' })]).length, 1);
  });

  it('compares has_password only when both sides could read pg_authid', () => {
    const known = snap(T0, [role('a', { has_password: false })]);
    assert.deepEqual(rows(computeDrift(known, snap(T1, [role('a', { has_password: true })]), [])), ['attribute a has_password - false -> true']);
    assert.deepEqual(computeDrift(snap(T0, [role('a')]), snap(T1, [role('a', { has_password: true })]), []), []);
  });

  it('reports a membership added, removed and its admin option changed outside the trail', () => {
    const m = (role_name: string, member: string, admin_option = false) => ({ role_name, member, admin_option, grantor: 'x' });
    const before = snap(T0, [role('a'), role('b'), role('g')], [m('g', 'a'), m('g', 'b')]);
    const after = snap(T1, [role('a'), role('b'), role('g')], [m('g', 'b', true), m('b', 'a')]);
    assert.deepEqual(rows(computeDrift(before, after, [])), [
      'membership a membership b none -> member',
      'membership a membership g member -> none',
      'membership b membership g member -> member with admin option',
    ]);
  });
});

describe('rebuildRoles with a snapshot base', () => {
  it('starts from the snapshot, keeps what only the trail knows, and applies later changes on top', () => {
    const created = change('create-role', { roleName: 'a', value: 'USER', loggedAt: new Date('2026-11-20T09:00:00Z'), actor: 'creator' });
    const truncated = change('set-password', { roleName: 'a', attribute: 'has_password', value: 'unknown', truncated: true, uncertain: ['rolsuper'], loggedAt: new Date('2026-11-20T09:30:00Z') });
    const later = change('set-attribute', { roleName: 'a', attribute: 'rolcreatedb', value: 'true', loggedAt: mid });
    const base = snap(T0, [role('a', { rolsuper: true }), role('b')], [{ role_name: 'b', member: 'a', admin_option: false, grantor: 'g1' }, { role_name: 'b', member: 'a', admin_option: true, grantor: 'g2' }]);
    const { roles, memberships } = rebuildRoles([created, truncated, later], { base });
    const a = roles.find((r) => r.rolname === 'a')!;
    assert.equal(a.rolsuper, true);
    assert.equal(a.rolcreatedb, true);
    assert.deepEqual(a.uncertain, []);
    assert.equal(a.created_by, 'creator');
    assert.equal(a.password_changed_at?.toISOString(), '2026-11-20T09:30:00.000Z');
    assert.deepEqual(memberships.map((m) => [m.role_name, m.member, m.admin_option]), [['b', 'a', true]]);
    // Without a base, the truncated statement leaves rolsuper uncertain.
    assert.deepEqual(rebuildRoles([created, truncated, later]).roles[0]!.uncertain, ['rolsuper']);
  });

  it('ignores a base taken after `at`', () => {
    const base = snap(T1, [role('z')]);
    const { roles } = rebuildRoles([change('create-role', { roleName: 'a', value: 'ROLE' })], { base, at: mid });
    assert.deepEqual(roles.map((r) => r.rolname), ['a']);
  });
});
