/**
 * Docker cannot run here, so the stack is checked for what the code expects of it: the services, the
 * environment names `run` reads, a connection string the SDK accepts for the emulator, a hub and consumer
 * group the emulator's Config.json creates, and a Dockerfile that builds the way CI does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { RUN_CONFIG_ENV_NAMES, eventHubsOf, hubNameFromConnectionString, loadRunConfig } from '../../src/config/run-config.js';
import { emulatorConfigSchema } from './eventhubs-emulator-schema.js';

interface Service {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  restart?: string;
}

describe('docker-compose stack', async () => {
  const compose = parse(await readFile('docker-compose.yml', 'utf8')) as { services: Record<string, Service> };
  const { services } = compose;

  it('has the emulator, Azurite, auditduck and a replayer', () => {
    assert.deepEqual(Object.keys(services).sort(), ['auditduck', 'azurite', 'eventhubs-emulator', 'replayer']);
    assert.match(services['eventhubs-emulator']!.image!, /^mcr\.microsoft\.com\/azure-messaging\/eventhubs-emulator/);
    assert.match(services.azurite!.image!, /^mcr\.microsoft\.com\/azure-storage\/azurite/);
    assert.equal(services['eventhubs-emulator']!.environment!.ACCEPT_EULA, 'Y');
    assert.ok(services['eventhubs-emulator']!.ports!.includes('5672:5672'));
    assert.ok(services.auditduck!.ports!.includes('8080:8080'));
  });

  it('configures auditduck only with environment names `run` reads, into a valid configuration', async () => {
    const env = services.auditduck!.environment!;
    for (const name of Object.keys(env)) assert.ok(RUN_CONFIG_ENV_NAMES.includes(name), `${name} is not read by run`);
    const config = await loadRunConfig(undefined, env);
    assert.equal(eventHubsOf(config)[0]!.hubName, 'pg-audit-logs');
    assert.match(eventHubsOf(config)[0]!.connectionString!, /UseDevelopmentEmulator=true/);
    assert.equal(config.http.host, '0.0.0.0');
  });

  it('names a hub and consumer group that the emulator creates', async () => {
    const emulator = JSON.parse(await readFile('deploy/eventhubs-emulator/Config.json', 'utf8')) as {
      UserConfig: { NamespaceConfig: { Entities: { Name: string; ConsumerGroups: { Name: string }[] }[] }[] };
    };
    const entities = emulator.UserConfig.NamespaceConfig.flatMap((n) => n.Entities);
    const env = services.auditduck!.environment!;
    const hub = entities.find((e) => e.Name === (env.AUDITDUCK_EVENTHUB_NAME ?? hubNameFromConnectionString(env.AUDITDUCK_EVENTHUB_CONNECTION_STRING)));
    assert.ok(hub, 'the hub is not in Config.json');
    assert.ok(hub.ConsumerGroups.some((g) => g.Name === env.AUDITDUCK_CONSUMER_GROUP));
    const mount = services['eventhubs-emulator']!.volumes!.find((v) => v.includes('Config.json'))!;
    assert.ok(existsSync(mount.split(':')[0]!));
  });

  it("gives the emulator a Config.json its documented schema accepts (PartitionCount is a string)", async () => {
    const parsed = emulatorConfigSchema.safeParse(JSON.parse(await readFile('deploy/eventhubs-emulator/Config.json', 'utf8')));
    assert.ok(parsed.success, parsed.success ? '' : parsed.error.message);
  });

  it('starts each service after what it needs is up, checks the health of each one it can, and restarts them', () => {
    assert.equal(services['eventhubs-emulator']!.depends_on?.azurite?.condition, 'service_healthy');
    assert.equal(services.auditduck!.depends_on?.['eventhubs-emulator']?.condition, 'service_started');
    assert.equal(services.replayer!.depends_on?.auditduck?.condition, 'service_healthy');
    for (const name of ['azurite', 'auditduck']) assert.ok(services[name]!.healthcheck?.test?.length, `${name} has no healthcheck`);
    assert.match(services.auditduck!.healthcheck!.test.join(' '), new RegExp(`127\\.0\\.0\\.1:${services.auditduck!.environment!.AUDITDUCK_HTTP_PORT}/healthz`));
    for (const name of ['azurite', 'eventhubs-emulator', 'auditduck']) assert.equal(services[name]!.restart, 'unless-stopped', `${name} is not restarted`);
    assert.match(services.replayer!.restart ?? '', /^on-failure/, 'the replayer runs once (twice would store the samples twice)');
  });

  it('replays sample files that exist, through the replay command', () => {
    const replayer = services.replayer!;
    assert.equal(replayer.command![0], 'replay');
    for (const file of replayer.command!.slice(1)) assert.ok(existsSync(file), `${file} is missing`);
    assert.equal(replayer.environment!.AUDITDUCK_EVENTHUB_NAME, services.auditduck!.environment!.AUDITDUCK_EVENTHUB_NAME);
  });

  it('builds the image with npm ci and the build CI runs, ships only runtime packages, from files that exist', async () => {
    const dockerfile = await readFile('Dockerfile', 'utf8');
    assert.match(dockerfile, /RUN npm ci --ignore-scripts && npm run build/);
    assert.match(dockerfile, /RUN npm ci --omit=dev/, 'the image carries only runtime packages');
    assert.match(dockerfile, /FROM node:20/);
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const path of m[1]!.split(/\s+/)) assert.ok(existsSync(path), `Dockerfile copies ${path}, which does not exist`);
    }
  });
});
