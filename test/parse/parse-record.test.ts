/**
 * The DETAIL of an extended-protocol statement lists its bind values: a value bound where the statement
 * takes a password is redacted there too, by its `$N`.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LogRecord } from '../../src/decode/log-record.js';
import { parseRecord } from '../../src/parse/parse-record.js';

const S = 'Sup3rS3cret';

function record(message: string, detail: string | null, statement: string | null = null, level = 'LOG'): LogRecord {
  return {
    server: 's', loggedAt: new Date(0), sessionId: 'a.1', pid: 1, level, sqlstate: null, message, detail, hint: null, statement,
    userName: 'u', databaseName: 'd', clientAddr: null, clientPort: null, applicationName: null, source: 'test', position: '0',
  };
}

describe('bind parameters in DETAIL', () => {
  it('redacts the value bound to a password column, keeps the others', () => {
    const { entry } = parseRecord(record('execute <unnamed>: UPDATE users SET password = $2 WHERE name = $1', `parameters: $1 = 'alice', $2 = '${S}'`));
    assert.equal(entry.record.detail, "parameters: $1 = 'alice', $2 = '<REDACTED>'");
  });
  it('redacts a value with doubled quotes, and one cut short by log_parameter_max_length', () => {
    const { entry } = parseRecord(record('duration: 0.1 ms  execute S_1: UPDATE users SET password = $1 WHERE id = $2', `parameters: $1 = '${S}''x...', $2 = '7'`));
    assert.ok(!entry.record.detail!.includes(S), entry.record.detail!);
  });
  it('uses the STATEMENT of an error when the message is not the statement', () => {
    const { entry } = parseRecord(record('canceling statement due to statement timeout', `parameters: $1 = '${S}'`, 'SELECT id FROM users WHERE password = crypt($1, password)', 'ERROR'));
    assert.ok(!entry.record.detail!.includes(S), entry.record.detail!);
  });
  it('redacts a conninfo bound anywhere', () => {
    const { entry } = parseRecord(record('execute <unnamed>: SELECT dblink_connect($1)', `parameters: $1 = 'host=h password=${S}'`));
    assert.equal(entry.record.detail, "parameters: $1 = 'host=h password=<REDACTED>'");
  });
});
