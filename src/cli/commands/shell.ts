import { appendFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { Command } from 'commander';
import { FORMATTERS, OUTPUT_FORMATS, type OutputFormat } from '../../query/format-rows.js';
import type { QueryTarget } from '../../query/query-target.js';
import { openReadTarget, withLakeOptions, type ReadTargetOptions } from '../read-target.js';
import { loadSavedQueries, parseParamAssignments, resolveParams, type SavedQuery } from '../../query/saved-queries.js';

/**
 * An interactive, read-only SQL prompt. SQL runs when a line ends with `;`. Backslash commands:
 *   \d            list tables          \d TABLE     its columns
 *   \q NAME k=v   run a saved query    \q           list saved queries
 *   \format F     table, csv or json   \quit        leave (as does Ctrl-D)
 * Tab completes table and column names, saved query names and backslash commands. History is kept in
 * $AUDITDUCK_HISTORY or ~/.auditduck_history. While `auditduck run` holds the store, it goes through its API.
 */
export const shellCommand = withLakeOptions(new Command('shell'))
  .description('interactive read-only SQL prompt over the store, with history, completion and the saved queries as \\i NAME; as in psql \\q, \\x, \\dt, \\d TABLE and \\?')
  .option('--db <file>', 'DuckDB store (default: $AUDITDUCK_DB or ./auditduck.duckdb)')
  .action(async (opts: ReadTargetOptions) => {
    const target = await openReadTarget(opts);
    try {
      await runShell(target, process.stdin, process.stdout, process.stderr);
    } finally {
      await target.close();
    }
  });

export interface Vocabulary {
  tables: Map<string, string[]>;
  /** `table.column` → its DuckDB type, for \\d TABLE. */
  types?: Map<string, string>;
  savedQueries: SavedQuery[];
}

const COMMANDS = ['\\d', '\\dt', '\\i', '\\x', '\\q', '\\format', '\\quit', '\\help', '\\?'];
const KEYWORDS = ['SELECT', 'FROM', 'WHERE', 'GROUP BY', 'ORDER BY', 'LIMIT', 'JOIN', 'COUNT(*)', 'DESCRIBE', 'SUMMARIZE', 'EXPLAIN'];

/** readline's completer: the last word of the line against what fits where it stands. */
export function completeLine(line: string, vocab: Vocabulary): [string[], string] {
  const word = /[^\s,()]*$/.exec(line)?.[0] ?? '';
  let candidates: string[];
  if (/^\\i\s+\S*$/.test(line)) candidates = vocab.savedQueries.map((q) => q.name);
  else if (/^\\i\s+\S+\s/.test(line)) {
    const q = vocab.savedQueries.find((s) => s.name === line.split(/\s+/)[1]);
    candidates = (q?.params ?? []).map((p) => `${p.name}=`);
  } else if (/^\\d\s+\S*$/.test(line)) candidates = [...vocab.tables.keys()];
  else if (line.startsWith('\\') && !/\s/.test(line)) candidates = COMMANDS;
  else if (word.includes('.')) {
    const [table, prefix = ''] = word.split('.', 2) as [string, string?];
    candidates = (vocab.tables.get(table) ?? []).filter((c) => c.startsWith(prefix)).map((c) => `${table}.${c}`);
  } else candidates = [...vocab.tables.keys(), ...new Set([...vocab.tables.values()].flat()), ...KEYWORDS];
  const lower = word.toLowerCase();
  const hits = [...new Set(candidates)].filter((c) => c.toLowerCase().startsWith(lower)).sort();
  return [hits, word];
}

export async function loadVocabulary(target: QueryTarget): Promise<Vocabulary> {
  const { rows } = await target.run(
    `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position`,
  );
  const tables = new Map<string, string[]>();
  const types = new Map<string, string>();
  for (const r of rows) {
    const t = String(r.table_name);
    if (!tables.has(t)) tables.set(t, []);
    tables.get(t)!.push(String(r.column_name));
    types.set(`${t}.${String(r.column_name)}`, String(r.data_type));
  }
  return { tables, types, savedQueries: loadSavedQueries() };
}

function historyPath(): string {
  return process.env.AUDITDUCK_HISTORY ?? join(homedir(), '.auditduck_history');
}

function readHistory(path: string): string[] {
  try {
    // readline wants newest first.
    return readFileSync(path, 'utf8').split('\n').filter(Boolean).reverse().slice(0, 1000);
  } catch {
    return [];
  }
}

export async function runShell(target: QueryTarget, input: NodeJS.ReadableStream, output: NodeJS.WritableStream, errors: NodeJS.WritableStream): Promise<void> {
  const vocab = await loadVocabulary(target);
  const interactive = Boolean((input as { isTTY?: boolean }).isTTY);
  const history = historyPath();
  const rl: Interface = createInterface({
    input,
    output,
    terminal: interactive,
    history: readHistory(history),
    historySize: 1000,
    completer: (line: string) => completeLine(line, vocab),
  });
  let format: OutputFormat = 'table';
  let expanded = false;
  let buffer = '';
  const say = (text: string) => output.write(text.endsWith('\n') ? text : `${text}\n`);
  const prompt = () => {
    if (interactive) {
      rl.setPrompt(buffer ? '      ...> ' : `auditduck${target.via === 'api' ? '(live)' : ''}> `);
      rl.prompt();
    }
  };
  if (interactive) say(`read-only SQL over the store${target.via === 'api' ? ' (through the running auditduck)' : ''}; end statements with ;  \\help for commands`);
  prompt();

  for await (const raw of rl) {
    const line = raw.trim();
    try {
      appendFileSync(history, `${raw.replace(/\n/g, ' ')}\n`, { mode: 0o600 });
    } catch {
      // a read-only home is no reason to stop the shell
    }
    try {
      if (!buffer && line.startsWith('\\')) {
        const [command, ...args] = line.split(/\s+/);
        if (command === '\\q' || command === '\\quit' || command === '\\exit') break;
        if (command === '\\help' || command === '\\?') say(HELP);
        else if (command === '\\format') {
          if (!(OUTPUT_FORMATS as readonly string[]).includes(args[0] ?? '')) throw new Error(`\\format takes one of ${OUTPUT_FORMATS.join(', ')}`);
          format = args[0] as OutputFormat;
        } else if (command === '\\x') {
          expanded = !expanded;
          say(`Expanded display is ${expanded ? 'on' : 'off'}.`);
        } else if (command === '\\d' || command === '\\dt') say(describe(vocab, command === '\\dt' ? undefined : args[0], format, expanded));
        else if (command === '\\i') {
          if (!args[0]) say(vocab.savedQueries.map((q) => `${q.name.padEnd(28)}${q.description.slice(0, 90)}`).join('\n'));
          else {
            const saved = vocab.savedQueries.find((q) => q.name === args[0]);
            if (!saved) throw new Error(`no saved query "${args[0]}"; \\i lists them`);
            say(FORMATTERS[format](await target.run(saved.sql, resolveParams(saved, parseParamAssignments(args.slice(1)))), { expanded }));
          }
        } else throw new Error(`unknown command ${command}; \\help lists them`);
      } else if (line) {
        buffer = buffer ? `${buffer}\n${raw}` : raw;
        if (line.endsWith(';')) {
          const sql = buffer;
          buffer = '';
          say(FORMATTERS[format](await target.run(sql), { expanded }));
        }
      }
    } catch (error) {
      buffer = '';
      errors.write(`error: ${(error as Error).message}\n`);
    }
    prompt();
  }
  rl.close();
}

function describe(vocab: Vocabulary, table: string | undefined, format: OutputFormat, expanded: boolean): string {
  if (!table) return FORMATTERS[format]({ columns: ['table'], rows: [...vocab.tables.keys()].map((t) => ({ table: t })) }, { expanded });
  const columns = vocab.tables.get(table);
  if (!columns) throw new Error(`no table ${table}; \\dt lists them`);
  const rows = columns.map((c) => ({ column: c, type: vocab.types?.get(`${table}.${c}`) ?? null }));
  return FORMATTERS[format]({ columns: ['column', 'type'], rows }, { expanded });
}

const HELP = `\\dt, \\d         list tables
\\d TABLE        list a table's columns and their types
\\i              list saved queries (psql's \\i runs a file: these are the files of queries/)
\\i NAME k=v ... run a saved query with parameters
\\x              expanded display on/off (one field per line)
\\format F       output as table, csv or json
\\q, \\quit       leave (or Ctrl-D)
\\?              this help
SQL runs when a line ends with ;  (read-only: SELECT, WITH, SHOW, DESCRIBE, EXPLAIN)`;
