/**
 * The one filter Event Hubs consumers send when they attach: an `apache.org:selector-filter:string`
 * holding a single comparison on an annotation, as `@azure/event-hubs` writes it in
 * `getEventPositionFilter` (for example `amqp.annotation.x-opt-sequence-number > '41'`).
 */
export type StartField = 'offset' | 'sequenceNumber' | 'enqueuedTime';

export type StartFilter =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'compare'; field: StartField; value: number; inclusive: boolean };

const annotationFields = {
  'amqp.annotation.x-opt-offset': 'offset',
  'amqp.annotation.x-opt-sequence-number': 'sequenceNumber',
  'amqp.annotation.x-opt-enqueued-time': 'enqueuedTime',
} as const satisfies Record<string, StartField>;

const selectorPattern = /^\s*([\w.-]+)\s*(>=|>)\s*'([^']*)'\s*$/;

/** Parses a selector; throws with the text when it is not one the SDK writes. */
export function parseSelectorFilter(selector: string | undefined): StartFilter {
  // A consumer that sends no filter reads from the start, like the service does.
  if (selector === undefined) return { kind: 'earliest' };
  const match = selectorPattern.exec(selector);
  const field = match ? annotationFields[match[1] as keyof typeof annotationFields] : undefined;
  if (!match || !field) throw new Error(`unsupported selector filter: ${selector}`);
  const raw = match[3] ?? '';
  if (field === 'offset' && raw === '@latest') return { kind: 'latest' };
  if (field === 'offset' && raw === '-1') return { kind: 'earliest' };
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`selector value is not a number: ${selector}`);
  return { kind: 'compare', field, value, inclusive: match[2] === '>=' };
}

/** What a filter compares against, for one stored event. */
export interface EventCoordinates {
  offset: number;
  sequenceNumber: number;
  enqueuedTime: number;
}

/** Index of the first event the filter lets through; `events.length` when none yet. */
export function firstMatchingIndex(filter: StartFilter, events: readonly EventCoordinates[]): number {
  switch (filter.kind) {
    case 'earliest':
      return 0;
    case 'latest':
      return events.length;
    case 'compare': {
      const { field, value, inclusive } = filter;
      const index = events.findIndex((event) => (inclusive ? event[field] >= value : event[field] > value));
      return index === -1 ? events.length : index;
    }
    default: {
      const unreachable: never = filter;
      throw new Error(`unknown filter ${JSON.stringify(unreachable)}`);
    }
  }
}
