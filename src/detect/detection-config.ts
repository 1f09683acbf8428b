/**
 * Detection configuration: the global exclusions and each rule's config, with defaults, so an empty object
 * is a working configuration. `src/config/` composes this schema into the `run` configuration.
 */
import { z } from 'zod';
import { RULES, type RuleId } from './rules/registry.js';

export const exclusionsSchema = z
  .strictObject({
    users: z.array(z.string()).default(['azuresu']).describe("users whose activity no rule sees (Azure's maintenance user)"),
    databases: z.array(z.string()).default(['azure_maintenance']).describe('databases whose activity no rule sees'),
    clientAddrs: z.array(z.string()).default(['127.0.0.1']).describe("client addresses whose activity no rule sees (Azure's maintenance connects over loopback)"),
  })
  .describe("traffic excluded from every rule; the defaults are Azure's own maintenance");

const ruleConfigs = Object.fromEntries(Object.entries(RULES).map(([id, rule]) => [id, (rule.config as z.ZodObject).prefault({})])) as {
  [K in RuleId]: z.ZodPrefault<(typeof RULES)[K]['config']>;
};

export const detectionConfigSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('run the rules on every committed batch'),
  exclude: exclusionsSchema.prefault({}),
  rules: z.strictObject(ruleConfigs).prefault({}).describe('per-rule settings, by rule id'),
});

export type DetectionConfig = z.infer<typeof detectionConfigSchema>;
export type DetectionConfigInput = z.input<typeof detectionConfigSchema>;
