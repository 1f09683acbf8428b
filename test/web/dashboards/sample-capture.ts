/**
 * What the capture in samples/eventhubs holds, read straight from its records with regular expressions:
 * counts the browser tests compare the pages against, known without the pipeline or the store.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const SAMPLE_FILES = ['samples/eventhubs/partition-0.jsonl', 'samples/eventhubs/partition-1.jsonl'];

export interface CaptureFacts {
  /** One per pgaudit line: when (the record's millisecond timestamp), its session (%c), its class. */
  auditEvents: { at: string; session: string; class: string }[];
  failedLogins: { at: string; user: string }[];
  /** One per "connection authorized" line: the session (%c) and its user. */
  sessions: { session: string; user: string }[];
}

interface Envelope {
  records: { properties: { timestamp: string; message: string } }[];
}

/** The audit events of each session, busiest first. */
export function eventsBySession(facts: CaptureFacts): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of facts.auditEvents) counts.set(e.session, (counts.get(e.session) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** `2026-11-27 02:20:30.729 UTC` → ISO. */
function isoOf(timestamp: string): string {
  return new Date(timestamp.replace(' UTC', 'Z').replace(' ', 'T')).toISOString();
}

export function readCapture(files = SAMPLE_FILES): CaptureFacts {
  const facts: CaptureFacts = { auditEvents: [], failedLogins: [], sessions: [] };
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      for (const { properties: p } of (JSON.parse(line) as Envelope).records) {
        const audit = /^\S+ \S+ UTC-([0-9a-f]+\.[0-9a-f]+)-LOG: {2}AUDIT: SESSION,\d+,\d+,([A-Z]+),/.exec(p.message);
        if (audit) facts.auditEvents.push({ at: isoOf(p.timestamp), session: audit[1]!, class: audit[2]! });
        const failed = /FATAL: {2}password authentication failed for user "([^"]+)"/.exec(p.message);
        if (failed) facts.failedLogins.push({ at: isoOf(p.timestamp), user: failed[1]! });
        const authorized = /^\S+ \S+ UTC-([0-9a-f]+\.[0-9a-f]+)-LOG: {2}connection authorized: user=(\S+)/.exec(p.message);
        if (authorized) facts.sessions.push({ session: authorized[1]!, user: authorized[2]! });
      }
    }
  }
  return facts;
}

/**
 * The capture cut in `count` files of consecutive bodies in `dir` (`part-N.jsonl`): two stores that ingest
 * overlapping runs of them hold the same (source, position) for the parts both read, as a fleet does for a
 * batch read twice around a takeover.
 */
export async function writeCaptureParts(dir: string, count: number): Promise<string[]> {
  const lines = SAMPLE_FILES.flatMap((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean));
  const parts: string[] = [];
  for (let p = 0; p < count; p++) {
    const file = join(dir, `part-${p}.jsonl`);
    await writeFile(file, lines.filter((_, i) => Math.floor((i * count) / lines.length) === p).join('\n') + '\n');
    parts.push(file);
  }
  return parts;
}
