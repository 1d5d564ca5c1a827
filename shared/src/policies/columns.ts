/**
 * Scratch columns of the sdrm3 decision (policies/sdrm3-score.ts, sdrm3-blocking.ts,
 * sdrm3-fit.ts): plain arrays of numbers, not typed arrays.
 *
 * Why (docs/performance.md §2, "sdrm3 behaviour 3: decision time"): V8 compiles an element access
 * of a typed array without a check that its buffer was detached only while no ArrayBuffer of the
 * process has ever been detached (its "ArrayBufferDetaching" protector). The first detach
 * anywhere — a `postMessage` or `structuredClone` transfer, a WebAssembly memory that grows (tsx
 * loading a CommonJS module does, through its WebAssembly lexer) — invalidates it for good, and
 * from then on every optimized typed-array access also loads the buffer and tests its detached
 * bit. The decision reads and writes its columns a few thousand times per call: with typed arrays
 * it took ~18 % longer in such a process (CPU per decide at 16 jobs × 8 accelerators 5.5 → 6.5 µs).
 * Plain arrays holding only numbers (V8's PACKED_DOUBLE / PACKED_SMI elements) have no buffer to
 * check and cost the same either way. The values are the same: a double column stores any double
 * exactly (NaN included), an integer column holds small integers only (indices, counts, 0/1
 * flags, bit masks of at most 30 accelerators).
 */

/** `n` zeros as a plain array of doubles (PACKED_DOUBLE elements from the start: no transition when a column first gets a fraction). */
export const doubles = (n: number): number[] => {
  const out = [0.5];
  out.pop();
  for (let i = 0; i < n; i++) out.push(0);
  return out;
};

/** `n` zeros as a plain array of small integers (PACKED_SMI elements). */
export const ints = (n: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(0);
  return out;
};

/** A column a function writes: the decision's plain arrays, or a typed array (tests, other callers). */
export type Column = number[] | Float64Array | Int32Array | Uint8Array;
