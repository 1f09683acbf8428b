/** Webhook bodies by receiver: plain JSON, Slack incoming webhooks, Microsoft Teams (Workflows / adaptive card). */
import type { AlertMessage } from '../alert-message.js';

export const WEBHOOK_FORMATS = ['json', 'slack', 'teams'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

function headline(a: AlertMessage): string {
  return `[${a.severity.toUpperCase()}] ${a.title} on ${a.server}`;
}

function facts(a: AlertMessage): [string, string][] {
  return [
    ['Rule', a.ruleId],
    ['Actor', a.actor ?? '—'],
    ['Target', a.target ?? '—'],
    ['Count', String(a.count)],
    ['First seen', a.firstSeen],
    ['Last seen', a.lastSeen],
    ['MITRE ATT&CK', a.mitre ?? '—'],
    ['Alert id', String(a.alertId)],
  ];
}

export const WEBHOOK_PAYLOADS = {
  json: (a) => ({
    alert_id: a.alertId,
    rule_id: a.ruleId,
    title: a.title,
    severity: a.severity,
    server: a.server,
    first_seen: a.firstSeen,
    last_seen: a.lastSeen,
    actor: a.actor,
    target: a.target,
    summary: a.summary,
    mitre: a.mitre,
    count: a.count,
    status: a.status,
    dedup_key: a.dedupKey,
    evidence: a.evidence,
  }),
  slack: (a) => ({
    text: `${headline(a)}: ${a.summary}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: headline(a).slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: a.summary } },
      { type: 'section', fields: facts(a).map(([k, v]) => ({ type: 'mrkdwn', text: `*${k}*\n${v}` })).slice(0, 10) },
    ],
  }),
  teams: (a) => ({
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: headline(a), weight: 'Bolder', size: 'Medium', wrap: true },
            { type: 'TextBlock', text: a.summary, wrap: true },
            { type: 'FactSet', facts: facts(a).map(([title, value]) => ({ title, value })) },
          ],
        },
      },
    ],
  }),
} satisfies Record<WebhookFormat, (a: AlertMessage) => unknown>;
