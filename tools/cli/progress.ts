/**
 * Progress on stderr: a live bar on a terminal, plain lines (at most one per 10%) otherwise.
 */

export interface Progress {
  update(done: number, total: number): void;
  /** Ends the bar's line (TTY) so further output starts on a fresh line. */
  end(): void;
}

export function createProgress(stream: NodeJS.WriteStream, label: string): Progress {
  const start = performance.now();
  const elapsed = () => `${((performance.now() - start) / 1000).toFixed(1)}s`;
  if (stream.isTTY) {
    let drawn = false;
    return {
      update(done, total) {
        const width = Math.max(10, Math.min(30, (stream.columns ?? 80) - label.length - 36));
        const filled = Math.round((done / total) * width);
        const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
        const pct = Math.floor((done / total) * 100);
        stream.write(`\r${label} [${bar}] ${done}/${total} tiles ${pct}% ${elapsed()}\x1b[K`);
        drawn = true;
      },
      end() {
        if (drawn) stream.write('\n');
        drawn = false;
      },
    };
  }
  let lastTenth = -1;
  return {
    update(done, total) {
      const tenth = Math.floor((done / total) * 10);
      if (tenth === lastTenth && done !== total) return;
      lastTenth = tenth;
      stream.write(
        `${label}: ${done}/${total} tiles (${Math.floor((done / total) * 100)}%) ${elapsed()}\n`,
      );
    },
    end() {},
  };
}
