/**
 * The ingest keeps `roles` and `role_memberships` up to date batch by batch (extending a replay, writing
 * only rows that changed); whatever the batch size, they must equal a replay of all effective changes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rebuildRoles } from '../../src/analyze/roles/rebuild-roles.js';
import { ingestFiles } from '../../src/pipeline/ingest-files.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';
import { readEffectiveChanges } from '../../src/store/role-tables.js';
import { queryStore, silentLogger } from '../support/store-reader.js';

const SAMPLES = ['samples/eventhubs/partition-0.jsonl', 'samples/eventhubs/partition-1.jsonl'];

describe('roles kept up to date batch by batch', () => {
  for (const batchRecords of [1, 3, 7, 50_000]) {
    it(`equal a full replay of the effective changes with batches of ${batchRecords} records`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'auditduck-roles-'));
      try {
        const dbPath = join(dir, 'store.duckdb');
        await ingestFiles(SAMPLES, { dbPath, format: 'auto', logLinePrefix: '%t-%c-', log: silentLogger, batchRecords });
        const db = await openDatabase(dbPath, { readOnly: true });
        let expected;
        try {
          expected = rebuildRoles(await readEffectiveChanges(db.connection, 'demo-flex'));
        } finally {
          await closeDatabase(db);
        }
        const roles = await queryStore(dbPath, `SELECT rolname, rolsuper, rolcreaterole, rolcanlogin, rolvaliduntil, has_password, created_by, uncertain FROM roles ORDER BY rolname`);
        assert.ok(roles.length >= 4);
        assert.deepEqual(
          roles,
          expected.roles
            .map((r) => ({ rolname: r.rolname, rolsuper: r.rolsuper, rolcreaterole: r.rolcreaterole, rolcanlogin: r.rolcanlogin, rolvaliduntil: r.rolvaliduntil, has_password: r.has_password, created_by: r.created_by, uncertain: r.uncertain }))
            .sort((a, b) => (a.rolname < b.rolname ? -1 : 1)),
        );
        const members = await queryStore(dbPath, `SELECT role_name, member, admin_option FROM role_memberships ORDER BY ALL`);
        assert.deepEqual(members, expected.memberships.map((m) => ({ role_name: m.role_name, member: m.member, admin_option: m.admin_option })).sort((a, b) => (`${a.role_name}\0${a.member}` < `${b.role_name}\0${b.member}` ? -1 : 1)));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
