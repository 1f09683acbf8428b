/**
 * A generic webhook: one POST per alert, acknowledged by any 2xx. The URL often carries a token (Slack,
 * Teams): it is never logged or put in an error; the sink is named by its origin only.
 */
import type { AlertMessage } from '../alert-message.js';
import type { AlertSink } from '../alert-sink.js';
import { WEBHOOK_PAYLOADS, type WebhookFormat } from './webhook-payloads.js';
import { redactStrings } from '../../parse/redact/index.js';

export interface WebhookSinkOptions {
  url: string;
  format?: WebhookFormat;
  timeoutMs?: number;
  /** Extra headers (e.g. an authorization header); values are never logged. */
  headers?: Record<string, string>;
  /** Stable name for the delivery state; default `webhook`. */
  name?: string;
}

/** What may be shown of a webhook URL: scheme, host and port. */
export function describeUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'an invalid URL';
  }
}

export function createWebhookSink(opts: WebhookSinkOptions): AlertSink {
  const format = opts.format ?? 'json';
  const where = describeUrl(opts.url);
  return {
    name: opts.name ?? 'webhook',
    async deliver(alert: AlertMessage): Promise<void> {
      let response: Response;
      try {
        response = await fetch(opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `auditduck-alert-${alert.alertId}`, ...opts.headers },
          // Alerts are stored redacted; the body passes the redactor once more, as every output does.
          body: JSON.stringify(redactStrings(WEBHOOK_PAYLOADS[format](alert))),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
        throw new Error(`webhook ${where} unreachable (${cause})`);
      }
      await response.body?.cancel().catch(() => undefined);
      if (response.status < 200 || response.status > 299) throw new Error(`webhook ${where} answered ${response.status}`);
    },
  };
}
