export { decodeAzureRecord, decodeEventBody, serverName, type AzureDecodeContext } from './azure-record.js';
export { createEventHubsLineDecoder, createAzureNdjsonLineDecoder } from './azure-line-decoders.js';
