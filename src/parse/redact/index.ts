export type { RedactionResult, SecretFinding } from './secret-finding.js';
export { redactSecrets, redactParameters } from './redact-secrets.js';
export { describeSecret } from './describe-secret.js';
export { REDACTED, REDACTED_LITERAL } from './edit.js';
export { SECRET_HINT, KEYWORD_RULES } from './sql-secret-scanner.js';
export { formatSecretArguments } from './call-shapes.js';
export { isConninfo } from './conninfo.js';
export { TEXT_PATTERNS } from './text-patterns.js';
export { redactConnectionString, censorSecret, LOGGER_REDACT_PATHS } from './connection-string.js';
