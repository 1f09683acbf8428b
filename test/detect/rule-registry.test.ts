/** One contract test over the registry: every rule is well-formed, configurable, and documented. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { RULE_IDS, RULES, SEVERITIES, detectionConfigSchema } from '../../src/detect/index.js';
import { ruleTableMarkdown } from '../../src/detect/rule-table.js';

const DOC = new URL('../../docs/detection.md', import.meta.url);
const START = '<!-- rules:start -->';
const END = '<!-- rules:end -->';

describe('rule registry', () => {
  for (const id of RULE_IDS) {
    const rule = RULES[id];
    it(`${id}: keyed by its id, with severity, MITRE technique, trigger, a config that defaults, and something to run`, () => {
      assert.equal(rule.id, id);
      assert.ok((SEVERITIES as readonly string[]).includes(rule.severity));
      assert.match(rule.mitre, /^T\d{4}(\.\d{3})? \S/);
      assert.ok(rule.title.length > 0 && rule.trigger.length > 0 && rule.description.length > 0);
      const config = rule.config.parse({}) as { enabled: boolean; suppressMinutes: number };
      assert.equal(typeof config.enabled, 'boolean');
      assert.ok(config.suppressMinutes > 0);
      assert.ok('evaluate' in rule || 'scheduled' in rule);
      assert.throws(() => rule.config.parse({ noSuchSetting: 1 }), 'unknown settings are rejected');
    });
  }

  it('the detection config rejects unknown rules and defaults every rule', () => {
    const config = detectionConfigSchema.parse({});
    assert.deepEqual(Object.keys(config.rules), RULE_IDS);
    assert.deepEqual(config.exclude, { users: ['azuresu'], databases: ['azure_maintenance'], applications: [], clientAddrs: [] });
    assert.throws(() => detectionConfigSchema.parse({ rules: { 'no-such-rule': {} } }), /unrecognized_keys[\s\S]*"no-such-rule"/);
  });

  it('docs/detection.md holds the current rule table (UPDATE_DOCS=1 rewrites it)', () => {
    const doc = readFileSync(DOC, 'utf8');
    const table = ruleTableMarkdown();
    const current = doc.slice(doc.indexOf(START) + START.length, doc.indexOf(END)).trim();
    if (process.env.UPDATE_DOCS === '1' && current !== table) {
      writeFileSync(DOC, `${doc.slice(0, doc.indexOf(START) + START.length)}\n${table}\n${doc.slice(doc.indexOf(END))}`);
      return;
    }
    assert.equal(current, table, 'the rule table in docs/detection.md is stale: run UPDATE_DOCS=1 node --import tsx --test test/detect/rule-registry.test.ts');
  });
});
