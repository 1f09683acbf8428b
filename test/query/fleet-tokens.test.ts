import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { fleetTokenFromEnv, parseFleetTokens, watchFleetTokenFile } from '../../src/query/fleet-tokens.js';
import { waitFor } from '../support/local-ports.js';

const NEW = 'n'.repeat(40);
const OLD = 'o'.repeat(40);

describe('the fleet token file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-fleet-tokens-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('one line, or two during a rotation: the first is sent, both are accepted', () => {
    assert.deepEqual(parseFleetTokens(`${NEW}\n`, 'f'), [NEW]);
    assert.deepEqual(parseFleetTokens(`${NEW}\r\n${OLD}\r\n\n`, 'f'), [NEW, OLD]);
    assert.deepEqual(parseFleetTokens(`  ${NEW}  \n\n  ${OLD}`, 'f'), [NEW, OLD], 'blank lines and spaces around a token are not part of it');
  });

  test('an empty file, a short token or more than two are refused, naming the file and line, never the value', () => {
    assert.throws(() => parseFleetTokens('\n \n', '/run/secrets/t'), /\/run\/secrets\/t holds no token/);
    const short = 'short-secret-value';
    assert.throws(
      () => parseFleetTokens(`${NEW}\n${short}`, '/run/secrets/t'),
      (error: Error) => /\/run\/secrets\/t, line 2: a token must be at least 32 characters/.test(error.message) && !error.message.includes(short),
    );
    assert.throws(() => parseFleetTokens(`${NEW}\n${OLD}\n${'x'.repeat(40)}`, 'f'), /f holds 3 tokens: at most two \(the new one, then the previous one\)/);
  });

  test('query --fleet and serve --fleet send the first line of AUDITDUCK_QUERY_API_TOKEN_FILE, or AUDITDUCK_QUERY_API_TOKEN', async () => {
    const file = join(dir, 'send');
    await writeFile(file, `${NEW}\n${OLD}\n`);
    assert.equal(fleetTokenFromEnv({ AUDITDUCK_QUERY_API_TOKEN_FILE: file }), NEW);
    assert.equal(fleetTokenFromEnv({ AUDITDUCK_QUERY_API_TOKEN: OLD }), OLD);
    assert.equal(fleetTokenFromEnv({}), undefined);
    assert.throws(() => fleetTokenFromEnv({ AUDITDUCK_QUERY_API_TOKEN: OLD, AUDITDUCK_QUERY_API_TOKEN_FILE: file }), /set AUDITDUCK_QUERY_API_TOKEN or AUDITDUCK_QUERY_API_TOKEN_FILE, not both/);
    assert.throws(() => fleetTokenFromEnv({ AUDITDUCK_QUERY_API_TOKEN_FILE: join(dir, 'missing') }), /cannot read the fleet's token file .*missing \(AUDITDUCK_QUERY_API_TOKEN_FILE\)/);
  });

  test('a watched file is read again when it changes; a bad version keeps the tokens before it, logged without the value', async () => {
    const file = join(dir, 'watched');
    await writeFile(file, `${OLD}\n`);
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const tokens = watchFleetTokenFile(file, { intervalMs: 20, log });
    try {
      assert.equal(tokens.current(), OLD);
      assert.deepEqual(tokens.accepted(), [OLD]);
      await writeFile(file, `${NEW}\n${OLD}\n`);
      await waitFor('the rotation to be read', async () => tokens.accepted().length === 2 || undefined, 5_000);
      assert.equal(tokens.current(), NEW);
      const short = 'still-too-short';
      await writeFile(file, short);
      await waitFor('the bad version to be logged', async () => lines.some((l) => /at least 32 characters/.test(l)) || undefined, 5_000);
      assert.deepEqual(tokens.accepted(), [NEW, OLD], 'the tokens before it stay');
      await writeFile(file, `${NEW}\n`);
      await waitFor('the rotation to end', async () => tokens.accepted().length === 1 || undefined, 5_000);
      assert.equal(tokens.current(), NEW);
      const text = lines.join('');
      for (const secret of [NEW, OLD, short]) assert.ok(!text.includes(secret), 'no token value in the log');
      assert.match(text, /the fleet's token file changed: accepting 2 tokens/);
    } finally {
      tokens.close();
    }
  });

  test('a watched file that cannot be read at start stops the start', () => {
    assert.throws(() => watchFleetTokenFile(join(dir, 'nope'), { intervalMs: 20, log: pino({ level: 'silent' }) }), /cannot read the fleet's token file/);
  });
});
