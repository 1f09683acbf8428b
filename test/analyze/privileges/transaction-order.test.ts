/**
 * The analyzer judges a session's transactions by pgaudit statement id, not by the order its lines arrive in
 * (issue 17): entries are built in log order (ids 1, 2, …) and observed in another, as bodies of a hub's
 * partitions read at different paces hand them over.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivilegeAnalyzer } from '../../../src/analyze/privileges/privilege-analyzer.js';
import { loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';
import { ENDED_KEPT } from '../../../src/analyze/privileges/privilege-analyzer/session-table.js';
import { BOUNDS_KEPT } from '../../../src/analyze/privileges/privilege-analyzer/transaction-ledger.js';
import type { PrivilegeChange } from '../../../src/analyze/privileges/privilege-change.js';
import type { ParsedEntry } from '../../../src/parse/parsed-entry.js';
import { sessionEntries } from './entries.js';

before(() => loadStatementParser());

function reader() {
  const analyzer = createPrivilegeAnalyzer();
  const changes: PrivilegeChange[] = [];
  return {
    analyzer,
    changes,
    read(...entries: ParsedEntry[]) {
      for (const e of entries) changes.push(...analyzer.observe(e, { userName: 'alice' }));
      return analyzer.ineffective();
    },
  };
}

/** Issue 17's session: A = BEGIN(1) GRANT(2), B = COMMIT(3) BEGIN(4) GRANT(5), C = COMMIT(6), D = the disconnection. */
function issueBodies(sessionId = 's1') {
  const e = sessionEntries('srv', sessionId);
  const A = [e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b')];
  const B = [e.audit('MISC', 'COMMIT', 'commit'), e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant c to d')];
  const C = [e.audit('MISC', 'COMMIT', 'commit')];
  const D = [e.disconnect()];
  return { A, B, C, D };
}

describe('transactions by statement id', () => {
  it('read A, C, B, D: both grants take effect and nothing is marked', () => {
    const { A, B, C, D } = issueBodies();
    const r = reader();
    const marks = [r.read(...A), r.read(...C), r.read(...B), r.read(...D)].flat();
    assert.deepEqual(r.changes.map((c) => c.effective), [true, true]);
    assert.deepEqual(marks, []);
  });

  it('read A, B, D, C: the disconnection undoes the second grant, its COMMIT read afterwards makes it effective again', () => {
    const { A, B, C, D } = issueBodies();
    const r = reader();
    r.read(...A, ...B);
    const atDisconnection = r.read(...D);
    assert.deepEqual(atDisconnection.map((m) => [m.reason, m.effective, m.seqs]), [['disconnected', false, [r.changes[1]!.seq]]]);
    const atCommit = r.read(...C);
    assert.deepEqual(atCommit.map((m) => [m.reason, m.effective, m.seqs]), [['committed', true, [r.changes[1]!.seq]]]);
    assert.deepEqual(r.changes.map((c) => c.effective), [true, true]);
  });

  it('a change read after the ROLLBACK of its transaction is ineffective from the start', () => {
    const e = sessionEntries();
    const [begin, grant, rollback, after] = [e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b'), e.audit('MISC', 'ROLLBACK', 'rollback'), e.audit('ROLE', 'GRANT ROLE', 'grant c to d')];
    const r = reader();
    r.read(rollback!, after!, begin!, grant!);
    assert.deepEqual(r.changes.map((c) => [c.grantedRole, c.effective]), [['c', true], ['a', false]]);
  });

  it('a ROLLBACK TO SAVEPOINT read before the savepoint undoes only what lies between them', () => {
    const e = sessionEntries();
    const first = [e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b'), e.audit('MISC', 'SAVEPOINT', 'savepoint p')];
    const second = [e.audit('ROLE', 'GRANT ROLE', 'grant c to d'), e.audit('MISC', 'ROLLBACK', 'rollback to savepoint p')];
    const third = [e.audit('ROLE', 'GRANT ROLE', 'grant e to f'), e.audit('MISC', 'COMMIT', 'commit'), e.disconnect()];
    const r = reader();
    r.read(...third, ...second, ...first);
    assert.deepEqual(r.changes.map((c) => [c.grantedRole, c.effective]).sort(), [['a', true], ['c', false], ['e', true]]);
  });

  it('an ERROR aborts the transaction of the audit line read before it; a change after it means that transaction ended unseen', () => {
    const e = sessionEntries();
    // pgaudit does not log the COMMIT of an aborted transaction: GRANT e ran on its own.
    const inTx = [e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b'), e.error('division by zero')];
    const after = [e.audit('ROLE', 'GRANT ROLE', 'grant e to f'), e.disconnect()];
    const r = reader();
    r.read(...after, ...inTx);
    assert.deepEqual(r.changes.map((c) => [c.grantedRole, c.effective]), [['e', true], ['a', false]]);
  });

  it('judges a log_statement change by the statement id of the audit line that confirms it', () => {
    const e = sessionEntries();
    const first = [e.statement('begin'), e.audit('MISC', 'BEGIN', 'begin'), e.statement('grant a to b'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b')];
    const second = [e.statement('commit'), e.audit('MISC', 'COMMIT', 'commit'), e.disconnect()];
    const r = reader();
    r.read(...second, ...first);
    assert.deepEqual(r.changes.map((c) => [c.grantedRole, c.effective]), [['a', true]]);
  });

  it('keeps the BEGIN of a transaction open across more boundaries than it keeps: the disconnection still undoes its changes', () => {
    const e = sessionEntries();
    const begin = e.audit('MISC', 'BEGIN', 'begin');
    const savepoints = Array.from({ length: 4 * BOUNDS_KEPT }, (_, i) => e.audit('MISC', i % 2 === 0 ? 'SAVEPOINT' : 'RELEASE', i % 2 === 0 ? 'savepoint p' : 'release p'));
    const grant = e.audit('ROLE', 'GRANT ROLE', 'grant c to d');
    const r = reader();
    r.read(begin, ...savepoints, grant, e.disconnect());
    assert.deepEqual(r.changes.map((c) => [c.grantedRole, c.effective]), [['c', false]]);
  });

  it(`keeps the transactions of the last ${ENDED_KEPT} sessions disconnected: a COMMIT read later for an older one changes nothing`, () => {
    const r = reader();
    const kept = issueBodies('kept');
    const dropped = issueBodies('dropped');
    r.read(...dropped.A, ...dropped.B, ...dropped.D, ...kept.A, ...kept.B, ...kept.D);
    for (let i = 0; i < ENDED_KEPT - 1; i++) r.read(sessionEntries('srv', `other-${i}`).disconnect());
    const marks = r.read(...dropped.C, ...kept.C);
    assert.deepEqual(marks.map((m) => [m.sessionId, m.reason]), [['kept', 'committed']]);
  });
});
