export { startEventHubsBroker, type BrokerHub, type EventHubsBroker, type EventHubsBrokerOptions } from './broker.js';
export type { StoredEvent } from './partition-log.js';
