// Live calls of this process, by the caller leg's Call-ID: what liveCalls() counts and what a
// graceful drain waits for (jambonz session-tracker.js, with a wait-until-empty).

export interface LiveCall {
  readonly callId: string;
  /** Settles once the call's teardown (both legs, timers, CDR) has run. */
  readonly done: Promise<void>;
}

export class SessionRegistry<T extends LiveCall = LiveCall> {
  private readonly calls = new Map<string, T>();
  private waiters: Array<() => void> = [];

  get size(): number {
    return this.calls.size;
  }

  add(call: T): void {
    this.calls.set(call.callId, call);
  }

  remove(call: T): void {
    if (this.calls.get(call.callId) === call) this.calls.delete(call.callId);
    if (this.calls.size === 0) {
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }
  }

  get(callId: string): T | undefined {
    return this.calls.get(callId);
  }

  all(): T[] {
    return [...this.calls.values()];
  }

  /** Resolves true when no call is live, false when `ms` passed first. */
  waitEmpty(ms: number): Promise<boolean> {
    if (this.calls.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onEmpty = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== onEmpty);
        resolve(false);
      }, ms);
      this.waiters.push(onEmpty);
    });
  }
}
