/**
 * Which sessions a batch's late attribution looks at: those it stores unattributed rows of, and those left
 * pending by earlier batches (or an earlier process) whose session line it brings; a session completed is
 * never looked at again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sessionKey } from '../../../src/contracts/session-key.js';
import { PendingAttribution, type SessionRef } from '../../../src/analyze/sessions/pending-attribution.js';

const ref = (sessionId: string): SessionRef => ({ server: 'pg', sessionId });
const keyed = (...refs: SessionRef[]) => new Map(refs.map((r) => [sessionKey(r.server, r.sessionId), r]));

describe('PendingAttribution', () => {
  it('looks at the sessions a batch stores unattributed rows of, and at pending ones whose session line it brings', () => {
    const pending = new PendingAttribution([ref('from-before-a-restart')]);
    assert.deepEqual(pending.candidates(keyed(ref('s1')), []), [ref('s1')]);
    // A later batch brings the session lines of s1 and of the session pending since before the restart.
    assert.deepEqual(pending.candidates(new Map(), [sessionKey('pg', 's1'), sessionKey('pg', 'from-before-a-restart'), sessionKey('pg', 'unknown')]), [ref('s1'), ref('from-before-a-restart')]);
  });

  it('forgets a session once its user is known', () => {
    const pending = new PendingAttribution();
    pending.candidates(keyed(ref('s1')), []);
    pending.completed([ref('s1')]);
    assert.deepEqual(pending.candidates(new Map(), [sessionKey('pg', 's1')]), []);
  });
});
