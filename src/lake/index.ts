/** The audit lake: every committed row also in Parquet, in a directory or a Blob container (docs/lake.md). */
export { parseLakeLocation, describeLake, type LakeLocation } from './lake-location.js';
export { openLakeStorage, type LakeStorage } from './lake-storage.js';
export { LakeExporter, type LakeStatus, type Exclusive } from './lake-exporter.js';
export { exportStoreToLake, stagingDirOf } from './export-once.js';
export { verifyLake, type LakeProblem, type LakeVerification } from './verify-lake.js';
export { openLakeDatabase, openLakeQueryTarget, openStoreAndLakeDatabase, openStoreAndLakeQueryTarget } from './lake-query-target.js';
export { hotCutoff, dropExportedHotRows, hotRetention, HOT_TABLES, type HotRetentionOptions } from './hot-retention.js';
export { lakeExportConfigSchema, retentionConfigSchema } from './lake-config.js';
export { droppedRowFiles, horizonsReach, readHotHorizons, shadowWithLakeRows, type HotHorizon } from './hot-and-lake-views.js';
export { copyFiles } from './lake-mirror.js';
export { entriesAfter, readManifest } from './manifest-checkpoints.js';
export { directoryRoot } from './lake-views.js';
export type { ManifestEntry, ManifestFile } from './manifest.js';
export { addEntry, emptySummary, summarize, type ManifestSummary } from './manifest-summary.js';
