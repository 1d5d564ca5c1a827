/**
 * Seeded, splittable pseudo-random numbers (xoshiro128**, seeded through splitmix32).
 *
 * Determinism contract (DESIGN.md §4): every model task draws from its own stream, seeded from the
 * run seed and the task's name, so adding a model does not perturb the others. The state is four
 * 32-bit words and can be saved and restored exactly.
 */

/** FNV-1a 32-bit hash of a string. */
export const hashString = (s: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
};

const splitmix32 = (seed: number): (() => number) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
};

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

export type PrngState = readonly [number, number, number, number];

export class Prng {
  private constructor(private s: [number, number, number, number]) {}

  /** A stream for `stream` (e.g. a model name) under run seed `seed`. */
  static forStream(seed: number, stream: string): Prng {
    const mix = splitmix32((hashString(stream) ^ Math.imul(seed >>> 0, 0x9e3779b1)) >>> 0);
    const s: [number, number, number, number] = [mix(), mix(), mix(), mix()];
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
    return new Prng(s);
  }

  static fromState(state: PrngState): Prng {
    return new Prng([state[0] >>> 0, state[1] >>> 0, state[2] >>> 0, state[3] >>> 0]);
  }

  state(): PrngState {
    return [this.s[0], this.s[1], this.s[2], this.s[3]];
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] = (s[2] ^ s[0]) >>> 0;
    s[3] = (s[3] ^ s[1]) >>> 0;
    s[1] = (s[1] ^ s[2]) >>> 0;
    s[0] = (s[0] ^ s[3]) >>> 0;
    s[2] = (s[2] ^ t) >>> 0;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** True with probability p (the XRBench rule: p > a fresh uniform draw). Always consumes one draw. */
  bernoulli(p: number): boolean {
    return p > this.next();
  }
}

/**
 * Counter-based draw: the `index`-th uniform in [0, 1) of `stream` under `seed`, computed directly
 * (no state). Model tasks draw frame k's trigger, jitter and probability from
 * `drawAt(seed, task, purpose, k)`, so a frame's draws do not depend on the order in which frames
 * end — the same releases and triggers under every policy (what `replay --policy` relies on).
 */
export const drawAt = (seed: number, stream: string, purpose: string, index: number): number => {
  const h = hashString(`${stream}\u0000${purpose}`);
  const mix = splitmix32((h ^ Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index >>> 0, 0x85ebca77)) >>> 0);
  mix();
  return mix() / 4294967296;
};
