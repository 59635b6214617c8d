// The measured xline code runs as `npm start` runs it: the compiled dist/ (not tsx's on-the-fly
// transform of src/), in a node process with the flags of package.json scripts.start.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let built = false;

/** Imports dist/<path> (e.g. 'api/server.js'), running `npm run build` first, once per process. */
export async function distModule<T>(path: string): Promise<T> {
  if (!built && !process.env.BENCH_NO_BUILD) {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed: the benches measure the compiled dist/');
    built = true;
  }
  return (await import(new URL(`../dist/${path}`, import.meta.url).href)) as T;
}

/**
 * The node flags of `npm start` (package.json scripts.start), read from there so the two cannot
 * drift apart (e.g. --max-semi-space-size: V8's default young generation is small for a server
 * allocating per request). BENCH_NODE_FLAGS replaces them.
 */
export const NODE_FLAGS: string[] = (() => {
  // BENCH_NODE_FLAGS="--flag …" replaces them, for trying V8 settings (e.g. the young generation's size)
  if (process.env.BENCH_NODE_FLAGS !== undefined) return process.env.BENCH_NODE_FLAGS.split(/\s+/).filter(Boolean);
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { scripts?: { start?: string } };
  const words = (pkg.scripts?.start ?? '').split(/\s+/);
  if (words[0] === 'exec') words.shift(); // npm start execs node so that signals reach it
  const flags: string[] = [];
  if (words[0] === 'node') for (const w of words.slice(1)) if (w.startsWith('--')) flags.push(w); else break;
  return flags;
})();

/**
 * When this process lacks NODE_FLAGS, runs the bench file `selfUrl` again in a child that has
 * them and returns true once it is done (the caller then returns); false when they are present.
 * The file must run its section when executed directly.
 */
export async function ranWithStartFlags(selfUrl: string): Promise<boolean> {
  if (NODE_FLAGS.every((f) => process.execArgv.includes(f))) return false;
  const self = fileURLToPath(selfUrl);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, '--import', 'tsx', self], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${self} exited ${code}`);
  return true;
}

/** Runs a bench section when its file is executed directly (`tsx bench/<file>.ts`, or ranWithStartFlags). */
export function runIfMain(selfUrl: string, run: () => Promise<void>): void {
  if (selfUrl !== `file://${process.argv[1]}`) return;
  run().then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
