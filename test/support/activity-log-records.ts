/**
 * Azure Activity Log records as diagnostic settings stream them to Event Hubs (`insights-activity-logs`):
 * the Storage / Event Hubs schema with JWT claims, RBAC evidence and bodies as JSON text. Tests choose the
 * operation, the halves (Start, Accept, Success, Failure) and the bodies.
 */
import type { HubEvent } from '../../src/sources/source-batch.js';

export const SUBSCRIPTION = '8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10';

export function serverResourceId(server: string, tail = ''): string {
  return `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-data/providers/Microsoft.DBforPostgreSQL/flexibleServers/${server}${tail}`;
}

export interface ActivityRecordOptions {
  operation: string;
  resourceId: string;
  status: 'Start' | 'Accept' | 'Success' | 'Failure';
  at: Date;
  correlationId: string;
  upn?: string;
  callerIp?: string;
  requestBody?: unknown;
  responseBody?: unknown;
  category?: string;
}

const SIGNATURES = { Start: 'Started.', Accept: 'Accepted.Created', Success: 'Succeeded.OK', Failure: 'Failed.BadRequest' } as const;
const STATUS_CODES = { Start: undefined, Accept: 'Created', Success: 'OK', Failure: 'BadRequest' } as const;

export function activityRecord(o: ActivityRecordOptions): Record<string, unknown> {
  const upn = o.upn ?? 'mallory@contoso.com';
  const properties: Record<string, unknown> = { eventCategory: 'Administrative', entity: o.resourceId, message: o.operation };
  if (STATUS_CODES[o.status]) properties.statusCode = STATUS_CODES[o.status];
  if (o.requestBody !== undefined) properties.requestbody = JSON.stringify(o.requestBody);
  if (o.responseBody !== undefined) properties.responseBody = JSON.stringify(o.responseBody);
  return {
    time: o.at.toISOString().replace('Z', '0000Z'),
    resourceId: o.resourceId,
    operationName: o.operation,
    category: o.category ?? (o.operation.toLowerCase().endsWith('/delete') ? 'Delete' : o.operation.toLowerCase().endsWith('/action') ? 'Action' : 'Write'),
    resultType: o.status,
    resultSignature: SIGNATURES[o.status],
    durationMs: o.status === 'Start' ? '0' : '1250',
    callerIpAddress: o.callerIp ?? '203.0.113.7',
    correlationId: o.correlationId,
    identity: {
      authorization: { scope: o.resourceId, action: o.operation, evidence: { role: 'Contributor', principalType: 'User' } },
      claims: {
        'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn': upn,
        'http://schemas.microsoft.com/identity/claims/objectidentifier': '5b1e0c47-9f3a-4d2e-8c61-7a0b9e4d3f25',
        name: 'Mallory Moss',
        appid: 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c',
      },
    },
    level: o.status === 'Failure' ? 'Error' : 'Information',
    properties,
  };
}

let correlation = 0;

/** A request's records: Start with the request body, then its outcome (Success by default) without it. */
export function request(o: Omit<ActivityRecordOptions, 'status' | 'correlationId'> & { outcome?: 'Success' | 'Failure' | null; correlationId?: string }): Record<string, unknown>[] {
  const correlationId = o.correlationId ?? `00000000-0000-4000-8000-${String(++correlation).padStart(12, '0')}`;
  const start = activityRecord({ ...o, status: 'Start', correlationId });
  const { requestBody: _requestBody, ...rest } = o;
  const outcome = o.outcome === null ? [] : [activityRecord({ ...rest, status: o.outcome ?? 'Success', correlationId, at: new Date(o.at.getTime() + 20_000) })];
  return [start, ...outcome];
}

let sequence = 0;

/** Event Hubs events as the consumer hands them over: one `{"records":[...]}` body per event. */
export function hubEvents(...bodies: Record<string, unknown>[][]): HubEvent[] {
  return bodies.map((records) => ({ body: { records }, partitionId: '0', sequenceNumber: ++sequence, enqueuedTimeUtc: new Date() }));
}
