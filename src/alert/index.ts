export { startAlertDelivery, backoffMs, type AlertDelivery, type DeliveryOptions } from './alert-delivery.js';
export { alertingConfigSchema, createSinks, type AlertingConfig } from './alerting-config.js';
export type { AlertSink } from './alert-sink.js';
export type { AlertMessage } from './alert-message.js';
export { createLogSink } from './sinks/log-sink.js';
export { createWebhookSink, describeUrl, type WebhookSinkOptions } from './sinks/webhook-sink.js';
export { WEBHOOK_FORMATS, WEBHOOK_PAYLOADS, type WebhookFormat } from './sinks/webhook-payloads.js';
