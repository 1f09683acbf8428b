/**
 * Bad input of every kind: the ingest goes on, the good records around it are stored, and every bad
 * piece is a dead letter with a reason that says what was wrong.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { MAX_LINE_BYTES } from '../../src/sources/file/read-lines.js';
import { queryStore, silentLogger } from '../support/store-reader.js';

const RESOURCE = '/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/PG1';

function record(message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    properties: { timestamp: '2026-11-24 14:55:15.123 UTC', processId: 42, errorLevel: 'LOG', sqlerrcode: '00000', message },
    time: '2026-11-24T14:55:15.123Z', resourceId: RESOURCE, category: 'PostgreSQLLogs', operationName: 'LogEvent', ...extra,
  };
}
/** JSON text nesting `depth` arrays, as hostile input may: 200,000 levels overflowed the stack of every walk. */
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const good = (n: number) => record(`2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  AUDIT: SESSION,${n},1,READ,SELECT,,,select ${n},<none>`);

/** Each case: one line of an Event Hubs capture, and the reason its dead letter must give. */
const BAD_EVENT_LINES: { name: string; line: string; reason: RegExp }[] = [
  { name: 'not JSON', line: 'this is not json', reason: /not valid JSON/ },
  { name: 'truncated body', line: JSON.stringify({ records: [good(1)] }).slice(0, 120), reason: /not valid JSON/ },
  { name: 'records is not an array', line: '{"records": "nope"}', reason: /not \{"records":\[\.\.\.\]\}/ },
  { name: 'body is an array', line: '[1,2,3]', reason: /not \{"records":\[\.\.\.\]\}/ },
  { name: 'body is null', line: 'null', reason: /not \{"records":\[\.\.\.\]\}/ },
  { name: 'record is a number', line: '{"records":[42]}', reason: /record is a number, not a JSON object/ },
  { name: 'record has no category', line: JSON.stringify({ records: [{ properties: { message: 'x' } }] }), reason: /no category/ },
  { name: 'properties missing', line: JSON.stringify({ records: [{ category: 'PostgreSQLLogs', resourceId: RESOURCE }] }), reason: /no properties object/ },
  { name: 'message of the wrong type', line: JSON.stringify({ records: [record('x', { properties: { message: 12345, errorLevel: 'LOG' } })] }), reason: /no properties\.message string/ },
  { name: 'no server name', line: JSON.stringify({ records: [{ ...record('2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  hello'), resourceId: undefined }] }), reason: /names no server/ },
  { name: 'message matching no prefix and no level', line: JSON.stringify({ records: [record('garbage without a level', { properties: { message: 'garbage without a level' } })] }), reason: /matches neither log_line_prefix/ },
  { name: 'no usable time', line: JSON.stringify({ records: [record('2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  hi', { time: 'yesterday', properties: { timestamp: 'soon', errorLevel: 'LOG', message: 'x-LOG:  hi' } })] }), reason: /no parsable time/ },
  { name: 'a broken pgaudit entry', line: JSON.stringify({ records: [record('2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  AUDIT: SESSION,x,1,READ')] }), reason: /pgaudit entry/ },
  { name: 'the year 99999', line: JSON.stringify({ records: [record('2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  hi', { time: '+099999-01-01T00:00:00.000Z', properties: { timestamp: '99999-01-01 00:00:00.000 UTC', errorLevel: 'LOG', message: '2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  hi' } })] }), reason: /time in the year 99999 is outside 1970-01-01\.\.9999-12-31/ },
  { name: 'a time before 1970', line: JSON.stringify({ records: [record('2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  hi', { properties: { timestamp: '1969-12-31 23:59:59.000 UTC', errorLevel: 'LOG', message: '2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  hi' } })] }), reason: /time 1969-12-31T23:59:59.000Z is outside/ },
  { name: 'a body nested 200,000 levels deep', line: deepArray(200_000), reason: /event body nests deeper than 64 levels/ },
  { name: 'a record with a field nested 200,000 levels deep', line: `{"records":[{"category":"PostgreSQLLogs","properties":{"x":${deepArray(200_000)}}}]}`, reason: /event body nests deeper than 64 levels/ },
  { name: 'binary garbage', line: Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x01, 0x02, 0x80, 0x81]).toString('latin1'), reason: /not valid JSON/ },
];

describe('malformed input', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-malformed-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('dead-letters every bad Event Hubs body or record with its reason and keeps the good ones', async () => {
    const lines = [JSON.stringify({ records: [good(1)] })];
    for (const c of BAD_EVENT_LINES) lines.push(c.line, JSON.stringify({ records: [good(lines.length + 1)] }));
    const path = join(dir, 'hub.jsonl');
    await writeFile(path, lines.join('\n') + '\n');
    const db = join(dir, 'hub.duckdb');
    const summary = await ingestFiles([path], { dbPath: db, format: 'eventhubs', logLinePrefix: '%t-%c-', log: silentLogger });

    const audit = await queryStore(db, 'SELECT count(*) AS n FROM audit_events');
    assert.equal(audit[0]!.n, BAD_EVENT_LINES.length + 1);
    const dead = await queryStore(db, 'SELECT reason, raw, position FROM dead_letters ORDER BY CAST(split_part(position, \'#\', 1) AS BIGINT)');
    assert.equal(dead.length, BAD_EVENT_LINES.length);
    assert.equal(summary.deadLetters, BAD_EVENT_LINES.length);
    BAD_EVENT_LINES.forEach((c, i) => assert.match(String(dead[i]!.reason), c.reason, `${c.name}: ${String(dead[i]!.reason)}`));
  });

  it('dead-letters a Storage record nested too deeply, naming the file and line, and goes on', async () => {
    const path = join(dir, 'PT1H.json');
    const deep = `{"category":"PostgreSQLLogs","properties":${deepArray(200_000)}}`;
    await writeFile(path, [JSON.stringify(good(1)), deep, JSON.stringify(good(2))].join('\n') + '\n');
    const db = join(dir, 'ndjson.duckdb');
    await ingestFiles([path], { dbPath: db, format: 'azure-ndjson', logLinePrefix: '%t-%c-', log: silentLogger });
    assert.equal((await queryStore(db, 'SELECT count(*) AS n FROM audit_events'))[0]!.n, 2);
    const dead = await queryStore(db, 'SELECT source, position, reason FROM dead_letters');
    assert.deepEqual(dead.map((d) => [d.source, d.position]), [[path, String(JSON.stringify(good(1)).length + 1)]]);
    assert.match(String(dead[0]!.reason), /record nests deeper than 64 levels/);
  });

  it('counts records of categories it does not handle, without failing', async () => {
    const path = join(dir, 'categories.jsonl');
    const other = { category: 'PostgreSQLFlexQueryStoreRuntime', resourceId: RESOURCE, properties: { query_id_s: '1' } };
    await writeFile(path, JSON.stringify({ records: [other, good(1), { ...other, category: 'PostgreSQLFlexSessions' }] }) + '\n');
    const summary = await ingestFiles([path], { dbPath: join(dir, 'categories.duckdb'), format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger });
    assert.equal(summary.skipped, 2);
    assert.deepEqual(Object.fromEntries(summary.skippedCategories), { PostgreSQLFlexQueryStoreRuntime: 1, PostgreSQLFlexSessions: 1 });
    assert.equal(summary.auditEvents, 1);
  });

  it('dead-letters stderr lines that do not match the prefix, and goes on', async () => {
    const path = join(dir, 'wrong-prefix.log');
    await writeFile(path, [
      '2026-11-24 14:55:15 UTC-6b05a553.26bf-LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,select 1,<none>',
      '[2026-11-24 14:55:16] some other program wrote this',
      '2026-11-24 14:55:17 UTC-6b05a553.26bf-LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,select 2,<none>',
    ].join('\n') + '\n');
    const db = join(dir, 'wrong-prefix.duckdb');
    await ingestFiles([path], { dbPath: db, format: 'stderr', logLinePrefix: '%t-%c-', server: 'pg1', log: silentLogger });
    assert.equal((await queryStore(db, 'SELECT count(*) AS n FROM audit_events'))[0]!.n, 2);
    const dead = await queryStore(db, 'SELECT reason, raw FROM dead_letters');
    assert.equal(dead.length, 1);
    assert.match(String(dead[0]!.reason), /does not match log_line_prefix/);
    assert.equal(dead[0]!.raw, '[2026-11-24 14:55:16] some other program wrote this');
  });

  it('dead-letters a line longer than the limit without reading it into memory, and goes on', async () => {
    const path = join(dir, 'huge.jsonl');
    const huge = `{"records":[{"properties":{"message":"${'x'.repeat(MAX_LINE_BYTES + 10)}"}}]}`;
    await writeFile(path, [JSON.stringify({ records: [good(1)] }), huge, JSON.stringify({ records: [good(2)] })].join('\n') + '\n');
    const db = join(dir, 'huge.duckdb');
    await ingestFiles([path], { dbPath: db, format: 'eventhubs', logLinePrefix: '%t-%c-', log: silentLogger });
    assert.equal((await queryStore(db, 'SELECT count(*) AS n FROM audit_events'))[0]!.n, 2);
    const dead = await queryStore(db, 'SELECT reason, length(raw) AS len FROM dead_letters');
    assert.equal(dead.length, 1);
    assert.match(String(dead[0]!.reason), /line longer than/);
    assert.ok(Number(dead[0]!.len) <= 600);
  });

  it('redacts secrets in dead letters', async () => {
    const path = join(dir, 'secret.jsonl');
    await writeFile(path, `{"records":[{"properties":{"message":"ALTER ROLE x PASSWORD 'Sup3r-Secret-99'"`);
    const db = join(dir, 'secret.duckdb');
    await ingestFiles([path], { dbPath: db, format: 'eventhubs', logLinePrefix: '%t-%c-', log: silentLogger });
    const dead = await queryStore(db, 'SELECT raw FROM dead_letters');
    assert.equal(dead.length, 1);
    assert.doesNotMatch(String(dead[0]!.raw), /Sup3r-Secret-99/);
  });
});
