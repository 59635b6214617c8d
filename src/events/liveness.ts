// This pipeline run's liveness and the reaping of others': a heartbeat on the Redis clock, and
// the orphaned-call reaper, which ends the live calls of owners silent past the grace — gated so
// that it only judges others once its own heartbeats have been landing for a whole grace.
import type { Logger } from '../log.js';
import type { OrphanReaper } from './reaper.js';
import type { EventStore } from './store.js';

export interface LivenessDeps {
  store: EventStore;
  reaper: OrphanReaper;
  log: Logger;
  /** This pipeline run (EventPipeline.owner). */
  owner: string;
  graceMs: number;
  heartbeatMs: number;
  /** How often other owners' heartbeats are checked. */
  reapIntervalMs: number;
}

export class Liveness {
  private heartbeatFailing = false;
  /**
   * Since when this pipeline's heartbeats have been landing without a miss. It reaps only once
   * that is a whole grace ago: after a Redis outage (or a failover, or this instance's own
   * partition) every live instance gets a grace's worth of heartbeats in before anyone is judged
   * by them, so an outage longer than the grace does not get every live call ended.
   */
  private healthySince: number | undefined;
  /** Heartbeat and reaper passes in flight; stop() waits for them (a late heartbeat would outlive stop). */
  private readonly inFlight = new Set<Promise<unknown>>();
  private heartbeatTimer?: NodeJS.Timeout;
  private reapTimer?: NodeJS.Timeout;

  constructor(private readonly d: LivenessDeps) {}

  start(): void {
    this.track(this.heartbeat());
    this.heartbeatTimer = setInterval(() => this.track(this.heartbeat()), this.d.heartbeatMs);
    this.heartbeatTimer.unref();
    this.reapTimer = setInterval(() => this.track(this.reap()), this.d.reapIntervalMs);
    this.reapTimer.unref();
  }

  /** No more heartbeats or reaper passes (those in flight go on: settled() waits for them). */
  stopTimers(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.reapTimer) clearInterval(this.reapTimer);
    this.heartbeatTimer = this.reapTimer = undefined;
  }

  async settled(): Promise<void> {
    await Promise.all(this.inFlight);
  }

  /**
   * The heartbeat goes when this owner holds no live call any more; otherwise it is left to age,
   * so that another instance's reaper ends what the drain did not.
   */
  async leave(): Promise<void> {
    const { store, log, owner } = this.d;
    try {
      // Calls are drained before this (main.ts); any left stay with a heartbeat that ages out.
      if (!(await store.forgetOwner(owner))) log.warn({ owner }, 'events:stopping with live calls recorded; other instances end them after the grace');
    } catch (err) {
      log.warn({ owner, err: (err as Error).message }, 'events:heartbeat not removed; other instances end any calls left after the grace');
    }
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private heartbeat(): Promise<void> {
    const { store, log, owner } = this.d;
    return store.heartbeat(owner).then(
      () => {
        if (this.heartbeatFailing) log.info({ owner }, 'events:heartbeat recorded again');
        this.heartbeatFailing = false;
        this.healthySince ??= performance.now();
      },
      (err: Error) => {
        this.healthySince = undefined;
        // once per outage: the timer keeps trying
        if (!this.heartbeatFailing) log.warn({ owner, err: err.message }, 'events:heartbeat not recorded; past the grace, other instances end this one\'s calls');
        this.heartbeatFailing = true;
      },
    );
  }

  private async reap(): Promise<void> {
    if (this.healthySince === undefined || performance.now() - this.healthySince < this.d.graceMs) return;
    await this.d.reaper.reapOnce().catch((err: Error) => this.d.log.warn({ err: err.message }, 'events:orphaned-call reaper failed; retried on its next tick'));
  }
}
