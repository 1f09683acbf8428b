/**
 * A fleet member on another machine: the query API of its `run`, given as `https://host:port` (or
 * `http://`, for a private network or a TLS proxy on the same machine). Its `run` listens there only with
 * `queryApi.host` set, and then only for the fleet's shared token (docs/fleet.md): every instance of the
 * fleet has it in AUDITDUCK_QUERY_API_TOKEN (or a file, fleet-tokens.ts), and so does the machine that runs
 * `query --fleet`.
 */
import type { QueryApiEndpoint } from './query-api-client.js';

export const QUERY_API_TOKEN_ENV = 'AUDITDUCK_QUERY_API_TOKEN';

/** The same token in a file instead, which may hold the previous one too during a rotation (fleet-tokens.ts). */
export const QUERY_API_TOKEN_FILE_ENV = 'AUDITDUCK_QUERY_API_TOKEN_FILE';

/** A random token of 24 bytes is 32 characters of base64: guessing it over the network is hopeless. */
export const MIN_FLEET_TOKEN_CHARS = 32;

/** A fleet member that names a peer's query API rather than a store file. */
export function isPeerUrl(member: string): boolean {
  return /^https?:\/\//i.test(member);
}

/** The peer's URL checked: http(s), no credentials, query or fragment (the token goes in a header, never a URL). */
export function parsePeerUrl(member: string): URL {
  let url: URL;
  try {
    url = new URL(member);
  } catch {
    throw new Error(`${member} is not a URL: give a fleet peer as https://HOST:PORT (its run's queryApi.host and .port)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${member}: a fleet peer is an http or https URL`);
  if (url.username || url.password) throw new Error(`${member}: put no credentials in a fleet peer's URL; the token comes from ${QUERY_API_TOKEN_ENV}`);
  if (url.search || url.hash) throw new Error(`${member}: a fleet peer's URL takes no query or fragment`);
  // A reverse proxy may publish the API under a path: keep it as the base `api/query` is resolved against.
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/** How a peer is named in `fleet_member`: its host and port (and the proxy's path, if any). */
export function peerName(url: URL): string {
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.host}${path}`;
}

/** The fleet's token, checked as the peers' `run` checks it; `missing` says what needed it and what to set. */
export function fleetToken(token: string | undefined, missing: string): string {
  if (token === undefined || token === '') throw new Error(missing);
  if (token.length < MIN_FLEET_TOKEN_CHARS) throw new Error(`${QUERY_API_TOKEN_ENV} must be at least ${MIN_FLEET_TOKEN_CHARS} characters (openssl rand -base64 32)`);
  return token;
}

/** Why a peer's URL needs the token, and where to put it. */
export function peerNeedsToken(member: string): string {
  return `${member} is the query API of another machine's run: set ${QUERY_API_TOKEN_ENV} to the fleet's token (the one its run was given), or ${QUERY_API_TOKEN_FILE_ENV} to a file holding it`;
}

export function peerEndpoint(member: string, token: string | undefined): QueryApiEndpoint {
  const base = parsePeerUrl(member);
  return { base, token: fleetToken(token, peerNeedsToken(member)), who: `the fleet peer ${base.href}` };
}
