/** What a link address names on the broker; the table of addresses the real SDK attaches to. */
export type EntityAddress =
  | { kind: 'cbs' }
  | { kind: 'management' }
  | { kind: 'producer'; partitionId: string | null }
  | { kind: 'consumer'; consumerGroup: string; partitionId: string }
  | { kind: 'unknown' };

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Parses an address such as `hub/ConsumerGroups/$default/Partitions/0` for the hub `hubName`. */
export function parseEntityAddress(address: string | undefined, hubName: string): EntityAddress {
  if (address === '$cbs') return { kind: 'cbs' };
  if (address === '$management') return { kind: 'management' };
  if (address === undefined) return { kind: 'unknown' };
  // Some clients prefix the address with the namespace URL; only the path counts.
  const path = address.replace(/^amqps?:\/\/[^/]+\//, '');
  const hub = escapeRegExp(hubName);
  if (new RegExp(`^${hub}$`, 'i').test(path)) return { kind: 'producer', partitionId: null };
  const producer = new RegExp(`^${hub}/Partitions/([^/]+)$`, 'i').exec(path);
  if (producer?.[1] !== undefined) return { kind: 'producer', partitionId: producer[1] };
  const consumer = new RegExp(`^${hub}/ConsumerGroups/([^/]+)/Partitions/([^/]+)$`, 'i').exec(path);
  if (consumer?.[1] !== undefined && consumer[2] !== undefined) {
    return { kind: 'consumer', consumerGroup: consumer[1], partitionId: consumer[2] };
  }
  return { kind: 'unknown' };
}
