import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coversRole, postureFindings } from '../../src/snapshot/posture.js';
import type { ServerSnapshot, SnapshotRole } from '../../src/snapshot/read-snapshot.js';

const takenAt = new Date('2026-11-27T00:00:00Z');

function login(rolname: string, over: Partial<SnapshotRole> = {}): SnapshotRole {
  return {
    rolname, rolsuper: false, rolinherit: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false,
    rolconnlimit: -1, rolvaliduntil: null, rolbypassrls: false, has_password: null, password_md5: null, ...over,
  };
}

function snapshot(settings: Record<string, string>, roles: SnapshotRole[] = []): ServerSnapshot {
  return {
    server: 's', takenAt, serverVersionNum: 150000, readAs: 'reader', roles, memberships: [], roleSettings: [], unreadable: [],
    settings: Object.entries(settings).map(([name, setting]) => ({ name, setting, source: 'configuration file' })),
  };
}

const SAFE = { password_encryption: 'scram-sha-256', ssl: 'on', ssl_min_protocol_version: 'TLSv1.2', 'pgaudit.log': 'ddl,role', log_connections: 'on', shared_preload_libraries: 'pgaudit' };

describe('pgaudit.log covers the ROLE class', () => {
  const cases: [string, boolean][] = [
    ['all', true], ['role', true], ['ROLE', true], ['ddl, role', true], ['all,-role', false], ['all, -misc', true],
    ['none', false], ['role,none', false], ['ddl', false], ['', false], ['-all,role', true], ['write,-all', false],
  ];
  for (const [value, expected] of cases) it(`'${value}' → ${expected}`, () => assert.equal(coversRole(value), expected));
});

describe('posture findings', () => {
  it('finds nothing on a well configured server', () => {
    assert.deepEqual(postureFindings({ snapshot: snapshot(SAFE), passwordChangedAt: new Map(), passwordMaxAgeDays: 90 }), []);
  });

  const settingCases: [string, Record<string, string>, string][] = [
    ['md5 password encryption', { password_encryption: 'md5' }, 'posture.password-encryption-md5'],
    ['TLS 1.0 allowed', { ssl_min_protocol_version: 'TLSv1' }, 'posture.weak-tls-minimum'],
    ['TLS 1.1 allowed', { ssl_min_protocol_version: 'TLSv1.1' }, 'posture.weak-tls-minimum'],
    ['Azure not requiring TLS', { require_secure_transport: 'off' }, 'posture.secure-transport-off'],
    ['pgaudit without ROLE', { 'pgaudit.log': 'ddl,write' }, 'posture.pgaudit-not-logging-role'],
    ['connections not logged', { log_connections: 'off' }, 'posture.connections-not-logged'],
  ];
  for (const [name, override, check] of settingCases) {
    it(`finds ${name}`, () => {
      const found = postureFindings({ snapshot: snapshot({ ...SAFE, ...override }), passwordChangedAt: new Map(), passwordMaxAgeDays: 90 });
      assert.deepEqual(found.map((f) => f.check_id), [check]);
      assert.ok(found[0]!.summary.length > 20);
    });
  }

  it('finds pgaudit not loaded at all', () => {
    const { 'pgaudit.log': _omit, ...settings } = SAFE;
    const found = postureFindings({ snapshot: snapshot({ ...settings, shared_preload_libraries: 'pg_stat_statements' }), passwordChangedAt: new Map(), passwordMaxAgeDays: 90 });
    assert.match(found[0]!.summary, /pgaudit is not loaded/);
  });

  it('finds login roles without expiry whose password is old or unknown, not the others', () => {
    const roles = [
      login('never_changed'),
      login('infinite_old', { rolvaliduntil: 'infinity' }),
      login('fresh'),
      login('expires', { rolvaliduntil: '2027-01-01T00:00:00.000Z' }),
      login('no_password', { has_password: false }),
      login('nologin', { rolcanlogin: false }),
      login('pg_monitor'),
      login('azuresu'),
    ];
    const passwordChangedAt = new Map([
      ['infinite_old', new Date('2026-01-01T00:00:00Z')],
      ['fresh', new Date('2026-11-01T00:00:00Z')],
    ]);
    const found = postureFindings({ snapshot: snapshot(SAFE, roles), passwordChangedAt, passwordMaxAgeDays: 90 });
    assert.deepEqual(found.map((f) => f.subject), ['never_changed', 'infinite_old']);
    assert.match(found[0]!.summary, /no password change in the audit trail/);
  });
});
