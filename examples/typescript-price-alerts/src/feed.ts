/** A deterministic simulated price feed (no network in examples): a seeded random walk. */

import { round } from './model';

/** mulberry32: a small seeded PRNG, so that the same seed gives the same prices. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The next price: a random move of at most ±0.25% plus a pull back towards `base`. */
export function nextPrice(last: number, base: number, rand: () => number): number {
  const move = (rand() - 0.5) * 2 * 0.0025;
  const reversion = ((base - last) / base) * 0.01;
  return round(last * (1 + move + reversion), 2);
}
