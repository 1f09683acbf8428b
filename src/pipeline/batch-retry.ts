/**
 * What happens when a batch cannot be stored. Two causes, told apart by the error:
 * - the store (disk full, an I/O error, a file it may not write): nothing is wrong with the rows, so the
 *   batch is retried for as long as it takes, with exponential backoff, and readiness says the store is down;
 * - a conflict with another writer of the same store (the snapshot schedule, an acknowledgement): retried as
 *   long as it happens, like the store's faults, but readiness does not blame the store for it;
 * - the data (anything else: a rule or a decoder that throws on one input): retried `maxAttempts` times, then
 *   quarantined (its events go to dead_letters with the reason) so the partition moves on.
 * Stopping interrupts the wait between attempts; the batch is then left uncommitted and read again later.
 */

export interface BatchRetryPolicy {
  /** Attempts before a batch whose failure is the data's fault is quarantined. */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export type CommitFailureCause = 'data' | 'store' | 'conflict';

/**
 * DuckDB and Node messages that mean the store cannot write, whatever the rows: retrying later may work,
 * dead-lettering would lose good data. Kept as a table so a new wording is one line.
 */
const STORE_FAULTS: readonly RegExp[] = [
  /\bIO Error\b/i,
  /No space left on device/i,
  /\bENOSPC\b|\bEIO\b|\bEROFS\b|\bEACCES\b|\bEPERM\b|\bEDQUOT\b/,
  /disk (is )?full/i,
  /Could not (write|read|open|truncate|sync)/i,
  /read-only (file system|database)/i,
  /database (has been )?invalidated/i,
  /FATAL Error/i,
  /Out of Memory Error/i,
];

/** DuckDB's optimistic concurrency: another connection changed the same rows; the next attempt may pass. */
const CONFLICTS: readonly RegExp[] = [/\bConflict\b/i, /TransactionContext Error/i];

export function commitFailureCause(error: unknown): CommitFailureCause {
  const text = error instanceof Error ? `${error.message} ${(error as NodeJS.ErrnoException).code ?? ''}` : String(error);
  if (STORE_FAULTS.some((pattern) => pattern.test(text))) return 'store';
  if (CONFLICTS.some((pattern) => pattern.test(text))) return 'conflict';
  return 'data';
}

export function retryDelayMs(attempt: number, policy: BatchRetryPolicy): number {
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
}

/** Thrown when stopping interrupted the retries: the batch was not committed. */
export class RetryAborted extends Error {
  override name = 'RetryAborted';
}

export interface FailedAttempt {
  attempt: number;
  cause: CommitFailureCause;
  error: unknown;
  retryInMs: number;
}

export interface CommitWithRetryOptions<T> {
  commit(): Promise<T>;
  /** Stores the batch as dead letters instead (its own commit); called once the data failed `maxAttempts` times. */
  quarantine(error: unknown, attempts: number): Promise<T>;
  policy: BatchRetryPolicy;
  signal: AbortSignal;
  onFailure?(failure: FailedAttempt): void;
}

export async function commitWithRetry<T>(opts: CommitWithRetryOptions<T>): Promise<T> {
  let dataFailures = 0;
  for (let attempt = 1; ; attempt++) {
    if (opts.signal.aborted) throw new RetryAborted('stopping: the batch was not committed and will be read again');
    let error: unknown;
    try {
      return await opts.commit();
    } catch (failure) {
      error = failure;
    }
    let cause = commitFailureCause(error);
    if (cause === 'data') dataFailures++;
    if (cause === 'data' && dataFailures >= opts.policy.maxAttempts) {
      try {
        return await opts.quarantine(error, dataFailures);
      } catch (quarantineFailure) {
        // Dead letters that cannot be written either: the store is at fault, keep trying.
        error = quarantineFailure;
        cause = 'store';
      }
    }
    const retryInMs = retryDelayMs(attempt, opts.policy);
    opts.onFailure?.({ attempt, cause, error, retryInMs });
    await sleep(retryInMs, opts.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
