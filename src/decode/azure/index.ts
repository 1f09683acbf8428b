export { decodeAzureRecord, decodeEventBody, serverName, type AzureDecodeContext } from './azure-record.js';
export { createEventHubsLineDecoder, createAzureNdjsonLineDecoder } from './azure-line-decoders.js';
export { decodeActivityLogRecord, isActivityLogRecord, type ActivityLogContext } from './activity-log-record.js';
export { parseResourceId, postgresServerOf, type ResourceId } from './resource-id.js';
export { redactJson } from './redact-json.js';
