/**
 * Findings of one rule in one batch that share a server and dedup key, and lie within the suppression
 * window of each other, become one write: a thousand non-TLS logins of a pooled application cost one
 * SELECT and one UPDATE, not a thousand.
 */
import type { Finding } from './rule.js';

export interface MergedFinding extends Finding {
  samples: Record<string, unknown>[];
}

export function mergeFindings(findings: readonly Finding[], suppressMs: number): MergedFinding[] {
  const byKey = new Map<string, Finding[]>();
  for (const f of findings) {
    const k = `${f.server}\u0000${f.dedupKey}`;
    const list = byKey.get(k);
    if (list) list.push(f);
    else byKey.set(k, [f]);
  }
  const out: MergedFinding[] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => a.at.getTime() - b.at.getTime());
    let current: MergedFinding | null = null;
    for (const f of list) {
      if (current && f.at.getTime() - current.at.getTime() <= suppressMs) {
        const firstAt = f.firstAt ?? f.at;
        if (firstAt < (current.firstAt ?? current.at)) current.firstAt = firstAt;
        current.at = f.at;
        current.count = (current.count ?? 1) + (f.count ?? 1);
        current.increment = (current.increment ?? 1) + (f.increment ?? f.count ?? 1);
        current.samples.push(f.evidence);
        current.changes = [...(current.changes ?? []), ...(f.changes ?? [])];
        // The most severe wins (e.g. SUPERUSER after CREATEROLE for the same key).
        if (f.severity && rank(f.severity) > rank(current.severity)) current.severity = f.severity;
        current.summary = f.summary;
        continue;
      }
      current = { ...f, samples: [f.evidence], count: f.count ?? 1, increment: f.increment ?? f.count ?? 1 };
      out.push(current);
    }
  }
  return out;
}

const RANKS = { low: 0, medium: 1, high: 2, critical: 3 } as const;
function rank(s: keyof typeof RANKS | undefined): number {
  return s === undefined ? -1 : RANKS[s];
}
