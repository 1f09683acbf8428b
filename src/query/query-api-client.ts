/**
 * One request to a query API (src/web/query-api.ts): the local one of the process that holds the store,
 * found through its discovery file, or a fleet peer's on another machine, given by its URL. The bearer token
 * attached, and a refusal turned into an error in that process's words. The token never appears in an error.
 */
import type { ApiDiscovery } from '../contracts/query-api-discovery.js';

export interface QueryApiEndpoint {
  /** Where `api/query` is resolved against: `http://127.0.0.1:PORT/`, or a peer's URL (a reverse proxy may add a path). */
  base: URL;
  token: string;
  /** Who answers, for errors: "process 123 (from x.duckdb.api.json)", "the fleet peer https://...". */
  who: string;
}

export type QueryApiPath = '/api/query' | '/api/alerts/acknowledge';

export function localEndpoint(dbPath: string, api: ApiDiscovery): QueryApiEndpoint {
  const host = api.host.includes(':') && !api.host.startsWith('[') ? `[${api.host}]` : api.host;
  return { base: new URL(`http://${host}:${api.port}/`), token: api.token, who: `process ${api.pid} (from ${dbPath}.api.json)` };
}

export async function postToQueryApi(endpoint: QueryApiEndpoint, path: QueryApiPath, body: object): Promise<Response> {
  const url = new URL(path.slice(1), endpoint.base);
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause?.message;
    throw new Error(`cannot reach the query API of ${endpoint.who} at ${url.href}: ${(error as Error).message}${cause ? ` (${cause})` : ''}`);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    if (response.status === 401) throw new Error(`the query API of ${endpoint.who} refused the token: ${message}`);
    if (response.status === 429) throw new Error(`the query API of ${endpoint.who} refused this machine: ${message}`);
    throw new Error(message);
  }
  return response;
}
