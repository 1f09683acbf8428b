import assert from 'node:assert/strict';
import { test } from 'node:test';
import { oneLineFields } from '../../src/logging/one-line-fields.js';

test('nested keys are dotted, absent values and empty lists left out, lists joined', () => {
  assert.equal(
    oneLineFields({ db: '/data/a.duckdb', http: { host: '127.0.0.1', port: 0 }, webhook: { url: undefined, headers: [] }, servers: ['pg1', 'pg2'], log: { enabled: true } }),
    'db=/data/a.duckdb http.host=127.0.0.1 http.port=0 servers=pg1,pg2 log.enabled=true',
  );
});

test('a value with a space, a quote or an equals sign is quoted, so it cannot run into the next pair', () => {
  assert.equal(oneLineFields({ source: 'demo (samples/)', a: 'x=y', b: 'say "hi"', c: '', d: null }), 'source="demo (samples/)" a="x=y" b="say \\"hi\\"" c="" d=null');
});
