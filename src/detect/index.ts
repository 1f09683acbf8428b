export { createDetector, type Detector, type DetectorOptions } from './detector.js';
export { detectionConfigSchema, exclusionsSchema, type DetectionConfig, type DetectionConfigInput } from './detection-config.js';
export { RULES, RULE_IDS, type RuleId } from './rules/registry.js';
export { SEVERITIES, type Finding, type RuleDefinition, type Severity } from './rule.js';
