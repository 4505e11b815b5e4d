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

/** The 1-minute load average, to show how busy the machine was during a measurement. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ', 1)[0];
  } catch {
    return '?';
  }
}
