/**
 * Which live servers the snapshot component reads, and how it logs in. The component owns this schema
 * (STYLE.md: each component its own zod schema); `src/config/` only composes it, under `snapshots`.
 *
 * TLS is on and the certificate verified by default (`verify-full`): the only other mode is `require`
 * (encrypted, not verified), for networks where the CA cannot be given. There is no plaintext mode: the
 * connection carries a password or an Entra token.
 */
import { z } from 'zod';
import { parseDuration } from '../contracts/duration.js';

/** Azure Database for PostgreSQL's Entra ID resource: the token's audience. */
export const ENTRA_POSTGRES_SCOPE = 'https://ossrdbms-aad.database.windows.net/.default';

export const SSL_MODES = ['verify-full', 'require'] as const;
export type SslMode = (typeof SSL_MODES)[number];

const passwordEnvAuth = z
  .object({
    kind: z.literal('password-env'),
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).describe('name of the environment variable holding the password (the password itself never goes in a file)'),
  })
  .strict();

const entraAuth = z
  .object({
    kind: z.literal('entra'),
    scope: z.string().default(ENTRA_POSTGRES_SCOPE).describe('token scope; Azure Database for PostgreSQL by default'),
  })
  .strict();

export const watchedServerSchema = z
  .object({
    name: z.string().min(1).describe('the server name as it appears in the logs (the `server` column)'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(5432),
    database: z.string().min(1).default('postgres'),
    user: z.string().min(1).describe('a read-only role: see docs/snapshots.md for the minimal grants'),
    sslmode: z.enum(SSL_MODES).default('verify-full'),
    caFile: z.string().optional().describe('PEM file of the CA that signed the server certificate (verify-full); Node\'s CA list when absent'),
    auth: z.discriminatedUnion('kind', [passwordEnvAuth, entraAuth]),
    connectTimeoutMs: z.number().int().positive().default(10_000),
  })
  .strict();

export const watchedServersSchema = z.array(watchedServerSchema).superRefine((servers, ctx) => {
  const seen = new Set<string>();
  for (const [i, s] of servers.entries()) {
    if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `server "${s.name}" is listed twice` });
    seen.add(s.name);
  }
});

const durationText = z.union([z.number().int().positive(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const ms = parseDuration(v);
  if (ms === null || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${v}" is not a duration (e.g. 15m, 1h)` });
    return z.NEVER;
  }
  return ms;
});

/** The `snapshots` section of the configuration file. */
export const snapshotConfigSchema = z
  .object({
    servers: watchedServersSchema.default([]),
    interval: durationText.default(15 * 60_000).describe('time between snapshots of each server (ms or a duration such as 15m)'),
    passwordMaxAgeDays: z.number().int().positive().default(365).describe('posture: a login role without expiry whose password is older than this is a finding'),
  })
  .strict();

export type WatchedServer = z.infer<typeof watchedServerSchema>;
export type SnapshotConfig = z.infer<typeof snapshotConfigSchema>;
