/**
 * A one-line progress bar on stderr (stdout stays for results). On a terminal it redraws in place; when
 * stderr is a file or pipe it prints a plain line at most every 10 %, so logs stay readable.
 */
export interface ProgressBar {
  update(fraction: number, label: string): void;
  done(label: string): void;
}

const WIDTH = 30;

export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  let lastDecile = -1;
  const render = (fraction: number, label: string) => {
    const f = Math.max(0, Math.min(1, fraction));
    const filled = Math.round(f * WIDTH);
    return `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(f * 100).toFixed(0).padStart(3)}% ${label}`;
  };
  return {
    update(fraction, label) {
      if (stream.isTTY) {
        stream.write(`\r${render(fraction, label)}\u001b[K`);
        return;
      }
      const decile = Math.floor(Math.max(0, Math.min(1, fraction)) * 10);
      if (decile > lastDecile) {
        lastDecile = decile;
        stream.write(`${render(fraction, label)}\n`);
      }
    },
    done(label) {
      stream.write(stream.isTTY ? `\r${render(1, label)}\u001b[K\n` : `${render(1, label)}\n`);
    },
  };
}
