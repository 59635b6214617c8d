// What the log says while Redis is unavailable: one warning when the outage begins, a summary
// every few seconds (how many requests failed), one line when it ends — not a line (or a stack)
// per failed request, which at a few hundred requests a second buries everything else.
// Requests report here instead of logging (the dypls gateway, the ops routes, INVITE lookups);
// the store reports the failed Redis operations, which also start an outage.
import type { Logger } from '../log.js';

export interface OutageLogOptions {
  /** How often a summary line is written while the outage lasts. Default 5000 ms. */
  summaryMs?: number;
  /** How often, during an outage, Redis is probed to see whether it ended. Default 1000 ms. */
  probeMs?: number;
}

export class StorageOutageLog {
  private active = false;
  private startedAt = 0;
  private lastFailureAt = 0;
  private requests = 0;
  private operations = 0;
  private windowRequests = 0;
  private windowOperations = 0;
  private lastSummaryAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private probing = false;
  private stopped = false;
  private readonly summaryMs: number;
  private readonly probeMs: number;

  constructor(
    private readonly log: Logger | undefined,
    /** true when Redis answers (a PING within the deadline). */
    private readonly probe: () => Promise<boolean>,
    opts: OutageLogOptions = {},
  ) {
    this.summaryMs = opts.summaryMs ?? 5000;
    this.probeMs = opts.probeMs ?? 1000;
  }

  get inOutage(): boolean {
    return this.active;
  }

  /** A Redis operation failed (timed out, refused after its deadline, no connection). */
  operationFailed(op: string, cause: string): void {
    this.begin(op, cause);
    this.operations++;
    this.windowOperations++;
  }

  /** A request was answered isp.SYSTEM_ERROR / 503 because storage was unavailable. */
  requestFailed(what = 'request'): void {
    this.begin(what, 'request answered with a storage error');
    this.requests++;
    this.windowRequests++;
  }

  private begin(op: string, cause: string): void {
    this.lastFailureAt = Date.now();
    if (this.active || this.stopped) return;
    this.active = true;
    this.startedAt = this.lastSummaryAt = this.lastFailureAt;
    this.requests = this.operations = this.windowRequests = this.windowOperations = 0;
    this.log?.warn(
      { op, err: cause, summaryEverySec: this.summaryMs / 1000 },
      'redis: outage began: requests answer isp.SYSTEM_ERROR (dypls) / 503 (ops, INVITEs) until Redis answers again; a summary follows every few seconds',
    );
    this.timer = setTimeout(() => void this.tick(), this.probeMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (!this.active || this.stopped) return;
    const now = Date.now();
    if (now - this.lastSummaryAt >= this.summaryMs) {
      this.log?.warn(
        {
          failedRequests: this.windowRequests,
          failedOperations: this.windowOperations,
          totalFailedRequests: this.requests,
          outageSec: Math.round((now - this.startedAt) / 1000),
        },
        `redis: outage continues: ${this.windowRequests} requests failed in the last ${Math.round((now - this.lastSummaryAt) / 1000)} s`,
      );
      this.lastSummaryAt = now;
      this.windowRequests = this.windowOperations = 0;
    }
    // Over when Redis answers and nothing failed since the last look.
    if (!this.probing) {
      this.probing = true;
      const checkedFrom = Date.now();
      let up = false;
      try {
        up = await this.probe();
      } catch {
        up = false;
      }
      this.probing = false;
      if (up && this.lastFailureAt < checkedFrom && this.active && !this.stopped) {
        this.end();
        return;
      }
    }
    if (this.active && !this.stopped) {
      this.timer = setTimeout(() => void this.tick(), this.probeMs);
      this.timer.unref();
    }
  }

  private end(): void {
    this.active = false;
    this.log?.info(
      { outageSec: Math.round((Date.now() - this.startedAt) / 100) / 10, totalFailedRequests: this.requests, totalFailedOperations: this.operations },
      `redis: outage ended: Redis answers again; ${this.requests} requests failed during it`,
    );
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
