/** Reaching past the database: COPY … PROGRAM (shell commands) and server-file functions. */
import type { ParsedEntry } from '../../parse/parsed-entry.js';
import type { EntryFact } from '../batch-facts.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { actorName, clip, entryEvidence } from './change-evidence.js';

/** Statement text of an audit entry or a logged statement (both redacted); null for other entries. */
function statementOf(entry: ParsedEntry): string | null {
  if (entry.kind === 'audit') return entry.audit.statement;
  if (entry.kind === 'statement') return entry.statement;
  return null;
}

const COPY_PROGRAM = /\bcopy\b[\s\S]*?\b(?:to|from)\s+program\b/i;
/** Functions that read, write or list files on the database server (PostgreSQL core and adminpack). */
const FILE_FUNCTIONS = /\b(pg_read_file|pg_read_binary_file|pg_ls_dir|pg_stat_file|pg_ls_logdir|pg_ls_waldir|pg_ls_tmpdir|pg_ls_archive_statusdir|lo_import|lo_export|pg_file_write|pg_file_rename|pg_file_unlink)\s*\(/i;
/** COPY to or from a server path (a quoted file name, not STDIN/STDOUT/PROGRAM). */
const COPY_FILE = /\bcopy\b[\s\S]*?\b(?:to|from)\s+'/i;
/**
 * What every statement the patterns above match contains (COPY, or a function named pg_… or lo_…). `readsEntry`
 * runs on every audit entry of a trail, most of which (pgbench's SELECT/UPDATE/INSERT) contain none of it: one
 * simple scan rules them out, where the patterns above cost three (issue 21's profile).
 */
const MAY_REACH_SERVER = /copy|pg_|lo_/i;

/** The statement of an entry that may reach past the database, else null. */
function suspectStatementOf(entry: ParsedEntry): string | null {
  const sql = statementOf(entry);
  return sql !== null && MAY_REACH_SERVER.test(sql) ? sql : null;
}

function serverAccessFindings(facts: readonly EntryFact[], match: (sql: string, fact: EntryFact) => string | null, kind: string): Finding[] {
  const findings: Finding[] = [];
  for (const fact of facts) {
    const sql = statementOf(fact.entry);
    if (sql === null) continue;
    const what = match(sql, fact);
    if (what === null) continue;
    const r = fact.entry.record;
    findings.push({
      server: r.server,
      at: r.loggedAt,
      actor: fact.who.userName,
      target: what,
      dedupKey: `${r.sessionId ?? ''}|${what}`,
      summary: `${actorName(fact.who.userName)} ${kind} ${what}`,
      evidence: entryEvidence(fact, { statement: clip(sql) }),
    });
  }
  return findings;
}

export const copyProgram = defineRule({
  id: 'copy-program',
  title: 'COPY … PROGRAM ran a shell command',
  severity: 'critical',
  mitre: 'T1059 Command and Scripting Interpreter',
  trigger: 'a pgaudit entry or logged statement of COPY … TO PROGRAM or COPY … FROM PROGRAM',
  description: 'Runs an operating-system command as the postgres user: the classic step from database to server.',
  config: baseRuleConfig,
  readsEntry: (entry) => COPY_PROGRAM.test(suspectStatementOf(entry) ?? ''),
  evaluate({ facts }) {
    return serverAccessFindings(facts.entries, (sql) => (COPY_PROGRAM.test(sql) ? 'COPY PROGRAM' : null), 'ran');
  },
});

export const serverFileAccess = defineRule({
  id: 'server-file-access',
  title: 'Server files read or written from SQL',
  severity: 'high',
  mitre: 'T1005 Data from Local System',
  trigger: 'pg_read_file, pg_read_binary_file, pg_ls_dir, pg_stat_file, lo_import / lo_export, adminpack file functions, or COPY to/from a server path',
  description: 'Reads configuration, keys or other databases\' files from the server, or plants files on it.',
  config: baseRuleConfig,
  readsEntry: (entry) => {
    const sql = suspectStatementOf(entry);
    return sql !== null && (FILE_FUNCTIONS.test(sql) || COPY_FILE.test(sql));
  },
  evaluate({ facts }) {
    return serverAccessFindings(
      facts.entries,
      (sql) => {
        const fn = FILE_FUNCTIONS.exec(sql);
        if (fn) return fn[1]!.toLowerCase();
        return COPY_FILE.test(sql) && !COPY_PROGRAM.test(sql) ? 'COPY to/from a server file' : null;
      },
      'used',
    );
  },
});
