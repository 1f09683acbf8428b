/**
 * `run` reads the first source its configuration selects: Event Hubs when a hub is configured, else the demo
 * stream. The registry is the only place that decides it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadRunConfig } from '../../src/config/run-config.js';
import { RUN_SOURCES, selectRunSource } from '../../src/run/source-registry.js';

describe('the source registry of run', () => {
  it('selects Event Hubs when a hub is configured', async () => {
    const config = await loadRunConfig(undefined, { AUDITDUCK_EVENTHUB_NAMESPACE: 'ns.servicebus.windows.net', AUDITDUCK_EVENTHUB_NAME: 'pg-logs' });
    assert.equal(selectRunSource(config), 'eventhubs');
  });

  it('falls back to the demo stream when nothing else is configured', async () => {
    assert.equal(selectRunSource(await loadRunConfig(undefined, {})), 'demo');
  });

  it('ends with a source every configuration selects, so run always has one', async () => {
    const names = Object.keys(RUN_SOURCES) as (keyof typeof RUN_SOURCES)[];
    assert.equal(RUN_SOURCES[names.at(-1)!].selected(await loadRunConfig(undefined, {})), true);
  });
});
