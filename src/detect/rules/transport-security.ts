/** Transport security: TLS settings lowered, sessions without TLS where TLS is expected. */
import { z } from 'zod';
import type { PrivilegeChange } from '../../analyze/privileges/privilege-change.js';
import { isLocalClient } from '../../analyze/sessions/local-client.js';
import { baseRuleConfig, defineRule, type Finding } from '../rule.js';
import { actorName, changeFinding } from './change-evidence.js';

export const PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

function unquote(v: string): string {
  return v.trim().replace(/^'|'$/g, '');
}

function weakening(c: PrivilegeChange, minimum: string): string | null {
  if (c.action !== 'set-parameter' || c.value === null) return null;
  const name = c.attribute?.toLowerCase();
  const value = unquote(c.value);
  const off = ['off', 'false', '0', 'no'].includes(value.toLowerCase());
  if (name === 'ssl_min_protocol_version') {
    const rank = PROTOCOLS.findIndex((p) => p.toLowerCase() === value.toLowerCase());
    const min = PROTOCOLS.findIndex((p) => p === minimum);
    return rank >= 0 && rank < min ? `lowered ssl_min_protocol_version to ${value}` : null;
  }
  if (name === 'ssl' && off) return 'turned ssl off';
  if (name === 'require_secure_transport' && off) return 'turned require_secure_transport off';
  return null;
}

export const tlsWeakened = defineRule({
  id: 'tls-weakened',
  title: 'TLS weakened',
  severity: 'high',
  mitre: 'T1562 Impair Defenses',
  trigger: 'ssl_min_protocol_version set below `minimumProtocol` (default TLSv1.2), ssl off, or require_secure_transport off',
  description: 'Lets clients connect with broken or no encryption, exposing passwords and data on the wire.',
  config: baseRuleConfig.extend({
    minimumProtocol: z.enum(PROTOCOLS).default('TLSv1.2').describe('the lowest acceptable ssl_min_protocol_version'),
  }),
  evaluate({ facts, config }) {
    return facts.changes.flatMap((fact) => {
      const what = weakening(fact.change, config.minimumProtocol);
      if (what === null) return [];
      const c = fact.change;
      return [changeFinding(fact, { target: c.attribute, dedupKey: `${c.attribute}|${c.objectType}`, summary: `${actorName(c.actor)} ${what} (${c.objectType})` })];
    });
  },
});

export const sessionWithoutSsl = defineRule({
  id: 'session-without-ssl',
  title: 'Session without TLS',
  severity: 'medium',
  mitre: 'T1040 Network Sniffing',
  trigger: 'a `connection authorized` line without `SSL enabled` from a client host not in `allowHosts` (local clients, the Unix socket and loopback, are never flagged)',
  description: 'The password exchange and every row travel in clear; on Azure this means require_secure_transport was turned off.',
  config: baseRuleConfig.extend({
    allowHosts: z.array(z.string()).default([]).describe('client addresses allowed to connect without TLS'),
  }),
  evaluate({ facts, config }) {
    const findings: Finding[] = [];
    for (const login of facts.logins) {
      const s = login.session;
      const host = s.clientAddr;
      // A local client's hop never leaves the machine; behind Azure's PgBouncer, the client's own TLS is not in the log.
      if (s.ssl !== false || host === null || isLocalClient(host) || config.allowHosts.includes(host)) continue;
      findings.push({
        server: login.server,
        at: login.at,
        actor: s.userName,
        target: host,
        dedupKey: `${s.userName}|${host}`,
        summary: `${s.userName} connected from ${host} without TLS`,
        evidence: { sessionId: login.sessionId, loggedAt: login.at.toISOString(), clientAddr: host, database: s.databaseName, application: s.applicationName },
      });
    }
    return findings;
  },
});
