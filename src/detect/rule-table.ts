/** The rule registry as a table: what `auditduck rules list` prints and docs/detection.md shows. */
import { RULE_IDS, RULES, type RuleId } from './rules/registry.js';

export interface RuleRow {
  id: RuleId;
  title: string;
  severity: string;
  mitre: string;
  default: 'on' | 'off';
  kind: 'per batch' | 'scheduled';
  trigger: string;
}

export function ruleRows(): RuleRow[] {
  return RULE_IDS.map((id) => {
    const rule = RULES[id];
    const enabled = (rule.config.parse({}) as { enabled: boolean }).enabled;
    return { id, title: rule.title, severity: rule.severity, mitre: rule.mitre, default: enabled ? 'on' : 'off', kind: 'scheduled' in rule ? 'scheduled' : 'per batch', trigger: rule.trigger };
  });
}

/** Markdown table of every rule (docs/detection.md holds it between `<!-- rules:start -->` and `<!-- rules:end -->`). */
export function ruleTableMarkdown(): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| id | title | severity | MITRE ATT&CK | default | runs | what triggers it |', '|---|---|---|---|---|---|---|'];
  for (const r of ruleRows()) lines.push(`| \`${r.id}\` | ${cell(r.title)} | ${r.severity} | ${cell(r.mitre)} | ${r.default} | ${r.kind} | ${cell(r.trigger)} |`);
  return lines.join('\n');
}
