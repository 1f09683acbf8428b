import type { AlertMessage } from './alert-message.js';

/**
 * Where alerts go. `deliver` resolves when the receiver acknowledged the alert and throws otherwise; the
 * delivery loop retries. `name` keys the delivery state in the store, so it must stay stable across restarts.
 * Receivers may see an alert twice after a crash between their acknowledgement and our record of it:
 * `alertId` is the idempotency key.
 */
export interface AlertSink {
  readonly name: string;
  deliver(alert: AlertMessage): Promise<void>;
}
