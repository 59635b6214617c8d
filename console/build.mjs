// Builds the operator console: one bundle (esbuild) and one stylesheet, each named by its content
// hash, and index.html pointing at them. Usage: node console/build.mjs [outdir] (default dist/console).
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(process.argv[2] ?? join(here, '..', 'dist', 'console'));
const hash = (b) => createHash('sha256').update(b).digest('hex').slice(0, 12);

const r = await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  minify: true,
  write: false,
  outfile: 'app.js',
  legalComments: 'none',
  logLevel: 'warning',
});
const js = Buffer.from(r.outputFiles[0].contents);
const css = readFileSync(join(here, 'style.css'));
const jsName = `app.${hash(js)}.js`;
const cssName = `app.${hash(css)}.css`;
const html = readFileSync(join(here, 'index.html'), 'utf8').replace('{{app.js}}', `assets/${jsName}`).replace('{{app.css}}', `assets/${cssName}`);

// write next to the target and swap, so a running xline never reads half a build
const tmp = `${out}.tmp-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(join(tmp, 'assets'), { recursive: true });
writeFileSync(join(tmp, 'assets', jsName), js);
writeFileSync(join(tmp, 'assets', cssName), css);
writeFileSync(join(tmp, 'index.html'), html);
rmSync(out, { recursive: true, force: true });
mkdirSync(dirname(out), { recursive: true });
const { renameSync } = await import('node:fs');
renameSync(tmp, out);
process.stdout.write(`console built: ${out} (${jsName} ${js.length} B, ${cssName} ${css.length} B)\n`);
