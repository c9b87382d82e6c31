/**
 * Deterministic pseudo-random numbers derived from a seed and a key.
 *
 * understudy must give the same data and the same faults for the same seed on every machine, and (for chaos) per
 * client regardless of how requests from different clients interleave. So instead of one global random stream we
 * derive an independent, cheap generator from (seed, key...) wherever randomness is needed. The two algorithms
 * are tiny public-domain ones (a 32-bit FNV-1a string hash and the SplitMix32 mixer); a library would bring a
 * stateful global generator, which is exactly what we must avoid.
 */

/** 32-bit FNV-1a hash of the parts, joined with a separator that cannot occur in numbers. */
export function hashKey(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  for (let p = 0; p < parts.length; p++) {
    const s = p === 0 ? String(parts[p]) : '\u0001' + String(parts[p]);
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}

/** A generator of floats in [0, 1) seeded by a 32-bit state (SplitMix32). */
export function randomStream(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}

/** A generator for (seed, key...): the same arguments give the same sequence everywhere. */
export function seededRandom(seed: number, ...key: Array<string | number>): () => number {
  return randomStream(hashKey(seed, ...key));
}

/** Integer in [min, max] drawn from `next`. */
export function randomInt(next: () => number, min: number, max: number): number {
  return min + Math.floor(next() * (max - min + 1));
}
