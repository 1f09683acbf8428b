/**
 * Live snapshots of watched servers (issue 9): what pg_roles, pg_auth_members and the security settings
 * show, stored beside the trail; drift (changes the trail does not explain) and posture findings.
 *
 * Why a stage folder of its own and not `sources/snapshot`: sources yield log lines with positions into
 * decode → parse → analyze; a snapshot is no log line, it has no position to resume, and it carries its
 * own analyses (drift against the stored trail, posture). It reads the store's trail, so it sits after
 * `store` in the flow, next to `detect`, and writes its rows and alerts in its own transactions.
 */
export { watchedServerSchema, watchedServersSchema, snapshotConfigSchema, ENTRA_POSTGRES_SCOPE, type WatchedServer, type SnapshotConfig } from './watched-server.js';
export { loadSnapshotConfig } from './load-snapshot-config.js';
export { entraPasswordProvider, passwordFor, connectToServer, explainConnectError, ServerConnectError, type PasswordProvider } from './server-connection.js';
export { readSnapshot, WATCHED_SETTINGS, type ServerSnapshot } from './read-snapshot.js';
export { takeSnapshot, storeSnapshot, type SnapshotResult } from './take-snapshot.js';
export { computeDrift, type DriftRow } from './drift.js';
export { evaluateDrift, describeDrift, DRIFT_RULE, type DriftWindowResult } from './evaluate-drift.js';
export { postureFindings, coversRole, POSTURE_CHECKS, type PostureFinding } from './posture.js';
export { startSnapshotSchedule, type SnapshotSchedule, type SnapshotScheduleOptions } from './snapshot-schedule.js';
