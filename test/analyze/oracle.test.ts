/**
 * Oracle: a random workload of role, membership and password statements runs on a real PostgreSQL 15 +
 * pgaudit (pgaudit only, no log_statement: the hardest case, with truncation). The analyzer reads the
 * server's jsonlog, rebuilds the roles, and every attribute it presents as certain must equal the
 * server's own pg_authid / pg_auth_members.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startPostgres, type PgServer } from '../support/postgres-server.js';
import { parseAuditMessage, isAuditMessage } from '../../src/pgaudit/index.js';
import type { ParsedEntry } from '../../src/parse/parsed-entry.js';
import type { LogRecord } from '../../src/contracts/log-record.js';
import { createPrivilegeAnalyzer } from '../../src/analyze/privileges/privilege-analyzer.js';
import { loadStatementParser } from '../../src/analyze/privileges/statement-changes.js';
import { rebuildRoles, type RoleRow } from '../../src/analyze/roles/rebuild-roles.js';

const SEED = Number(process.env.ORACLE_SEED ?? 20261127);

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const names = ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', '"Mixed Case"', '"with space"', 'app_user', 'grp', 'password_admin', 'ro'];
const flags = [['SUPERUSER', 'NOSUPERUSER'], ['CREATEDB', 'NOCREATEDB'], ['CREATEROLE', 'NOCREATEROLE'], ['INHERIT', 'NOINHERIT'], ['LOGIN', 'NOLOGIN'], ['REPLICATION', 'NOREPLICATION'], ['BYPASSRLS', 'NOBYPASSRLS']];

function workload(random: () => number, count: number): string[] {
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)]!;
  const options = (membership: boolean): string => {
    const opts: string[] = [];
    for (const pair of flags) if (random() < 0.3) opts.push(pick(pair));
    if (random() < 0.2) opts.push(`CONNECTION LIMIT ${Math.floor(random() * 10) - 1}`);
    if (random() < 0.2) opts.push("VALID UNTIL '2030-01-01'");
    if (random() < 0.4) opts.push(pick([`PASSWORD 'Pw-${Math.floor(random() * 1e6)}'`, 'PASSWORD NULL', "ENCRYPTED PASSWORD 'md5a3556571e93b0d20722ba62be61e8c2d'"]));
    if (membership && random() < 0.2) opts.push(`IN ROLE ${pick(names)}`);
    if (membership && random() < 0.15) opts.push(`ROLE ${pick(names)}`);
    if (membership && random() < 0.1) opts.push(`ADMIN ${pick(names)}`);
    return opts.sort(() => random() - 0.5).join(' ');
  };
  const statement = (): string => {
    const r = random();
    if (r < 0.3) return `CREATE ${pick(['ROLE', 'USER', 'GROUP'])} ${pick(names)} ${options(true)}`;
    if (r < 0.55) return `ALTER ${pick(['ROLE', 'USER'])} ${pick(names)} ${options(false) || 'NOLOGIN'}`;
    if (r < 0.7) return `GRANT ${pick(names)} TO ${pick(names)}${random() < 0.3 ? ' WITH ADMIN OPTION' : ''}`;
    if (r < 0.8) return `REVOKE ${random() < 0.3 ? 'ADMIN OPTION FOR ' : ''}${pick(names)} FROM ${pick(names)}`;
    if (r < 0.87) return `ALTER ROLE ${pick(names)} RENAME TO ${pick(names)}`;
    return `DROP ROLE ${pick(names)}`;
  };
  const out: string[] = [];
  while (out.length < count) {
    if (random() < 0.12) {
      const body = [statement(), statement()];
      if (random() < 0.4) body.splice(1, 0, 'SELECT 1/0');
      out.push('BEGIN', ...body, pick(['COMMIT', 'ROLLBACK']));
    } else out.push(statement());
  }
  return out.map((s) => `${s};`);
}

function entriesFromJsonlog(text: string): ParsedEntry[] {
  const out: ParsedEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const j = JSON.parse(line) as Record<string, string | number | undefined>;
    const message = String(j.message ?? '');
    const record: LogRecord = {
      server: 'oracle', loggedAt: new Date(String(j.timestamp).replace(' UTC', 'Z').replace(' ', 'T')), sessionId: (j.session_id as string) ?? null,
      pid: Number(j.pid), level: String(j.error_severity), sqlstate: (j.state_code as string) ?? null, message, detail: null, hint: null,
      statement: (j.statement as string) ?? null, userName: (j.user as string) ?? null, databaseName: null, clientAddr: null, clientPort: null,
      applicationName: null, source: 'jsonlog', position: String(j.line_num),
    };
    if (record.level === 'LOG' && isAuditMessage(message)) {
      const audit = parseAuditMessage(message);
      out.push({ kind: 'audit', record, audit, secrets: [], rawStatement: audit.statement });
    } else if (record.level === 'ERROR') out.push({ kind: 'other', record, secrets: [] });
  }
  return out;
}

describe('oracle: rebuilt roles equal the real server', { timeout: 240_000 }, () => {
  let pg: PgServer;
  before(async () => {
    await loadStatementParser();
    pg = await startPostgres({ pgauditLog: 'role,ddl,misc', settings: { log_statement: 'none' } });
  });
  after(async () => {
    await pg?.stop();
  });

  it(`agrees on every attribute it presents as certain (seed ${SEED})`, async (t) => {
    const random = prng(SEED);
    await pg.psql("CREATE ROLE creator LOGIN CREATEROLE PASSWORD 'Creator-pw-1';", { onErrorStop: true });
    await pg.psql(workload(random, 250).join('\n'), { onErrorStop: false });
    await pg.psql(workload(random, 120).join('\n'), { onErrorStop: false, user: 'creator', password: 'Creator-pw-1' });
    await pg.psql(workload(random, 80).join('\n'), { onErrorStop: false });
    await pg.flushLogs();

    const analyzer = createPrivilegeAnalyzer();
    const entries = entriesFromJsonlog(await readFile(pg.logFiles().jsonlog, 'utf8'));
    const changes = entries.flatMap((e) => analyzer.observe(e, { userName: e.record.userName }));
    assert.deepEqual(analyzer.deadLetters(), []);
    const rebuilt = rebuildRoles(changes);

    const client = await pg.connect();
    try {
      const server = (await client.query(`
        SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolconnlimit,
               rolvaliduntil IS NOT NULL AS has_valid_until, rolbypassrls, rolpassword IS NOT NULL AS has_password
        FROM pg_authid WHERE rolname !~ '^pg_' AND rolname <> 'postgres'`)).rows as Record<string, unknown>[];
      const members = (await client.query(`
        SELECT r.rolname AS role_name, m.rolname AS member, a.admin_option
        FROM pg_auth_members a JOIN pg_authid r ON r.oid = a.roleid JOIN pg_authid m ON m.oid = a.member
        WHERE r.rolname !~ '^pg_' AND m.rolname <> 'postgres'`)).rows as { role_name: string; member: string; admin_option: boolean }[];

      const byName = new Map(rebuilt.roles.map((r) => [r.rolname, r]));
      const problems: string[] = [];
      let certainChecked = 0;
      for (const s of server) {
        const name = String(s.rolname);
        const r = byName.get(name);
        if (!r) {
          // Only a role whose very name pgaudit cut (`create role "password…`) may be unknown to the trail.
          if (!name.startsWith('password')) problems.push(`${name}: on the server, not rebuilt`);
          continue;
        }
        const compare: [keyof RoleRow, unknown][] = [
          ['rolsuper', s.rolsuper], ['rolinherit', s.rolinherit], ['rolcreaterole', s.rolcreaterole], ['rolcreatedb', s.rolcreatedb],
          ['rolcanlogin', s.rolcanlogin], ['rolreplication', s.rolreplication], ['rolconnlimit', s.rolconnlimit],
          ['rolbypassrls', s.rolbypassrls], ['has_password', s.has_password], ['rolvaliduntil', s.has_valid_until],
        ];
        for (const [attr, expected] of compare) {
          const value = attr === 'rolvaliduntil' ? (r.rolvaliduntil === null ? (r.created_at ? false : null) : true) : r[attr];
          if (value === null || r.uncertain.includes(attr)) continue;
          certainChecked++;
          if (value !== expected) problems.push(`${name}.${attr}: rebuilt ${String(value)}, server ${String(expected)}`);
        }
      }
      for (const r of rebuilt.roles) {
        if (!server.some((s) => s.rolname === r.rolname)) problems.push(`${r.rolname}: rebuilt, not on the server`);
      }
      const uncertainMembers = (n: string) => byName.get(n)?.uncertain.includes('memberships') ?? true;
      const key = (m: { role_name: string; member: string }) => `${m.role_name} ⊃ ${m.member}`;
      const rebuiltMembers = new Map(rebuilt.memberships.map((m) => [key(m), m]));
      for (const m of members) {
        if (uncertainMembers(m.role_name) || uncertainMembers(m.member)) continue;
        const got = rebuiltMembers.get(key(m));
        if (!got) problems.push(`membership ${key(m)}: on the server, not rebuilt`);
        else if (got.admin_option !== m.admin_option) problems.push(`membership ${key(m)}: admin ${got.admin_option} vs ${m.admin_option}`);
      }
      for (const m of rebuilt.memberships) {
        if (uncertainMembers(m.role_name) || uncertainMembers(m.member)) continue;
        if (!members.some((x) => key(x) === key(m))) problems.push(`membership ${key(m)}: rebuilt, not on the server`);
      }
      t.diagnostic(`${entries.length} entries, ${changes.length} changes (${changes.filter((c) => !c.effective).length} ineffective, ${changes.filter((c) => c.truncated).length} truncated), ${server.length} server roles, ${members.length} memberships, ${certainChecked} certain attributes compared`);
      if (problems.length && process.env.ORACLE_DEBUG) {
        for (const e of entries) t.diagnostic(`E ${e.record.loggedAt.toISOString()} ${e.record.sessionId} ${e.record.level} ${e.kind === 'audit' ? e.audit.command + ': ' + e.audit.statement : e.record.message}`);
        for (const c of changes) if (problems.some((p) => [c.roleName, c.grantee, c.grantedRole, c.value].some((n) => n && p.includes(n)))) t.diagnostic(`${c.loggedAt.toISOString()} ${c.sessionId} ${c.effective ? '' : '(ineffective) '}${c.statement}`);
      }
      assert.deepEqual(problems, []);
      assert.ok(certainChecked > 20, `only ${certainChecked} certain attributes compared`);
      assert.ok(changes.some((c) => !c.effective), 'the workload should include rolled back or aborted changes');
      assert.ok(changes.some((c) => c.truncated), 'the workload should include truncated statements');
    } finally {
      await client.end();
    }
  });
});
