/**
 * The Kubernetes and Azure Container Apps examples, parsed and checked for what `run` needs of them: probes on
 * /healthz and /readyz at the port it serves, only environment names it reads (into a valid configuration),
 * the store on a mounted volume, one replica, workload identity, and time to stop.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { RUN_CONFIG_ENV_NAMES, eventHubsOf, loadRunConfig } from '../../src/config/run-config.js';
import { ALLOWED_HOSTS_ENV, allowedHosts, checkRequest } from '../../src/web/request-guard.js';

/** Whether run, started with the example's variables, answers a request sent with this Host (not 403). */
function answers(env: Record<string, string>, host: string): boolean {
  return checkRequest({ host }, allowedHosts(env.AUDITDUCK_HTTP_HOST!, env)).ok;
}

/** Read by run besides its configuration: the dashboards' token, the log level, the Azure credential chain, the Host names it answers. */
const OTHER_ENV = ['AUDITDUCK_UI_TOKEN', 'AUDITDUCK_LOG_LEVEL', 'AZURE_CLIENT_ID', ALLOWED_HOSTS_ENV];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
  secretRef?: string;
}

async function checkEnvironment(env: EnvVar[]): Promise<Record<string, string>> {
  for (const { name } of env) assert.ok(RUN_CONFIG_ENV_NAMES.includes(name) || OTHER_ENV.includes(name), `${name} is not read by run`);
  const values = Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  const config = await loadRunConfig(undefined, values);
  assert.ok(eventHubsOf(config)[0]!.namespace, 'reads Event Hubs with the managed identity (a namespace, no connection string)');
  assert.equal(config.http.host, '0.0.0.0');
  return values;
}

describe('the Kubernetes example', async () => {
  const read = async (file: string) => parse(await readFile(`deploy/kubernetes/${file}`, 'utf8'));
  const kustomization = await read('kustomization.yaml');
  const deployment = await read('deployment.yaml');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('answers requests addressed to its Service by name (the dashboards and /metrics through the Service)', async () => {
    const service = await read('service.yaml');
    const env = await checkEnvironment(container.env);
    const port = service.spec.ports[0].port;
    for (const name of [service.metadata.name, `${service.metadata.name}.<namespace>.svc`, `${service.metadata.name}.<namespace>.svc.cluster.local`]) {
      assert.ok(answers(env, `${name}:${port}`), `Host ${name}:${port} would get 403`);
    }
  });

  it('lists every manifest of the folder', () => {
    assert.deepEqual([...kustomization.resources].sort(), ['deployment.yaml', 'pvc.yaml', 'service.yaml', 'serviceaccount.yaml']);
  });

  it('probes liveness on /healthz and readiness on /readyz at the port run serves', async () => {
    const env = await checkEnvironment(container.env);
    const port = container.ports.find((p: { name: string }) => p.name === 'http').containerPort;
    assert.equal(String(port), env.AUDITDUCK_HTTP_PORT);
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.equal(container.startupProbe.httpGet.path, '/healthz');
    for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe]) assert.equal(probe.httpGet.port, 'http');
  });

  it('keeps the store on the claimed volume, with one writer at a time', async () => {
    const env = Object.fromEntries(container.env.map((e: EnvVar) => [e.name, e.value]));
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === dirname(env.AUDITDUCK_DB));
    assert.ok(mount, 'AUDITDUCK_DB is not on a mounted volume');
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
    const pvc = await read('pvc.yaml');
    assert.equal(volume.persistentVolumeClaim.claimName, pvc.metadata.name);
    assert.deepEqual(pvc.spec.accessModes, ['ReadWriteOnce']);
    assert.equal(deployment.spec.replicas, 1);
    assert.equal(deployment.spec.strategy.type, 'Recreate');
  });

  it('runs as the image user with workload identity, and gives SIGTERM time to finish', async () => {
    const account = await read('serviceaccount.yaml');
    assert.equal(pod.serviceAccountName, account.metadata.name);
    assert.ok(account.metadata.annotations['azure.workload.identity/client-id']);
    assert.equal(deployment.spec.template.metadata.labels['azure.workload.identity/use'], 'true');
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 1000, 'the node user of the image');
    const shutdownMs = Number(container.env.find((e: EnvVar) => e.name === 'AUDITDUCK_SHUTDOWN_TIMEOUT_MS')?.value ?? 10_000);
    assert.ok(pod.terminationGracePeriodSeconds * 1000 > shutdownMs);
  });
});

describe('the Azure Container Apps example', async () => {
  const app = parse(await readFile('deploy/azure-container-apps/containerapp.yaml', 'utf8'));
  const template = app.properties.template;
  const container = template.containers[0];

  it('probes liveness on /healthz and readiness on /readyz at the port run serves', async () => {
    const env = await checkEnvironment(container.env);
    const byType = Object.fromEntries(container.probes.map((p: { type: string }) => [p.type, p]));
    assert.equal(byType.Liveness.httpGet.path, '/healthz');
    assert.equal(byType.Readiness.httpGet.path, '/readyz');
    assert.equal(byType.Startup.httpGet.path, '/healthz');
    for (const probe of Object.values(byType) as { httpGet: { port: number } }[]) assert.equal(String(probe.httpGet.port), env.AUDITDUCK_HTTP_PORT);
    assert.equal(String(app.properties.configuration.ingress.targetPort), env.AUDITDUCK_HTTP_PORT);
  });

  it('answers requests its ingress forwards, which keep the Host of the app\'s name in the environment', async () => {
    const env = await checkEnvironment(container.env);
    // `az containerapp create -n auditduck`; an internal ingress answers on <name>.internal.<the environment's default domain>.
    const fqdn = `auditduck.${app.properties.configuration.ingress.external ? '' : 'internal.'}<environment default domain>`;
    assert.ok(answers(env, fqdn), `Host ${fqdn} would get 403`);
  });

  it('keeps the store on a mounted volume, one replica, with a managed identity the credential chain finds', () => {
    const db = container.env.find((e: EnvVar) => e.name === 'AUDITDUCK_DB').value;
    const mount = container.volumeMounts.find((m: { mountPath: string }) => m.mountPath === dirname(db));
    assert.ok(mount, 'AUDITDUCK_DB is not on a mounted volume');
    assert.ok(template.volumes.some((v: { name: string; storageType: string }) => v.name === mount.volumeName && v.storageType === 'AzureFile'));
    assert.deepEqual([template.scale.minReplicas, template.scale.maxReplicas], [1, 1]);
    assert.equal(app.identity.type, 'UserAssigned');
    assert.ok(container.env.some((e: EnvVar) => e.name === 'AZURE_CLIENT_ID'));
    const secrets = app.properties.configuration.secrets.map((s: { name: string }) => s.name);
    for (const e of container.env.filter((v: EnvVar) => v.secretRef)) assert.ok(secrets.includes(e.secretRef), `${e.name} refers to a missing secret`);
  });
});
