/**
 * One request to the query API of the process that holds the store (src/web/query-api.ts), found through
 * the discovery file: the bearer token attached, and a refusal turned into an error in that process's words.
 */
import type { ApiDiscovery } from '../contracts/query-api-discovery.js';

export async function postToQueryApi(dbPath: string, api: ApiDiscovery, path: '/api/query' | '/api/alerts/acknowledge', body: object): Promise<Response> {
  const url = `http://${api.host}:${api.port}${path}`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (error) {
    throw new Error(`cannot reach the query API of process ${api.pid} at ${url} (from ${dbPath}.api.json): ${(error as Error).message}`);
  }
  if (!response.ok) {
    const text = await response.text();
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(message);
  }
  return response;
}
