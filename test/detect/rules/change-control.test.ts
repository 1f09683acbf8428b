import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import type { PrivilegeAction } from '../../../src/analyze/privileges/privilege-change.js';
import { IS_PRIVILEGE_CHANGE_SQL, isPrivilegeChange } from '../../../src/detect/rules/change-control.js';

const ACTIONS: PrivilegeAction[] = [
  'create-role', 'alter-role', 'drop-role', 'rename-role', 'set-attribute', 'set-password', 'remove-password', 'grant-role',
  'revoke-role', 'revoke-admin-option', 'revoke-role-option', 'grant', 'revoke', 'revoke-grant-option', 'default-grant',
  'default-revoke', 'default-revoke-grant-option', 'reassign-owned', 'drop-owned', 'set-role', 'reset-role',
  'set-session-authorization', 'set-parameter', 'reset-parameter', 'create-extension', 'drop-extension',
];
const OBJECT_TYPES = ['session', 'database', 'role', 'system', 'table', null];

describe('which changes count as privilege changes', () => {
  it('the SQL the burst rule counts with agrees with the predicate the batch rules use, for every action and scope', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    try {
      await connection.run('CREATE TABLE changes (action VARCHAR, object_type VARCHAR)');
      const cases = ACTIONS.flatMap((action) => OBJECT_TYPES.map((objectType) => ({ action, objectType })));
      const appender = await connection.createAppender('changes');
      for (const c of cases) {
        appender.appendVarchar(c.action);
        if (c.objectType === null) appender.appendNull();
        else appender.appendVarchar(c.objectType);
        appender.endRow();
      }
      appender.closeSync();
      const rows = (await connection.runAndReadAll(`SELECT action, object_type, ${IS_PRIVILEGE_CHANGE_SQL} AS counted FROM changes r`)).getRowObjects();
      const bySql = rows.map((r) => `${String(r.action)}/${String(r.object_type)}: ${String(r.counted)}`).sort();
      const byJs = cases.map((c) => `${c.action}/${String(c.objectType)}: ${String(isPrivilegeChange(c))}`).sort();
      assert.deepEqual(bySql, byJs);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('a session switching roles or setting its own parameter is not one; setting a role or database default is', () => {
    assert.equal(isPrivilegeChange({ action: 'set-role', objectType: null }), false);
    assert.equal(isPrivilegeChange({ action: 'set-parameter', objectType: 'session' }), false);
    assert.equal(isPrivilegeChange({ action: 'set-parameter', objectType: 'role' }), true);
    assert.equal(isPrivilegeChange({ action: 'grant-role', objectType: null }), true);
  });
});
