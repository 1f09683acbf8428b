/**
 * The role replay kept from batch to batch: a batch that only adds later changes extends it without reading
 * the store; a batch whose stored rows changed (attributed late), or a new replay base, replays the server
 * again from what is stored; a change marked ineffective drops out of the kept list.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createPrivilegeAnalyzer } from '../../../src/analyze/privileges/privilege-analyzer.js';
import type { PrivilegeChange } from '../../../src/analyze/privileges/privilege-change.js';
import { loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';
import { RoleReplays, type ReplayInput } from '../../../src/analyze/roles/role-replays.js';
import type { RoleBase } from '../../../src/analyze/roles/rebuild-roles.js';
import { sessionEntries } from '../privileges/entries.js';

before(() => loadStatementParser());

function changesOf(statements: string[]): PrivilegeChange[] {
  const e = sessionEntries();
  const analyzer = createPrivilegeAnalyzer();
  return statements.flatMap((s) => [...analyzer.observe(e.statement(s), { userName: 'alice' })]);
}

describe('RoleReplays', () => {
  it('extends the kept replay with a batch of later changes, reading the store only the first time', async () => {
    const [create, alter] = changesOf(['create role a', 'alter role a createdb']) as [PrivilegeChange, PrivilegeChange];
    const server = create.server;
    let reads = 0;
    const replays = new RoleReplays();
    const input = (added: PrivilegeChange[], stored: PrivilegeChange[]): ReplayInput => ({
      server, added, marks: [], stale: false, base: undefined, readStored: async () => (reads++, stored),
    });
    const first = await replays.replay(input([create], [create]));
    assert.deepEqual(first.roles.map((r) => [r.rolname, r.rolcreatedb]), [['a', false]]);
    const second = await replays.replay(input([alter], [create, alter]));
    assert.deepEqual(second.roles.map((r) => [r.rolname, r.rolcreatedb]), [['a', true]]);
    assert.equal(reads, 1);
  });

  it('replays from the store again when stored rows changed, and on a new base', async () => {
    const [create] = changesOf(['create role a']) as [PrivilegeChange];
    const server = create.server;
    let reads = 0;
    const replays = new RoleReplays();
    const input = (over: Partial<ReplayInput>): ReplayInput => ({
      server, added: [], marks: [], stale: false, base: undefined, readStored: async () => (reads++, [create]), ...over,
    });
    await replays.replay(input({ added: [create] }));
    await replays.replay(input({ stale: true }));
    assert.equal(reads, 2);
    const base: RoleBase = {
      server, takenAt: new Date(create.loggedAt.getTime() - 1000),
      roles: [{ rolname: 'legacy', rolsuper: false, rolinherit: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false, rolconnlimit: -1, rolvaliduntil: null, rolbypassrls: false, has_password: true, password_md5: false }],
      memberships: [],
    };
    const onBase = await replays.replay(input({ base }));
    assert.deepEqual(onBase.roles.map((r) => r.rolname).sort(), ['a', 'legacy']);
  });

  it('drops a kept change a later batch marks ineffective (its transaction rolled back)', async () => {
    const [create] = changesOf(['create role a']) as [PrivilegeChange];
    const replays = new RoleReplays();
    const input = (over: Partial<ReplayInput>): ReplayInput => ({
      server: create.server, added: [], marks: [], stale: false, base: undefined, readStored: async () => [create], ...over,
    });
    await replays.replay(input({ added: [create] }));
    const mark = { server: create.server, sessionId: create.sessionId, from: create.loggedAt, until: create.loggedAt, seqs: [create.seq], effective: false, reason: 'rollback' as const };
    const after = await replays.replay(input({ marks: [mark] }));
    assert.deepEqual(after.roles, []);
  });
});
