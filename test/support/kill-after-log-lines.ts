import { spawn } from 'node:child_process';

/**
 * Runs `node ARGS` and SIGKILLs it once `count` of its stderr lines contain `marker` (a JSON log message such as
 * `"batch committed"`), for tests of what a crash mid-work leaves behind. Resolves with the lines counted;
 * rejects when the process ends on its own first.
 */
export function killAfterLogLines(args: readonly string[], env: NodeJS.ProcessEnv, marker: string, count: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let seen = 0;
    let buffered = '';
    child.stderr.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.includes(marker) && ++seen === count) child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(seen) : reject(new Error(`the process ended before it was killed (code ${code})`))));
  });
}
