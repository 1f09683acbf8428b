/**
 * How the order-independence property tests read a trail: cut into batches of contiguous time, as one partition's
 * batches are, then read in an order fast-check picks, as a hub's partitions read at different paces hand them over.
 */

/** `units` (each the records of one event, in time order) cut at `cuts` (any numbers, taken modulo the count). */
export function batchesAt<T>(units: readonly (readonly T[])[], cuts: readonly number[]): T[][] {
  const bounds = [...new Set(cuts.map((c) => c % units.length))].sort((a, b) => a - b);
  return [...bounds, units.length].map((end, k, all) => units.slice(k === 0 ? 0 : all[k - 1], end).flat()).filter((b) => b.length > 0);
}

/** The batches in the order `order` ranks them (ties kept in time order). */
export function reordered<T>(batches: readonly T[], order: readonly number[]): T[] {
  return batches.map((b, k) => ({ b, rank: order[k % order.length]! * 10 + k })).sort((x, y) => x.rank - y.rank).map((x) => x.b);
}
