// Lua scripts of the events module (src/events/lua/*.lua, each with lib.lua in front), loaded
// like the store's (util/lua-files.ts) and registered on the events client with defineCommand.
// Each one is a single atomic step on the `{events}` slot, so several xline instances never
// interleave half-done writes (produce, ack, retry, dead-letter). What each takes and returns is
// written at the top of its file.
import type { Cluster, Redis } from 'ioredis';
import { luaDir, readLua } from '../util/lua-files.js';

export type RedisLike = Redis | Cluster;

export interface LuaScript {
  /** The file's name (without .lua) and how many KEYS it takes. */
  file: string;
  numberOfKeys: number;
}

const script = (file: string, numberOfKeys: number): LuaScript => ({ file, numberOfKeys });

export const PRODUCE_EVENT = script('produce-event', 6);
export const PRODUCE_CDR = script('produce-cdr', 9);
export const HEARTBEAT = script('heartbeat', 1);
export const SILENT_OWNERS = script('silent-owners', 1);
export const FORGET_OWNER = script('forget-owner', 2);
export const ACK_DELIVERED = script('ack-delivered', 1);
export const SETTLE_FAILED = script('settle-failed', 5);
export const MOVE_DUE_RETRIES = script('move-due-retries', 3);
export const RESEND_DEAD = script('resend-dead', 3);
export const TRIM_OLDER = script('trim-older', 2);

const ALL = [PRODUCE_EVENT, PRODUCE_CDR, HEARTBEAT, SILENT_OWNERS, FORGET_OWNER, ACK_DELIVERED, SETTLE_FAILED, MOVE_DUE_RETRIES, RESEND_DEAD, TRIM_OLDER];

const commandOf = (s: LuaScript) => `xe_${s.file.replace(/-/g, '_')}`;

let sources: Map<LuaScript, string> | undefined;

function loadSources(): Map<LuaScript, string> {
  const dir = luaDir(import.meta.url, 'events');
  const lib = readLua(dir, 'lib');
  return new Map(ALL.map((s) => [s, `${lib}\n${readLua(dir, s.file)}`]));
}

const defined = new WeakSet<object>();

/**
 * Idempotent: defines every events script command on this client once. Call it where the client
 * is handed over (EventStore, DeliveryWorker), before any command: ioredis builds each
 * auto-pipeline from the commands defined when it starts, so a script defined while one is
 * pending would be missing from it.
 */
export function defineEventScripts(redis: RedisLike): void {
  if (defined.has(redis)) return;
  sources ??= loadSources();
  for (const [s, lua] of sources) redis.defineCommand(commandOf(s), { lua, numberOfKeys: s.numberOfKeys });
  defined.add(redis);
}

type ScriptCommand = (...args: Array<string | number>) => Promise<unknown>;

/** Runs `s` with its keys and arguments (EVALSHA, EVAL when Redis lost the script). */
export function runScript(redis: RedisLike, s: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
  if (!defined.has(redis)) return Promise.reject(new Error('events scripts are not defined on this Redis client (defineEventScripts)'));
  const run = (redis as unknown as Record<string, ScriptCommand>)[commandOf(s)]!;
  return run.call(redis, ...keys, ...args);
}
