// Finds external programs (redis-server, drachtio, freeswitch, sipp) on PATH or by env override.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function findBinary(name: string, envVar?: string, env: Record<string, string | undefined> = process.env): string | undefined {
  const override = envVar ? env[envVar] : undefined;
  if (override) return isExecutable(override) ? override : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
