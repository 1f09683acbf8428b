/**
 * A local HTTPS server that answers like the Logs Query API (POST /v1/workspaces/{id}/query): tables of
 * typed columns, partial results with the service's nested error, throttling with Retry-After, and a hard
 * failure for a chosen window. It reads only the `datetime(...)` bounds and the table name from the KQL.
 * The certificate is self-signed, made with openssl for each run; clients trust it through `agent`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeRow {
  time: Date;
  server: string;
  message: string;
  level: string;
  sqlstate: string;
  pid: number;
  detail?: string;
}

export interface FakeBehaviour {
  /** Answer the next N requests with 429 and Retry-After: 1. */
  throttleNext: number;
  /** A window with more rows than this comes back partial (the first `partialRowLimit` rows). */
  partialRowLimit: number;
  /** Windows starting in [from, to) always come back partial, however small. */
  alwaysPartial?: { from: Date; to: Date };
  /** A window starting at this time fails with 400 (not retried). */
  failWindowStart?: Date;
}

export interface FakeLogsService {
  endpoint: string;
  agent: Agent;
  behaviour: FakeBehaviour;
  /** Window starts of the requests answered with rows (ISO), in order. */
  requests: string[];
  throttled: number;
  tokens: string[];
  close(): Promise<void>;
}

export const RESOURCE_ID = '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/PG-PROD';

function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'auditduck-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const COLUMNS = {
  PGSQLServerLogs: [
    ['TimeGenerated', 'datetime'], ['ResourceId', 'string'], ['LogicalServerName', 'string'], ['Message', 'string'],
    ['ErrorLevel', 'string'], ['SqlErrorCode', 'string'], ['ProcessId', 'int'], ['Detail', 'string'],
  ],
  // AzureDiagnostics keeps processId_d as a real; the KQL projects it to ProcessId.
  AzureDiagnostics: [
    ['TimeGenerated', 'datetime'], ['ResourceId', 'string'], ['LogicalServerName', 'string'], ['Message', 'string'],
    ['ErrorLevel', 'string'], ['SqlErrorCode', 'string'], ['ProcessId', 'real'], ['Detail', 'string'],
  ],
} as const;

export async function startFakeLogsService(data: readonly FakeRow[], behaviour: Partial<FakeBehaviour> = {}): Promise<FakeLogsService> {
  const { key, cert } = selfSignedCertificate();
  const state: FakeLogsService = {
    endpoint: '',
    agent: new Agent({ ca: cert, keepAlive: false }),
    behaviour: { throttleNext: 0, partialRowLimit: Number.POSITIVE_INFINITY, ...behaviour },
    requests: [],
    throttled: 0,
    tokens: [],
    close: async () => undefined,
  };
  const server: Server = createServer({ key, cert }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
        res.end(JSON.stringify(value));
      };
      state.tokens.push(String(req.headers.authorization ?? ''));
      if (!/^\/v1\/workspaces\/[^/]+\/query$/.test(req.url ?? '')) return json(404, { error: { code: 'PathNotFoundError', message: req.url } });
      if (state.behaviour.throttleNext > 0) {
        state.behaviour.throttleNext--;
        state.throttled++;
        return json(429, { error: { code: 'ThrottledError', message: 'Too many requests' } }, { 'retry-after': '1' });
      }
      const { query } = JSON.parse(body) as { query: string };
      const bounds = [...query.matchAll(/datetime\(([^)]+)\)/g)].map((m) => new Date(m[1]!));
      const [start, end] = bounds;
      if (!start || !end) return json(400, { error: { code: 'BadArgumentError', message: 'no time bounds' } });
      if (state.behaviour.failWindowStart?.getTime() === start.getTime()) {
        return json(400, { error: { code: 'BadArgumentError', message: 'The request had some invalid properties', innererror: { code: 'SyntaxError' } } });
      }
      state.requests.push(start.toISOString());
      const table = query.startsWith('AzureDiagnostics') ? 'AzureDiagnostics' : 'PGSQLServerLogs';
      const serverFilter = /=~ '([^']+)'/.exec(query)?.[1];
      const rows = data
        .filter((r) => r.time >= start && r.time < end && (!serverFilter || r.server === serverFilter))
        .map((r) => [r.time.toISOString(), RESOURCE_ID.replace('PG-PROD', r.server.toUpperCase()), r.server, r.message, r.level, r.sqlstate, r.pid, r.detail ?? '']);
      const always = state.behaviour.alwaysPartial;
      const partial = rows.length > state.behaviour.partialRowLimit || (always && start >= always.from && start < always.to);
      const tables = [{ name: 'PrimaryResult', columns: COLUMNS[table].map(([name, type]) => ({ name, type })), rows: partial ? rows.slice(0, Math.min(rows.length >> 1, state.behaviour.partialRowLimit)) : rows }];
      if (!partial) return json(200, { tables });
      return json(200, {
        tables,
        error: {
          code: 'PartialError', message: 'There were some errors when processing your query.',
          details: [{ code: 'EngineError', message: 'Something went wrong processing your query on the server.' }],
          innererror: { code: 'EngineError', message: 'Query result set has exceeded the internal data size limit', innererror: { code: 'E_QUERY_RESULT_SET_TOO_LARGE', message: 'Query result set has exceeded the internal data size limit 8388608 (E_QUERY_RESULT_SET_TOO_LARGE).' } },
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  state.close = () => new Promise<void>((resolve) => {
    state.agent.destroy();
    server.close(() => resolve());
    server.closeAllConnections();
  });
  return state;
}

/** Four hours of one server: every 10 minutes a session is authorized and runs one audited statement. */
export function sessionRows(server = 'pg-prod', from = new Date('2026-11-24T00:00:00Z'), hours = 4): FakeRow[] {
  const rows: FakeRow[] = [];
  for (let k = 0; k < hours * 6; k++) {
    const t = new Date(from.getTime() + k * 600_000);
    const sid = `6b05a553.${(0x100 + k).toString(16)}`;
    const stamp = (d: Date) => `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
    const t2 = new Date(t.getTime() + 1_234);
    rows.push({ time: t, server, level: 'LOG', sqlstate: '00000', pid: 0x100 + k, message: `${stamp(t)}-${sid}-LOG:  connection authorized: user=alice database=appdb application_name=psql` });
    rows.push({ time: t2, server, level: 'LOG', sqlstate: '00000', pid: 0x100 + k, message: `${stamp(t2)}-${sid}-LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,create role r${k},<none>` });
  }
  return rows;
}
