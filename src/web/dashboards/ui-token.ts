/**
 * Who may see the dashboards. On 127.0.0.1 the machine's users may (as with the store file itself); bound
 * to any other address, a token is required: `Authorization: Bearer <token>`, or `?token=<token>` once in
 * a browser, which sets an HttpOnly cookie and redirects to the same URL without the token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const UI_TOKEN_ENV = 'AUDITDUCK_UI_TOKEN';
const COOKIE = 'auditduck_ui_token';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** No token on loopback; elsewhere AUDITDUCK_UI_TOKEN, or a new one the caller must show the user. */
export function resolveUiToken(host: string, env: NodeJS.ProcessEnv = process.env): { token?: string; generated: boolean } {
  if (isLoopback(host)) return { generated: false };
  const configured = env[UI_TOKEN_ENV];
  if (configured !== undefined && configured !== '') {
    if (configured.length < 16) throw new Error(`${UI_TOKEN_ENV} must be at least 16 characters`);
    return { token: configured, generated: false };
  }
  return { token: randomBytes(24).toString('base64url'), generated: true };
}

export type TokenCheck = 'ok' | 'answered';

/**
 * Who a request that passed checkUiToken is, as recorded in acknowledged_by. The UI has one shared token,
 * so its holder is all it can name; on loopback without a token, any local user of the machine.
 */
export function uiCaller(token: string | undefined): string {
  return token === undefined ? 'web UI, loopback without token' : 'web UI, UI token holder';
}

/** 'answered' when it already replied (401, or the redirect that drops ?token= from the URL). */
export function checkUiToken(req: IncomingMessage, res: ServerResponse, url: URL, token: string | undefined): TokenCheck {
  if (token === undefined) return 'ok';
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null && same(fromQuery, token)) {
    const clean = new URL(url);
    clean.searchParams.delete('token');
    res.writeHead(302, {
      location: `${clean.pathname}${clean.search}`,
      'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
    });
    res.end();
    return 'answered';
  }
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && same(auth.slice(7), token)) return 'ok';
  const cookie = cookieValue(req.headers.cookie, COOKIE);
  if (cookie !== undefined && same(cookie, token)) return 'ok';
  res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`this auditduck UI needs its token: open the URL printed at start (…?token=…), or send Authorization: Bearer <token> (${UI_TOKEN_ENV})\n`);
  return 'answered';
}

function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
