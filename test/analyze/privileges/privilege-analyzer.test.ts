import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivilegeAnalyzer, mayChangePrivileges } from '../../../src/analyze/privileges/privilege-analyzer.js';
import { loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';
import type { PrivilegeChange } from '../../../src/analyze/privileges/privilege-change.js';
import type { ParsedEntry } from '../../../src/parse/parsed-entry.js';
import { sessionEntries } from './entries.js';

before(() => loadStatementParser());

function run(entries: ParsedEntry[]) {
  const analyzer = createPrivilegeAnalyzer();
  const changes: PrivilegeChange[] = entries.flatMap((e) => analyzer.observe(e, { userName: 'alice' }));
  return { changes, marks: analyzer.ineffective(), dead: analyzer.deadLetters() };
}

describe('transactions', () => {
  it('a grant outside a transaction is effective', () => {
    const e = sessionEntries();
    const { changes, marks } = run([e.audit('ROLE', 'GRANT ROLE', 'grant a to b')]);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.effective, true);
    assert.deepEqual(marks, []);
  });
  it('a grant in BEGIN … ROLLBACK is ineffective', () => {
    const e = sessionEntries();
    const { changes, marks } = run([e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b'), e.audit('MISC', 'ROLLBACK', 'rollback')]);
    assert.equal(changes[0]!.effective, false);
    assert.equal(marks[0]!.reason, 'rollback');
    assert.deepEqual(marks[0]!.seqs, [changes[0]!.seq]);
  });
  it('BEGIN, grant, ERROR, COMMIT: the commit of an aborted transaction is a rollback', () => {
    const e = sessionEntries();
    const { changes, marks } = run([
      e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b'), e.error('division by zero'), e.audit('MISC', 'COMMIT', 'commit'),
    ]);
    assert.equal(changes[0]!.effective, false);
    assert.equal(marks.length, 1);
    assert.equal(marks[0]!.reason, 'aborted');
  });
  it('BEGIN, grant, COMMIT is effective', () => {
    const e = sessionEntries();
    const { changes } = run([e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b'), e.audit('MISC', 'COMMIT', 'commit')]);
    assert.equal(changes[0]!.effective, true);
  });
  it('ROLLBACK TO SAVEPOINT undoes only what came after the savepoint', () => {
    const e = sessionEntries();
    const { changes } = run([
      e.statement('begin'), e.statement('grant a to b'), e.statement('savepoint s1'), e.statement('grant c to d'),
      e.statement('rollback to savepoint s1'), e.statement('commit'),
    ]);
    assert.deepEqual(changes.map((c) => [c.grantedRole, c.effective]), [['a', true], ['c', false]]);
  });
  it('a log_statement line followed by its ERROR did not happen', () => {
    const e = sessionEntries();
    const { changes, marks } = run([e.statement('create role x'), e.error('role "x" already exists', 'create role x')]);
    assert.equal(changes[0]!.effective, false);
    assert.equal(marks[0]!.reason, 'failed');
  });
  it('an ERROR of another statement leaves an audit-confirmed statement effective', () => {
    const e = sessionEntries();
    const { changes } = run([e.statement('create role x'), e.audit('ROLE', 'CREATE ROLE', 'create role x'), e.error('division by zero', 'select 1/0')]);
    assert.equal(changes.length, 1);
    assert.equal(changes[0]!.effective, true);
  });
  it('a disconnection inside an open transaction rolls it back', () => {
    const e = sessionEntries();
    const { changes } = run([e.statement('begin'), e.statement('grant a to b'), e.disconnect()]);
    assert.equal(changes[0]!.effective, false);
  });
});

describe('attribution and dedup', () => {
  it('SET ROLE makes later changes carry the acting role; RESET ROLE ends it', () => {
    const e = sessionEntries();
    const { changes } = run([
      e.audit('MISC', 'SET', 'set role admin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to CURRENT_USER'), e.audit('MISC', 'RESET', 'reset role'),
      e.audit('ROLE', 'GRANT ROLE', 'grant c to d'),
    ]);
    assert.deepEqual(changes.map((c) => [c.action, c.actor, c.actingRole, c.grantee]), [
      ['set-role', 'alice', null, null], ['grant-role', 'alice', 'admin', 'admin'], ['reset-role', 'alice', 'admin', null], ['grant-role', 'alice', null, 'd'],
    ]);
  });
  it('the clear statement line wins over the truncated audit row of the same statement', () => {
    const e = sessionEntries();
    const { changes } = run([
      e.statement("create role y login password 'Pw-1234' superuser"),
      e.audit('ROLE', 'CREATE ROLE', 'create role y login password <REDACTED>'),
    ]);
    assert.deepEqual(changes.map((c) => [c.action, c.attribute, c.value, c.truncated]), [
      ['create-role', null, 'ROLE', false], ['set-attribute', 'rolcanlogin', 'true', false], ['set-password', 'has_password', 'clear', false],
      ['set-attribute', 'rolsuper', 'true', false],
    ]);
  });
  it('a truncated audit row alone is analysed as truncated', () => {
    const e = sessionEntries();
    const { changes } = run([e.audit('ROLE', 'ALTER ROLE', 'alter role y password <REDACTED>')]);
    assert.equal(changes[0]!.truncated, true);
    assert.equal(changes[0]!.value, 'unknown');
  });
  it('a DO block is read once: its substatements are not counted again', () => {
    const e = sessionEntries();
    const { changes } = run([
      e.audit('FUNCTION', 'DO', "do $$ begin execute 'create role x'; end $$"),
      e.audit('ROLE', 'CREATE ROLE', 'create role x', 2),
    ]);
    assert.equal(changes.length, 1);
  });
  it('a statement that does not parse becomes a dead letter', () => {
    const e = sessionEntries();
    const { changes, dead } = run([e.statement('grant grant grant')]);
    assert.equal(changes.length, 0);
    assert.equal(dead.length, 1);
  });
});

describe('mayChangePrivileges', () => {
  const e = sessionEntries();
  const cases: [ParsedEntry, boolean][] = [
    [e.audit('ROLE', 'GRANT', 'grant select on t to u'), true],
    [e.audit('DDL', 'ALTER SYSTEM', 'alter system set x = 1'), true],
    [e.audit('DDL', 'CREATE TABLE', 'create table t ()'), false],
    [e.audit('READ', 'SELECT', 'select 1'), false],
    [e.audit('MISC', 'SET', 'set role a'), true],
    [e.audit('FUNCTION', 'DO', 'do $$ $$'), true],
    [e.statement('  /* x */ GRANT a TO b'), true],
    [e.statement('alter user x login'), true],
    [e.statement('select 1'), false],
    [e.statement('insert into t values (1)'), false],
  ];
  for (const [entry, expected] of cases) {
    it(`${entry.kind === 'audit' ? entry.audit.command : (entry as { statement: string }).statement} → ${expected}`, () => assert.equal(mayChangePrivileges(entry), expected));
  }
});
