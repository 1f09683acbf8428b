import type { Logger } from 'pino';
import type { AlertMessage } from '../alert-message.js';
import type { AlertSink } from '../alert-sink.js';

type LogLevel = 'error' | 'warn' | 'info';

/**
 * Alerts as log lines, one per alert, for whoever watches the terminal or collects the process's logs:
 * the message says it all at a glance; JSON lines also carry the alert as fields (`alert`, left out of the
 * pretty form: see logging/logger.ts).
 */
export function createLogSink(log: Logger): AlertSink {
  return {
    name: 'log',
    async deliver(alert: AlertMessage): Promise<void> {
      const fields = { alert: { id: alert.alertId, rule: alert.ruleId, severity: alert.severity, server: alert.server, actor: alert.actor, target: alert.target, summary: alert.summary, count: alert.count, mitre: alert.mitre, firstSeen: alert.firstSeen, lastSeen: alert.lastSeen } };
      log[alertLogLevel(alert.severity)](fields, alertLogLine(alert));
    },
  };
}

/** `[high] admin-granted mallory -> backdoor on pg-prod-eu-02 (alert 7)`: who did it to whom, where, and the id to acknowledge. */
export function alertLogLine(alert: Pick<AlertMessage, 'alertId' | 'ruleId' | 'severity' | 'server' | 'actor' | 'target'>): string {
  const who = alert.actor !== null && alert.target !== null ? `${alert.actor} -> ${alert.target}` : alert.actor ?? (alert.target !== null ? `-> ${alert.target}` : null);
  return `[${alert.severity}] ${alert.ruleId}${who === null ? '' : ` ${who}`} on ${alert.server} (alert ${alert.alertId})`;
}

/** A critical alert is an error of the system it watches, a high one a warning; the rest is information. */
export function alertLogLevel(severity: string): LogLevel {
  if (severity === 'critical') return 'error';
  if (severity === 'high') return 'warn';
  return 'info';
}
