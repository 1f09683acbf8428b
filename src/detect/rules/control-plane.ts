/**
 * Control-plane changes to servers, from the Azure Activity Log: the firewall opened, TLS or SCRAM weakened
 * through server parameters, logging turned down, the admin password reset, the Entra admin or the diagnostic
 * settings changed, public network access enabled. Only successful outcomes count: a Start may still fail,
 * a Failure changed nothing. An outcome whose requested value is in its Start is judged once the two are joined
 * (request-joiner.ts); rules that do not need the value judge the outcome as it arrives.
 */
import { z } from 'zod';
import type { ControlPlaneAction, ControlPlaneEvent } from '../../contracts/control-plane-event.js';
import type { BatchFacts } from '../batch-facts.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { TURNED_DOWN } from './audit-tampering.js';
import { PROTOCOLS } from './transport-security.js';

/**
 * Successful outcomes of these actions. `needsValue`: the rule judges what was requested, so it also reads
 * outcomes completed late by their Start; otherwise those were judged when they arrived and are skipped.
 */
function succeeded(facts: BatchFacts, actions: readonly ControlPlaneAction[], needsValue: boolean): ControlPlaneEvent[] {
  return facts.controlPlane.filter(
    (e) => e.status === 'success' && actions.includes(e.action) && (needsValue || e.completedLate !== true),
  );
}

function evidence(e: ControlPlaneEvent): Record<string, unknown> {
  return {
    loggedAt: e.loggedAt.toISOString(),
    operation: e.operation,
    status: e.status,
    caller: e.caller,
    callerType: e.callerType,
    callerRole: e.callerRole,
    callerIp: e.callerIp,
    correlationId: e.correlationId,
    target: e.target,
    requestedValue: e.requestedValue,
    requestedFrom: e.requestedFrom,
    resourceId: e.resourceId,
    source: e.source,
    position: e.position,
  };
}

function finding(e: ControlPlaneEvent, f: Pick<Finding, 'summary' | 'dedupKey'> & Partial<Finding>): Finding {
  return { server: e.server, at: e.loggedAt, actor: e.caller, target: e.target, evidence: evidence(e), ...f };
}

function callerName(e: ControlPlaneEvent): string {
  return e.caller ?? 'an unknown caller';
}

/** The value of the first key named `name` (any case, any depth) in a request body. */
function findKey(body: unknown, name: string, depth = 0): { found: boolean; value: unknown } {
  if (depth > 16 || typeof body !== 'object' || body === null) return { found: false, value: undefined };
  for (const [k, v] of Object.entries(body)) {
    if (k.toLowerCase() === name.toLowerCase()) return { found: true, value: v };
    const inner = findKey(v, name, depth + 1);
    if (inner.found) return inner;
  }
  return { found: false, value: undefined };
}

function ipNumber(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return null;
  return octets.reduce((n, o) => n * 256 + o, 0);
}

/** `start-end` of a firewall rule as numbers; null when the range is not two IPv4 addresses. */
function ipRange(value: string | null): { start: number; end: number } | null {
  if (value === null) return null;
  const [a, b] = value.split('-');
  const start = a === undefined ? null : ipNumber(a);
  const end = b === undefined ? null : ipNumber(b);
  return start === null || end === null ? null : { start, end };
}

const ALL_ADDRESSES = 2 ** 32;

export const firewallOpenToInternet = defineRule({
  id: 'azure-firewall-open-to-internet',
  title: 'Server firewall opened to the internet',
  severity: 'high',
  mitre: 'T1562.007 Impair Defenses: Disable or Modify Cloud Firewall',
  trigger:
    'a firewall rule written (Activity Log, success) whose range is 0.0.0.0-255.255.255.255 (critical) or holds more addresses than a /`widestPrefix` (default /16)',
  description:
    'The firewall blocks everything by default; a rule this wide lets the whole internet (or a large part of it) try passwords against the server.',
  config: baseRuleConfig.extend({
    widestPrefix: z.number().int().min(0).max(32).default(16).describe('a rule holding more addresses than a network of this prefix length fires'),
  }),
  evaluate({ facts, config }) {
    return succeeded(facts, ['firewall-rule-write'], true).flatMap((e) => {
      const range = ipRange(e.requestedValue);
      if (range === null || (range.start === 0 && range.end === 0)) return [];
      const size = range.end - range.start + 1;
      if (size <= 2 ** (32 - config.widestPrefix)) return [];
      const everyone = size >= ALL_ADDRESSES;
      return [
        finding(e, {
          summary: `${callerName(e)} opened firewall rule ${e.target ?? '?'} of ${e.server} to ${everyone ? 'the whole internet' : `${size} addresses`} (${e.requestedValue})`,
          dedupKey: `${e.target}|${e.requestedValue}`,
          ...(everyone ? { severity: 'critical' as const } : {}),
        }),
      ];
    });
  },
});

export const firewallAllowsAzureServices = defineRule({
  id: 'azure-firewall-allows-azure-services',
  title: 'Server firewall allows all Azure services',
  severity: 'medium',
  mitre: 'T1562.007 Impair Defenses: Disable or Modify Cloud Firewall',
  trigger: 'a firewall rule 0.0.0.0-0.0.0.0 written (Activity Log, success): "Allow public access from any Azure service"',
  description: "Admits connections from any Azure tenant's resources, not only yours: anyone with an Azure VM can reach the server.",
  config: baseRuleConfig,
  evaluate({ facts }) {
    return succeeded(facts, ['firewall-rule-write'], true).flatMap((e) => {
      const range = ipRange(e.requestedValue);
      if (range === null || range.start !== 0 || range.end !== 0) return [];
      return [finding(e, { summary: `${callerName(e)} allowed every Azure service through the firewall of ${e.server} (rule ${e.target ?? '?'})`, dedupKey: `${e.target}` })];
    });
  },
});

/** A server parameter written with a known value: name (lowercase) and value. */
function parameterWrites(facts: BatchFacts): { e: ControlPlaneEvent; name: string; value: string }[] {
  return succeeded(facts, ['configuration-write'], true).flatMap((e) =>
    e.target === null || e.requestedValue === null ? [] : [{ e, name: e.target.toLowerCase(), value: e.requestedValue.trim() }],
  );
}

function isOff(value: string): boolean {
  return ['off', 'false', '0', 'no'].includes(value.toLowerCase());
}

export const azureTlsWeakened = defineRule({
  id: 'azure-tls-weakened',
  title: 'TLS weakened through a server parameter',
  severity: 'high',
  mitre: 'T1562 Impair Defenses',
  trigger: 'require_secure_transport set OFF, or ssl_min_protocol_version set below `minimumProtocol` (default TLSv1.2), through Azure (Activity Log, success)',
  description: 'Azure enforces TLS by default; turning it off or allowing old protocols exposes passwords and data on the wire.',
  config: baseRuleConfig.extend({
    minimumProtocol: z.enum(PROTOCOLS).default('TLSv1.2').describe('the lowest acceptable ssl_min_protocol_version'),
  }),
  evaluate({ facts, config }) {
    return parameterWrites(facts).flatMap(({ e, name, value }) => {
      let what: string | null = null;
      if (name === 'require_secure_transport' && isOff(value)) what = 'turned require_secure_transport off';
      if (name === 'ssl_min_protocol_version') {
        const rank = PROTOCOLS.findIndex((p) => p.toLowerCase() === value.toLowerCase());
        if (rank >= 0 && rank < PROTOCOLS.indexOf(config.minimumProtocol)) what = `lowered ssl_min_protocol_version to ${value}`;
      }
      return what === null ? [] : [finding(e, { summary: `${callerName(e)} ${what} on ${e.server}`, dedupKey: `${name}|${value}` })];
    });
  },
});

export const azureMd5PasswordEncryption = defineRule({
  id: 'azure-md5-password-encryption',
  title: 'password_encryption set to md5 through Azure',
  severity: 'medium',
  mitre: 'T1556 Modify Authentication Process',
  trigger: 'the server parameter password_encryption set to md5 (Activity Log, success)',
  description: 'Passwords set from now on are stored as md5 hashes instead of SCRAM verifiers: weaker to crack and replayable.',
  config: baseRuleConfig,
  evaluate({ facts }) {
    return parameterWrites(facts).flatMap(({ e, name, value }) =>
      name === 'password_encryption' && value.toLowerCase() === 'md5'
        ? [finding(e, { summary: `${callerName(e)} set password_encryption = md5 on ${e.server}`, dedupKey: name })]
        : [],
    );
  },
});

export const azureAuditLoggingReduced = defineRule({
  id: 'azure-audit-logging-reduced',
  title: 'Audit or logging parameters turned down through Azure',
  severity: 'high',
  mitre: 'T1562.001 Impair Defenses: Disable or Modify Tools',
  trigger:
    'a server parameter written through Azure (Activity Log, success) that blinds the trail: pgaudit.log losing a required class (default role, ddl) or none, pgaudit.log_statement off, log_connections / log_disconnections off, shared_preload_libraries without pgaudit…',
  description: 'The same parameters audit-tampering watches in SQL, changed from the portal, CLI or an ARM template, where PostgreSQL logs nothing about it.',
  config: baseRuleConfig.extend({
    requiredClasses: z.array(z.string()).default(['role', 'ddl']).describe('pgaudit.log classes whose loss counts'),
  }),
  evaluate({ facts, config }) {
    return parameterWrites(facts).flatMap(({ e, name, value }) =>
      TURNED_DOWN[name]?.(value, config.requiredClasses)
        ? [finding(e, { summary: `${callerName(e)} set ${name} = ${value} on ${e.server}`, dedupKey: `${name}|${value}` })]
        : [],
    );
  },
});

export const adminPasswordReset = defineRule({
  id: 'azure-admin-password-reset',
  title: 'Server administrator password reset',
  severity: 'high',
  mitre: 'T1098 Account Manipulation',
  trigger: 'a server write (Activity Log, success) whose request sets administratorLoginPassword',
  description: "Whoever resets the admin password through Azure can log in as the server's most powerful role without knowing the old one.",
  config: baseRuleConfig,
  evaluate({ facts }) {
    return succeeded(facts, ['server-write'], true).flatMap((e) =>
      findKey(e.request, 'administratorLoginPassword').found
        ? [finding(e, { target: 'administratorLoginPassword', summary: `${callerName(e)} reset the administrator password of ${e.server}`, dedupKey: e.correlationId ?? e.loggedAt.toISOString() })]
        : [],
    );
  },
});

export const entraAdminChanged = defineRule({
  id: 'azure-entra-admin-changed',
  title: 'Microsoft Entra administrator changed',
  severity: 'high',
  mitre: 'T1098 Account Manipulation',
  trigger: 'an Entra (Azure AD) administrator of the server added, changed or removed (administrators/write or delete, Activity Log, success)',
  description: 'An Entra administrator is azure_pg_admin on the server: adding one grants admin through the tenant, removing one can lock out the real owners.',
  config: baseRuleConfig,
  evaluate({ facts }) {
    return succeeded(facts, ['admin-write', 'admin-delete'], false).map((e) => {
      const who = e.requestedValue ?? e.target ?? '?';
      const what = e.action === 'admin-delete' ? `removed Entra administrator ${who} from` : `made ${who} an Entra administrator of`;
      return finding(e, { summary: `${callerName(e)} ${what} ${e.server}`, dedupKey: `${e.action}|${e.target}` });
    });
  },
});

export const diagnosticSettingsChanged = defineRule({
  id: 'azure-diagnostic-settings-changed',
  title: "Server's diagnostic settings changed or deleted",
  severity: 'medium',
  mitre: 'T1562.008 Impair Defenses: Disable or Modify Cloud Logs',
  trigger: 'a diagnostic setting of the server written (medium) or deleted (high) (Activity Log, success)',
  description: 'Diagnostic settings carry the server logs to Event Hubs, Storage or Log Analytics: changing them can cut off the very trail auditduck reads.',
  config: baseRuleConfig,
  evaluate({ facts }) {
    return succeeded(facts, ['diagnostic-settings-write', 'diagnostic-settings-delete'], false).map((e) => {
      const deleted = e.action === 'diagnostic-settings-delete';
      return finding(e, {
        summary: `${callerName(e)} ${deleted ? 'deleted' : 'changed'} diagnostic setting ${e.target ?? '?'} of ${e.server}${!deleted && e.requestedValue ? ` (${e.requestedValue})` : ''}`,
        dedupKey: `${e.action}|${e.target}`,
        ...(deleted ? { severity: 'high' as const } : {}),
      });
    });
  },
});

export const publicNetworkAccessEnabled = defineRule({
  id: 'azure-public-network-access-enabled',
  title: 'Public network access enabled',
  severity: 'high',
  mitre: 'T1562.007 Impair Defenses: Disable or Modify Cloud Firewall',
  trigger: 'a server write (Activity Log, success) whose request sets publicNetworkAccess to Enabled',
  description: 'Gives the server a public endpoint: from then on only the firewall rules stand between it and the internet.',
  config: baseRuleConfig,
  evaluate({ facts }) {
    return succeeded(facts, ['server-write'], true).flatMap((e) => {
      const { found, value } = findKey(e.request, 'publicNetworkAccess');
      return found && typeof value === 'string' && value.toLowerCase() === 'enabled'
        ? [finding(e, { target: 'publicNetworkAccess', summary: `${callerName(e)} enabled public network access on ${e.server}`, dedupKey: 'publicNetworkAccess' })]
        : [];
    });
  },
});
