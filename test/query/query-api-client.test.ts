import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { postToQueryApi } from '../../src/query/query-api-client.js';

describe('query API client', () => {
  let server: Server;
  let base: URL;
  const token = 't'.repeat(40);
  before(async () => {
    server = createServer((req, res) => {
      const [status, error] = req.url === '/cooling/api/query' ? [429, 'too many missing or wrong tokens from your address: retry after 42 s'] : [401, 'missing or wrong bearer token'];
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '42' } : {}) });
      res.end(JSON.stringify({ error }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('a 429 names the peer and when to retry; a 401 says the token was refused; neither shows the token', async () => {
    const cooling = { base: new URL('cooling/', base), token, who: 'the fleet peer X' };
    await assert.rejects(postToQueryApi(cooling, '/api/query', { sql: 'SELECT 1' }), (error: Error) => {
      assert.match(error.message, /^the query API of the fleet peer X refused this machine: too many missing or wrong tokens from your address: retry after 42 s$/);
      return !error.message.includes(token);
    });
    await assert.rejects(postToQueryApi({ base, token, who: 'the fleet peer Y' }, '/api/query', { sql: 'SELECT 1' }), /^Error: the query API of the fleet peer Y refused the token: missing or wrong bearer token$/);
  });
});
