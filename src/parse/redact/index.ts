export type { RedactionResult, SecretFinding } from './secret-finding.js';
export { redactSecrets, redactParameters } from './redact-secrets.js';
export { describeSecret } from './describe-secret.js';
export { REDACTED, REDACTED_LITERAL, SECRET_HINT, KEYWORD_RULES, formatSecretArguments } from './sql-secret-scanner.js';
export { TEXT_PATTERNS } from './text-patterns.js';
export { redactConnectionString, censorSecret, LOGGER_REDACT_PATHS } from './connection-string.js';
