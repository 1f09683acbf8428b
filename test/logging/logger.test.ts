/** A log line is output like a stored row: no secret the redactor knows reaches it, in any part of the line. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logging/logger.js';

const S = 'Sup3rS3cret';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('redacts the message, every field however deep, and errors', () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: 'debug', pretty: false, destination: stream });
    log.info(`connecting to postgresql://app:${S}@db/prod`);
    log.warn({ statement: `ALTER ROLE r PASSWORD '${S}'`, nested: { detail: [`host=h password=${S}`] } }, 'a batch');
    log.error({ err: new Error(`statement does not parse near PASSWORD '${S}'`) }, 'failed');
    log.info('value %s', `{"client_secret":"${S}"}`);
    assert.equal(lines.length, 4);
    for (const line of lines) assert.ok(!line.includes(S), line);
    assert.match(lines[0]!, /postgresql:\/\/app:<REDACTED>@db\/prod/);
  });

  it('censors configured secret fields by path, keeping the readable part of a connection string', () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: 'info', pretty: false, destination: stream });
    log.info(
      {
        config: { connectionString: `Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=${S}=` },
        db: { password: S },
        sharedAccessKey: 12345,
      },
      'starting',
    );
    const line = lines[0]!;
    assert.ok(!line.includes(S), line);
    const parsed = JSON.parse(line) as { config: { connectionString: string }; db: { password: string }; sharedAccessKey: string };
    assert.equal(parsed.config.connectionString, 'Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=r;SharedAccessKey=<REDACTED>');
    assert.equal(parsed.db.password, '<REDACTED>');
    assert.equal(parsed.sharedAccessKey, '<REDACTED>', 'a secret field that is not a string is replaced too');
  });
});
