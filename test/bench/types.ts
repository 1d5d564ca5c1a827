/** What each benchmark figure hands back to the runner (test/bench/run.ts). */

/** One line of the summary table: a figure, its measurement, its target and whether it is met. */
export interface Row {
  readonly figure: string;
  readonly what: string;
  /** Human text, e.g. "2.41× [2.30–2.55]". */
  readonly measured: string;
  /** Human text, e.g. "≥ 20×"; "—" when the issue sets none. */
  readonly target: string;
  /** null: no target. */
  readonly met: boolean | null;
}

/** A detail table printed under the summary. */
export interface Table {
  readonly title: string;
  readonly head: ReadonlyArray<string>;
  readonly rows: ReadonlyArray<ReadonlyArray<string>>;
  readonly notes?: ReadonlyArray<string>;
}

export interface FigureResult {
  readonly id: string;
  readonly rows: ReadonlyArray<Row>;
  readonly tables: ReadonlyArray<Table>;
  /** Raw figures for bench.json. */
  readonly data: unknown;
  /** Wall time of the figure, s. */
  readonly seconds?: number;
}

export const met = (ok: boolean | null): string => (ok === null ? "—" : ok ? "yes" : "NO");
