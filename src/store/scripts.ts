// Loads the Lua scripts (src/store/lua, found by util/lua-files.ts) and registers them on an
// ioredis client or Cluster with defineCommand: EVALSHA, falling back to EVAL on NOSCRIPT (e.g. a
// replica just promoted).
// Scripts that write for a request start with the write guard (guard.lua, deadline.ts): their
// first argument is the last moment they may write.
import { readFileSync } from 'node:fs';
import { luaDir } from '../util/lua-files.js';
import type { Cluster, Redis } from 'ioredis';

/**
 * Per-X scripts take the four keys of xKeys(X); due-cas takes one due shard key. hw-at / hw-page
 * are the Huawei AX / AXE reads, hw-callback the AXE callback record (huawei-modes-store.ts): defined with the rest when the client is
 * set up, since a command defined later is missing from an auto-pipeline already under way.
 */
export const PER_X_SCRIPTS = ['bind', 'lookup', 'get', 'find', 'unbind', 'update', 'sweep', 'stat', 'claim', 'inventory', 'buy', 'release', 'hw-at', 'hw-page', 'hw-callback'] as const;
export type PerXScript = (typeof PER_X_SCRIPTS)[number];
/** Per-X scripts that write for a request: guarded (first argument: writeBy, epoch ms). */
export const GUARDED_SCRIPTS: ReadonlySet<string> = new Set(['bind', 'unbind', 'update', 'claim', 'inventory', 'buy', 'release']);
type ScriptName = PerXScript | 'dueCas' | 'bindNonce' | 'guarded' | 'pool';

export function loadScripts(): Record<ScriptName, { numberOfKeys: number; lua: string }> {
  const dir = luaDir(import.meta.url, 'store');
  const lib = readFileSync(dir + 'lib.lua', 'utf8');
  const guard = readFileSync(dir + 'guard.lua', 'utf8');
  const out = {} as Record<ScriptName, { numberOfKeys: number; lua: string }>;
  for (const name of PER_X_SCRIPTS) {
    const body = readFileSync(`${dir}${name}.lua`, 'utf8');
    out[name] = { numberOfKeys: 4, lua: GUARDED_SCRIPTS.has(name) ? `${lib}\n${guard}\n${body}` : `${lib}\n${body}` };
  }
  // bind with the request's SignatureNonce claimed first (KEYS[5], TTL in ARGV[2]), one Redis only:
  // a replay answers REPLAY before anything is written; a late one writes neither
  out.bindNonce = {
    numberOfKeys: 5,
    lua: `${lib}\n${guard}\nif not redis.call('SET', KEYS[5], '1', 'EX', ARGV[2], 'NX') then return {'REPLAY'} end\n${readFileSync(`${dir}bind.lua`, 'utf8')}`,
  };
  out.guarded = { numberOfKeys: 1, lua: `${guard}\n${readFileSync(dir + 'guarded.lua', 'utf8')}` };
  out.pool = { numberOfKeys: 1, lua: `${guard}\n${readFileSync(dir + 'pool.lua', 'utf8')}` };
  out.dueCas = { numberOfKeys: 1, lua: readFileSync(dir + 'due-cas.lua', 'utf8') };
  return out;
}

const defined = new WeakSet<object>();

/** Idempotent: defines every script command on this client once. */
export function defineScripts(redis: Redis | Cluster): void {
  if (defined.has(redis)) return;
  for (const [name, def] of Object.entries(loadScripts())) {
    redis.defineCommand(`xl_${name}`, def);
  }
  defined.add(redis);
}
