/**
 * The fixtures are one server's activity written three ways at once (log_destination =
 * 'stderr,csvlog,jsonlog'); the three decoders must tell the same story, record by record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePrefix } from '../../../src/decode/prefix/compile-prefix.js';
import { createStderrDecoder } from '../../../src/decode/postgres/stderr-decoder.js';
import { createCsvlogDecoder } from '../../../src/decode/postgres/csvlog-decoder.js';
import { createJsonlogDecoder } from '../../../src/decode/postgres/jsonlog-decoder.js';
import type { LogRecord } from '../../../src/contracts/log-record.js';
import { decodeAll, fixtureLines } from './decode-lines.js';

const RUNS = [
  { name: 'pg15-m-p-q', prefix: '%m [%p] %q%u@%d ', compare: ['pid', 'userName', 'databaseName'], millis: true },
  { name: 'pg15-azure', prefix: '%t-%c-', compare: ['sessionId'], millis: false },
] as const;

const ALWAYS = ['level', 'message', 'detail', 'hint', 'statement'] as const;

for (const run of RUNS) {
  const server = 'pg-test';
  const stderr = decodeAll(
    createStderrDecoder({ prefix: compilePrefix(run.prefix), server, source: `${run.name}.log` }),
    fixtureLines(`${run.name}.log`),
  );
  const csv = decodeAll(createCsvlogDecoder({ server, source: `${run.name}.csv` }), fixtureLines(`${run.name}.csv`));
  const json = decodeAll(createJsonlogDecoder({ server, source: `${run.name}.json` }), fixtureLines(`${run.name}.json`));

  test(`${run.name}: stderr, csvlog and jsonlog decode the same number of records and no dead letters`, () => {
    assert.deepEqual([stderr.dead, csv.dead, json.dead], [[], [], []]);
    assert.ok(csv.records.length > 40);
    assert.equal(stderr.records.length, csv.records.length);
    assert.equal(json.records.length, csv.records.length);
  });

  test(`${run.name}: csvlog and jsonlog agree on every field but source and position`, () => {
    const strip = ({ source: _s, position: _p, ...rest }: LogRecord) => rest;
    assert.deepEqual(json.records.map(strip), csv.records.map(strip));
  });

  test(`${run.name}: stderr agrees with csvlog on the fields its prefix carries`, () => {
    csv.records.forEach((c, i) => {
      const s = stderr.records[i] as LogRecord;
      for (const field of [...ALWAYS, ...run.compare]) {
        assert.deepEqual(s[field], c[field], `record ${i} field ${field}`);
      }
      const expectedMs = run.millis ? c.loggedAt.getTime() : Math.floor(c.loggedAt.getTime() / 1000) * 1000;
      assert.equal(s.loggedAt.getTime(), expectedMs, `record ${i} loggedAt`);
      assert.equal(s.server, server);
    });
  });
}
