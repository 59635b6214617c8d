// What a dypls action is: a name, a zod schema of its own parameters, and a function from the
// parsed parameters to the response payload. One file per action under actions/; the registry in
// actions/index.ts lists them, so a later action (QueryCallStatus, QueryRecordFileDownloadUrl) is
// one new file plus one line.
import type { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { Deadline } from '../../store/deadline.js';
import type { NonceClaim } from '../../store/types.js';
import type { Fields } from './fields.js';

export interface ActionContext extends AppContext {
  /** Unix seconds, read once per request. */
  now: number;
  requestId: string;
  accessKeyId: string;
  /**
   * The request's SignatureNonce, for an action with `claimsNonce` to claim in its own Redis
   * round trip (set only when the store can: see BindingStore.bindClaimsNonce).
   */
  nonce?: NonceClaim;
  /**
   * When the request gives up on Redis (store/deadline.ts): pass it to every store write, which
   * then writes nothing after it, so an isp.SYSTEM_ERROR answer means nothing was written.
   */
  deadline?: Deadline;
}

export interface DyplsAction<P = unknown> {
  name: string;
  schema: z.ZodType<P>;
  /**
   * The action claims the SignatureNonce itself when the gateway hands it ctx.nonce (binds: one
   * Redis round trip instead of two). The gateway claims it when the action did not get that far.
   */
  claimsNonce?: boolean;
  /** Returns the payload fields; the gateway adds Code, Message and RequestId. */
  run(params: P, ctx: ActionContext): Promise<Record<string, unknown>>;
}

/** Actions are built once per app from the config-dependent field parsers. */
export type ActionFactory = (f: Fields) => DyplsAction<any>;

export function defineAction<P>(a: DyplsAction<P>): DyplsAction<P> {
  return a;
}
