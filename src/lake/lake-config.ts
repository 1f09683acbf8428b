/** The lake's part of the run configuration (docs/lake.md); `lake` itself is the location string. */
import { z } from 'zod';

export const lakeExportConfigSchema = z.strictObject({
  intervalMs: z
    .number()
    .int()
    .min(1_000)
    .default(60_000)
    .describe('how often committed rows are exported: the lake lags the store by about this much at most (AUDITDUCK_LAKE_INTERVAL_MS)'),
});

export const retentionConfigSchema = z.strictObject({
  hotDays: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('keep this many days (UTC) of events in the store; older rows are dropped once verified in the lake (AUDITDUCK_RETENTION_HOT_DAYS); unset: keep all'),
});

export type LakeExportConfig = z.output<typeof lakeExportConfigSchema>;
export type RetentionConfig = z.output<typeof retentionConfigSchema>;
