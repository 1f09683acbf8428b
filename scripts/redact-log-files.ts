/**
 * Passes PostgreSQL's own log files (stderr, csvlog, jsonlog) through a redactor, record by record, while
 * keeping every record the redactor does not change byte for byte as the server wrote it. Used by
 * scripts/capture-samples.ts, which must not publish the passwords PostgreSQL and pgaudit leave in clear.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import type { JsonlogRecord } from './azure-envelope.js';

export type Redact = (text: string) => { text: string } | Promise<{ text: string }>;

/** A field as csvlog writes text: in double quotes, inner quotes doubled. */
function quotedCsv(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/**
 * csvlog, field by field. A changed field is swapped inside the record's raw text, so everything else stays
 * byte for byte as the server wrote it (csvlog tells a NULL from an empty string only by its quotes).
 */
export async function redactCsvlog(text: string, redact: Redact): Promise<string> {
  const records = parseCsv(text, { raw: true, relax_column_count: true }) as unknown as Array<{ record: string[]; raw: string }>;
  const out: string[] = [];
  for (const { record, raw } of records) {
    let line = raw.endsWith('\n') ? raw : `${raw}\n`;
    for (const field of record) {
      const redacted = (await redact(field)).text;
      if (redacted === field) continue;
      if (!line.includes(quotedCsv(field))) throw new Error('csvlog: a field to redact is not a quoted text field; cannot redact it in place');
      line = line.split(quotedCsv(field)).join(quotedCsv(redacted));
    }
    out.push(line);
  }
  return out.join('');
}

export async function redactJsonlog(text: string, redact: Redact): Promise<{ text: string; records: JsonlogRecord[] }> {
  const records: JsonlogRecord[] = [];
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const record = JSON.parse(line) as JsonlogRecord;
    let changed = false;
    for (const [key, value] of Object.entries(record)) {
      if (typeof value !== 'string') continue;
      const redacted = (await redact(value)).text;
      if (redacted !== value) {
        record[key] = redacted;
        changed = true;
      }
    }
    records.push(record);
    lines.push(changed ? JSON.stringify(record) : line);
  }
  return { text: lines.map((line) => `${line}\n`).join(''), records };
}

/**
 * stderr, one log entry at a time: an entry is its first line plus the tab-indented lines that continue it
 * (a multi-line statement), so the redactor sees a whole statement, not a fragment of one.
 */
export async function redactStderr(text: string, redact: Redact): Promise<string> {
  const entries: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('\t') && entries.length > 0) entries[entries.length - 1] += `\n${line}`;
    else entries.push(line);
  }
  const redacted = await Promise.all(entries.map(async (entry) => (await redact(entry)).text));
  return redacted.join('\n');
}

/** Stops the run if a scenario password survived redaction anywhere. Names the file, never the password. */
export function assertNoSecrets(files: Map<string, string>, secrets: string[]): void {
  for (const [path, content] of files) {
    secrets.forEach((secret, index) => {
      if (content.includes(secret)) {
        throw new Error(`fake password #${index + 1} of the scenario survived redaction in ${path}; fix redactSecrets before committing samples. Nothing was written.`);
      }
    });
  }
}

