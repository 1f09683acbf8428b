/**
 * Who may see the dashboards. On 127.0.0.1 the machine's users may (as with the store file itself); bound
 * to any other address, a token is required: `Authorization: Bearer <token>`, or `?token=<token>` once in
 * a browser, which sets an HttpOnly cookie and redirects to the same URL without the token.
 *
 * Missing and wrong tokens are limited per client address as the query API's are (token-refusals.ts): ten
 * within a minute, by header, cookie or URL alike, and that address gets 429 for a minute, the right token
 * included. A success resets no count, its own address's neither: behind a NAT, a user's success would
 * otherwise give a guesser at the same address fresh tries at each of the user's visits. Behind the reverse
 * proxies named in `trustedProxies`, the address is the client's they forwarded; otherwise the peer's.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { trustedProxies } from '../client-address.js';
import { coolingOffMessage, TokenRefusals, type TokenRefusalReason } from '../token-refusals.js';

export const UI_TOKEN_ENV = 'AUDITDUCK_UI_TOKEN';
const COOKIE = 'auditduck_ui_token';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * AUDITDUCK_UI_TOKEN wherever it is set, loopback too (a reverse proxy on the same machine forwards the world
 * there); unset, no token on loopback and elsewhere a new one the caller must show the user.
 */
export function resolveUiToken(host: string, env: NodeJS.ProcessEnv = process.env): { token?: string; generated: boolean } {
  const configured = configuredUiToken(env);
  if (configured !== undefined) return { token: configured, generated: false };
  if (isLoopback(host)) return { generated: false };
  return { token: randomBytes(24).toString('base64url'), generated: true };
}

/** The token AUDITDUCK_UI_TOKEN sets, if any. */
export function configuredUiToken(env: NodeJS.ProcessEnv): string | undefined {
  const configured = env[UI_TOKEN_ENV];
  if (configured === undefined || configured === '') return undefined;
  if (configured.length < 16) throw new Error(`${UI_TOKEN_ENV} must be at least 16 characters`);
  return configured;
}

export type TokenCheck = 'ok' | 'answered';

/**
 * Who a request that passed the uiTokenGate is, as recorded in acknowledged_by. The UI has one shared token,
 * so its holder is all it can name; on loopback without a token, any local user of the machine.
 */
export function uiCaller(token: string | undefined): string {
  return token === undefined ? 'web UI, loopback without token' : 'web UI, UI token holder';
}

export interface UiTokenGateOptions {
  /** Undefined on loopback: everything passes, nothing is counted. */
  token: string | undefined;
  /** The redacting logger, for the warnings about refused tokens. */
  log?: Logger;
  /** Each refusal, for `auditduck_ui_refused_total`. */
  onRefused?: (reason: TokenRefusalReason) => void;
  /** The reverse proxies in front of the listener, whose X-Forwarded-For names the client (client-address.ts). */
  trustedProxies?: readonly string[];
}

/** Checks a request before any dashboards route: 'answered' when it already replied (401, 429, or the redirect that drops ?token= from the URL). */
export type UiTokenGate = (req: IncomingMessage, res: ServerResponse, url: URL) => TokenCheck;

export function uiTokenGate(opts: UiTokenGateOptions): UiTokenGate {
  // Compiled even on loopback: a bad entry stops the start whatever the address.
  const proxies = trustedProxies(opts.trustedProxies ?? []);
  const { token } = opts;
  if (token === undefined) return () => 'ok';
  const refusals = new TokenRefusals({ name: 'dashboards', proxies, log: opts.log, onRefused: opts.onRefused });
  return (req, res, url) => {
    const retryAfterSeconds = refusals.coolingOff(req);
    if (retryAfterSeconds !== null) {
      res.writeHead(429, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': String(retryAfterSeconds) });
      res.end(`${coolingOffMessage(retryAfterSeconds)}\n`);
      return 'answered';
    }
    const given = givenTokens(req, url);
    if (given.query !== undefined && same(given.query, token)) {
      const clean = new URL(url);
      clean.searchParams.delete('token');
      res.writeHead(302, {
        location: `${clean.pathname}${clean.search}`,
        'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
      });
      res.end();
      return 'answered';
    }
    if ((given.bearer !== undefined && same(given.bearer, token)) || (given.cookie !== undefined && same(given.cookie, token))) return 'ok';
    const sent = given.query !== undefined || given.bearer !== undefined || given.cookie !== undefined;
    refusals.failed(req, sent ? 'wrong-token' : 'missing-token');
    res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`this auditduck UI needs its token: open the URL printed at start (…?token=…), or send Authorization: Bearer <token> (${UI_TOKEN_ENV})\n`);
    return 'answered';
  };
}

/** The token a request carries in each of the three places; an empty one is none. */
function givenTokens(req: IncomingMessage, url: URL): { query: string | undefined; bearer: string | undefined; cookie: string | undefined } {
  const auth = req.headers.authorization;
  const nonEmpty = (value: string | null | undefined) => (value ? value : undefined);
  return {
    query: nonEmpty(url.searchParams.get('token')),
    bearer: nonEmpty(auth?.startsWith('Bearer ') ? auth.slice(7) : undefined),
    cookie: nonEmpty(cookieValue(req.headers.cookie, COOKIE)),
  };
}

/** Digests are compared, not the strings: equal lengths for timingSafeEqual, so a guess's length leaks nothing. */
function same(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
