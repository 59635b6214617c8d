// Per-AccessKeyId request rate limit (Alibaba: Throttling.User), a token bucket per key holding
// one second of burst. In-process: with several xline instances each enforces the limit alone.

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** `perSecond` 0 disables the limit. `clock` returns milliseconds (injectable for tests). */
  constructor(
    private readonly perSecond: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** true when the request may proceed (and takes a token). */
  take(key: string): boolean {
    if (this.perSecond <= 0) return true;
    const now = this.clock();
    let b = this.buckets.get(key);
    if (!b) {
      b = { tokens: this.perSecond, at: now };
      this.buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.perSecond, b.tokens + ((now - b.at) * this.perSecond) / 1000);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
