import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { hubNameFromConnectionString } from '../../config/run-config.js';
import { createLogger } from '../../logging/logger.js';

/**
 * Sends Event Hubs captures (one body `{"records":[...]}` a line, like samples/eventhubs/) into a hub:
 * the docker-compose stack's replayer, and a way to try `run` against a test hub.
 */
export const replayCommand = new Command('replay')
  .description('send captured Event Hubs bodies (one {"records":[...]} per line) into an event hub')
  .argument('<files...>', 'capture files, e.g. samples/eventhubs/*.jsonl')
  .option('--hub <name>', 'event hub name (default: $AUDITDUCK_EVENTHUB_NAME or EntityPath)')
  .action(async (files: string[], opts: { hub?: string }) => {
    const log = createLogger();
    const connectionString = process.env.AUDITDUCK_EVENTHUB_CONNECTION_STRING;
    const namespace = process.env.AUDITDUCK_EVENTHUB_NAMESPACE;
    const hub = opts.hub ?? process.env.AUDITDUCK_EVENTHUB_NAME ?? hubNameFromConnectionString(connectionString);
    if (!hub) throw new Error('name the hub: --hub, AUDITDUCK_EVENTHUB_NAME, or EntityPath= in the connection string');
    // The Azure SDKs load with the command that uses them, not with every command.
    const [{ EventHubProducerClient }, { DefaultAzureCredential }] = await Promise.all([import('@azure/event-hubs'), import('@azure/identity')]);
    const producer = connectionString
      ? new EventHubProducerClient(connectionString, hub)
      : namespace
        ? new EventHubProducerClient(namespace, hub, new DefaultAzureCredential())
        : undefined;
    if (!producer) throw new Error('set AUDITDUCK_EVENTHUB_CONNECTION_STRING, or AUDITDUCK_EVENTHUB_NAMESPACE for the Azure credential chain');
    try {
      let sent = 0;
      for (const file of files) {
        const bodies = (await readFile(file, 'utf8')).split('\n').filter((line) => line.trim() !== '');
        let batch = await producer.createBatch();
        for (const body of bodies) {
          // Bodies go as bytes, as diagnostic settings send them.
          const event = { body: Buffer.from(body, 'utf8'), contentType: 'application/json' };
          if (!batch.tryAdd(event)) {
            await producer.sendBatch(batch);
            batch = await producer.createBatch();
            if (!batch.tryAdd(event)) throw new Error(`a body in ${file} is larger than an Event Hubs batch allows`);
          }
          sent++;
        }
        if (batch.count > 0) await producer.sendBatch(batch);
      }
      log.info({ hub, events: sent }, 'replayed');
    } finally {
      await producer.close();
    }
  });
