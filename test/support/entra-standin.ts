/**
 * Azure's Microsoft Entra functions and `pgaadauth` label provider, stood in for a test server (Azure's own are
 * not public): `entra-standin/pgaadauth_label.c` is compiled against Debian's postgresql-server-dev-15 once per
 * source and server version (cached under the temp directory), loaded through shared_preload_libraries after
 * pgaudit, and `entra-standin/pgaadauth-functions.sql` installs the SECURITY DEFINER functions.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('./entra-standin/', import.meta.url));
const SOURCE = join(HERE, 'pgaadauth_label.c');
export const ENTRA_FUNCTIONS_SQL = readFileSync(join(HERE, 'pgaadauth-functions.sql'), 'utf8');

/**
 * The label provider's shared library, built if needed; returns its path without `.so`, as
 * shared_preload_libraries takes it. The directory is world-readable: the server runs as `postgres`.
 */
export async function entraLabelProvider(binDir: string): Promise<string> {
  const pgConfig = join(binDir, 'pg_config');
  const includeDir = existsSync(pgConfig) ? spawnSync(pgConfig, ['--includedir-server'], { encoding: 'utf8' }).stdout.trim() : '';
  if (!includeDir || !existsSync(join(includeDir, 'postgres.h'))) {
    throw new Error(
      `The pgaadauth label provider stand-in is built against PostgreSQL's server headers, not found (${pgConfig} --includedir-server). ` +
        'Install them with: sudo apt-get install -y postgresql-server-dev-15 (scripts/install-system-deps.sh does)',
    );
  }
  const version = spawnSync(pgConfig, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).update(version).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `auditduck-pgaadauth-${hash}`);
  const library = join(dir, 'pgaadauth_label');
  if (existsSync(`${library}.so`)) return library;
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  // Built beside, then renamed: a concurrent test file never loads a half-written library.
  const partial = `${library}.${process.pid}.tmp.so`;
  const cc = spawnSync('cc', ['-O2', '-fPIC', '-shared', '-Wall', '-I', includeDir, '-o', partial, SOURCE], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`building the pgaadauth label provider stand-in failed (cc exit ${cc.status}): ${cc.stderr || cc.error?.message}`);
  await chmod(partial, 0o755);
  await rename(partial, `${library}.so`);
  return library;
}
