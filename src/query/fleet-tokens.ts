/**
 * The fleet's shared token (docs/fleet.md), given as a value (AUDITDUCK_QUERY_API_TOKEN, `queryApi.token`) or
 * as a file (AUDITDUCK_QUERY_API_TOKEN_FILE, `queryApi.tokenFile`: a mounted Kubernetes secret, a file a
 * secret agent writes). The file holds one token, or two during a rotation: the new one, then the previous
 * one. The first is the one sent to peers; a listener accepts both, so instances can be moved to the new
 * token one by one without a restart.
 *
 * `run` reads the file again every few seconds rather than on SIGHUP or through inotify: Kubernetes updates a
 * mounted secret by swapping a symlink and tells nobody, and inotify on the file never sees the swap (the
 * watched file itself is not written). Reading a file of two lines every few seconds costs nothing.
 *
 * No token value ever appears in an error or a log line: only the file and the line.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { MIN_FLEET_TOKEN_CHARS, QUERY_API_TOKEN_ENV, QUERY_API_TOKEN_FILE_ENV } from './fleet-peer.js';

/** How often `run` reads its token file again. */
export const TOKEN_FILE_CHECK_MS = 5_000;

/** The fleet's tokens as a listener and a sender need them. */
export interface FleetTokens {
  /** The token sent to peers (the file's first line). */
  current(): string;
  /** Every token a listener accepts: the current one, and the previous one during a rotation. */
  accepted(): readonly string[];
  close(): void;
}

/** The tokens of a file's text: one or two non-blank lines, each long enough; `file` names it in errors. */
export function parseFleetTokens(text: string, file: string): string[] {
  const lines = text.split(/\r?\n/).map((line, i) => ({ token: line.trim(), line: i + 1 })).filter((l) => l.token !== '');
  if (lines.length === 0) throw new Error(`${file} holds no token: write the fleet's token on its first line (openssl rand -base64 32)`);
  if (lines.length > 2) throw new Error(`${file} holds ${lines.length} tokens: at most two (the new one, then the previous one)`);
  for (const { token, line } of lines) {
    if (token.length < MIN_FLEET_TOKEN_CHARS) throw new Error(`${file}, line ${line}: a token must be at least ${MIN_FLEET_TOKEN_CHARS} characters (openssl rand -base64 32)`);
  }
  return lines.map((l) => l.token);
}

export function readFleetTokens(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the fleet's token file ${file} (${QUERY_API_TOKEN_FILE_ENV}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseFleetTokens(text, file);
}

/**
 * The token `query --fleet`, `serve --fleet` and a peer URL of `fleetPeers` send: AUDITDUCK_QUERY_API_TOKEN, or
 * the first line of AUDITDUCK_QUERY_API_TOKEN_FILE, read at each call so a long-running `serve` follows a rotation.
 */
export function fleetTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[QUERY_API_TOKEN_ENV];
  const file = env[QUERY_API_TOKEN_FILE_ENV];
  if (value && file) throw new Error(`set ${QUERY_API_TOKEN_ENV} or ${QUERY_API_TOKEN_FILE_ENV}, not both`);
  return file ? readFleetTokens(file)[0] : value || undefined;
}

/** A token given as a value: it changes only with a restart. */
export function fixedFleetTokens(token: string): FleetTokens {
  const accepted = [token];
  return { current: () => token, accepted: () => accepted, close: () => undefined };
}

/**
 * The tokens of a file, read now (an unreadable or bad file throws: `run` does not start) and again every
 * `intervalMs`. A version that cannot be read or is not valid (half written, emptied by mistake) is logged and
 * the tokens before it stay.
 */
export function watchFleetTokenFile(file: string, opts: { intervalMs?: number; log: Logger }): FleetTokens {
  let tokens = readFleetTokens(file);
  let lastError: string | null = null;
  const timer = setInterval(() => {
    try {
      const next = readFleetTokens(file);
      lastError = null;
      if (next.length === tokens.length && next.every((token, i) => token === tokens[i])) return;
      tokens = next;
      opts.log.info({ file, tokens: next.length }, `the fleet's token file changed: accepting ${next.length} token${next.length === 1 ? '' : 's'}`);
    } catch (error) {
      const message = (error as Error).message;
      // Once per distinct problem: a file left bad would otherwise log every few seconds.
      if (message !== lastError) opts.log.error({ file }, `${message}; the tokens read before stay accepted`);
      lastError = message;
    }
  }, opts.intervalMs ?? TOKEN_FILE_CHECK_MS);
  timer.unref();
  return { current: () => tokens[0]!, accepted: () => tokens, close: () => clearInterval(timer) };
}
