import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPrivilegeChange } from '../../../src/detect/rules/change-control.js';

describe('which changes count as privilege changes', () => {
  it('a session switching roles or setting its own parameter is not one; setting a role or database default is', () => {
    assert.equal(isPrivilegeChange({ action: 'set-role', objectType: null }), false);
    assert.equal(isPrivilegeChange({ action: 'set-parameter', objectType: 'session' }), false);
    assert.equal(isPrivilegeChange({ action: 'set-parameter', objectType: 'role' }), true);
    assert.equal(isPrivilegeChange({ action: 'grant-role', objectType: null }), true);
  });
});
