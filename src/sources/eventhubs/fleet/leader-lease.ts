/**
 * Who leads a hub: an Azure Blob lease on `<namespace>/<hub>/<consumer group>/leader` in the checkpoint
 * container. The lease holder writes a **generation** (one more than the last leader's) into the blob's
 * metadata when it wins; that number is its fencing token (docs/fleet.md).
 *
 * Azure leases last 15-60 s, longer than a test (or an impatient operator) wants to wait for a takeover.
 * So the leader also heartbeats: each renewal rewrites the metadata, which changes the blob's ETag. A standby
 * that sees the same ETag for `leaseTimeMs` on its own clock breaks the lease and takes it; no two clocks
 * are compared. The leader counts its own validity from the start of its last good heartbeat, so it stops
 * believing in its lead before any standby can break it.
 */
import type { BlobClient, BlobLeaseClient } from '@azure/storage-blob';

export interface LeaseTiming {
  leaseTimeMs: number;
  heartbeatMs: number;
}

/** What a standby saw of the lease blob, for deciding when the leader has gone silent. */
interface Observation {
  etag: string;
  since: number;
}

/** Azure accepts 15..60 s (or infinite); the heartbeat, not the Azure duration, decides a takeover. */
export function azureLeaseSeconds(leaseTimeMs: number): number {
  return Math.min(60, Math.max(15, Math.ceil(leaseTimeMs / 1000)));
}

/** The generation a blob's metadata holds (0 for a blob no leader ever wrote). */
export function generationOf(metadata: Record<string, string> | undefined): number {
  const value = Number(metadata?.generation ?? '0');
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

export class LeaderLease {
  private lease: BlobLeaseClient | null = null;
  private observed: Observation | null = null;
  /** Local time this standby first saw the hub free (or its leader silent), for the spreading grace. */
  private unledSince: number | null = null;
  private generation = 0;
  /** Local time until which this instance may act as leader (start of the last good heartbeat + leaseTimeMs). */
  private validUntil = 0;
  private blobExists = false;

  constructor(
    private readonly blob: BlobClient,
    private readonly instanceId: string,
    private readonly timing: LeaseTiming,
    private readonly now: () => number = Date.now,
  ) {}

  /** The generation this instance leads with, or null while it does not lead (or may no longer). */
  currentGeneration(): number | null {
    return this.lease && this.now() < this.validUntil ? this.generation : null;
  }

  /**
   * One standby round: takes the lease when it is free, or breaks it when the leader has been silent for
   * leaseTimeMs. Returns the new generation when this instance now leads. `admit` (given how long the hub
   * has been free for this standby) may decline a free hub: it is left to an instance with room (fair-share.ts).
   */
  async tryTakeOver(admit: (unledForMs: number) => boolean = () => true): Promise<number | null> {
    await this.ensureBlob();
    const properties = await this.blob.getProperties();
    const started = this.now();
    const leased = properties.leaseState === 'leased' || properties.leaseState === 'breaking';
    if (leased) {
      const etag = properties.etag ?? '';
      if (this.observed?.etag !== etag) this.observed = { etag, since: started };
      if (started - this.observed.since < this.timing.leaseTimeMs) {
        this.unledSince = null;
        return null;
      }
    }
    this.unledSince ??= started;
    if (!admit(started - this.unledSince)) return null;
    // Silent for a whole lease time on our clock: the leader is dead or cut off.
    if (leased) await this.blob.getBlobLeaseClient().breakLease(0);
    const lease = this.blob.getBlobLeaseClient();
    try {
      await lease.acquireLease(azureLeaseSeconds(this.timing.leaseTimeMs));
    } catch (error) {
      if (statusOf(error) === 409) return null; // another standby was quicker
      throw error;
    }
    const current = await this.blob.getProperties({ conditions: { leaseId: lease.leaseId } });
    const generation = generationOf(current.metadata) + 1;
    await this.blob.setMetadata(this.metadataFor(generation, started), { conditions: { leaseId: lease.leaseId } });
    this.lease = lease;
    this.generation = generation;
    this.validUntil = started + this.timing.leaseTimeMs;
    this.observed = null;
    this.unledSince = null;
    return generation;
  }

  /**
   * Renews the lease and moves the ETag the standbys watch. False when the lease is gone (broken by a
   * standby): this instance is fenced. A failure to reach the storage account is thrown; the lead then
   * lapses by itself at validUntil.
   */
  async heartbeat(): Promise<boolean> {
    const lease = this.lease;
    if (!lease) return false;
    const started = this.now();
    try {
      await lease.renewLease();
      await this.blob.setMetadata(this.metadataFor(this.generation, started), { conditions: { leaseId: lease.leaseId } });
    } catch (error) {
      const status = statusOf(error);
      if (status === 409 || status === 412) {
        this.lease = null;
        return false;
      }
      throw error;
    }
    if (this.lease === lease) this.validUntil = started + this.timing.leaseTimeMs;
    return true;
  }

  /** Gives the lead up at once (a clean stop): a standby takes over at its next round. */
  async release(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    this.validUntil = 0;
    if (lease) await lease.releaseLease().catch(() => undefined);
  }

  private metadataFor(generation: number, at: number): Record<string, string> {
    return { generation: String(generation), leader: this.instanceId, heartbeat: new Date(at).toISOString() };
  }

  private async ensureBlob(): Promise<void> {
    if (this.blobExists) return;
    try {
      await this.blob.getBlockBlobClient().upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (error) {
      // 409: it exists (and may be leased); 412: it exists.
      if (statusOf(error) !== 409 && statusOf(error) !== 412) throw error;
    }
    this.blobExists = true;
  }
}

export function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}
