/**
 * Detection configuration: the global exclusions and each rule's config, with defaults, so an empty object
 * is a working configuration. `src/config/` composes this schema into the `run` configuration.
 */
import { z } from 'zod';
import { isLocalClient } from '../analyze/sessions/local-client.js';
import { RULES, type RuleId } from './rules/registry.js';

export const exclusionsSchema = z
  .strictObject({
    users: z.array(z.string()).default(['azuresu']).describe("users whose activity no rule sees (Azure's maintenance user)"),
    databases: z.array(z.string()).default(['azure_maintenance']).describe("databases whose activity no rule sees (Azure's maintenance database)"),
    applications: z
      .array(z.string())
      .default([])
      .describe('application names whose activity no rule sees; a client chooses its own application_name, so anyone can match one'),
    clientAddrs: z
      .array(
        // Azure's built-in PgBouncer connects from loopback: excluding it would hide every pooled client.
        z.string().refine((addr) => !isLocalClient(addr), {
          message: "a loopback address cannot be excluded: Azure's built-in PgBouncer connects from it, so every pooled client would be hidden; exclude Azure's maintenance by user or database",
        }),
      )
      .default([])
      .describe('client addresses whose activity no rule sees (never loopback: pooled clients come from there)'),
  })
  .describe("traffic excluded from every rule; the defaults are Azure's own maintenance, recognised by user and database");

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
