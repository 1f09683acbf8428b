/** The checkpoint container of `checkpointStore: blob`: leader leases and partition registers (docs/fleet.md). */
import { ContainerClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import type { EventHubsSourceConfig } from '../eventhubs-config.js';

/** Created when missing (and allowed). */
export async function openBlobContainer(
  config: Pick<EventHubsSourceConfig, 'blobConnectionString' | 'blobAccountUrl' | 'blobContainer'>,
  credential: () => TokenCredential): Promise<ContainerClient> {
  const container = config.blobConnectionString
    ? new ContainerClient(config.blobConnectionString, config.blobContainer)
    : new ContainerClient(`${config.blobAccountUrl!.replace(/\/+$/, '')}/${config.blobContainer}`, credential());
  try {
    await container.createIfNotExists();
  } catch (error) {
    // A role that may write blobs but not create containers is enough when the container exists.
    if ((error as { statusCode?: number }).statusCode !== 403) throw error;
  }
  return container;
}

/** A downloaded blob's body (`download().readableStreamBody`) as bytes. */
export async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
