/**
 * Docker cannot run here, so the image is checked the next closest way: the final stage of the Dockerfile is
 * laid out in a temp dir COPY by COPY (dist/ compiled as the build stage does; node_modules from this checkout,
 * dev packages included), its ENV applied, its data directory owned as its RUN leaves it, and `run` started
 * from there as a non-root user (nobody, like the image's `node`), with a fresh volume: it must create the store,
 * serve the dashboards and answer the image's HEALTHCHECK.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { freePort, waitFor } from '../support/local-ports.js';

const exec = promisify(execFile);
const NOBODY = 65534;

interface FinalStage {
  env: Record<string, string>;
  copies: { from: string | null; source: string; target: string }[];
  user: string;
  run: string[];
  healthcheck: string[];
  volume: string;
}

/** The instructions of the Dockerfile's last stage that make the image's layout. */
function finalStage(dockerfile: string): FinalStage {
  const text = dockerfile.replace(/\\\n\s*/g, ' ');
  const stage = text.slice(text.lastIndexOf('\nFROM '));
  const lines = stage.split('\n').map((l) => l.trim());
  const env: Record<string, string> = {};
  for (const line of lines.filter((l) => l.startsWith('ENV '))) for (const [, k, v] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[k!] = v!;
  const copies = lines
    .filter((l) => l.startsWith('COPY '))
    .map((l) => {
      const from = /--from=(\S+)/.exec(l)?.[1] ?? null;
      const [source, target] = l.replace(/^COPY\s+(--\S+\s+)*/, '').split(/\s+/);
      return { from, source: source!, target: target! };
    });
  const user = lines.find((l) => l.startsWith('USER '))?.slice(5) ?? 'root';
  const healthcheck = JSON.parse(/HEALTHCHECK .*?CMD (\[.*\])/.exec(stage)?.[1] ?? '[]') as string[];
  const volume = lines.find((l) => l.startsWith('VOLUME '))?.slice(7) ?? '';
  return { env, copies, user, run: lines.filter((l) => l.startsWith('RUN ')).map((l) => l.slice(4)), healthcheck, volume };
}

/**
 * The checkout's node_modules in the layout, readable by the run user wherever the checkout lives (a link into
 * a checkout under a private directory, such as a CI clone in a 0700 temp dir, is not): hard links where the
 * file system allows (instant, no space), else a copy.
 */
async function layOutNodeModules(to: string): Promise<void> {
  try {
    await exec('cp', ['-al', resolve('node_modules'), to]);
  } catch {
    await rm(to, { recursive: true, force: true });
    await exec('cp', ['-a', resolve('node_modules'), to], { maxBuffer: 1 << 20 });
  }
}

describe('the container image', () => {
  let root: string;
  let app: string;
  let data: string;
  let stage: FinalStage;
  let child: ChildProcess | undefined;

  before(async () => {
    stage = finalStage(await readFile('Dockerfile', 'utf8'));
    root = await mkdtemp(join(tmpdir(), 'auditduck-image-'));
    await chmod(root, 0o755);
    app = join(root, 'app');
    await mkdir(app);
    for (const { from, source, target } of stage.copies) {
      // Docker's rule: a target ending in / (or .) is a directory the source goes into.
      const to = target.endsWith('/') || target === '.' ? resolve(app, target, basename(source)) : resolve(app, target);
      if (from !== null && source === '/app/node_modules') await layOutNodeModules(to);
      else if (from === 'build' && source === '/app/dist') await exec('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', to], { timeout: 240_000 });
      else if (from === null) await cp(source, to, { recursive: true });
      // A build stage's copy of a checkout file (its WORKDIR is /app).
      else if (source.startsWith('/app/')) await cp(source.slice('/app/'.length), to, { recursive: true });
      else throw new Error(`the test does not know how to lay out COPY --from=${from} ${source}`);
    }
    // The volume as the image leaves it: owned by the run user only if a RUN line gives it to that user.
    data = join(root, 'data');
    await mkdir(data, { mode: 0o755 });
    if (stage.run.some((r) => new RegExp(`chown ${stage.user}(:\\S+)? ${stage.volume}\\b`).test(r))) await chown(data, NOBODY, NOBODY);
  });
  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('runs as a user other than root, with a volume for the store', () => {
    assert.notEqual(stage.user, 'root');
    assert.equal(stage.volume, '/data');
    assert.ok(stage.env.AUDITDUCK_DB!.startsWith('/data/'));
  });

  it('starts `run` from that layout as a non-root user on a fresh volume, creates the store and serves the dashboards', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: '/nonexistent', AUDITDUCK_UI_TOKEN: 'image-test-token' };
    for (const [name, value] of Object.entries(stage.env)) env[name] = value.replace(/^\/data\b/, data);
    env.AUDITDUCK_HTTP_PORT = String(port);
    child = spawn('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, 'bin/auditduck.js', 'run'], { cwd: app, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;
    await Promise.race([
      waitFor('/healthz', async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 60_000),
      exited.then((code) => assert.fail(`run exited with ${code}: ${stderr}`)),
    ]);
    const auth = { authorization: 'Bearer image-test-token' };
    const page = await fetch(`${base}/`, { headers: auth });
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /<html/i);
    for (const [, asset] of html.matchAll(/(?:src|href)="\/?([^"?#]+\.(?:js|css))"/g)) {
      const res = await fetch(`${base}/${asset}`, { headers: auth });
      assert.equal(res.status, 200, `${asset} of the dashboards answered ${res.status}`);
    }
    const store = await stat(env.AUDITDUCK_DB!);
    assert.equal(store.uid, NOBODY, 'the store belongs to the user the job runs as');

    const [command, ...args] = stage.healthcheck;
    assert.ok(command, 'the image has a HEALTHCHECK');
    await exec(command === 'node' ? process.execPath : command, args, { env: { ...env }, timeout: 10_000 });

    const started = Date.now();
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - started < 10_000);
  });
});
