// Tests that need an external program skip LOUDLY when it is absent, naming the binary.
import { findBinary } from '../../src/util/binaries.js';

const announced = new Set<string>();

/** Returns the binary's path, or undefined after printing a loud SKIP banner once per binary. */
export function requireBinary(name: string, envVar?: string, installHint?: string): string | undefined {
  const p = findBinary(name, envVar);
  if (!p && !announced.has(name)) {
    announced.add(name);
    const hint = installHint ? ` (${installHint})` : '';
    process.stderr.write(
      `\n${'!'.repeat(78)}\n!!! SKIPPING tests: required binary '${name}' not found on PATH${envVar ? ` or in $${envVar}` : ''}${hint}\n${'!'.repeat(78)}\n\n`,
    );
  }
  return p;
}
