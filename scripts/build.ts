/**
 * Compiles the gateway into one executable (dist/vexrail) that embeds its migrations, the tokenizer and the
 * Swagger UI assets. The binary does not read .env or bunfig.toml from the directory it starts in.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dir, '..');
const outfile = join(root, 'dist', 'vexrail');
mkdirSync(join(root, 'dist'), { recursive: true });
const started = performance.now();
process.stdout.write('Building dist/vexrail ... ');
const result = await Bun.build({
  entrypoints: [join(root, 'src', 'main.ts')],
  compile: { outfile, autoloadDotenv: false, autoloadBunfig: false },
  minify: true,
  bytecode: true,
  target: 'bun',
});
if (!result.success) {
  console.log('failed');
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
const sizeMb = (Bun.file(outfile).size / 1024 / 1024).toFixed(1);
console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s (${sizeMb} MB)`);
