/**
 * Event Hubs bodies shaped like Flexible Server's: sessions that connect, authenticate and are authorised,
 * then mostly READ/WRITE audit lines (pgbench-like), some role statements, failed logins and
 * disconnections, all with Azure's `%t-%c-` prefix. Deterministic for a seed. Used by tests and benchmarks.
 */
const RESOURCE_ID = '/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/BENCH/PROVIDERS/MICROSOFT.DBFORPOSTGRESQL/FLEXIBLESERVERS/';

/** pgbench's TPC-B-like transaction, as pgaudit logs it with `pgaudit.log = 'all'`. */
const PGBENCH_TRANSACTION = [
  ['MISC', 'BEGIN', 'BEGIN;'],
  ['WRITE', 'UPDATE', 'UPDATE pgbench_accounts SET abalance = abalance + -4172 WHERE aid = 48213;'],
  ['READ', 'SELECT', 'SELECT abalance FROM pgbench_accounts WHERE aid = 48213;'],
  ['WRITE', 'UPDATE', 'UPDATE pgbench_tellers SET tbalance = tbalance + -4172 WHERE tid = 7;'],
  ['WRITE', 'UPDATE', 'UPDATE pgbench_branches SET bbalance = bbalance + -4172 WHERE bid = 1;'],
  ['WRITE', 'INSERT', 'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 48213, -4172, CURRENT_TIMESTAMP);'],
  ['MISC', 'COMMIT', 'END;'],
] as const;

const ROLE_STATEMENTS = [
  ['ROLE', 'CREATE ROLE', 'CREATE ROLE report_%n LOGIN PASSWORD <REDACTED>'],
  ['ROLE', 'GRANT', 'GRANT SELECT ON pgbench_accounts TO report_%n;'],
  ['ROLE', 'GRANT ROLE', 'GRANT pg_read_all_data TO report_%n;'],
  ['ROLE', 'ALTER ROLE', 'ALTER ROLE report_%n CONNECTION LIMIT 5;'],
] as const;

export interface SyntheticOptions {
  records: number;
  recordsPerBody?: number;
  servers?: number;
  seed?: number;
  start?: Date;
}

export function* syntheticBodies(opts: SyntheticOptions): Generator<string> {
  const perBody = opts.recordsPerBody ?? 20;
  let batch: object[] = [];
  for (const record of syntheticRecords(opts)) {
    batch.push(record);
    if (batch.length === perBody) {
      yield JSON.stringify({ records: batch });
      batch = [];
    }
  }
  if (batch.length > 0) yield JSON.stringify({ records: batch });
}

export function* syntheticRecords(opts: SyntheticOptions): Generator<object> {
  let seed = opts.seed ?? 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const servers = opts.servers ?? 2;
  let now = (opts.start ?? new Date('2026-11-20T00:00:00Z')).getTime();
  let produced = 0;
  let pid = 10_000;
  while (produced < opts.records) {
    const server = `bench-pg-${Math.floor(random() * servers)}`;
    pid++;
    const sessionId = `${Math.floor(now / 1000).toString(16)}.${pid.toString(16)}`;
    const user = random() < 0.9 ? 'app_user' : 'dba_alice';
    const host = `10.0.0.${Math.floor(random() * 250)}`;
    const port = 40000 + Math.floor(random() * 20000);
    const lines: [string, string][] = [
      ['LOG', `connection received: host=${host} port=${port}`],
      ['LOG', `connection authenticated: identity="${user}" method=scram-sha-256 (/datadrive/pg/data/pg_hba.conf:12)`],
      ['LOG', `connection authorized: user=${user} database=appdb application_name=pgbench SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)`],
    ];
    if (random() < 0.02) {
      lines.splice(1, 2, ['FATAL', `password authentication failed for user "${user}"`]);
    } else {
      // Whole transactions, and between them (for the DBA) now and then a role statement.
      const transactions = 1 + Math.floor(random() * 9);
      let id = 0;
      for (let t = 0; t < transactions; t++) {
        for (const [cls, command, text] of PGBENCH_TRANSACTION) lines.push(['LOG', `AUDIT: SESSION,${++id},1,${cls},${command},,,${csvField(text)},<not logged>`]);
        if (user === 'dba_alice' && random() < 0.5) {
          const [cls, command, text] = ROLE_STATEMENTS[Math.floor(random() * ROLE_STATEMENTS.length)]!;
          lines.push(['LOG', `AUDIT: SESSION,${++id},1,${cls},${command},,,${csvField(text.replace('%n', String(pid)))},<not logged>`]);
        }
      }
      // The client's address and port, as PostgreSQL logs them at disconnection too.
      lines.push(['LOG', `disconnection: session time: 0:00:0${Math.floor(random() * 9)}.${String(Math.floor(random() * 999)).padStart(3, '0')} user=${user} database=appdb host=${host} port=${port}`]);
    }
    for (const [level, text] of lines) {
      if (produced >= opts.records) return;
      now += 1 + Math.floor(random() * 3);
      yield azureRecord(server, sessionId, pid, level, text, now);
      produced++;
    }
  }
}

/** pgaudit quotes a field only when it holds a comma, a quote or a line break. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function azureRecord(server: string, sessionId: string, pid: number, level: string, text: string, millis: number): object {
  const iso = new Date(millis).toISOString();
  const pgTime = `${iso.slice(0, 10)} ${iso.slice(11, 23)} UTC`;
  return {
    properties: {
      timestamp: pgTime,
      processId: pid,
      errorLevel: level,
      sqlerrcode: level === 'FATAL' ? '28P01' : '00000',
      backend_type: 'client backend',
      message: `${pgTime.slice(0, 19)} UTC-${sessionId}-${level}:  ${text}`,
    },
    time: iso,
    resourceId: `${RESOURCE_ID}${server.toUpperCase()}`,
    location: 'westeurope',
    category: 'PostgreSQLLogs',
    operationName: 'LogEvent',
  };
}
