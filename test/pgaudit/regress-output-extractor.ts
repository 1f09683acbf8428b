/**
 * Pulls the AUDIT entries out of a pgaudit regression output (psql `NOTICE:  AUDIT: ...` lines mixed with
 * SQL input and query results). A quoted field left open at the end of a line continues on the next
 * lines, joined with `\n`, exactly as the server sent it. Independent of the parser under test.
 */
export interface ExtractedEntry {
  /** 1-based line of the file where the entry starts. */
  line: number;
  /** From `AUDIT: ` to the end of the entry. */
  text: string;
}

const MARK = 'AUDIT: ';

export function extractAuditEntries(output: string): ExtractedEntry[] {
  const lines = output.split('\n');
  const entries: ExtractedEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const at = lines[i]!.indexOf(MARK);
    if (at === -1) continue;
    const start = i;
    let text = lines[i]!.slice(at);
    // Each quote flips the state; a doubled quote flips it twice, so the state is right at line end.
    let open = countQuotes(text) % 2 === 1;
    while (open) {
      i++;
      if (i >= lines.length) throw new Error(`quoted field opened on line ${start + 1} never closes`);
      text += '\n' + lines[i]!;
      open = (countQuotes(lines[i]!) % 2 === 1) !== open;
    }
    entries.push({ line: start + 1, text });
  }
  return entries;
}

function countQuotes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 0x22) n++;
  return n;
}
