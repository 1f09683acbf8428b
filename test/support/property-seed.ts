/**
 * Loaded before every test file (npm test): in CI, property tests run on one fixed seed so a run is
 * reproducible and a red build is a regression, not a newly explored input; on a developer's machine
 * each run explores new inputs. Either way a failure prints its seed and the shrunk counterexample.
 */
import fc from 'fast-check';

if (process.env.CI) fc.configureGlobal({ seed: Number(process.env.AUDITDUCK_PROPERTY_SEED ?? 20261127) });
