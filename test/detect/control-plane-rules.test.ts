/**
 * The control-plane rules, each on its positive and negative cases, fed as Event Hubs events through the
 * consumer's decoder through the driver (`driveSource`) — the same path as the server logs.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createDetector, type DetectionConfigInput } from '../../src/detect/index.js';
import { compilePrefix } from '../../src/decode/prefix/compile-prefix.js';
import { driveSource } from '../../src/pipeline/drive-source.js';
import { hubEventDecoder } from '../../src/pipeline/source-decoders.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { runQuery } from '../../src/query/run-query.js';
import type { PlainValue } from '../../src/query/row-values.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { activityRecord, hubEvents, request, serverResourceId } from '../support/activity-log-records.js';

type Records = Record<string, unknown>[];
const T0 = new Date('2026-11-21T03:05:00Z');
const prefix = compilePrefix('%t-%c-');

interface Consumer {
  /** One call = one batch of the consumer; each argument is one event body. */
  deliver(...bodies: Records[]): Promise<void>;
  alerts(rule?: string): Promise<Record<string, PlainValue>[]>;
  close(): Promise<void>;
}

let open: Consumer | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

async function consumer(config: DetectionConfigInput = {}): Promise<Consumer> {
  const store = await AuditStore.open(':memory:');
  const pipeline = await IngestPipeline.create(store, { observers: [createDetector(config)] });
  let batches = 0;
  open = {
    async deliver(...bodies) {
      const position = String(++batches);
      await driveSource([{ sourceKey: 'eventhubs:test/insights-activity-logs/$default/0', source: 'eventhubs:insights-activity-logs/0', position, items: hubEvents(...bodies) }], { pipeline, decoder: hubEventDecoder(prefix) });
    },
    async alerts(rule) {
      const sql = `SELECT * EXCLUDE (evidence), evidence::VARCHAR AS evidence FROM alerts ${rule ? 'WHERE rule_id = $rule' : ''} ORDER BY alert_id`;
      return (await runQuery(store.connection, sql, rule ? { rule } : {})).rows;
    },
    close: () => store.close(),
  };
  return open;
}

const FIREWALL = 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules/write';
const CONFIG = 'Microsoft.DBforPostgreSQL/flexibleServers/configurations/write';
const SERVER = 'Microsoft.DBforPostgreSQL/flexibleServers/write';

const firewall = (name: string, start: string, end: string, outcome: 'Success' | 'Failure' | null = 'Success') =>
  request({ operation: FIREWALL, resourceId: serverResourceId('pg-prod', `/firewallRules/${name}`), at: T0, requestBody: { properties: { startIpAddress: start, endIpAddress: end } }, outcome });
const parameter = (name: string, value: string, outcome: 'Success' | 'Failure' | null = 'Success') =>
  request({ operation: CONFIG, resourceId: serverResourceId('pg-prod', `/configurations/${name}`), at: T0, requestBody: { properties: { value, source: 'user-override' } }, outcome });
const serverWrite = (properties: Record<string, unknown>, outcome: 'Success' | 'Failure' | null = 'Success') =>
  request({ operation: SERVER, resourceId: serverResourceId('pg-prod'), at: T0, requestBody: { properties }, outcome });
const admin = (verb: 'write' | 'delete', outcome: 'Success' | 'Failure' = 'Success') =>
  request({
    operation: `Microsoft.DBforPostgreSQL/flexibleServers/administrators/${verb}`, resourceId: serverResourceId('pg-prod', '/administrators/0b5e3c1f-8a2d-4e6b-9c7a-1d3f5e7b9c2a'), at: T0,
    ...(verb === 'write' ? { requestBody: { properties: { principalName: 'eve@contoso.com', principalType: 'User', tenantId: 't' } } } : {}), outcome,
  });
const diagnostic = (verb: 'write' | 'delete', outcome: 'Success' | 'Failure' = 'Success') =>
  request({
    operation: `microsoft.insights/diagnosticSettings/${verb}`, resourceId: serverResourceId('pg-prod', '/providers/microsoft.insights/diagnosticSettings/to-eventhub'), at: T0,
    ...(verb === 'write' ? { requestBody: { properties: { logs: [{ category: 'PostgreSQLLogs', enabled: false }] } } } : {}), outcome,
  });

interface Case {
  name: string;
  rule: string;
  records: Records;
  config?: DetectionConfigInput;
  /** Summaries of the alerts the rule raises (none for a negative case). */
  expected: string[];
  severity?: string;
}

const CASES: Case[] = [
  { name: 'the whole internet', rule: 'azure-firewall-open-to-internet', records: firewall('AllowAll', '0.0.0.0', '255.255.255.255'), severity: 'critical',
    expected: ['mallory@contoso.com opened firewall rule AllowAll of pg-prod to the whole internet (0.0.0.0-255.255.255.255)'] },
  { name: 'a /8 is wider than the default /16', rule: 'azure-firewall-open-to-internet', records: firewall('Corp', '10.0.0.0', '10.255.255.255'), severity: 'high',
    expected: ['mallory@contoso.com opened firewall rule Corp of pg-prod to 16777216 addresses (10.0.0.0-10.255.255.255)'] },
  { name: 'negative: a /8 with widestPrefix 8', rule: 'azure-firewall-open-to-internet', records: firewall('Corp', '10.0.0.0', '10.255.255.255'), config: { rules: { 'azure-firewall-open-to-internet': { widestPrefix: 8 } } }, expected: [] },
  { name: 'negative: an office /24', rule: 'azure-firewall-open-to-internet', records: firewall('Office', '203.0.113.0', '203.0.113.255'), expected: [] },
  { name: 'negative: a single address', rule: 'azure-firewall-open-to-internet', records: firewall('Me', '198.51.100.23', '198.51.100.23'), expected: [] },
  { name: 'negative: a Start that never succeeded', rule: 'azure-firewall-open-to-internet', records: firewall('AllowAll', '0.0.0.0', '255.255.255.255', null), expected: [] },
  { name: 'negative: Azure refused it', rule: 'azure-firewall-open-to-internet', records: firewall('AllowAll', '0.0.0.0', '255.255.255.255', 'Failure'), expected: [] },
  { name: 'negative: allow Azure services is its own rule', rule: 'azure-firewall-open-to-internet', records: firewall('AllowAllAzureServicesAndResourcesWithinAzureIps', '0.0.0.0', '0.0.0.0'), expected: [] },

  { name: '0.0.0.0-0.0.0.0', rule: 'azure-firewall-allows-azure-services', records: firewall('AllowAllAzureServicesAndResourcesWithinAzureIps', '0.0.0.0', '0.0.0.0'),
    expected: ['mallory@contoso.com allowed every Azure service through the firewall of pg-prod (rule AllowAllAzureServicesAndResourcesWithinAzureIps)'] },
  { name: 'negative: the whole internet is the other rule', rule: 'azure-firewall-allows-azure-services', records: firewall('AllowAll', '0.0.0.0', '255.255.255.255'), expected: [] },

  { name: 'require_secure_transport OFF', rule: 'azure-tls-weakened', records: parameter('require_secure_transport', 'OFF'), expected: ['mallory@contoso.com turned require_secure_transport off on pg-prod'] },
  { name: 'ssl_min_protocol_version TLSv1.1', rule: 'azure-tls-weakened', records: parameter('ssl_min_protocol_version', 'TLSv1.1'), expected: ['mallory@contoso.com lowered ssl_min_protocol_version to TLSv1.1 on pg-prod'] },
  { name: 'negative: require_secure_transport ON', rule: 'azure-tls-weakened', records: parameter('require_secure_transport', 'ON'), expected: [] },
  { name: 'negative: ssl_min_protocol_version TLSv1.3', rule: 'azure-tls-weakened', records: parameter('ssl_min_protocol_version', 'TLSv1.3'), expected: [] },
  { name: 'negative: OFF refused', rule: 'azure-tls-weakened', records: parameter('require_secure_transport', 'OFF', 'Failure'), expected: [] },

  { name: 'password_encryption md5', rule: 'azure-md5-password-encryption', records: parameter('password_encryption', 'md5'), expected: ['mallory@contoso.com set password_encryption = md5 on pg-prod'] },
  { name: 'negative: scram-sha-256', rule: 'azure-md5-password-encryption', records: parameter('password_encryption', 'scram-sha-256'), expected: [] },

  { name: 'pgaudit.log NONE', rule: 'azure-audit-logging-reduced', records: parameter('pgaudit.log', 'NONE'), expected: ['mallory@contoso.com set pgaudit.log = NONE on pg-prod'] },
  { name: 'pgaudit.log without ROLE', rule: 'azure-audit-logging-reduced', records: parameter('pgaudit.log', 'READ,WRITE,DDL'), expected: ['mallory@contoso.com set pgaudit.log = READ,WRITE,DDL on pg-prod'] },
  { name: 'log_connections off', rule: 'azure-audit-logging-reduced', records: parameter('log_connections', 'off'), expected: ['mallory@contoso.com set log_connections = off on pg-prod'] },
  { name: 'negative: pgaudit.log ROLE,DDL,WRITE', rule: 'azure-audit-logging-reduced', records: parameter('pgaudit.log', 'ROLE,DDL,WRITE'), expected: [] },
  { name: 'negative: work_mem', rule: 'azure-audit-logging-reduced', records: parameter('work_mem', '65536'), expected: [] },

  { name: 'administratorLoginPassword in the request', rule: 'azure-admin-password-reset', records: serverWrite({ administratorLoginPassword: 'N3w-Adm1n-pass!' }), expected: ['mallory@contoso.com reset the administrator password of pg-prod'] },
  { name: 'negative: a server write of backup settings', rule: 'azure-admin-password-reset', records: serverWrite({ backup: { backupRetentionDays: 14 } }), expected: [] },
  { name: 'negative: a reset that has not succeeded (Start only)', rule: 'azure-admin-password-reset', records: serverWrite({ administratorLoginPassword: 'N3w-Adm1n-pass!' }, null), expected: [] },

  { name: 'Entra admin added', rule: 'azure-entra-admin-changed', records: admin('write'), expected: ['mallory@contoso.com made eve@contoso.com (User) an Entra administrator of pg-prod'] },
  { name: 'Entra admin removed', rule: 'azure-entra-admin-changed', records: admin('delete'), expected: ['mallory@contoso.com removed Entra administrator 0b5e3c1f-8a2d-4e6b-9c7a-1d3f5e7b9c2a from pg-prod'] },
  { name: 'negative: Entra admin write refused', rule: 'azure-entra-admin-changed', records: admin('write', 'Failure'), expected: [] },

  { name: 'diagnostic setting deleted', rule: 'azure-diagnostic-settings-changed', records: diagnostic('delete'), severity: 'high', expected: ['mallory@contoso.com deleted diagnostic setting to-eventhub of pg-prod'] },
  { name: 'diagnostic setting changed', rule: 'azure-diagnostic-settings-changed', records: diagnostic('write'), severity: 'medium', expected: ['mallory@contoso.com changed diagnostic setting to-eventhub of pg-prod (PostgreSQLLogs=false)'] },
  { name: 'negative: delete refused', rule: 'azure-diagnostic-settings-changed', records: diagnostic('delete', 'Failure'), expected: [] },

  { name: 'publicNetworkAccess Enabled', rule: 'azure-public-network-access-enabled', records: serverWrite({ network: { publicNetworkAccess: 'Enabled' } }), expected: ['mallory@contoso.com enabled public network access on pg-prod'] },
  { name: 'negative: publicNetworkAccess Disabled', rule: 'azure-public-network-access-enabled', records: serverWrite({ network: { publicNetworkAccess: 'Disabled' } }), expected: [] },
];

describe('control-plane rules through the Event Hubs batch handler', () => {
  for (const c of CASES) {
    it(`${c.rule}: ${c.name}`, async () => {
      const hub = await consumer(c.config);
      await hub.deliver(c.records);
      const alerts = await hub.alerts(c.rule);
      assert.deepEqual(alerts.map((a) => a.summary), c.expected);
      for (const a of alerts) {
        assert.equal(a.server, 'pg-prod');
        assert.equal(a.actor, 'mallory@contoso.com');
        assert.match(String(a.mitre), /^T1\d{3}/);
        if (c.severity) assert.equal(a.severity, c.severity);
      }
    });
  }

  it('an outcome that arrives a batch before its Start is judged once, when the Start arrives', async () => {
    const hub = await consumer();
    const [start, success] = firewall('AllowAll', '0.0.0.0', '255.255.255.255');
    await hub.deliver([success!]);
    assert.equal((await hub.alerts('azure-firewall-open-to-internet')).length, 0, 'the range is not known yet');
    await hub.deliver([start!]);
    const alerts = await hub.alerts('azure-firewall-open-to-internet');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.count, 1);
    assert.equal(JSON.parse(String(alerts[0]!.evidence)).samples[0].requestedFrom, 'start');
  });

  it('a rule that needs no value fires on the outcome as it arrives, and not again when its Start comes late', async () => {
    const hub = await consumer();
    const [start, success] = diagnostic('write');
    await hub.deliver([success!]);
    await hub.deliver([start!]);
    const alerts = await hub.alerts('azure-diagnostic-settings-changed');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.count, 1);
  });

  it('the fixture of the end-to-end test raises exactly its four alerts, with no secret in their evidence', async () => {
    const hub = await consumer();
    const lines = readFileSync(new URL('../fixtures/activity-log/insights-activity-logs.jsonl', import.meta.url), 'utf8').split('\n').filter((l) => l !== '');
    await hub.deliver(...lines.map((l) => (JSON.parse(l) as { records: Records }).records));
    const alerts = await hub.alerts();
    assert.deepEqual(alerts.map((a) => [a.rule_id, a.severity, a.actor, a.target]).sort(), [
      ['azure-admin-password-reset', 'high', '1f6b0c2a-5d3e-4e8f-9a71-2b4c6d8e0f13', 'administratorLoginPassword'],
      ['azure-diagnostic-settings-changed', 'high', 'mallory@contoso.com', 'to-eventhub'],
      ['azure-firewall-open-to-internet', 'critical', 'mallory@contoso.com', 'ALLOWALL'],
      ['azure-tls-weakened', 'high', 'mallory@contoso.com', 'require_secure_transport'],
    ]);
    assert.doesNotMatch(JSON.stringify(alerts), /Tr0ub4dor/);
  });

  it('records of other resource types raise nothing', async () => {
    const hub = await consumer();
    const storage = activityRecord({
      operation: 'Microsoft.Storage/storageAccounts/write', at: T0, correlationId: 'c', status: 'Success',
      resourceId: '/subscriptions/s/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/st1/firewallRules/AllowAll',
      requestBody: { properties: { publicNetworkAccess: 'Enabled', startIpAddress: '0.0.0.0', endIpAddress: '255.255.255.255' } },
    });
    await hub.deliver([storage]);
    assert.deepEqual(await hub.alerts(), []);
  });
});
