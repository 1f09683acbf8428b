import type { Logger } from 'pino';
import type { AlertMessage } from '../alert-message.js';
import type { AlertSink } from '../alert-sink.js';

/** Alerts as log lines (warn; error for critical), for whoever collects the process's logs. */
export function createLogSink(log: Logger): AlertSink {
  return {
    name: 'log',
    async deliver(alert: AlertMessage): Promise<void> {
      const line = { alert: { id: alert.alertId, rule: alert.ruleId, severity: alert.severity, server: alert.server, actor: alert.actor, target: alert.target, count: alert.count, mitre: alert.mitre, firstSeen: alert.firstSeen, lastSeen: alert.lastSeen } };
      if (alert.severity === 'critical') log.error(line, `alert: ${alert.summary}`);
      else log.warn(line, `alert: ${alert.summary}`);
    },
  };
}
