/** Small helpers shared by the development scripts and tests (never part of the binary). */
import { readFileSync } from 'node:fs';

/** A seeded pseudo-random generator (mulberry32): reproducible data sets and runs. Values in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded pseudo-random generator (splitmix32): the promotion data generators' sequence. Values in [0, 1). */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** An invented brand name for benchmark catalogs, made of syllables from the number `i`, ending in `suffix`. */
export function syllableBrand(i: number, suffix: string): string {
  const syllables = ['ka', 'lo', 'mi', 'ven', 'tor', 'ix', 'bra', 'zu', 'quel', 'dor', 'fen', 'sha', 'rip', 'nox', 'tal', 'ume'];
  let n = i + 17;
  let s = '';
  do {
    s += syllables[n % syllables.length];
    n = Math.floor(n / syllables.length);
  } while (n > 0);
  return s[0].toUpperCase() + s.slice(1) + suffix;
}

/** The 1-minute load average, to show how busy the machine was during a measurement. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ', 1)[0];
  } catch {
    return '?';
  }
}
