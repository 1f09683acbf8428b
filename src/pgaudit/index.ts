export type { AuditEntry } from './audit-entry.js';
export {
  AUDIT_PREFIX,
  AuditMarker,
  KNOWN_AUDIT_CLASSES,
  isAuditMessage,
  parseAuditMessage,
} from './parse-audit-message.js';
export { renderAuditMessage, rendersAuditMessage, renderCsv } from './render-audit-message.js';
