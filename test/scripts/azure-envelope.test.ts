import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  batchRecords,
  isoTime,
  renderAzureMessage,
  renderAzurePrefix,
  seededRandom,
  serverNameOf,
  spreadOverPartitions,
  toAzureRecord,
  type JsonlogRecord,
} from '../../scripts/azure-envelope.js';

const RESOURCE_ID =
  '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/DEMO-RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/demo-flex';
const OPTIONS = { resourceId: RESOURCE_ID, location: 'westeurope', withLogicalServerName: true };

/** Verbatim jsonlog lines from a PostgreSQL 15.18 + pgaudit 1.7 run of the test harness. */
const AUDIT_LINE: JsonlogRecord = JSON.parse(
  '{"timestamp":"2026-11-27 00:45:42.451 UTC","user":"postgres","dbname":"postgres","pid":8122,"remote_host":"127.0.0.1","remote_port":38788,"session_id":"6b08d2b6.1fba","line_num":4,"ps":"CREATE ROLE","session_start":"2026-11-27 00:45:42 UTC","vxid":"3/10","txid":0,"error_severity":"LOG","message":"AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role bob login password <REDACTED>,<none>","application_name":"psql","backend_type":"client backend","query_id":0}',
);
const FAILED_LOGIN: JsonlogRecord = JSON.parse(
  '{"timestamp":"2026-11-27 00:45:42.402 UTC","pid":8128,"remote_host":"127.0.0.1","remote_port":38794,"session_id":"6b08d2b6.1fc0","line_num":2,"ps":"authentication","session_start":"2026-11-27 00:45:42 UTC","vxid":"4/5","txid":0,"error_severity":"FATAL","state_code":"28P01","message":"password authentication failed for user \\"bob\\"","detail":"Connection matched pg_hba.conf line 87: \\"host    all             all             127.0.0.1/32            scram-sha-256\\"","backend_type":"client backend","query_id":0}',
);
const FAILED_STATEMENT: JsonlogRecord = JSON.parse(
  '{"timestamp":"2026-11-27 00:45:43.007 UTC","user":"postgres","dbname":"postgres","pid":8130,"remote_host":"127.0.0.1","remote_port":38800,"session_id":"6b08d2b7.1fc2","line_num":5,"ps":"CREATE ROLE","session_start":"2026-11-27 00:45:43 UTC","vxid":"3/11","txid":0,"error_severity":"ERROR","state_code":"42710","message":"role \\"bob\\" already exists","statement":"CREATE ROLE bob;","application_name":"psql","backend_type":"client backend","query_id":0}',
);

describe('renderAzurePrefix', () => {
  it("renders %t-%c- with whole seconds and the session id", () => {
    assert.equal(renderAzurePrefix(AUDIT_LINE), '2026-11-27 00:45:42 UTC-6b08d2b6.1fba-');
  });

  it('refuses a timestamp that is not jsonlog-shaped', () => {
    assert.throws(() => renderAzurePrefix({ timestamp: '2026-11-27T00:45:42Z', session_id: 'x' }), /not a jsonlog timestamp/);
  });
});

describe('renderAzureMessage', () => {
  it('puts the prefix, the level and two spaces before the text', () => {
    assert.equal(
      renderAzureMessage(AUDIT_LINE),
      '2026-11-27 00:45:42 UTC-6b08d2b6.1fba-LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role bob login password <REDACTED>,<none>',
    );
  });
});

describe('isoTime', () => {
  it('keeps the milliseconds', () => {
    assert.equal(isoTime('2026-11-27 00:45:42.451 UTC'), '2026-11-27T00:45:42.451Z');
  });

  it('refuses a timestamp in another zone rather than guess its offset', () => {
    assert.throws(() => isoTime('2026-11-27 01:45:42.451 CET'), /UTC/);
  });
});

describe('toAzureRecord', () => {
  it('builds a Flexible Server PostgreSQLLogs record with sqlerrcode 00000 for a LOG line', () => {
    assert.deepEqual(toAzureRecord(AUDIT_LINE, OPTIONS), {
      properties: {
        timestamp: '2026-11-27 00:45:42.451 UTC',
        processId: 8122,
        errorLevel: 'LOG',
        sqlerrcode: '00000',
        backend_type: 'client backend',
        message:
          '2026-11-27 00:45:42 UTC-6b08d2b6.1fba-LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role bob login password <REDACTED>,<none>',
      },
      time: '2026-11-27T00:45:42.451Z',
      resourceId: RESOURCE_ID,
      location: 'westeurope',
      category: 'PostgreSQLLogs',
      operationName: 'LogEvent',
      LogicalServerName: 'demo-flex',
    });
  });

  it('keeps DETAIL and the SQLSTATE of a failed login', () => {
    const record = toAzureRecord(FAILED_LOGIN, OPTIONS);
    assert.equal(record.properties.errorLevel, 'FATAL');
    assert.equal(record.properties.sqlerrcode, '28P01');
    assert.equal(record.properties.message, '2026-11-27 00:45:42 UTC-6b08d2b6.1fc0-FATAL:  password authentication failed for user "bob"');
    assert.match(record.properties.detail ?? '', /^Connection matched pg_hba.conf line 87/);
  });

  it('drops the STATEMENT of an error line, as Azure does', () => {
    const record = toAzureRecord(FAILED_STATEMENT, OPTIONS);
    assert.equal(JSON.stringify(record).includes('CREATE ROLE bob;'), false);
    assert.equal(record.properties.detail, undefined);
    assert.equal('detail' in record.properties, false);
  });

  it('leaves LogicalServerName out unless asked', () => {
    assert.equal('LogicalServerName' in toAzureRecord(AUDIT_LINE, { resourceId: RESOURCE_ID, location: 'westeurope' }), false);
  });
});

describe('serverNameOf', () => {
  it('takes the last segment of the resource id', () => {
    assert.equal(serverNameOf(RESOURCE_ID), 'demo-flex');
  });
});

describe('batchRecords', () => {
  it('cuts records in order into bodies of the requested sizes, the last one shorter', () => {
    const sizes = [2, 3, 10];
    let call = 0;
    assert.deepEqual(batchRecords([1, 2, 3, 4, 5, 6, 7], () => sizes[call++]!), [[1, 2], [3, 4, 5], [6, 7]]);
  });

  it('never makes an empty body, even when asked for size 0', () => {
    assert.deepEqual(batchRecords(['a', 'b'], () => 0), [['a'], ['b']]);
  });
});

describe('spreadOverPartitions', () => {
  it('deals bodies round-robin', () => {
    assert.deepEqual(spreadOverPartitions(['b0', 'b1', 'b2', 'b3', 'b4'], 2), [['b0', 'b2', 'b4'], ['b1', 'b3']]);
  });
});

describe('seededRandom', () => {
  it('repeats the same sequence for the same seed, within [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const values = Array.from({ length: 50 }, () => a());
    assert.deepEqual(values, Array.from({ length: 50 }, () => b()));
    assert.ok(values.every((value) => value >= 0 && value < 1));
  });
});
