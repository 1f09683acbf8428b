/** A lake that notes each read, for tests of what a reader or a retention pass reads. */
import type { LakeStorage } from '../../src/lake/index.js';

/** `lake`, noting each read in `reads`: `get <path>` and `list <prefix>`. */
export function readsOf(lake: LakeStorage): LakeStorage & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    description: lake.description,
    ensureReady: () => lake.ensureReady(),
    put: (path, local, sha256) => lake.put(path, local, sha256),
    putText: (path, text) => lake.putText(path, text),
    get: (path) => (reads.push(`get ${path}`), lake.get(path)),
    list: (prefix) => (reads.push(`list ${prefix ?? ''}`), lake.list(prefix)),
  };
}
