// Where an area's Lua scripts are (src/<area>/lua/*.lua), and reading them: the store and the
// events pipeline load theirs the same way, and register them on ioredis with defineCommand
// (EVALSHA, falling back to EVAL on NOSCRIPT, e.g. after a restart or a failover).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The `lua/` folder next to the module at `moduleUrl` (src/<area>/ under tsx); from dist/<area>/
 * the build's copy, or else the sources in src/<area>/lua. `probe`: a file every such folder has.
 */
export function luaDir(moduleUrl: string, area: string, probe = 'lib.lua'): string {
  const candidates = [new URL('./lua/', moduleUrl), new URL(`../../src/${area}/lua/`, moduleUrl)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p + probe)) return p;
  }
  throw new Error(`Lua scripts not found (expected src/${area}/lua/*.lua next to the ${area} module)`);
}

export function readLua(dir: string, name: string): string {
  return readFileSync(`${dir}${name}.lua`, 'utf8');
}
