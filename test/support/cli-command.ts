/**
 * The command line a test starts `auditduck` with. The compiled CLI (`dist/`, which `npm test` builds before
 * the tests) starts in half the time of the sources through tsx, and the suite starts it hundreds of times.
 * When any source is newer than its compiled file (a lone test file run after an edit), the sources are
 * started through tsx instead, so a test never proves stale code.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function compiledIsCurrent(dir = 'src'): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!compiledIsCurrent(path)) return false;
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const compiled = statSync(join('dist', path.slice('src/'.length).replace(/\.ts$/, '.js')), { throwIfNoEntry: false });
      if (!compiled || compiled.mtimeMs < statSync(path).mtimeMs) return false;
    }
  }
  return true;
}

/** Node's arguments before the CLI's own: `[...CLI, 'ingest', ...]` after `process.execPath`. */
export const CLI: readonly string[] = compiledIsCurrent() ? ['dist/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];
