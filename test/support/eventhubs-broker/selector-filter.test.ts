import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstMatchingIndex, parseSelectorFilter } from './selector-filter.js';

const events = [0, 1, 2, 3].map((n) => ({ sequenceNumber: n, offset: n * 100, enqueuedTime: 1_000 + n * 10 }));

describe('the selector filters the SDK sends', () => {
  const cases: Array<{ selector: string | undefined; first: number }> = [
    { selector: undefined, first: 0 },
    { selector: "amqp.annotation.x-opt-offset > '-1'", first: 0 },
    { selector: "amqp.annotation.x-opt-offset > '@latest'", first: 4 },
    { selector: "amqp.annotation.x-opt-offset > '100'", first: 2 },
    { selector: "amqp.annotation.x-opt-offset >= '100'", first: 1 },
    { selector: "amqp.annotation.x-opt-sequence-number > '2'", first: 3 },
    { selector: "amqp.annotation.x-opt-sequence-number >= '2'", first: 2 },
    { selector: "amqp.annotation.x-opt-sequence-number > '3'", first: 4 },
    { selector: "amqp.annotation.x-opt-enqueued-time > '1010'", first: 2 },
  ];
  for (const { selector, first } of cases) {
    it(`${selector ?? '(no filter)'} starts at index ${first}`, () => {
      assert.equal(firstMatchingIndex(parseSelectorFilter(selector), events), first);
    });
  }

  it('refuses a selector it does not understand', () => {
    assert.throws(() => parseSelectorFilter("sys.label = 'x'"), /unsupported selector/);
  });
});
