/**
 * Command output as a terminal user reads it: tables cut to the screen's width (or COLUMNS when piped),
 * psql's expanded mode, and a pager when the output is taller than the screen. Programs reading a pipe
 * get everything, uncut and unpaged.
 */
import { spawn } from 'node:child_process';
import { Option } from 'commander';
import { FORMATTERS, type OutputFormat, type Rows, type TableLayout } from '../../query/format-rows.js';

export interface LayoutOptions {
  wide?: boolean;
  expanded?: boolean;
}

/** The options every listing command shares. */
export function withLayoutOptions<C extends { addOption(o: Option): C }>(command: C): C {
  return command.addOption(new Option('--wide', 'do not cut cells to the terminal width')).addOption(new Option('-x, --expanded', 'one field per line (as psql \\x)'));
}

export function tableLayout(opts: LayoutOptions, stdout: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): TableLayout {
  return { width: opts.wide ? Infinity : terminalWidth(stdout, env), expanded: opts.expanded === true };
}

function terminalWidth(stdout: NodeJS.WriteStream, env: NodeJS.ProcessEnv): number {
  if (stdout.isTTY && stdout.columns > 0) return stdout.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : Infinity;
}

export function renderRows(format: OutputFormat, rows: Rows, opts: LayoutOptions): string {
  return format === 'table' ? FORMATTERS.table(rows, tableLayout(opts)) : FORMATTERS[format](rows);
}

/** Writes to stdout, through $PAGER (default `less -FRX`) when stdout is a terminal and the text is taller than it. */
export async function writeOutput(text: string, stdout: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const pager = env.PAGER ?? 'less -FRX';
  const lines = text.split('\n').length - 1;
  if (!stdout.isTTY || lines < (stdout.rows || Infinity) || pager.trim() === '' || pager.trim() === 'cat') {
    stdout.write(text);
    return;
  }
  await new Promise<void>((resolve) => {
    const child = spawn(pager, { shell: true, stdio: ['pipe', 'inherit', 'inherit'] });
    child.on('error', () => {
      stdout.write(text);
      resolve();
    });
    child.on('close', () => resolve());
    child.stdin.on('error', () => undefined); // the reader quit the pager early: EPIPE is expected
    child.stdin.end(text);
  });
}
