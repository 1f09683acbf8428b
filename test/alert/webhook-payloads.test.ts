import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, describeUrl, WEBHOOK_FORMATS, WEBHOOK_PAYLOADS, type AlertMessage } from '../../src/alert/index.js';

const alert: AlertMessage = {
  alertId: 7,
  ruleId: 'brute-force',
  title: 'Brute force on a user',
  severity: 'high',
  server: 'flex-prod',
  firstSeen: '2026-11-24T10:00:00.000Z',
  lastSeen: '2026-11-24T10:04:00.000Z',
  actor: null,
  target: 'alice',
  summary: '12 failed password attempts for alice within 5 minutes',
  mitre: 'T1110.001 Brute Force: Password Guessing',
  count: 12,
  status: 'open',
  dedupKey: 'alice',
  evidence: { samples: [{ user: 'alice' }], omittedSamples: 0 },
};

describe('webhook payloads', () => {
  it('json carries the alert row, its title and evidence', () => {
    const body = WEBHOOK_PAYLOADS.json(alert) as Record<string, unknown>;
    assert.equal(body.alert_id, 7);
    assert.equal(body.title, 'Brute force on a user');
    assert.deepEqual(body.evidence, alert.evidence);
  });

  it('slack has a text fallback and blocks with the facts', () => {
    const body = WEBHOOK_PAYLOADS.slack(alert) as { text: string; blocks: { type: string }[] };
    assert.match(body.text, /^\[HIGH\] Brute force on a user on flex-prod: 12 failed/);
    assert.deepEqual(body.blocks.map((b) => b.type), ['header', 'section', 'section']);
  });

  it('teams is a message with an adaptive card', () => {
    const body = WEBHOOK_PAYLOADS.teams(alert) as { type: string; attachments: { contentType: string; content: { type: string; body: { type: string }[] } }[] };
    assert.equal(body.type, 'message');
    assert.equal(body.attachments[0]!.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.deepEqual(body.attachments[0]!.content.body.map((b) => b.type), ['TextBlock', 'TextBlock', 'FactSet']);
  });

  it('every format survives JSON as built (nothing dropped or changed on the wire) and names the alert', () => {
    for (const f of WEBHOOK_FORMATS) {
      const body = WEBHOOK_PAYLOADS[f](alert);
      const wire = JSON.stringify(body);
      assert.deepEqual(JSON.parse(wire), body, `${f}: a value JSON cannot carry (undefined, a Date, a bigint)`);
      for (const fact of [alert.summary, alert.server, alert.target!]) assert.ok(wire.includes(fact), `${f} names ${fact}`);
    }
  });
});

describe('delivery helpers', () => {
  it('backoff doubles from the first delay up to the cap', () => {
    assert.deepEqual([1, 2, 3, 4, 10, 20].map((n) => backoffMs(n, 1000, 300_000)), [1000, 2000, 4000, 8000, 300_000, 300_000]);
  });

  it('a webhook URL is shown by its origin only', () => {
    assert.equal(describeUrl('https://hooks.slack.com/services/T000/B000/XXXXSECRET'), 'https://hooks.slack.com');
    assert.equal(describeUrl('not a url'), 'an invalid URL');
  });
});
