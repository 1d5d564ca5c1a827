/** Small statistics helpers for the benchmarks (no dependencies). */
import { readFileSync } from "node:fs";

/** Nearest-rank percentile (p in [0, 100]) of `xs` (need not be sorted). */
export const percentile = (xs: ArrayLike<number>, p: number): number => {
  const a = Float64Array.from(xs as ArrayLike<number>).sort();
  if (a.length === 0) return Number.NaN;
  const rank = Math.min(a.length, Math.max(1, Math.ceil((p / 100) * a.length)));
  return a[rank - 1]!;
};

export const median = (xs: ArrayLike<number>): number => {
  const a = Float64Array.from(xs as ArrayLike<number>).sort();
  const n = a.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? a[(n - 1) / 2]! : (a[n / 2 - 1]! + a[n / 2]!) / 2;
};

/** Median with its spread over repeated runs. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export const summarize = (xs: ReadonlyArray<number>): Summary => ({
  median: median(xs),
  min: Math.min(...xs),
  max: Math.max(...xs),
  n: xs.length,
});

/** Least-squares line y = a + b·x. */
export const linearFit = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): { a: number; b: number; r2: number } => {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const b = sxy / sxx;
  return { a: my - b * mx, b, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
};

/** Slope of log(y) against log(x): the growth exponent (1 = linear). */
export const logLogSlope = (xs: ReadonlyArray<number>, ys: ReadonlyArray<number>): { slope: number; r2: number } => {
  const f = linearFit(xs.map(Math.log), ys.map(Math.log));
  return { slope: f.b, r2: f.r2 };
};

/**
 * Two-variable fit log y = c + bx·log x + bz·log z (least squares via the normal equations):
 * the separate growth exponents in x and z.
 */
export const logLogSlope2 = (
  xs: ReadonlyArray<number>,
  zs: ReadonlyArray<number>,
  ys: ReadonlyArray<number>,
): { bx: number; bz: number } => {
  const n = xs.length;
  const X = xs.map(Math.log);
  const Z = zs.map(Math.log);
  const Y = ys.map(Math.log);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / n;
  const mx = mean(X);
  const mz = mean(Z);
  const my = mean(Y);
  let sxx = 0;
  let szz = 0;
  let sxz = 0;
  let sxy = 0;
  let szy = 0;
  for (let i = 0; i < n; i++) {
    const dx = X[i]! - mx;
    const dz = Z[i]! - mz;
    const dy = Y[i]! - my;
    sxx += dx * dx;
    szz += dz * dz;
    sxz += dx * dz;
    sxy += dx * dy;
    szy += dz * dy;
  }
  const det = sxx * szz - sxz * sxz;
  return { bx: (sxy * szz - szy * sxz) / det, bz: (szy * sxx - sxy * sxz) / det };
};

/** Deterministic PRNG (mulberry32) for synthetic inputs. */
export const prng = (seed: number): (() => number) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** "12.3", "1.23k" … with 3 significant digits. */
export const fmt = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return String(x);
  const ax = Math.abs(x);
  if (ax >= 1000) return x.toFixed(0);
  return Number(x.toPrecision(digits)).toString();
};

/** "median [min–max]" */
export const fmtSummary = (s: Summary, unit = "", digits = 3): string =>
  `${fmt(s.median, digits)}${unit} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]`;

/**
 * Contention meter (Linux): the share of wall time this thread spent runnable but waiting for a
 * CPU (run-queue wait from /proc/thread-self/schedstat) between `start()` and `stop()`. High
 * values mean other processes on the machine took the cores, inflating wall times and tails.
 * Returns null where schedstat is unavailable.
 */
export const cpuWaitMeter = (): { stop(): number | null } => {
  const read = (): number | null => {
    try {
      // fields: time on CPU (ns), time waiting on a run queue (ns), timeslices
      const f = readFileSync("/proc/thread-self/schedstat", "utf8").trim().split(/\s+/);
      return Number(f[1]);
    } catch {
      return null;
    }
  };
  const w0 = read();
  const t0 = performance.now();
  return {
    stop: () => {
      const w1 = read();
      const wall = performance.now() - t0;
      if (w0 === null || w1 === null || wall <= 0) return null;
      return (w1 - w0) / 1e6 / wall;
    },
  };
};

export const fmtPct = (x: number | null): string => (x === null ? "n/a" : `${(100 * x).toFixed(x < 0.1 ? 1 : 0)} %`);
