/**
 * A local Event Hubs broker for tests: an AMQP 1.0 server on `rhea` that speaks the surface the real
 * `@azure/event-hubs` clients use (docs/eventhubs.md, "Testing without Azure"):
 * - SASL ANONYMOUS (or no SASL) over plain TCP, as the SDK does with `UseDevelopmentEmulator=true`;
 * - `$cbs` put-token (always 202) and `$management` READ of the hub and of a partition;
 * - producer links on `<hub>` and `<hub>/Partitions/<id>`, single messages and batches (format 0x80013700);
 * - consumer links on `<hub>/ConsumerGroups/<cg>/Partitions/<id>` with the selector filter, credit-based
 *   flow, `com.microsoft:epoch` link stealing and the receiver runtime metric.
 * Everything lives in memory and vanishes on stop().
 */
import type { AddressInfo, Server, Socket } from 'node:net';
import rhea from 'rhea';
import type { Connection, EventContext, Message, Receiver, Sender } from 'rhea';
import { parseEntityAddress } from './entity-address.js';
import { PartitionLog, type StoredEvent } from './partition-log.js';
import { firstMatchingIndex, parseSelectorFilter } from './selector-filter.js';

export interface EventHubsBrokerOptions {
  hubName: string;
  partitionCount: number;
  /** More hubs in the same namespace (a connection string without EntityPath reaches them all). */
  otherHubs?: Array<{ hubName: string; partitionCount: number }>;
}

/** One hub of the namespace, as a test drives it. */
export interface BrokerHub {
  readonly hubName: string;
  /** `Endpoint=...;EntityPath=<this hub>;UseDevelopmentEmulator=true` */
  readonly connectionString: string;
  publish(partitionId: string, bodies: unknown[]): void;
  /**
   * Appends events as a producer with `partitionKey` would: the key's hash picks the partition, so one
   * key's events stay together (what `route` relies on; diagnostic settings publish without a key).
   */
  publishWithKey(partitionKey: string, bodies: unknown[]): void;
  events(partitionId: string): readonly StoredEvent[];
}

export interface EventHubsBroker {
  port: number;
  /** `Endpoint=sb://127.0.0.1:PORT;...;EntityPath=<hub>;UseDevelopmentEmulator=true` */
  connectionString: string;
  /**
   * Appends events to a partition as a producer would. A Buffer becomes a data section, a string an
   * AMQP value, anything else a data section of its JSON (what Azure diagnostic settings send).
   */
  publish(partitionId: string, bodies: unknown[]): void;
  /** Every event stored so far on a partition, in order. */
  events(partitionId: string): readonly StoredEvent[];
  /** A hub of the namespace by name (the first one is the broker's own `hubName`). */
  hub(name: string): BrokerHub;
  /** `Endpoint=sb://127.0.0.1:PORT;...;UseDevelopmentEmulator=true` with no EntityPath: give hubName beside it. */
  namespaceConnectionString: string;
  /** Cuts every client socket without a goodbye, like a broker restart or a network loss. */
  dropConnections(): void;
  /** The hub's retention ran out for every event of the partition before `sequenceNumber`. */
  expire(partitionId: string, beforeSequenceNumber: number): void;
  /** The hub deleted and created again: every partition empty, sequence numbers from 0; connections cut. */
  recreate(): void;
  stop(): Promise<void>;
}

const batchMessageFormat = 0x80013700;
const maxMessageSize = 1024 * 1024;
const epochProperty = 'com.microsoft:epoch';
const runtimeMetricCapability = 'com.microsoft:enable-receiver-runtime-metric';
const selectorFilterName = 'apache.org:selector-filter:string';

/** One hub: its partitions, in memory. */
interface HubLogs {
  name: string;
  createdAt: Date;
  logs: PartitionLog[];
  roundRobin: number;
}

/** One consumer link reading a partition from its cursor onwards. */
interface ConsumerLink {
  sender: Sender;
  log: PartitionLog;
  cursor: number;
  epoch: number | undefined;
  groupKey: string;
  runtimeMetrics: boolean;
  stopListening: () => void;
}

export async function startEventHubsBroker(options: EventHubsBrokerOptions): Promise<EventHubsBroker> {
  const { hubName } = options;
  const hubs = new Map<string, HubLogs>();
  for (const spec of [{ hubName, partitionCount: options.partitionCount }, ...(options.otherHubs ?? [])]) {
    const logs = Array.from({ length: spec.partitionCount }, (_, i) => new PartitionLog(String(i)));
    hubs.set(spec.hubName.toLowerCase(), { name: spec.hubName, createdAt: new Date(), logs, roundRobin: 0 });
  }
  const hubOf = (name: string): HubLogs | undefined => hubs.get(name.toLowerCase());
  const mainHub = hubOf(hubName)!;
  const consumerGroups = new Map<string, Set<ConsumerLink>>();
  const consumerBySender = new Map<Sender, ConsumerLink>();
  const replySenders = new Map<Connection, Map<string, Sender>>();
  const sockets = new Set<Socket>();
  const logOf = (hub: HubLogs | undefined, partitionId: string | null): PartitionLog | undefined => {
    if (!hub) return undefined;
    if (partitionId === null) return hub.logs[hub.roundRobin++ % hub.logs.length];
    return hub.logs.find((log) => log.partitionId === partitionId);
  };
  const keyedPartition = (hub: HubLogs, partitionKey: string): string => String(hash(partitionKey) % hub.logs.length);

  const container = rhea.create_container({ id: `eventhubs-test-broker-${hubName}` });

  // --- consumers -------------------------------------------------------------------------------
  const deliver = (link: ConsumerLink): void => {
    while (link.sender.sendable() && link.cursor < link.log.events.length) {
      const event = link.log.events[link.cursor++]!;
      link.sender.send(toConsumerMessage(event, link));
    }
  };

  const toConsumerMessage = (event: StoredEvent, link: ConsumerLink): Message => {
    const message: Message = {
      ...event.message,
      message_annotations: {
        ...event.message.message_annotations,
        'x-opt-sequence-number': rhea.types.wrap_long(event.sequenceNumber),
        'x-opt-offset': String(event.offset),
        'x-opt-enqueued-time': new Date(event.enqueuedTime),
      },
    };
    if (link.runtimeMetrics) {
      const last = link.log.events.at(-1)!;
      message.delivery_annotations = {
        last_enqueued_sequence_number: rhea.types.wrap_long(last.sequenceNumber),
        last_enqueued_offset: String(last.offset),
        last_enqueued_time_utc: new Date(last.enqueuedTime),
        runtime_info_retrieval_time_utc: new Date(),
      };
    }
    return message;
  };

  const removeConsumer = (sender: Sender): void => {
    const link = consumerBySender.get(sender);
    if (!link) return;
    link.stopListening();
    consumerBySender.delete(sender);
    consumerGroups.get(link.groupKey)?.delete(link);
  };

  /** Applies the epoch rules of the service; returns an error text when the new link must be refused. */
  const admitByEpoch = (groupKey: string, epoch: number | undefined): string | null => {
    const current = [...(consumerGroups.get(groupKey) ?? [])];
    const epochs = current.map((link) => link.epoch).filter((value): value is number => value !== undefined);
    if (epoch === undefined) {
      return epochs.length > 0 ? `an epoch receiver (epoch ${Math.max(...epochs)}) owns ${groupKey}` : null;
    }
    const highest = epochs.length > 0 ? Math.max(...epochs) : -Infinity;
    // The service's own words, which the SDK turns into ReceiverDisconnectedError.
    if (epoch < highest) {
      return `Receiver 'nil' with epoch '${epoch}' cannot be created: a receiver with a higher epoch '${highest}' already exists on ${groupKey}.`;
    }
    for (const old of current) {
      removeConsumer(old.sender);
      old.sender.close({
        condition: 'amqp:link:stolen',
        description: `New receiver 'nil' with higher epoch of '${epoch}' is created hence current receiver 'nil' with epoch '${old.epoch ?? 0}' is getting disconnected. If you are recreating the receiver, make sure a higher epoch is used.`,
      });
    }
    return null;
  };

  const openConsumer = (sender: Sender, hubName: string, consumerGroup: string, partitionId: string): void => {
    const hub = hubOf(hubName);
    const log = logOf(hub, partitionId);
    const remote = remoteAttach(sender);
    if (!hub) return refuse(sender, 'amqp:not-found', `The messaging entity '${hubName}' could not be found.`);
    if (!log) return refuse(sender, 'amqp:not-found', `partition ${partitionId} does not exist in ${hub.name}`);
    const groupKey = `${hub.name.toLowerCase()}/${consumerGroup.toLowerCase()}/${partitionId}`;
    const epochValue = remote.properties?.[epochProperty];
    const epoch = epochValue === undefined || epochValue === null ? undefined : Number(epochValue);
    let filter;
    try {
      filter = parseSelectorFilter(unwrapFilter(remote.source?.filter?.[selectorFilterName]));
    } catch (error) {
      return refuse(sender, 'amqp:not-implemented', (error as Error).message);
    }
    // The service refuses a start past the end of the partition (a position kept from a hub deleted since).
    const last = (log.events.at(-1)?.sequenceNumber ?? -1);
    if (filter.kind === 'compare' && filter.field === 'sequenceNumber' && filter.value > last + (filter.inclusive ? 1 : 0)) {
      return refuse(sender, 'com.microsoft:argument-out-of-range', `The supplied sequence number '${filter.value}' is invalid. The last sequence number in the system is '${last}'`);
    }
    const refusal = admitByEpoch(groupKey, epoch);
    if (refusal) return refuse(sender, 'amqp:link:stolen', refusal);
    const capabilities = [remote.desired_capabilities ?? []].flat().map(String);
    const link: ConsumerLink = {
      sender,
      log,
      cursor: Math.max(firstMatchingIndex(filter, log.events), log.begin),
      epoch,
      groupKey,
      runtimeMetrics: capabilities.includes(runtimeMetricCapability),
      stopListening: log.onAppend(() => deliver(link)),
    };
    consumerBySender.set(sender, link);
    if (!consumerGroups.has(groupKey)) consumerGroups.set(groupKey, new Set());
    consumerGroups.get(groupKey)!.add(link);
    mirrorTermini(sender);
  };

  // --- producers and request/response nodes ----------------------------------------------------
  const storeProduced = (context: EventContext): void => {
    const address = parseEntityAddress(context.receiver?.target?.address);
    if (address.kind !== 'producer' || !context.message) return;
    const hub = hubOf(address.hub);
    if (!hub) return;
    const messages = isBatch(context) ? unbatch(decode(context.message as unknown as Buffer)) : [context.message];
    const keyed = messages[0]?.message_annotations?.['x-opt-partition-key'];
    // One batch goes to one partition, as in the service; a partition key picks it by hash.
    const partitionId = address.partitionId ?? (typeof keyed === 'string' ? keyedPartition(hub, keyed) : null);
    const log = logOf(hub, partitionId);
    if (!log) return;
    for (const message of messages) log.append(message, rhea.message.encode(message).length);
  };

  const answerRequest = (context: EventContext, node: 'cbs' | 'management'): void => {
    const request = context.message;
    const replyTo = request?.reply_to;
    if (!request || !replyTo) return;
    const reply = replySenders.get(context.connection)?.get(replyTo);
    if (!reply) return;
    const { status, description, body } = node === 'cbs' ? { status: 202, description: 'Accepted', body: undefined } : readManagement(request);
    reply.send({
      to: replyTo,
      correlation_id: request.message_id,
      application_properties: { 'status-code': status, 'status-description': description },
      body,
    });
  };

  const readManagement = (request: Message): { status: number; description: string; body: unknown } => {
    const props = request.application_properties ?? {};
    if (props.operation !== 'READ') return { status: 400, description: `unsupported operation ${String(props.operation)}`, body: null };
    const hub = hubOf(String(props.name));
    if (!hub) {
      return { status: 404, description: `The messaging entity '${String(props.name)}' could not be found.`, body: null };
    }
    if (props.type === 'com.microsoft:eventhub') {
      return {
        status: 200,
        description: 'OK',
        body: { name: hub.name, created_at: hub.createdAt, partition_count: hub.logs.length, partition_ids: hub.logs.map((log) => log.partitionId) },
      };
    }
    if (props.type === 'com.microsoft:partition') {
      const log = logOf(hub, String(props.partition));
      if (!log) return { status: 404, description: `partition ${String(props.partition)} does not exist`, body: null };
      return { status: 200, description: 'OK', body: log.properties(hub.name) };
    }
    return { status: 400, description: `unsupported type ${String(props.type)}`, body: null };
  };

  // --- rhea events -------------------------------------------------------------------------------
  container.on('receiver_open', (context: EventContext) => {
    const receiver = context.receiver!;
    const address = parseEntityAddress(receiver.target?.address);
    if (address.kind === 'unknown' || address.kind === 'consumer' || (address.kind === 'producer' && !hubOf(address.hub))) {
      return refuse(receiver, 'amqp:not-found', `no node ${receiver.target?.address ?? '(none)'} to send to`);
    }
    if (address.kind === 'producer' && address.partitionId !== null && !logOf(hubOf(address.hub), address.partitionId)) {
      return refuse(receiver, 'amqp:not-found', `partition ${address.partitionId} does not exist in ${address.hub}`);
    }
    // The producer sizes its batches from the max_message_size the broker announces.
    (receiver as Receiver & { local: { attach: Record<string, unknown> } }).local.attach.max_message_size = maxMessageSize;
    mirrorTermini(receiver);
  });

  container.on('sender_open', (context: EventContext) => {
    const sender = context.sender!;
    const address = parseEntityAddress(sender.source?.address);
    switch (address.kind) {
      case 'cbs':
      case 'management': {
        // Clients name the reply address either as the receiver's target or as the link's name ($cbs).
        if (!replySenders.has(context.connection)) replySenders.set(context.connection, new Map());
        const byReplyTo = replySenders.get(context.connection)!;
        byReplyTo.set(sender.name, sender);
        if (sender.target?.address) byReplyTo.set(sender.target.address, sender);
        return mirrorTermini(sender);
      }
      case 'consumer':
        return openConsumer(sender, address.hub, address.consumerGroup, address.partitionId);
      case 'producer':
      case 'unknown':
        return refuse(sender, 'amqp:not-found', `no node ${sender.source?.address ?? '(none)'} to receive from`);
      default: {
        const unreachable: never = address;
        throw new Error(`unhandled address ${JSON.stringify(unreachable)}`);
      }
    }
  });

  container.on('message', (context: EventContext) => {
    const address = parseEntityAddress(context.receiver?.target?.address);
    if (address.kind === 'cbs' || address.kind === 'management') answerRequest(context, address.kind);
    else storeProduced(context);
  });

  container.on('sendable', (context: EventContext) => {
    const link = context.sender && consumerBySender.get(context.sender);
    if (link) deliver(link);
  });

  container.on('sender_close', (context: EventContext) => removeConsumer(context.sender!));
  const forgetConnection = (context: Pick<EventContext, 'connection'>): void => {
    for (const sender of [...consumerBySender.keys()]) {
      if (sender.connection === context.connection) removeConsumer(sender);
    }
    replySenders.delete(context.connection);
    connections.delete(context.connection);
  };
  const connections = new Set<Connection>();
  container.on('connection_open', (context: EventContext) => {
    connections.add(context.connection);
    tolerateLateFrames(context.connection);
  });
  /**
   * Forgets every client, then cuts the sockets. rhea only notices a socket's `end` or `error`, so a
   * bare destroy() would leave its heartbeat timer running: abort_socket also stops that.
   */
  const cutEveryConnection = (): void => {
    for (const connection of connections) {
      forgetConnection({ connection });
      const internals = connection as Connection & { socket?: Socket; abort_socket?: (socket: Socket) => void };
      if (internals.socket && internals.abort_socket) internals.abort_socket(internals.socket);
    }
    connections.clear();
    for (const socket of sockets) socket.destroy();
  };
  container.on('disconnected', forgetConnection);
  container.on('connection_close', forgetConnection);
  // Errors on links and connections are the clients' business; the broker keeps serving.
  for (const event of ['error', 'connection_error', 'session_error', 'sender_error', 'receiver_error', 'protocol_error']) {
    container.on(event, () => {});
  }

  const server = container.listen({ port: 0, host: '127.0.0.1' }) as Server;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;

  const namespaceConnectionString = `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`;
  const publishTo = (hub: HubLogs, partitionId: string, bodies: unknown[]): void => {
    const log = logOf(hub, partitionId);
    if (!log) throw new Error(`partition ${partitionId} does not exist in ${hub.name}`);
    for (const body of bodies) {
      const message = toProducedMessage(body);
      log.append(message, rhea.message.encode(message).length);
    }
  };
  const brokerHub = (name: string): BrokerHub => {
    const hub = hubOf(name);
    if (!hub) throw new Error(`the broker has no hub ${name}`);
    return {
      hubName: hub.name,
      connectionString: `${namespaceConnectionString.replace(/;UseDevelopmentEmulator=true$/, '')};EntityPath=${hub.name};UseDevelopmentEmulator=true`,
      publish: (partitionId, bodies) => publishTo(hub, partitionId, bodies),
      publishWithKey: (partitionKey, bodies) => publishTo(hub, keyedPartition(hub, partitionKey), bodies),
      events: (partitionId) => logOf(hub, partitionId)?.events ?? [],
    };
  };
  const main = brokerHub(hubName);

  return {
    port,
    connectionString: main.connectionString,
    namespaceConnectionString,
    publish: main.publish,
    events: main.events,
    hub: brokerHub,
    dropConnections: cutEveryConnection,
    expire(partitionId, beforeSequenceNumber) {
      logOf(mainHub, partitionId)!.expireBefore(beforeSequenceNumber);
    },
    recreate() {
      for (const hub of hubs.values()) for (const log of hub.logs) log.clear();
      cutEveryConnection();
    },
    async stop() {
      cutEveryConnection();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- small pure helpers ----------------------------------------------------------------------------

type Link = Sender | Receiver;

/** The attach frame the client sent, which rhea keeps but its typings do not show. */
interface RemoteAttach {
  source?: { address?: string; filter?: Record<string, unknown> };
  target?: { address?: string };
  properties?: Record<string, unknown>;
  desired_capabilities?: string | string[];
}

function remoteAttach(link: Link): RemoteAttach {
  return (link as Link & { remote: { attach: RemoteAttach } }).remote.attach;
}

function decode(encoded: Buffer): Message {
  return rhea.message.decode(encoded) as unknown as Message;
}

/** Answers an attach with the client's own source and target addresses, which accepts the link. */
function mirrorTermini(link: Link): void {
  const remote = remoteAttach(link);
  if (remote.source?.address) link.set_source({ address: remote.source.address });
  if (remote.target?.address) link.set_target({ address: remote.target.address });
}

/**
 * The SDK may settle deliveries (disposition) on a session just after both sides ended it. rhea
 * treats that as a protocol error and drops the whole connection, which the service does not do:
 * frames for a session that is gone are ignored here instead.
 */
function tolerateLateFrames(connection: Connection): void {
  const internals = connection as unknown as Record<string, unknown> & { remote_channel_map: Record<number, unknown> };
  for (const name of ['on_disposition', 'on_flow', 'on_transfer', 'on_detach']) {
    const original = internals[name] as (frame: { channel: number }) => void;
    internals[name] = function (this: typeof internals, frame: { channel: number }) {
      if (this.remote_channel_map[frame.channel] === undefined) return;
      original.call(this, frame);
    };
  }
}

/** Refuses a link the AMQP way: attach with no terminus, then detach with the error. */
function refuse(link: Link, condition: string, description: string): void {
  link.close({ condition, description });
}

/** rhea hands messages of another format than 0 over undecoded, with the format beside them. */
function isBatch(context: EventContext): boolean {
  return (context as EventContext & { format?: number }).format === batchMessageFormat;
}

/** A batch is an envelope whose data sections each hold one encoded message. */
function unbatch(envelope: Message): Message[] {
  const section = envelope.body as { content?: Buffer | Buffer[]; multiple?: boolean } | undefined;
  const parts = section?.content === undefined ? [] : section.multiple ? (section.content as Buffer[]) : [section.content as Buffer];
  return parts.map(decode);
}

function unwrapFilter(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  const inner = (value as { value?: unknown }).value;
  return typeof inner === 'string' ? inner : unwrapFilter(inner);
}

function toProducedMessage(body: unknown): Message {
  if (Buffer.isBuffer(body)) return { body: rhea.message.data_section(body) };
  if (typeof body === 'string') return { body };
  return { body: rhea.message.data_section(Buffer.from(JSON.stringify(body), 'utf8')) };
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + char.charCodeAt(0)) >>> 0;
  return value;
}
