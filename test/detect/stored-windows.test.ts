/**
 * The windowed rows read once a batch (`StoredWindows`): a table's spans are read as one, and a span may name the
 * keys it needs (`role_lives` by role): keyed spans read the union of their keys, one span without keys reads every
 * row, and a rule asking for rows that were not read is told so.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DecodeResult } from '../../src/contracts/log-record.js';
import { StoredWindows, type StoredSpan } from '../../src/detect/stored-windows.js';
import { audit, login } from '../support/detection-records.js';
import { NO_EXCLUSIONS, openHarness, type Harness } from './detection-harness.js';

const T0 = new Date('2026-11-20T10:00:00Z').getTime();
let statementId = 0;

function createRole(role: string, minute: number): DecodeResult[] {
  const s = login({ user: 'dba', at: new Date(T0 + minute * 60_000 - 10) });
  return [...s.records, audit('pg1', s.sessionId, new Date(T0 + minute * 60_000), ++statementId, 'ROLE', 'CREATE ROLE', `CREATE ROLE ${role};`)];
}

const lives = (keys?: string[]): StoredSpan<'role_lives'> => ({ table: 'role_lives', fromMicros: T0 * 1000, toMicros: (T0 + 3_600_000) * 1000, ...(keys ? { keys } : {}) });
const roles = (w: StoredWindows, span: StoredSpan<'role_lives'>) => w.rows(span).map((r) => r.roleName).sort();

describe('StoredWindows', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('reads the union of keyed spans, every row for a span without keys, and refuses rows it did not read', async () => {
    h = await openHarness({ exclude: NO_EXCLUSIONS });
    await h.feed(['ann', 'ben', 'cal', 'dan'].flatMap((role, i) => createRole(role, 10 + i)));
    const connection = h.store.connection;

    const keyed = await StoredWindows.read(connection, [lives(['ann']), lives(['cal', 'ann'])]);
    assert.deepEqual(roles(keyed, lives(['ann', 'cal'])), ['ann', 'cal']);
    assert.throws(() => keyed.rows(lives(['ben'])), /was not read/);
    assert.throws(() => keyed.rows(lives()), /was not read/);

    const every = await StoredWindows.read(connection, [lives(['ann']), lives()]);
    assert.deepEqual(roles(every, lives()), ['ann', 'ben', 'cal', 'dan']);
    assert.deepEqual(roles(every, lives(['ben'])), ['ann', 'ben', 'cal', 'dan'], 'a keyed rule gets every row read and counts its own');

    await assert.rejects(StoredWindows.read(connection, [{ table: 'auth_failures', fromMicros: 0, toMicros: 1, keys: ['x'] }]), /names keys/);
  });
});
