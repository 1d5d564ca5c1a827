/**
 * `sdrm3 timeline <trace.json> --out timeline.png`: a picture of a Chrome/Perfetto trace written
 * by `sdrm3 run --trace` or `sdrm3 trace`: one lane per accelerator, one bar per block coloured by
 * model, drops and deadline misses as ticks on a "frames" lane, over a chosen time window. Rendered
 * in Node (Vega-Lite → SVG → PNG), for the README and for quick looks without the Perfetto UI.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import type { Command } from "commander";
import type { TopLevelSpec } from "vega-lite";
import { renderChart } from "./charts";
import { CliInputError, parseDuration } from "./duration";
import { checkOutputPaths, imageFormat } from "./output-paths";

interface TraceEvent {
  readonly ph: string;
  readonly name: string;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
  readonly args?: Readonly<Record<string, unknown>>;
}

export const timelineSpec = (trace: { traceEvents: ReadonlyArray<TraceEvent>; otherData?: unknown }, fromMs: number, toMs: number): TopLevelSpec => {
  const lanes = new Map<number, string>();
  for (const e of trace.traceEvents) if (e.ph === "M" && e.name === "thread_name") lanes.set(e.tid, String(e.args?.name ?? e.tid));
  const title = String(trace.traceEvents.find((e) => e.ph === "M" && e.name === "process_name")?.args?.name ?? "sdrm3 run");
  const inWindow = (start: number, end: number) => end >= fromMs && start <= toMs;
  const blocks = trace.traceEvents
    .filter((e) => e.ph === "X" && inWindow(e.ts / 1000, (e.ts + (e.dur ?? 0)) / 1000))
    .map((e) => ({ lane: lanes.get(e.tid) ?? String(e.tid), model: e.name, start: Math.max(fromMs, e.ts / 1000), end: Math.min(toMs, (e.ts + (e.dur ?? 0)) / 1000) }));
  const marks = trace.traceEvents
    .filter((e) => e.ph === "i" && e.ts / 1000 >= fromMs && e.ts / 1000 <= toMs)
    .map((e) => ({ lane: lanes.get(e.tid) ?? "frames", at: e.ts / 1000, kind: e.name.split(" ")[0] ?? "event", label: e.name }));
  const order = [...lanes.values()];
  const y = { field: "lane", type: "nominal" as const, title: null, sort: order };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `${title}: ${fromMs}–${toMs} ms`,
    config: { font: "DejaVu Sans" },
    width: 900,
    height: { step: 34 },
    layer: [
      {
        data: { values: blocks },
        mark: { type: "bar", height: 24 },
        encoding: {
          y,
          x: { field: "start", type: "quantitative", title: "virtual time (ms)", scale: { domain: [fromMs, toMs] } },
          x2: { field: "end" },
          color: { field: "model", type: "nominal", scale: { scheme: "tableau10" } },
        },
      },
      {
        data: { values: marks },
        mark: { type: "tick", thickness: 2, size: 24 },
        encoding: { y, x: { field: "at", type: "quantitative" }, color: { field: "kind", type: "nominal", scale: { scheme: "set1" } } },
      },
    ],
    resolve: { scale: { color: "independent" } },
  } as TopLevelSpec;
};

interface TimelineFlags {
  out?: string;
  from: string;
  to: string;
}

export const executeTimeline = async (path: string, flags: TimelineFlags, io: { err(t: string): void }): Promise<number> => {
  if (flags.out === undefined) throw new CliInputError("missing --out <file.png|file.svg>");
  const format = imageFormat(flags.out, "--out");
  checkOutputPaths([["--out", flags.out]], [["the trace argument", path]]);
  const fromMs = flags.from === "0" ? 0 : parseDuration(flags.from, "--from");
  const toMs = parseDuration(flags.to, "--to");
  if (toMs <= fromMs) throw new CliInputError(`--to (${toMs} ms) must be after --from (${fromMs} ms)`);
  let trace: { traceEvents: TraceEvent[] };
  try {
    // a device or a pipe (/dev/zero) was read for ever
    const st = statSync(path);
    if (!st.isFile()) throw new Error(st.isDirectory() ? "a directory" : "not a regular file");
    trace = JSON.parse(readFileSync(path, "utf8")) as { traceEvents: TraceEvent[] };
  } catch (e) {
    throw new CliInputError(`${path}: not a readable trace-event JSON file (${(e as Error).message})`);
  }
  if (!Array.isArray(trace.traceEvents)) throw new CliInputError(`${path}: no traceEvents array`);
  const { svg, png } = await renderChart(timelineSpec(trace, fromMs, toMs));
  writeFileSync(flags.out, format === "svg" ? svg : png);
  io.err(`wrote ${flags.out}\n`);
  return 0;
};

export const registerTimeline = (program: Command, io: { err(t: string): void }, setResult: (code: number) => void): void => {
  program
    .command("timeline")
    .description("draw a trace (from run --trace or sdrm3 trace) as a PNG/SVG timeline: lanes per accelerator, blocks by model")
    .argument("<trace>", "Chrome/Perfetto trace-event JSON")
    .option("--out <file>", "output file (.png or .svg)")
    .option("--from <t>", "window start (e.g. 0, 50ms)", "0")
    .option("--to <t>", "window end (e.g. 100ms, 1s)", "100ms")
    .action(async (path: string, flags: TimelineFlags) => setResult(await executeTimeline(path, flags, io)));
};
