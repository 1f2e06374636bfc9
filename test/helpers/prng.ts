// A small seeded PRNG for tests that pick random kill points or delays: a failing sequence can be
// replayed from its seed (the tests print it).

/** mulberry32: numbers in [0, 1) from a 32-bit seed. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
