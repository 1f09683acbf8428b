import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecord } from '../../../src/parse/parse-record.js';
import type { ParsedEntry } from '../../../src/parse/parsed-entry.js';
import { copyProgram, serverFileAccess } from '../../../src/detect/rules/server-access.js';
import { audit } from '../../support/detection-records.js';

const T0 = new Date('2026-11-20T10:00:00Z');

function entryOf(statement: string): ParsedEntry {
  const result = audit('pg1', 'sess.1', T0, 1, 'READ', 'SELECT', statement);
  if (result.kind !== 'record') throw new Error('not a record');
  return parseRecord(result.record).entry;
}

// `readsEntry` decides which entries a batch holds for the rules; one the rule would find must never be dropped.
describe('which entries the server-access rules keep for their batch', () => {
  it('keeps every COPY … PROGRAM and server-file statement in any letter case, and drops the plain ones', () => {
    const program = ["COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'", "copy t from program 'curl x'", "CoPy t\nTo\tPrOgRaM 'id'"];
    const files = [
      "SELECT pg_read_file('/etc/passwd')",
      "select PG_LS_DIR('.')",
      "SELECT Lo_Export(16400, '/tmp/x')",
      "SELECT pg_file_write ('a', 'b', false)",
      "COPY t TO '/tmp/t.csv'",
      "copy t from '/tmp/t.csv'",
    ];
    const plain = [
      'UPDATE pgbench_accounts SET abalance = abalance + -4141 WHERE aid = 34567;',
      'SELECT abalance FROM pgbench_accounts WHERE aid = 34567;',
      'COPY t TO STDOUT',
      "SELECT 'pg_read_file'",
      'BEGIN;',
    ];
    for (const sql of program) assert.equal(copyProgram.readsEntry!(entryOf(sql)), true, sql);
    for (const sql of files) assert.equal(serverFileAccess.readsEntry!(entryOf(sql)), true, sql);
    for (const sql of [...plain, ...files.slice(0, 4)]) assert.equal(copyProgram.readsEntry!(entryOf(sql)), false, sql);
    for (const sql of [...plain, ...program]) assert.equal(serverFileAccess.readsEntry!(entryOf(sql)), false, sql);
  });
});
