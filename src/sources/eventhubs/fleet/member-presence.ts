/**
 * Which instances of a hub's fleet are alive: one blob per instance, `<prefix>/member/<instance id>`,
 * rewritten at every heartbeat with how many hubs the instance leads (metadata `leads`). As with the
 * leader lease, liveness is judged on the reader's own clock: a member whose blob's ETag has not moved for
 * `leaseTimeMs` is gone (killed, or cut off); a clean stop deletes its blob. No two clocks are compared.
 */
import type { ContainerClient } from '@azure/storage-blob';
import { statusOf } from './leader-lease.js';

export interface LiveMember {
  instanceId: string;
  leads: number;
}

export class MemberPresence {
  private readonly seen = new Map<string, { etag: string; since: number }>();

  constructor(
    private readonly container: ContainerClient,
    private readonly prefix: string,
    private readonly instanceId: string,
    private readonly leaseTimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Says this instance is alive and how many hubs it leads. */
  async announce(leads: number): Promise<void> {
    await this.container.getBlockBlobClient(this.blobName(this.instanceId)).upload('', 0, { metadata: { leads: String(leads) } });
  }

  /** Every member whose blob moved within leaseTimeMs, this instance included. */
  async live(): Promise<LiveMember[]> {
    const now = this.now();
    const members: LiveMember[] = [];
    const listed = new Set<string>();
    for await (const blob of this.container.listBlobsFlat({ prefix: `${this.prefix}/member/`, includeMetadata: true })) {
      const instanceId = decodeURIComponent(blob.name.slice(this.prefix.length + '/member/'.length));
      listed.add(instanceId);
      const etag = blob.properties.etag ?? '';
      const before = this.seen.get(instanceId);
      if (before?.etag !== etag) this.seen.set(instanceId, { etag, since: now });
      const movedAgo = now - this.seen.get(instanceId)!.since;
      if (instanceId === this.instanceId || movedAgo < this.leaseTimeMs) members.push({ instanceId, leads: leadsOf(blob.metadata) });
    }
    for (const instanceId of this.seen.keys()) if (!listed.has(instanceId)) this.seen.delete(instanceId);
    return members;
  }

  /** A clean stop: the others count one instance less at once. */
  async withdraw(): Promise<void> {
    try {
      await this.container.getBlobClient(this.blobName(this.instanceId)).delete();
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  }

  private blobName(instanceId: string): string {
    return `${this.prefix}/member/${encodeURIComponent(instanceId)}`;
  }
}

function leadsOf(metadata: Record<string, string> | undefined): number {
  const value = Number(metadata?.leads ?? '0');
  return Number.isSafeInteger(value) && value >= 0 ? value : 0;
}
