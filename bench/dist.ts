// The measured xline code is the compiled dist/ that `npm start` runs, not tsx's on-the-fly
// transform of src/ (which adds helpers and runs differently). Built once per bench process.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

let built = false;

/** Imports dist/<path> (e.g. 'api/server.js'), running `npm run build` first once. */
export async function distModule<T>(path: string): Promise<T> {
  if (!built && !process.env.BENCH_NO_BUILD) {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm run build failed: the benches measure the compiled dist/');
    built = true;
  }
  return (await import(new URL(`../dist/${path}`, import.meta.url).href)) as T;
}
