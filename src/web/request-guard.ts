/**
 * Checks every request makes before any route sees it, against DNS rebinding and cross-site requests:
 *
 * - `Host` must name this server: a loopback name, the bound address, one of the machine's own addresses
 *   or its host name when bound to all of them, or a name in AUDITDUCK_HTTP_ALLOWED_HOSTS (comma-separated;
 *   `*` turns the check off, for a proxy that rewrites nothing). A page on evil.example whose name was
 *   re-pointed at 127.0.0.1 sends `Host: evil.example` and gets 403.
 * - `Origin`, when a browser sends one, must be this same host: another site's page, or a sandboxed or
 *   file:// one (`Origin: null`), gets 403.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';

export const ALLOWED_HOSTS_ENV = 'AUDITDUCK_HTTP_ALLOWED_HOSTS';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARD = new Set(['', '0.0.0.0', '::', '[::]']);

/** The host names a request may carry, or 'any'. */
export type AllowedHosts = ReadonlySet<string> | 'any';

export function allowedHosts(bindHost: string, env: NodeJS.ProcessEnv = process.env): AllowedHosts {
  const extra = (env[ALLOWED_HOSTS_ENV] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  if (extra.includes('*')) return 'any';
  const names = new Set([...LOOPBACK_NAMES, ...extra]);
  const bound = unbracket(bindHost.toLowerCase());
  if (WILDCARD.has(bound)) {
    names.add(hostname().toLowerCase());
    for (const addresses of Object.values(networkInterfaces())) for (const a of addresses ?? []) names.add(a.address.toLowerCase());
  } else names.add(bound);
  return names;
}

/** The host name of a Host header or an origin's authority, without port or IPv6 brackets. */
export function hostOf(authority: string): string {
  const s = authority.trim().toLowerCase();
  if (s.startsWith('[')) return s.slice(1, s.indexOf(']') === -1 ? undefined : s.indexOf(']'));
  return s.replace(/:\d*$/, '');
}

export type GuardVerdict = { ok: true } | { ok: false; reason: string };

export function checkRequest(headers: IncomingMessage['headers'], allowed: AllowedHosts): GuardVerdict {
  const host = headers.host;
  if (!host) return { ok: false, reason: 'the request has no Host header' };
  if (allowed !== 'any' && !isAllowed(hostOf(host), allowed)) {
    return { ok: false, reason: `Host "${host}" is not a name of this server (add it to ${ALLOWED_HOSTS_ENV} if it is)` };
  }
  const origin = headers.origin;
  if (origin !== undefined && !sameOrigin(origin, host)) return { ok: false, reason: `cross-origin request refused (Origin: ${origin})` };
  return { ok: true };
}

/** Answers 403 and returns false when the request fails the checks; `true` lets it through. */
export function guardRequest(req: IncomingMessage, res: ServerResponse, allowed: AllowedHosts): boolean {
  const verdict = checkRequest(req.headers, allowed);
  if (verdict.ok) return true;
  const body = JSON.stringify({ error: verdict.reason });
  res.writeHead(403, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  return false;
}

function isAllowed(name: string, allowed: ReadonlySet<string>): boolean {
  return allowed.has(name) || /^127\.\d+\.\d+\.\d+$/.test(name);
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host;
  } catch {
    return false; // `null`, or anything that is not an origin
  }
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
