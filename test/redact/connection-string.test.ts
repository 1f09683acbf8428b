import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redactConnectionString, censorSecret } from '../../src/redact/index.js';

const CASES: Array<[string, string, string]> = [
  [
    'Event Hubs namespace connection string',
    'Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=abcDEF123+/=;EntityPath=pglogs',
    'Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=<REDACTED>;EntityPath=pglogs',
  ],
  [
    'Storage account connection string',
    'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFy==;EndpointSuffix=core.windows.net',
    'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=<REDACTED>;EndpointSuffix=core.windows.net',
  ],
  [
    'Azurite-style development connection string',
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=ZmFrZS1kZXYta2V5LWZvci10ZXN0cw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;',
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=<REDACTED>;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;',
  ],
  [
    'SAS URL',
    'https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2026-12-01T00:00:00Z&sig=abc%2Bdef%3D',
    'https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2026-12-01T00:00:00Z&sig=<REDACTED>',
  ],
  ['libpq conninfo', "host=db user=app password='p w' dbname=x", 'host=db user=app password=<REDACTED> dbname=x'],
  ['libpq URL', 'postgresql://app:s3cret@db.example.com:5432/prod?sslmode=require', 'postgresql://app:<REDACTED>@db.example.com:5432/prod?sslmode=require'],
  ['ADO.NET style', 'Server=db;User Id=app;Pwd=s3;Database=x', 'Server=db;User Id=app;Pwd=<REDACTED>;Database=x'],
  ['nothing secret', 'Endpoint=sb://myns.servicebus.windows.net/', 'Endpoint=sb://myns.servicebus.windows.net/'],
];

describe('redactConnectionString masks keys and passwords, keeps the rest', () => {
  for (const [name, input, output] of CASES) {
    it(name, () => {
      assert.equal(redactConnectionString(input), output);
      assert.equal(redactConnectionString(output), output, 'idempotent');
    });
  }
});

describe('censorSecret', () => {
  it('replaces non-string values, keeps undefined (pino calls it for absent paths)', () => {
    assert.equal(censorSecret(12345), '<REDACTED>');
    assert.equal(censorSecret(undefined), undefined);
  });

  it('replaces a string that is not a connection string entirely', () => {
    assert.equal(censorSecret('hunter2'), '<REDACTED>');
  });
});
