/**
 * Redaction throughput: every stored text column passes through redactSecrets, so the common row
 * (no secret hint) must cost about one regex test. Target: >= 150k rows/s on the mixed workload.
 * Baseline in the same run: a bare `toLowerCase().includes('password')` per row.
 * Run: node --import tsx bench/redact-secrets.bench.ts
 */
import { redactSecrets } from '../src/redact/index.js';

const COMMON = [
  'duration: 0.412 ms  statement: select * from orders where customer_id = 42',
  'AUDIT: SESSION,12,1,READ,SELECT,TABLE,public.orders,"select * from orders where id = $1",<not logged>',
  'connection authorized: user=app database=shop application_name=psql SSL enabled (protocol=TLSv1.3)',
  'disconnection: session time: 0:00:01.234 user=app database=shop host=10.0.0.4 port=51234',
];
const SECRET = [
  "statement: ALTER ROLE app_user WITH PASSWORD 'Sup3r$ecret!' VALID UNTIL 'infinity'",
  "AUDIT: SESSION,3,1,FUNCTION,DO,,,\"do $$ begin execute 'create role x login password ''hunter2'''; end $$\",<none>",
];
/** One row in 1,000 holds a secret, which is generous for a production trail. */
const rows = Array.from({ length: 100_000 }, (_, i) => (i % 1000 === 0 ? SECRET[i % 2] : COMMON[i % COMMON.length]) as string);

function measure(name: string, fn: (s: string) => unknown, rounds = 10): void {
  for (const r of rows) fn(r); // warm up
  const started = performance.now();
  for (let k = 0; k < rounds; k++) for (const r of rows) fn(r);
  const seconds = (performance.now() - started) / 1000;
  const perSecond = Math.round((rows.length * rounds) / seconds);
  console.log(`${name.padEnd(34)} ${perSecond.toLocaleString('en-US').padStart(14)} rows/s`);
}

measure('baseline: includes("password")', (s) => s.toLowerCase().includes('password'));
measure('redactSecrets, mixed (0.1% secret)', (s) => redactSecrets(s));
const secretOnly = SECRET;
let n = 0;
const started = performance.now();
for (let k = 0; k < 50_000; k++) n += redactSecrets(secretOnly[k % 2] as string).secrets.length;
console.log(`${'redactSecrets, every row a secret'.padEnd(34)} ${Math.round(50_000 / ((performance.now() - started) / 1000)).toLocaleString('en-US').padStart(14)} rows/s (${n} findings)`);
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
