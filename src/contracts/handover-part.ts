/**
 * One part of what a hub's leader hands to the next leader (docs/fleet.md): sessions, open transactions, the
 * detection context. The pipeline gathers the parts into one document, written before each COMMIT that moved
 * one of them, and adopted by the next leader once the last leader's batches are settled.
 */

/** Whether the row of `source` at `position` is committed in some store: state of a batch that never committed is not adopted (the new leader reads the batch again). */
export type CommittedCheck = (source: string, position: string) => boolean;

export interface HandoverPart {
  /** The part's name in the document. */
  readonly name: string;
  /** Moves whenever what would be handed over changes: the document is written again only then. */
  version(): number;
  /**
   * Moves when what only a batch's transaction learns changed (detection: the alerts it raised); the leader
   * then writes the document once more inside the transaction, before COMMIT. Without it, nothing is learnt there.
   */
  inTransactionVersion?(): number;
  /** What is handed over, as JSON; text already passed the store's redactor. `self` is this instance's id. */
  handOver(self: string): unknown;
  /** Takes the last leader's part in; returns how many items it took. Throws on a part of another shape. */
  adopt(doc: unknown, self: string, committed: CommittedCheck): number;
}
