/** Transfer speed over a sliding window (a few seconds), for the install progress. */

export class SpeedMeter {
  private readonly samples: { at: number; total: number }[] = [];
  private total = 0;

  constructor(private readonly windowMs = 3000) {}

  /** Records `bytes` more at time `at` (ms). */
  add(at: number, bytes: number): void {
    this.total += bytes;
    this.samples.push({ at, total: this.total });
    while (this.samples.length > 2 && at - this.samples[1].at > this.windowMs) this.samples.shift();
  }

  /** Bytes per second over the window; 0 until it spans at least 200 ms. */
  bytesPerSecond(now: number): number {
    const first = this.samples[0];
    if (!first || now - first.at < 200) return 0;
    return ((this.total - first.total) / (now - first.at)) * 1000;
  }
}
