// `npm run bench [section...]`: runs benchmark sections one after another and prints figures,
// each as a ratio to a baseline measured in the same run (the machine is shared and noisy).
// Sections whose external binary is missing say so and are skipped.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));

/** Section name → file in bench/ exporting `run(): Promise<void>`. Order: cheap to expensive. */
const SECTIONS: Array<[string, string]> = [
  ['store', 'store.ts'],
  ['memory', 'store-memory.ts'],
  ['api', 'api-bind.ts'],
  ['events', 'events.ts'],
  ['sip', 'sip.ts'],
  ['media', 'media.ts'],
];

async function main() {
  const wanted = process.argv.slice(2);
  const chosen = wanted.length ? SECTIONS.filter(([n]) => wanted.includes(n)) : SECTIONS;
  if (wanted.length && chosen.length !== wanted.length) {
    console.error(`unknown section; known: ${SECTIONS.map(([n]) => n).join(', ')}`);
    process.exit(2);
  }
  for (const [name, file] of chosen) {
    const path = join(here, file);
    if (!existsSync(path)) {
      console.log(`\n== ${name}: not present (${file})`);
      continue;
    }
    console.log(`\n== ${name}`);
    const t0 = Date.now();
    const mod = (await import(path)) as { run: () => Promise<void> };
    await mod.run();
    console.log(`== ${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
