/**
 * Activity Log records → ControlPlaneEvent: recognized by shape next to resource logs, any casing of ids and
 * operation names, callers from JWT claims, bodies redacted, other resource types skipped and counted by type.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeAzureRecord } from '../../../src/decode/azure/index.js';
import type { ControlPlaneEvent } from '../../../src/contracts/control-plane-event.js';
import type { DecodeResult } from '../../../src/contracts/log-record.js';
import { compilePrefix } from '../../../src/decode/prefix/compile-prefix.js';
import { activityRecord, serverResourceId } from '../../support/activity-log-records.js';

const ctx = { source: 'test', position: '0', prefix: compilePrefix('%t-%c-') };
const FIXTURE = new URL('../../fixtures/activity-log/PT1H.json', import.meta.url);
const fixture = readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
const AT = new Date('2026-11-21T03:05:00Z');

function event(result: DecodeResult): ControlPlaneEvent {
  assert.equal(result.kind, 'control-plane', JSON.stringify(result));
  return (result as { event: ControlPlaneEvent }).event;
}

describe('Activity Log records', () => {
  it('decode every PostgreSQL record of the PT1H.json fixture and skip the storage account by resource type', () => {
    const results = fixture.map((r) => decodeAzureRecord(r, ctx));
    assert.deepEqual(
      results.map((r) => (r.kind === 'control-plane' ? `${r.event.action} ${r.event.status}` : r.kind === 'skipped' ? `skipped ${r.category}` : r.kind)),
      [
        'firewall-rule-write start', 'firewall-rule-write accept', 'firewall-rule-write success', 'firewall-rule-write start',
        'firewall-rule-write failure', 'configuration-write start', 'configuration-write success', 'server-write start',
        'server-write accept', 'server-write success', 'diagnostic-settings-delete start', 'diagnostic-settings-delete success',
        'skipped ActivityLog microsoft.storage/storageaccounts',
      ],
    );
  });

  it('a Start with a request body: server from the resource id, user caller from the upn claim, the range requested', () => {
    const e = event(decodeAzureRecord(fixture[0], ctx));
    assert.equal(e.server, 'pg-prod');
    assert.equal(e.loggedAt.toISOString(), '2026-11-21T03:05:00.123Z');
    assert.equal(e.operation, 'microsoft.dbforpostgresql/flexibleservers/firewallrules/write');
    assert.equal(e.caller, 'mallory@contoso.com');
    assert.equal(e.callerType, 'upn');
    assert.equal(e.callerRole, 'Contributor');
    assert.equal(e.callerIp, '203.0.113.7');
    assert.equal(e.correlationId, '6a1c9e52-3b7d-4f08-9d2e-5c4a7b1e8f30');
    assert.equal(e.target, 'AllowAll');
    assert.equal(e.requestedValue, '0.0.0.0-255.255.255.255');
    assert.equal(e.requestedFrom, 'request');
    assert.equal(e.subscription, '8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10');
    assert.equal(e.resourceGroup, 'rg-data');
    assert.equal(e.category, 'Write');
    assert.equal(e.durationMs, 0, 'durationMs "0" is a string in the record');
  });

  it('an upper-cased resource id, lower-cased operation and upper-cased correlation id name the same server and request', () => {
    const e = event(decodeAzureRecord(fixture[2], ctx));
    assert.equal(e.server, 'pg-prod');
    assert.equal(e.operation, 'microsoft.dbforpostgresql/flexibleservers/firewallrules/write');
    assert.equal(e.correlationId, '6a1c9e52-3b7d-4f08-9d2e-5c4a7b1e8f30');
    assert.equal(e.resourceId, serverResourceId('pg-prod', '/firewallRules/AllowAll').toLowerCase());
    assert.equal(e.requestedValue, null, 'the outcome carries no body: the pipeline joins it to its Start');
    assert.equal(e.durationMs, 40875);
    assert.equal(e.statusCode, 'OK');
  });

  it('an application caller is named by its app id; the admin password in the request body is redacted everywhere', () => {
    const e = event(decodeAzureRecord(fixture[7], ctx));
    assert.equal(e.action, 'server-write');
    assert.equal(e.caller, '1f6b0c2a-5d3e-4e8f-9a71-2b4c6d8e0f13');
    assert.equal(e.callerType, 'appid');
    assert.equal(e.requestedValue, 'administratorLoginPassword=<REDACTED>');
    assert.deepEqual(e.request, { properties: { administratorLoginPassword: '<REDACTED>' }, location: 'westeurope' });
    assert.doesNotMatch(JSON.stringify(e), /Tr0ub4dor/);
    assert.match(e.properties ?? '', /administratorLoginPassword\\":\\"<REDACTED>/);
  });

  it('a diagnostic setting is an extension resource on the server: its name is the target', () => {
    const e = event(decodeAzureRecord(fixture[11], ctx));
    assert.equal(e.server, 'pg-prod');
    assert.equal(e.action, 'diagnostic-settings-delete');
    assert.equal(e.target, 'to-eventhub');
  });

  const OPERATIONS: { operation: string; tail: string; action: ControlPlaneEvent['action']; target: string | null }[] = [
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/delete', tail: '', action: 'server-delete', target: null },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/restart/action', tail: '', action: 'server-restart', target: null },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/start/action', tail: '', action: 'server-start', target: null },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/stop/action', tail: '', action: 'server-stop', target: null },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/delete', tail: '/firewallRules/AllowAll', action: 'firewall-rule-delete', target: 'AllowAll' },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/administrators/write', tail: '/administrators/0b5e3c1f-8a2d-4e6b-9c7a-1d3f5e7b9c2a', action: 'admin-write', target: '0b5e3c1f-8a2d-4e6b-9c7a-1d3f5e7b9c2a' },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/administrators/delete', tail: '/administrators/0b5e3c1f-8a2d-4e6b-9c7a-1d3f5e7b9c2a', action: 'admin-delete', target: '0b5e3c1f-8a2d-4e6b-9c7a-1d3f5e7b9c2a' },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write', tail: '/privateEndpointConnections/pe-1', action: 'private-endpoint-change', target: 'pe-1' },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action', tail: '', action: 'private-endpoint-change', target: null },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/advancedThreatProtectionSettings/write', tail: '/advancedThreatProtectionSettings/Default', action: 'threat-protection-write', target: 'Default' },
    { operation: 'Microsoft.Insights/diagnosticSettings/write', tail: '/providers/Microsoft.Insights/diagnosticSettings/to-la', action: 'diagnostic-settings-write', target: 'to-la' },
    { operation: 'Microsoft.DBforPostgreSQL/flexibleServers/backups/write', tail: '/backups/manual-1', action: 'other', target: 'manual-1' },
    { operation: 'Microsoft.DBforPostgreSQL/servers/firewallRules/write', tail: '', action: 'firewall-rule-write', target: null },
  ];
  for (const o of OPERATIONS) {
    it(`${o.operation} is ${o.action}`, () => {
      const e = event(decodeAzureRecord(activityRecord({ operation: o.operation, resourceId: serverResourceId('pg-prod', o.tail), status: 'Success', at: AT, correlationId: 'c' }), ctx));
      assert.equal(e.action, o.action);
      assert.equal(e.target, o.target);
    });
  }

  it('reads the requested value of each kind of body', () => {
    const value = (operation: string, tail: string, body: unknown) =>
      event(decodeAzureRecord(activityRecord({ operation, resourceId: serverResourceId('pg-prod', tail), status: 'Start', at: AT, correlationId: 'c', requestBody: body }), ctx)).requestedValue;
    assert.equal(value('Microsoft.DBforPostgreSQL/flexibleServers/configurations/write', '/configurations/ssl_min_protocol_version', { properties: { value: 'TLSv1', source: 'user-override' } }), 'TLSv1');
    assert.equal(value('Microsoft.DBforPostgreSQL/flexibleServers/administrators/write', '/administrators/oid', { properties: { principalName: 'eve@contoso.com', principalType: 'User', tenantId: 't' } }), 'eve@contoso.com (User)');
    assert.equal(value('Microsoft.DBforPostgreSQL/flexibleServers/write', '', { properties: { network: { publicNetworkAccess: 'Enabled' } } }), 'network.publicNetworkAccess=Enabled');
    assert.equal(
      value('Microsoft.Insights/diagnosticSettings/write', '/providers/Microsoft.Insights/diagnosticSettings/to-hub', { properties: { logs: [{ category: 'PostgreSQLLogs', enabled: false }], eventHubAuthorizationRuleId: '/x' } }),
      'PostgreSQLLogs=false, to eventHubAuthorizationRuleId',
    );
    assert.equal(value('Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/write', '/firewallRules/r', ''), null, 'an empty body is none');
  });

  it('a firewall outcome without a request body takes the range from its response body', () => {
    const r = activityRecord({
      operation: 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/write', resourceId: serverResourceId('pg-prod', '/firewallRules/r'), status: 'Success', at: AT, correlationId: 'c',
      responseBody: { name: 'r', properties: { startIpAddress: '1.2.3.4', endIpAddress: '1.2.3.4' } },
    });
    const e = event(decodeAzureRecord(r, ctx));
    assert.equal(e.requestedValue, '1.2.3.4-1.2.3.4');
    assert.equal(e.requestedFrom, 'response');
  });

  it('redacts secrets by key at any depth, in nested JSON text, and in text by the redactor', () => {
    const r = activityRecord({
      operation: 'Microsoft.DBforPostgreSQL/flexibleServers/write', resourceId: serverResourceId('pg-prod'), status: 'Start', at: AT, correlationId: 'c',
      requestBody: { properties: { administratorLoginPassword: 'hunter2hunter2', dataEncryption: { primaryKey: 'k-secret-1' }, note: 'Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=c2VjcmV0a2V5', sql: "alter role x password 'clearpw1'" } },
    });
    (r.properties as Record<string, unknown>).responseBody = '{"connectionString":"Server=x;Password=pw-in-response","keys":["k1"]';
    const e = event(decodeAzureRecord(r, ctx));
    const all = JSON.stringify(e);
    for (const secret of ['hunter2hunter2', 'k-secret-1', 'c2VjcmV0a2V5', 'clearpw1', 'pw-in-response']) assert.doesNotMatch(all, new RegExp(secret), secret);
    assert.match(all, /alter role x password/);
  });

  it('a record that cannot be decoded is a dead letter whose raw text is redacted too', () => {
    const r = activityRecord({ operation: 'Microsoft.DBforPostgreSQL/flexibleServers/write', resourceId: serverResourceId('pg-prod'), status: 'Start', at: AT, correlationId: 'c', requestBody: { properties: { administratorLoginPassword: 'hunter2hunter2' } } });
    r.time = 'not a time';
    const result = decodeAzureRecord(r, ctx);
    assert.equal(result.kind, 'dead');
    if (result.kind !== 'dead') return;
    assert.match(result.dead.reason, /no parsable time/);
    assert.doesNotMatch(result.dead.raw, /hunter2hunter2/);
  });

  it('resource logs keep their way: PostgreSQLLogs decode as log records, other resource-log categories are skipped by category', () => {
    const kv = { category: 'AuditEvent', operationName: 'VaultGet', resourceId: '/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/v', resultType: 'Success', correlationId: 'x' };
    assert.deepEqual(decodeAzureRecord(kv, ctx), { kind: 'skipped', category: 'AuditEvent' });
    const sessions = { category: 'PostgreSQLFlexSessions', operationName: 'LogEvent', resourceId: serverResourceId('pg-prod'), properties: {} };
    assert.deepEqual(decodeAzureRecord(sessions, ctx), { kind: 'skipped', category: 'PostgreSQLFlexSessions' });
  });

  it('a subscription-level or resource-group record is skipped and counted by what it is about', () => {
    const r = activityRecord({ operation: 'Microsoft.Resources/deployments/write', resourceId: `/subscriptions/s/resourceGroups/rg-data/providers/Microsoft.Resources/deployments/d1`, status: 'Success', at: AT, correlationId: 'c' });
    assert.deepEqual(decodeAzureRecord(r, ctx), { kind: 'skipped', category: 'ActivityLog microsoft.resources/deployments' });
    const policy = activityRecord({ operation: 'Microsoft.Authorization/policies/audit/action', resourceId: serverResourceId('pg-prod'), status: 'Success', at: AT, correlationId: 'c', category: 'Policy' });
    const e = event(decodeAzureRecord(policy, ctx));
    assert.equal(e.action, 'other', 'a Policy record about the server is kept: it is about the server');
  });

  it('the --server override names the server, as it does for PostgreSQLLogs', () => {
    const e = event(decodeAzureRecord(fixture[0], { ...ctx, server: 'prod-eu' }));
    assert.equal(e.server, 'prod-eu');
  });
});
