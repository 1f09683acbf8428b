// Times as the store holds them (UTC instants) and as the page shows them: always with their zone, so a
// time read off a screenshot or pasted into a ticket means one instant.

export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
export const ZONE = 'UTC';
/** The "all time" picker value. */
export const ALL_TIME = '1970-01-01T00:00:00Z';

/** 2026-11-27T02:20:31.157Z → 2026-11-27 02:20:31.157 UTC */
export function formatTime(iso) {
  return `${iso.replace('T', ' ').replace(/(\.000)?Z$/, '')} ${ZONE}`;
}

export function plainText(value) {
  if (typeof value === 'string' && ISO_TIME.test(value)) return formatTime(value);
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Chart axis labels: the axis title carries the zone. */
export function axisLabel(value) {
  return ISO_TIME.test(value) ? value.replace('T', ' ').replace(/(\.000)?Z$/, '') : value;
}

/** An ISO instant → the value of an <input type="datetime-local"> read as UTC. */
export function toInputValue(iso) {
  return iso ? iso.replace(/(\.\d+)?Z$/, '').slice(0, 19) : '';
}

/** The value of a datetime-local input (UTC) → an ISO instant; '' stays ''. */
export function fromInputValue(text) {
  if (!text) return '';
  const withSeconds = text.length === 16 ? `${text}:00` : text;
  return `${withSeconds}Z`;
}
