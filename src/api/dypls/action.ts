// What a dypls action is: a name, a zod schema of its own parameters, and a function from the
// parsed parameters to the response payload. One file per action under actions/; the registry in
// actions/index.ts lists them, so a later action (QueryCallStatus, QueryRecordFileDownloadUrl) is
// one new file plus one line.
import type { z } from 'zod';
import type { AppContext } from '../../context.js';
import type { Fields } from './fields.js';

export interface ActionContext extends AppContext {
  /** Unix seconds, read once per request. */
  now: number;
  requestId: string;
  accessKeyId: string;
}

export interface DyplsAction<P = unknown> {
  name: string;
  schema: z.ZodType<P>;
  /** Returns the payload fields; the gateway adds Code, Message and RequestId. */
  run(params: P, ctx: ActionContext): Promise<Record<string, unknown>>;
}

/** Actions are built once per app from the config-dependent field parsers. */
export type ActionFactory = (f: Fields) => DyplsAction<any>;

export function defineAction<P>(a: DyplsAction<P>): DyplsAction<P> {
  return a;
}
