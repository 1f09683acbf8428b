/**
 * `admin-rights-now` on Azure's role model: the server admin and the Entra administrators come from the control
 * plane (Activity Log records through the consumer's batch handler), an Entra admin from the server's own trail,
 * each holder with its Entra type; an administrator removed later holds nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePrefix } from '../../src/decode/prefix/compile-prefix.js';
import { driveSource } from '../../src/pipeline/drive-source.js';
import { hubEventDecoder } from '../../src/pipeline/source-decoders.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { runReadOnly } from '../../src/query/read-only-query.js';
import { findSavedQuery, resolveParams } from '../../src/query/saved-queries.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { request, serverResourceId } from '../support/activity-log-records.js';
import { audit, login } from '../support/detection-records.js';
import type { PlainValue } from '../../src/query/row-values.js';

const T0 = new Date('2026-11-21T03:05:00Z');
const ADMINS = 'Microsoft.DBforPostgreSQL/flexibleServers/administrators';

const entraAdmin = (objectId: string, verb: 'write' | 'delete', name: string, at: Date) =>
  request({
    operation: `${ADMINS}/${verb}`, resourceId: serverResourceId('pg-prod', `/administrators/${objectId}`), at,
    ...(verb === 'write' ? { requestBody: { properties: { principalName: name, principalType: 'Group', tenantId: 't' } } } : {}),
  });

describe('admin-rights-now with Azure identities', () => {
  let store: AuditStore;
  let rows: Record<string, PlainValue>[];

  before(async () => {
    store = await AuditStore.open(':memory:');
    const pipeline = await IngestPipeline.create(store);
    const s = login({ server: 'pg-prod', user: 'pgadmin', at: T0 });
    await pipeline.processBatch(
      [
        ...s.records,
        audit('pg-prod', s.sessionId, new Date(T0.getTime() + 10), 1, 'ROLE', 'CREATE ROLE', 'CREATE ROLE pgadmin LOGIN'),
        audit('pg-prod', s.sessionId, new Date(T0.getTime() + 11), 2, 'ROLE', 'GRANT', 'GRANT azure_pg_admin TO pgadmin'),
        audit('pg-prod', s.sessionId, new Date(T0.getTime() + 12), 3, 'READ', 'SELECT', "SELECT * FROM pgaadauth_create_principal_with_oid('dba-group', 'g-1', 'group', true, true)"),
        audit('pg-prod', s.sessionId, new Date(T0.getTime() + 13), 4, 'READ', 'SELECT', "SELECT * FROM pgaadauth_create_principal_with_oid('ops@contoso.com', 'u-1', 'user', false, true)"),
      ],
      { sourceKey: null, source: 'test', position: '1' },
    );
    const events = [
      request({ operation: 'Microsoft.DBforPostgreSQL/flexibleServers/write', resourceId: serverResourceId('pg-prod'), at: T0, requestBody: { properties: { administratorLogin: 'pgadmin', administratorLoginPassword: 'x' } } }),
      entraAdmin('g-1', 'write', 'dba-group', T0),
      entraAdmin('u-1', 'write', 'ops@contoso.com', T0),
      entraAdmin('u-1', 'delete', 'ops@contoso.com', new Date(T0.getTime() + 60_000)),
    ];
    await driveSource([{
      sourceKey: 'eventhubs:test/insights-activity-logs/$default/0', source: 'eventhubs:insights-activity-logs/0', position: '1',
      items: events.map((records, i) => ({ body: { records }, partitionId: '0', sequenceNumber: i, enqueuedTimeUtc: new Date() })),
    }], { pipeline, decoder: hubEventDecoder(compilePrefix('%t-%c-')) });
    const query = findSavedQuery('admin-rights-now');
    rows = (await runReadOnly(store.connection, query.sql, resolveParams(query, { server: 'pg-prod' }))).rows;
  });
  after(async () => {
    await store?.close();
  });

  it('lists the server admin, the Entra administrator and the Entra admin with their Entra type; a removed administrator holds nothing', () => {
    assert.deepEqual(
      rows.map((r) => `${r.role_name} | ${r.right_name} | ${r.auth_kind} ${r.entra_type}`),
      [
        'dba-group | entra administrator of the server | entra group',
        'dba-group | entra_admin | entra group',
        'pgadmin | member of azure_pg_admin | postgres null',
        'pgadmin | server admin | postgres null',
      ],
    );
  });
});
