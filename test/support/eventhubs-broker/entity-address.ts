/** What a link address names on the broker; the table of addresses the real SDK attaches to. */
export type EntityAddress =
  | { kind: 'cbs' }
  | { kind: 'management' }
  | { kind: 'producer'; hub: string; partitionId: string | null }
  | { kind: 'consumer'; hub: string; consumerGroup: string; partitionId: string }
  | { kind: 'unknown' };

/** Parses an address such as `hub/ConsumerGroups/$default/Partitions/0`; the broker checks that the hub exists. */
export function parseEntityAddress(address: string | undefined): EntityAddress {
  if (address === '$cbs') return { kind: 'cbs' };
  if (address === '$management') return { kind: 'management' };
  if (address === undefined) return { kind: 'unknown' };
  // Some clients prefix the address with the namespace URL; only the path counts.
  const path = address.replace(/^amqps?:\/\/[^/]+\//, '');
  if (/^[^/$]+$/.test(path)) return { kind: 'producer', hub: path, partitionId: null };
  const producer = /^([^/$]+)\/Partitions\/([^/]+)$/i.exec(path);
  if (producer?.[1] !== undefined && producer[2] !== undefined) return { kind: 'producer', hub: producer[1], partitionId: producer[2] };
  const consumer = /^([^/$]+)\/ConsumerGroups\/([^/]+)\/Partitions\/([^/]+)$/i.exec(path);
  if (consumer?.[1] !== undefined && consumer[2] !== undefined && consumer[3] !== undefined) {
    return { kind: 'consumer', hub: consumer[1], consumerGroup: consumer[2], partitionId: consumer[3] };
  }
  return { kind: 'unknown' };
}
