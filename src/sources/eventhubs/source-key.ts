/** The stream key a partition's position is committed under: one per namespace, hub, consumer group and partition. */
export interface HubCoordinates {
  namespaceHost: string;
  hubName: string;
  consumerGroup: string;
}

export function eventHubsSourceKey(hub: HubCoordinates, partitionId: string): string {
  return `eventhubs:${hub.namespaceHost}/${hub.hubName}/${hub.consumerGroup}/${partitionId}`;
}

/** Where a hub's lease and partition registers live in the checkpoint container. */
export function fleetBlobPrefix(hub: HubCoordinates): string {
  return `${hub.namespaceHost}/${hub.hubName}/${hub.consumerGroup}`.toLowerCase();
}
