/**
 * Bounded nonlinear least squares (Levenberg–Marquardt with a forward-difference Jacobian and a
 * dense Gaussian-elimination solve), used to calibrate the cost model's constants (cost-fit.ts).
 * Pure and deterministic: no I/O, no random source.
 */

/** Writes the residuals r(θ) into `out` (one per sample). */
export type Residuals = (theta: ReadonlyArray<number>, out: Float64Array) => void;

/** ½ Σ r². */
export const halfSquares = (r: Float64Array): number => {
  let sum = 0;
  for (let i = 0; i < r.length; i++) sum += (r[i] ?? 0) ** 2;
  return sum / 2;
};

/**
 * Bounded Levenberg–Marquardt on ½‖r(θ)‖² with a forward-difference Jacobian; steps are
 * projected onto [lower, upper]. Deterministic.
 */
export const levenbergMarquardt = (
  residuals: Residuals,
  m: number,
  start: ReadonlyArray<number>,
  lower: ReadonlyArray<number>,
  upper: ReadonlyArray<number>,
  maxIterations: number,
): { theta: number[]; loss: number } => {
  const n = start.length;
  const clamp = (v: number, i: number) => Math.min(upper[i] ?? v, Math.max(lower[i] ?? v, v));
  let theta = start.map(clamp);
  const r = new Float64Array(m);
  const trial = new Float64Array(m);
  residuals(theta, r);
  let loss = halfSquares(r);
  if (!Number.isFinite(loss)) return { theta, loss };
  let lambda = 1e-3;
  const jac = Array.from({ length: n }, () => new Float64Array(m));
  let stalls = 0;
  for (let iteration = 0; iteration < maxIterations && stalls < 3; iteration++) {
    for (let j = 0; j < n; j++) {
      const h = 1e-6;
      const up = (theta[j] ?? 0) + h <= (upper[j] ?? Infinity);
      const shifted = theta.map((v, i) => (i === j ? v + (up ? h : -h) : v));
      residuals(shifted, trial);
      const col = jac[j] as Float64Array;
      for (let i = 0; i < m; i++) col[i] = ((trial[i] ?? 0) - (r[i] ?? 0)) / (up ? h : -h);
    }
    const jtj = Array.from({ length: n }, () => new Array<number>(n).fill(0));
    const jtr = new Array<number>(n).fill(0);
    for (let a = 0; a < n; a++) {
      const ca = jac[a] as Float64Array;
      let g = 0;
      for (let i = 0; i < m; i++) g += (ca[i] ?? 0) * (r[i] ?? 0);
      jtr[a] = g;
      for (let b = a; b < n; b++) {
        const cb = jac[b] as Float64Array;
        let s = 0;
        for (let i = 0; i < m; i++) s += (ca[i] ?? 0) * (cb[i] ?? 0);
        (jtj[a] as number[])[b] = s;
        (jtj[b] as number[])[a] = s;
      }
    }
    let accepted = false;
    for (let attempt = 0; attempt < 12 && !accepted; attempt++) {
      const system = jtj.map((row, a) => row.map((v, b) => (a === b ? v * (1 + lambda) + 1e-12 : v)));
      const delta = solve(system, jtr.map((g) => -g));
      if (delta === undefined) {
        lambda *= 4;
        continue;
      }
      const next = theta.map((v, i) => clamp(v + (delta[i] ?? 0), i));
      residuals(next, trial);
      const nextLoss = halfSquares(trial);
      if (Number.isFinite(nextLoss) && nextLoss < loss) {
        stalls = loss - nextLoss < 1e-9 * loss ? stalls + 1 : 0;
        theta = next;
        loss = nextLoss;
        r.set(trial);
        lambda = Math.max(lambda / 3, 1e-12);
        accepted = true;
      } else {
        lambda *= 4;
      }
    }
    if (!accepted) break;
  }
  return { theta, loss };
};

/** Gaussian elimination with partial pivoting; undefined when singular. */
const solve = (matrix: number[][], rhs: number[]): number[] | undefined => {
  const n = rhs.length;
  const a = matrix.map((row, i) => [...row, rhs[i] ?? 0]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) {
      if (Math.abs(a[row]?.[col] ?? 0) > Math.abs(a[pivot]?.[col] ?? 0)) pivot = row;
    }
    const p = a[pivot] as number[];
    if (!(Math.abs(p[col] ?? 0) > 1e-300)) return undefined;
    [a[col], a[pivot]] = [p, a[col] as number[]];
    for (let row = col + 1; row < n; row++) {
      const r = a[row] as number[];
      const factor = (r[col] ?? 0) / (p[col] ?? 1);
      for (let k = col; k <= n; k++) r[k] = (r[k] ?? 0) - factor * (p[k] ?? 0);
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    const r = a[row] as number[];
    let s = r[n] ?? 0;
    for (let k = row + 1; k < n; k++) s -= (r[k] ?? 0) * (x[k] ?? 0);
    x[row] = s / (r[row] ?? 1);
  }
  return x.every(Number.isFinite) ? x : undefined;
};
