// The frame SIP test files around test/sip/harness.ts share, written once: one RedisSide per
// file with the file's pool, the stacks a test starts (every one stopped after all, even when one
// reports a failed pipeline write; that then fails the file), the calls it places (their sipp
// files removed after each test), and bindings made in the pool. Call sipSuite() inside the
// describe: it registers the hooks there, before the file's own (which run after its beforeAll
// and before its afterAll).
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import type { BindRequest } from '../../src/store/types.js';
import { bindInPool } from './bind-in-pool.js';
import { cleanup, finalAtCaller, mobile, placeCall, reasonCause, receivedInvite, startRedisSide, startStack, waitFor, type CallRun, type RedisSide, type Stack } from '../sip/harness.js';

/** What a test gives of a binding: the mode and A at least; X is a fresh number unless given. */
export type BindingOf = Partial<BindRequest> & Pick<BindRequest, 'mode' | 'a'>;

export interface SipSuiteOptions {
  /** The pool every binding is made in (created before the tests, and again at each bind). */
  pool: string;
  /** The pool's name (default: the key). */
  poolName?: string;
  /** The file's RedisSide (default startRedisSide()); its close() is called after all. */
  side?: () => Promise<RedisSide>;
  /** After every call: the caller's sipp ended 0 (its scenario's expectations all met). */
  callerOk?: boolean;
  /** After every call: the app holds no live call (nothing may outlive a scenario). */
  settle?: boolean;
  /** Time for the suite's beforeAll (starting the side), when longer than the hook timeout. */
  startTimeoutMs?: number;
}

export interface SipSuite {
  /** The file's RedisSide (set once the suite's beforeAll has run). */
  readonly side: RedisSide;
  /** A stack on the file's side; stopped after all. */
  stack(opts?: Parameters<typeof startStack>[1]): Promise<Stack>;
  /** One call on `s`; its sipp files are removed after the test. */
  call(s: Stack, o: Parameters<typeof placeCall>[1]): Promise<CallRun>;
  /**
   * A call xline refuses: the caller's sipp ended 0 with final `status` (default 403) and Reason
   * cause `cause` (default 21), and the far end was never called.
   */
  refused(s: Stack, o: Parameters<typeof placeCall>[1], status?: number, cause?: number): Promise<CallRun>;
  /** A binding in the pool on a fresh X (or req.x): bindInPool's defaults (valid for an hour, no recording). */
  bind(req: BindingOf): Promise<{ x: string; subsId: string }>;
  /** An AXB binding of fresh A (138…), B (139…) and X unless given. */
  bindAxb(req?: Partial<BindRequest>): Promise<{ a: string; b: string; x: string; subsId: string }>;
}

export function sipSuite(o: SipSuiteOptions): SipSuite {
  let side: RedisSide | undefined;
  const stacks: Stack[] = [];
  const runs: CallRun[] = [];
  const upsertPool = () => side!.store.upsertPool(o.pool, { name: o.poolName ?? o.pool, strictCity: false });

  beforeAll(async () => {
    side = await (o.side ?? startRedisSide)();
    await upsertPool();
  }, o.startTimeoutMs);
  afterAll(async () => {
    const failed = (await Promise.allSettled(stacks.map((s) => s.stop()))).find((p) => p.status === 'rejected');
    await side?.close();
    if (failed) throw failed.reason;
  });
  afterEach(() => {
    for (const r of runs.splice(0)) cleanup(r);
  });

  const suite: SipSuite = {
    get side() {
      if (!side) throw new Error('sipSuite: the side is not started yet (use it inside tests or hooks)');
      return side;
    },
    async stack(opts) {
      const s = await startStack(suite.side, opts);
      stacks.push(s);
      return s;
    },
    async call(s, c) {
      const r = await placeCall(s, c);
      runs.push(r);
      if (o.callerOk) expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      if (o.settle) await waitFor(() => s.app.liveCalls() === 0, 5000, 'liveCalls() back to 0');
      return r;
    },
    async refused(s, c, status = 403, cause = 21) {
      const r = await suite.call(s, c);
      expect(r.a.code, r.a.errors + r.a.output.slice(-800)).toBe(0);
      const fin = finalAtCaller(r.a);
      expect(fin?.status).toBe(status);
      expect(reasonCause(fin)).toBe(cause);
      expect(receivedInvite(r.b), 'the far end must not be called').toBeUndefined();
      return r;
    },
    async bind(req) {
      const b = await bindInPool(suite.side.store, o.pool, { ...req, x: req.x ?? mobile('177') }, { name: o.poolName ?? o.pool });
      return { x: b.x, subsId: b.subsId };
    },
    async bindAxb(req = {}) {
      const a = req.a ?? mobile('138');
      const b = req.b ?? mobile('139');
      const bound = await suite.bind({ ...req, mode: 'AXB', a, b });
      return { a, b, ...bound };
    },
  };
  return suite;
}
