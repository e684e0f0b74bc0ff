// The main job: runs the bundled example programs on the engine (no configuration needed).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = join(import.meta.dirname, '..', 'examples', 'runtime');
for (const file of readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
  console.log(`\n=== examples/runtime/${file}`);
  await import(pathToFileURL(join(dir, file)).href);
}
