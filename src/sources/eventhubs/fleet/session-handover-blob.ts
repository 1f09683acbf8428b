/**
 * The hub's session handover in the checkpoint container (`<namespace>/<hub>/<consumer group>/sessions`): the
 * leader writes what it knows of sessions before each commit that changed it, and the next leader reads it at
 * takeover (docs/fleet.md). The body is opaque here (the pipeline encodes it). Every write is a compare-and-swap
 * on the ETag and carries the writer's generation: a writer of an older generation than the blob's is refused,
 * so a fenced leader never overwrites what its successor wrote.
 */
import type { BlockBlobClient, ContainerClient } from '@azure/storage-blob';
import type { CommittedCheck } from '../../../contracts/handover-part.js';
import { generationOf, statusOf } from './leader-lease.js';
import { FencedError } from './partition-register.js';
import { streamToBuffer } from './blob-container.js';

export interface SessionHandoverBody {
  /** Encodes what the instance knows now (`self`: this instance's id); `version` moves whenever that changes. */
  version(): number;
  /** Moves when what only a batch's transaction learns moved (detection: alerts, evidence rows). */
  inTransactionVersion?(): number;
  encode(self?: string): Uint8Array;
  /**
   * Takes a previous leader's handover in; returns how many sessions it held. `from.committed` says which
   * batches some store committed (state of the others is not taken: the new leader reads them again).
   */
  adopt(body: Uint8Array, from?: { self: string; committed: CommittedCheck }): number;
  /** Whether rows of this instance's store wait for their user (a standby then reads the leader's handover). */
  waiting(): boolean;
  /** A standby takes the leader's handover and fills its waiting rows now; resolves to the rows filled. */
  fill(body: Uint8Array): Promise<number>;
}

export class SessionHandoverBlob {
  private readonly blob: BlockBlobClient;
  private etag: string | null = null;

  constructor(container: ContainerClient, prefix: string) {
    this.blob = container.getBlockBlobClient(`${prefix}/sessions`);
  }

  /** The last handover written (and by which generation), or null when no leader wrote one yet. */
  async read(): Promise<{ body: Buffer; generation: number } | null> {
    try {
      const response = await this.blob.download();
      const body = await streamToBuffer(response.readableStreamBody!);
      this.etag = response.etag ?? null;
      return { body, generation: generationOf(response.metadata) };
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  /** The blob's ETag (null when it does not exist): a standby reads the body again only when it moved. */
  async version(): Promise<string | null> {
    try {
      return (await this.blob.getProperties()).etag ?? null;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  /** Writes the handover of `generation`; FencedError when a later leader wrote it already. */
  async write(generation: number, body: Uint8Array): Promise<void> {
    for (;;) {
      if (this.etag === null) await this.refresh(generation);
      try {
        const written = await this.blob.upload(body, body.byteLength, {
          metadata: { generation: String(generation) },
          conditions: this.etag === '' ? { ifNoneMatch: '*' } : { ifMatch: this.etag! },
        });
        this.etag = written.etag ?? null;
        return;
      } catch (error) {
        const status = statusOf(error);
        if (status !== 412 && status !== 409) throw error;
        this.etag = null; // another writer moved it: read who, then try again or give up
      }
    }
  }

  /** Reads the blob's ETag ('' when it does not exist) and refuses a blob of a later generation. */
  private async refresh(generation: number): Promise<void> {
    try {
      const properties = await this.blob.getProperties();
      const current = generationOf(properties.metadata);
      if (current > generation) throw new FencedError('sessions', generation, current);
      this.etag = properties.etag ?? '';
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      this.etag = '';
    }
  }
}
