/** Every built-in rule, by id. Adding a rule is a module in this folder and a line here. */
import type { RuleDefinition } from '../rule.js';
import { auditTampering } from './audit-tampering.js';
import { bruteForce, failuresThenSuccess, passwordSpray } from './authentication.js';
import { changeOutsideWindow, privilegeBurst } from './change-control.js';
import {
  adminPasswordReset,
  azureAuditLoggingReduced,
  azureMd5PasswordEncryption,
  azureTlsWeakened,
  diagnosticSettingsChanged,
  entraAdminChanged,
  firewallAllowsAzureServices,
  firewallOpenToInternet,
  publicNetworkAccessEnabled,
} from './control-plane.js';
import { entraAdminGranted, entraPrincipalRemapped, entraPrincipalWithoutMfa, passwordOnEntraPrincipal } from './entra-principals.js';
import { md5Password, passwordInClear, passwordNeverExpires, passwordNotRotated, passwordRemoved, passwordSetByOther } from './password-hygiene.js';
import { adminGranted, grantToPublic, selfGrant } from './privilege-escalation.js';
import { dormantRoleLogin, loginRoleCreated, roleCreatedAndDropped } from './role-lifecycle.js';
import { copyProgram, serverFileAccess } from './server-access.js';
import { sessionWithoutSsl, tlsWeakened } from './transport-security.js';

export const RULES = {
  'admin-granted': adminGranted,
  'self-grant': selfGrant,
  'grant-to-public': grantToPublic,
  'login-role-created': loginRoleCreated,
  'role-created-and-dropped': roleCreatedAndDropped,
  'dormant-role-login': dormantRoleLogin,
  'password-set-by-other': passwordSetByOther,
  'password-removed': passwordRemoved,
  'password-never-expires': passwordNeverExpires,
  'password-in-clear': passwordInClear,
  'md5-password': md5Password,
  'password-not-rotated': passwordNotRotated,
  'audit-tampering': auditTampering,
  'tls-weakened': tlsWeakened,
  'session-without-ssl': sessionWithoutSsl,
  'brute-force': bruteForce,
  'password-spray': passwordSpray,
  'failures-then-success': failuresThenSuccess,
  'privilege-burst': privilegeBurst,
  'change-outside-window': changeOutsideWindow,
  'copy-program': copyProgram,
  'server-file-access': serverFileAccess,
  'azure-firewall-open-to-internet': firewallOpenToInternet,
  'azure-firewall-allows-azure-services': firewallAllowsAzureServices,
  'azure-tls-weakened': azureTlsWeakened,
  'azure-md5-password-encryption': azureMd5PasswordEncryption,
  'azure-audit-logging-reduced': azureAuditLoggingReduced,
  'azure-admin-password-reset': adminPasswordReset,
  'azure-entra-admin-changed': entraAdminChanged,
  'azure-diagnostic-settings-changed': diagnosticSettingsChanged,
  'azure-public-network-access-enabled': publicNetworkAccessEnabled,
  'entra-admin-granted': entraAdminGranted,
  'entra-principal-remapped': entraPrincipalRemapped,
  'entra-principal-without-mfa': entraPrincipalWithoutMfa,
  'password-on-entra-principal': passwordOnEntraPrincipal,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each rule keeps its own config type
} satisfies Record<string, RuleDefinition<any>>;

export type RuleId = keyof typeof RULES;
export const RULE_IDS = Object.keys(RULES) as RuleId[];
