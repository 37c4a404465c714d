// Peak resident set size of this process (the in-process worker), sampled every 100 ms.
export class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | null = null;

  start(): this {
    this.peak = process.memoryUsage().rss;
    this.timer = setInterval(() => this.sample(), 100);
    return this;
  }

  private sample(): void {
    const rss = process.memoryUsage().rss;
    if (rss > this.peak) this.peak = rss;
  }

  /** Stop sampling; the peak in MiB. */
  stop(): number {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return Math.round((this.peak / 1048576) * 10) / 10;
  }
}
