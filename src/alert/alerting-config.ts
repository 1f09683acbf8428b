/**
 * Alert delivery configuration (sinks, retries). `src/config/` composes it; `AUDITDUCK_WEBHOOK_URL` fills
 * `webhook.url` there. The URL is a secret (Slack and Teams put the token in it): it is masked in errors.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AlertSink } from './alert-sink.js';
import { createLogSink } from './sinks/log-sink.js';
import { WEBHOOK_FORMATS } from './sinks/webhook-payloads.js';
import { createWebhookSink } from './sinks/webhook-sink.js';

export const alertingConfigSchema = z.strictObject({
  log: z.strictObject({ enabled: z.boolean().default(true).describe('write every alert to the log') }).prefault({}),
  webhook: z
    .strictObject({
      url: z.url({ protocol: /^https?$/ }).optional().describe('POST each alert here (AUDITDUCK_WEBHOOK_URL); unset = no webhook'),
      format: z.enum(WEBHOOK_FORMATS).default('json').describe('json, or a Slack / Teams compatible body'),
      timeoutMs: z.number().int().positive().default(10_000),
      headers: z.record(z.string(), z.string()).default({}).describe('extra headers, e.g. authorization (never logged)'),
    })
    .prefault({}),
  pollMs: z.number().int().positive().default(250).describe('how often the outbox is read'),
  initialBackoffMs: z.number().int().positive().default(1_000).describe('first retry delay; doubles per failure'),
  maxBackoffMs: z.number().int().positive().default(300_000).describe('longest retry delay'),
});

export type AlertingConfig = z.infer<typeof alertingConfigSchema>;

export function createSinks(config: AlertingConfig, log: Logger): AlertSink[] {
  const sinks: AlertSink[] = [];
  if (config.log.enabled) sinks.push(createLogSink(log));
  if (config.webhook.url) {
    sinks.push(createWebhookSink({ url: config.webhook.url, format: config.webhook.format, timeoutMs: config.webhook.timeoutMs, headers: config.webhook.headers }));
  }
  return sinks;
}
