/** How `run` behaves as a service: retries of a failing batch, what readiness tolerates, how long stopping may take. */
import { z } from 'zod';

export const operationsConfigSchema = z.strictObject({
  shutdownTimeoutMs: z
    .number()
    .int()
    .positive()
    .default(10_000)
    .describe('SIGTERM to exit at most; below the 30 s grace period of Docker and Kubernetes (AUDITDUCK_SHUTDOWN_TIMEOUT_MS)'),
  retry: z
    .strictObject({
      maxAttempts: z.number().int().min(1).default(5).describe('attempts before a batch failing for a reason in its data goes to dead_letters (AUDITDUCK_POISON_BATCH_ATTEMPTS)'),
      initialBackoffMs: z.number().int().positive().default(500),
      maxBackoffMs: z.number().int().positive().default(30_000),
    })
    .prefault({})
    .describe('retries of a batch that cannot be stored; a full disk is retried for ever'),
  readiness: z
    .strictObject({
      partitionFailingMs: z.number().int().min(0).default(60_000).describe('a partition failing this long fails /readyz (AUDITDUCK_PARTITION_FAILING_MS)'),
      sinkFailingMs: z.number().int().min(0).default(300_000).describe('an alert sink failing this long fails /readyz (AUDITDUCK_SINK_FAILING_MS)'),
      lakeFailingMs: z.number().int().min(0).default(900_000).describe('lake exports failing this long fail /readyz (AUDITDUCK_LAKE_FAILING_MS)'),
    })
    .prefault({}),
});

export type OperationsConfig = z.output<typeof operationsConfigSchema>;
