/**
 * What a real PostgreSQL 15 does with each literal of PASSWORD_TYPE_CASES: it stores an md5 hash or a SCRAM
 * verifier as given, and hashes anything else. passwordType must agree with it on every case.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPostgres, type PgServer } from '../../support/postgres-server.js';
import { passwordType, type PasswordType } from '../../../src/parse/redact/password-type.js';
import { PASSWORD_TYPE_CASES } from './password-type-cases.js';

describe('passwordType agrees with a real PostgreSQL', () => {
  let pg: PgServer;
  const stored = new Map<string, PasswordType>();
  before(async () => {
    pg = await startPostgres({ pgauditLog: 'none' });
    const client = await pg.connect();
    try {
      for (const [i, c] of PASSWORD_TYPE_CASES.entries()) {
        const role = `pwtype_${i}`;
        await client.query(`CREATE ROLE ${role} PASSWORD ${client.escapeLiteral(c.literal)}`);
        const { rows } = await client.query<{ rolpassword: string }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
        const kept = rows[0]!.rolpassword === c.literal;
        stored.set(c.name, !kept ? 'plaintext' : c.literal.startsWith('md5') ? 'md5' : 'scram-sha-256');
      }
    } finally {
      await client.end();
    }
  });
  after(async () => {
    await pg?.stop();
  });

  for (const c of PASSWORD_TYPE_CASES) {
    it(`${c.name}: the server takes it as ${c.type}`, () => {
      assert.equal(stored.get(c.name), c.type, 'the case table is wrong about PostgreSQL');
      assert.equal(passwordType(c.literal), stored.get(c.name));
    });
  }
});
