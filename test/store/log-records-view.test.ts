/**
 * An audit line is stored once, as its audit event; the log_records view renders its record back
 * (migrations 6 and 7). Whatever pgaudit wrote, log_records must give back the very message (redacted), whether
 * the view rendered it or the line was kept whole in log_lines, and a store from before migration 6
 * must read the same after it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DuckDBInstance } from '@duckdb/node-api';

import type { LogRecord } from '../../src/contracts/log-record.js';
import { parseRecord } from '../../src/parse/parse-record.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { migrations } from '../../src/store/migrations.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';
import { auditEntry } from '../pgaudit/audit-entry-arbitrary.js';
import { extractAuditEntries } from '../pgaudit/regress-output-extractor.js';
import { serializeLikePgaudit } from '../pgaudit/serialize-like-pgaudit.js';

const NOBODY = { userName: null, databaseName: null, clientAddr: null, applicationName: null };

function record(message: string, i: number, extra: Partial<LogRecord> = {}): LogRecord {
  return {
    server: 'pg', loggedAt: new Date(1_795_000_000_000 + i), sessionId: 'abc.1', pid: 1, level: 'LOG', sqlstate: null, message,
    detail: null, hint: null, statement: null, userName: null, databaseName: null, clientAddr: null, clientPort: null,
    applicationName: null, source: 'test', position: String(i), ...extra,
  };
}

/** Stores the records as the pipeline does; returns log_records' messages by position, and how many lines log_lines kept. */
async function storeAndRead(records: LogRecord[]): Promise<{ messages: Map<string, { message: string; sqlstate: string | null; kind: string }>; linesKept: number; expected: Map<string, string> }> {
  const store = await AuditStore.open(':memory:');
  try {
    const batch = store.newBatch();
    const expected = new Map<string, string>();
    for (const r of records) {
      const { entry } = parseRecord(r);
      expected.set(r.position, entry.record.message);
      if (entry.kind === 'audit') batch.addAuditEvent(entry.record, entry.audit, NOBODY);
      else batch.addLogRecord(entry.record, entry.kind);
    }
    await store.commit(batch, { sourceKey: null, source: 'test', position: 'end' });
    const rows = (await store.connection.runAndReadAll('SELECT position, message, sqlstate, kind FROM log_records')).getRowObjectsJS();
    const kept = (await store.connection.runAndReadAll('SELECT count(*)::INTEGER AS n FROM log_lines')).getRowObjectsJS()[0]!.n as number;
    return {
      messages: new Map(rows.map((r) => [String(r.position), { message: String(r.message), sqlstate: r.sqlstate === null ? null : String(r.sqlstate), kind: String(r.kind) }])),
      linesKept: kept,
      expected,
    };
  } finally {
    await store.close();
  }
}

/** A line as pgaudit writes it; log text holds no NUL and is valid UTF-8 (no lone surrogates). */
const line = auditEntry.map(serializeLikePgaudit).filter((text) => !text.includes('\0') && Buffer.from(text).toString() === text);

describe('log_records view', () => {
  it('gives back any audit line pgaudit can write, rendered or kept whole (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(line, fc.constantFrom(null, '00000')), { minLength: 1, maxLength: 30 }), async (lines) => {
        const records = lines.map(([message, sqlstate], i) => record(message, i, { sqlstate }));
        const { messages, expected } = await storeAndRead(records);
        assert.equal(messages.size, records.length);
        for (const [i, r] of records.entries()) {
          const got = messages.get(r.position)!;
          assert.equal(got.message, expected.get(r.position), `entry ${i}`);
          assert.equal(got.sqlstate, r.sqlstate);
          assert.equal(got.kind, 'audit');
        }
      }),
      { numRuns: 60 },
    );
  });

  it('renders most real lines instead of storing them twice, and gives every one back exactly', async () => {
    const corpus = ['pgaudit-main.out', 'pgaudit-REL_16_STABLE.out'].flatMap((f) =>
      extractAuditEntries(readFileSync(new URL(`../fixtures/pgaudit-regress/${f}`, import.meta.url), 'utf8')).map((e) => e.text),
    );
    const records = corpus.map((text, i) => record(text, i));
    // A line with a DETAIL, and a line that is no audit entry at all, keep their record whole.
    records.push(record(corpus[0]!, records.length, { detail: 'some detail' }), record('checkpoint starting: time', records.length + 1));
    const { messages, linesKept, expected } = await storeAndRead(records);
    for (const r of records) assert.equal(messages.get(r.position)?.message, expected.get(r.position), `line ${r.position}`);
    assert.ok(linesKept >= 2, 'the DETAIL line and the checkpoint line are kept whole');
    assert.ok(linesKept < records.length / 4, `only unusual lines are kept whole (${linesKept} of ${records.length})`);
  });

  it('reads a store written before migration 6 the same after it', async () => {
    const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp(`${(process.env.TMPDIR ?? '/tmp').replace(/\/$/, '')}/auditduck-v5-`));
    const path = `${dir}/v5.duckdb`;
    const instance = await DuckDBInstance.create(path);
    const c = await instance.connect();
    for (const m of migrations.filter((m) => m.version <= 5)) await c.run(m.sql);
    await c.run(`CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL, description VARCHAR);
      INSERT INTO schema_version SELECT range, now(), 'v' || range FROM range(1, 6);
      INSERT INTO log_records VALUES
        ('pg', TIMESTAMPTZ '2026-11-20 00:00:00+00', 's.1', 1, 'LOG', '00000', 'AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>', NULL, NULL, NULL, 'audit', 'f', '10'),
        ('pg', TIMESTAMPTZ '2026-11-20 00:00:01+00', 's.1', 1, 'LOG', NULL, 'connection received: host=10.0.0.1 port=5', NULL, NULL, NULL, 'session', 'f', '20');
      INSERT INTO audit_events (server, logged_at, session_id, pid, audit_type, statement_id, substatement_id, class, command, statement, parameter, level, source, position)
        VALUES ('pg', TIMESTAMPTZ '2026-11-20 00:00:00+00', 's.1', 1, 'SESSION', 1, 1, 'READ', 'SELECT', 'select 1', '<none>', 'LOG', 'f', '10')`);
    const before = (await c.runAndReadAll('SELECT * FROM log_records ORDER BY position')).getRowObjectsJS();
    c.closeSync();
    instance.closeSync();

    const db = await openDatabase(path);
    try {
      const after = (await db.connection.runAndReadAll('SELECT * FROM log_records ORDER BY position')).getRowObjectsJS();
      assert.deepEqual(after, before);
      const [event] = (await db.connection.runAndReadAll('SELECT line_stored FROM audit_events')).getRowObjectsJS();
      assert.equal(event!.line_stored, true, 'an event stored before migration 6 has its line in log_lines');
    } finally {
      await closeDatabase(db);
      await import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true }));
    }
  });
});
