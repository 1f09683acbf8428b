/**
 * The replay bases are read once per server and kept until a snapshot of that server commits. A base read
 * inside a transaction that began before such a commit is the older one: it is used by that transaction,
 * never kept for the next.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayBases } from '../../src/snapshot/replay-bases.js';
import type { ServerSnapshot } from '../../src/snapshot/read-snapshot.js';
import { storeSnapshot } from '../../src/snapshot/take-snapshot.js';
import { AuditStore } from '../../src/store/audit-store.js';

const SERVER = 'pg';

function snapshot(takenAt: number, rolnames: string[]): ServerSnapshot {
  return {
    server: SERVER, takenAt: new Date(takenAt), serverVersionNum: 150000, readAs: 'reader', unreadable: [], roleSettings: [], settings: [], memberships: [],
    roles: rolnames.map((rolname) => ({
      rolname, rolsuper: false, rolinherit: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false, rolconnlimit: -1,
      rolvaliduntil: null, rolbypassrls: false, has_password: true, password_md5: false,
    })),
  };
}

const names = (base: { roles: readonly { rolname: string }[] } | undefined) => base?.roles.map((r) => r.rolname) ?? null;

describe('ReplayBases', () => {
  it('keeps a base until a snapshot of its server commits, then reads the new one', async () => {
    const store = await AuditStore.open(':memory:');
    const other = await store.db.instance.connect();
    try {
      const bases = new ReplayBases();
      await storeSnapshot(other, snapshot(Date.UTC(2026, 10, 1), ['alice']), 365, bases);
      assert.deepEqual(names(await bases.beforeTransaction()(store.connection, SERVER)), ['alice']);
      await storeSnapshot(other, snapshot(Date.UTC(2026, 10, 2), ['alice', 'bob']), 365, bases);
      assert.deepEqual(names(await bases.beforeTransaction()(store.connection, SERVER)), ['alice', 'bob']);
    } finally {
      other.closeSync();
      await store.close();
    }
  });

  it('does not keep a base read in a transaction that began before a snapshot committed', async () => {
    const store = await AuditStore.open(':memory:');
    const other = await store.db.instance.connect();
    try {
      const bases = new ReplayBases();
      const read = bases.beforeTransaction();
      await store.connection.run('BEGIN TRANSACTION');
      // Read once so DuckDB fixes this transaction's view before the snapshot commits.
      await store.connection.run('SELECT count(*) FROM snapshots');
      await storeSnapshot(other, snapshot(Date.UTC(2026, 10, 1), ['legacy']), 365, bases);
      assert.equal(await read(store.connection, SERVER), undefined, 'the transaction sees the store as it was when it began');
      await store.connection.run('COMMIT');
      assert.deepEqual(names(await bases.beforeTransaction()(store.connection, SERVER)), ['legacy']);
    } finally {
      other.closeSync();
      await store.close();
    }
  });
});
