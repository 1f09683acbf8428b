/**
 * Connecting to a watched server with `pg`: TLS options from the sslmode, the password from the
 * environment or an Entra ID access token (asked for at each connection, cached until shortly before it
 * expires), and every failure turned into one sentence that says what to check. Passwords and tokens
 * are only ever handed to `pg`: never logged, never part of an error.
 */
import { readFileSync } from 'node:fs';
import type { AccessToken, TokenCredential } from '@azure/identity';
import pg from 'pg';
import type { WatchedServer } from './watched-server.js';

/** Ask for a new token this long before the old one expires (Azure's own clients use 5 minutes). */
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

export type PasswordProvider = () => Promise<string>;

/**
 * A password function for `pg` that returns a cached Entra token, refreshed before expiry. `credential`
 * defaults to DefaultAzureCredential (managed identity, workload identity, az login, ...), loaded lazily
 * so that servers using a password never load @azure/identity.
 */
export function entraPasswordProvider(scope: string, credential?: TokenCredential, now: () => number = Date.now): PasswordProvider {
  let cached: AccessToken | null = null;
  let pending: Promise<AccessToken> | null = null;
  let resolved: TokenCredential | undefined = credential;
  const fetchToken = async (): Promise<AccessToken> => {
    if (!resolved) {
      const { DefaultAzureCredential } = await import('@azure/identity');
      resolved = new DefaultAzureCredential();
    }
    const token = await resolved.getToken(scope);
    if (!token) throw new Error(`the Entra credential returned no token for ${scope}`);
    return token;
  };
  return async () => {
    const t = now();
    const refreshAt = cached ? Math.min(cached.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_MS, cached.refreshAfterTimestamp ?? Infinity) : -Infinity;
    if (cached && t < refreshAt) return cached.token;
    pending ??= fetchToken().finally(() => (pending = null));
    try {
      cached = await pending;
    } catch (error) {
      // A token that is still valid beats no connection while the identity endpoint hiccups.
      if (cached && t < cached.expiresOnTimestamp - 30_000) return cached.token;
      throw new Error(`getting a Microsoft Entra token failed: ${(error as Error).message}`);
    }
    return cached.token;
  };
}

export interface ConnectDeps {
  /** For Entra servers: the credential (tests pass a stub); DefaultAzureCredential otherwise. */
  credential?: TokenCredential;
  env?: NodeJS.ProcessEnv;
}

/** One password provider per server, so each keeps its token cache across snapshots. */
export function passwordFor(server: WatchedServer, deps: ConnectDeps = {}): PasswordProvider {
  const auth = server.auth;
  switch (auth.kind) {
    case 'password-env': {
      const env = deps.env ?? process.env;
      return async () => {
        const value = env[auth.env];
        if (value === undefined || value === '') {
          throw new Error(`the environment variable ${auth.env} (the password of ${server.user} on ${server.name}) is not set`);
        }
        return value;
      };
    }
    case 'entra':
      return entraPasswordProvider(auth.scope, deps.credential);
    default:
      return auth satisfies never;
  }
}

export function clientConfig(server: WatchedServer, password: PasswordProvider): pg.ClientConfig {
  const ssl =
    server.sslmode === 'verify-full'
      ? { rejectUnauthorized: true, servername: isIp(server.host) ? undefined : server.host, ...(server.caFile ? { ca: readFileSync(server.caFile, 'utf8') } : {}) }
      : { rejectUnauthorized: false };
  return {
    host: server.host,
    port: server.port,
    database: server.database,
    user: server.user,
    password,
    ssl,
    application_name: 'auditduck-snapshot',
    connectionTimeoutMillis: server.connectTimeoutMs,
    // A snapshot is a handful of catalog reads: anything slower is a stuck server.
    statement_timeout: 30_000,
    query_timeout: 35_000,
  };
}

export class ServerConnectError extends Error {
  constructor(
    readonly server: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot snapshot ${server}: ${reason}`, options);
  }
}

/** Connects, or throws a ServerConnectError whose reason says what to check. */
export async function connectToServer(server: WatchedServer, password: PasswordProvider): Promise<pg.Client> {
  let config: pg.ClientConfig;
  try {
    config = clientConfig(server, password);
  } catch (error) {
    throw new ServerConnectError(server.name, `cannot read the CA file ${server.caFile}: ${(error as Error).message}`, { cause: error });
  }
  const client = new pg.Client(config);
  // A connection lost later must not become an unhandled 'error' event that ends the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new ServerConnectError(server.name, explainConnectError(server, error as Error & { code?: string }), { cause: error });
  }
}

/** Error codes (Node's and PostgreSQL's SQLSTATEs) to what a person should check. */
const CONNECT_REASONS: Readonly<Record<string, (s: WatchedServer, e: Error) => string>> = {
  ECONNREFUSED: (s) => `connection refused by ${s.host}:${s.port}: the server is down, or not listening on that port`,
  ENOTFOUND: (s) => `the host name ${s.host} does not resolve`,
  EAI_AGAIN: (s) => `the host name ${s.host} could not be resolved (DNS unavailable)`,
  ETIMEDOUT: (s) => `no answer from ${s.host}:${s.port}: a firewall rule or network path blocks it`,
  EHOSTUNREACH: (s) => `${s.host} is unreachable from here`,
  ECONNRESET: (s) => `${s.host}:${s.port} closed the connection during the handshake`,
  '28P01': (s) => `password authentication failed for user ${s.user}: ${s.auth.kind === 'entra' ? 'the Entra token was refused (is the identity a PostgreSQL Entra role?)' : `check the password in $${s.auth.kind === 'password-env' ? s.auth.env : ''}`}`,
  '28000': (s, e) => `the server refused ${s.user}: ${e.message} (pg_hba.conf / firewall rules, or the role cannot log in)`,
  '3D000': (s) => `database ${s.database} does not exist on ${s.name}`,
  '53300': () => 'the server has no free connection slots',
  '57P03': () => 'the server is starting up or shutting down',
  DEPTH_ZERO_SELF_SIGNED_CERT: (s) => tlsReason(s, 'the server certificate is self-signed'),
  SELF_SIGNED_CERT_IN_CHAIN: (s) => tlsReason(s, 'the certificate chain ends in an unknown self-signed CA'),
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: (s) => tlsReason(s, 'the issuer of the server certificate is not trusted'),
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: (s) => tlsReason(s, 'the issuer of the server certificate is not trusted'),
  CERT_HAS_EXPIRED: (s) => tlsReason(s, 'the server certificate has expired'),
  ERR_TLS_CERT_ALTNAME_INVALID: (s) => tlsReason(s, `the server certificate is not for ${s.host}`),
};

function tlsReason(_server: WatchedServer, what: string): string {
  return `TLS verification failed: ${what}. Give the CA with "caFile" (for Azure: the DigiCert Global Root G2 and Microsoft RSA Root CA 2017 bundle), or set sslmode "require" to encrypt without verifying`;
}

export function explainConnectError(server: WatchedServer, error: Error & { code?: string }): string {
  const known = error.code ? CONNECT_REASONS[error.code] : undefined;
  if (known) return known(server, error);
  if (/does not support SSL/i.test(error.message)) return `${server.host}:${server.port} does not offer TLS, and auditduck never sends credentials in plain text`;
  if (/timeout/i.test(error.message)) return `no answer from ${server.host}:${server.port} within ${server.connectTimeoutMs} ms: a firewall rule or network path blocks it, or the server is overloaded`;
  if (/Entra token|environment variable/.test(error.message)) return error.message;
  return `${error.message}${error.code ? ` (${error.code})` : ''}`;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
