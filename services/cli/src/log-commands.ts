/**
 * The event-log commands of `sdrm3` (docs/event-log.md):
 *
 *   sdrm3 run … --record run.jsonl --trace trace.json   record the run / export its timeline
 *   sdrm3 replay run.jsonl                               re-feed the log through a fresh scheduler
 *   sdrm3 replay run.jsonl --policy fcfs [--param k=v]   re-simulate the recorded workload under another policy
 *   sdrm3 explain run.jsonl --at <seq|time> | --job <model>:<frame>
 *   sdrm3 trace run.jsonl [--out trace.json]
 *
 * Exit codes: 0 ok (identical), 1 the replay diverged, 2 bad input (a corrupted, truncated or
 * unknown-version log, bad flags).
 */
import { rmSync } from "node:fs";
import Table from "cli-table3";
import type { Command } from "commander";
import { resolvePolicy } from "@sdrm3/shared/policies";
import {
  BufferedFileWriter,
  type DecisionPoint,
  type Divergence,
  type ExplainTarget,
  type LogStatus,
  type ReplayReport,
  type RunMetrics,
  SDRM3_VERSION,
  TraceBuilder,
  compareReleases,
  describeEvent,
  explainLog,
  metricsFromFrames,
  paramsNotInHeader,
  recordedMetrics,
  replayLog,
  resimulate,
  scoresMatch,
} from "@sdrm3/shared/runtime";
import type { LogHeader } from "@sdrm3/shared/contracts";
import { CliInputError } from "./duration";
import { describeDispatch, parseParams } from "./flags";
import { type StreamSourceFlags, closeLogSources, logSourceName, openLogSource, registerLogStreamCommands } from "./log-stream";
import { checkOutputPaths } from "./output-paths";

export interface LogIo {
  out(text: string): void;
  err(text: string): void;
}

// ─── shared formatting ───────────────────────────────────────────────────────────────────────

const plainTable = (head: string[]) =>
  new Table({ head, style: { head: [], border: [] }, chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } });

/** Numbers in explanations and divergences: 6 decimals (scores are recorded in full in the log). */
export const num = (x: number | undefined | null, digits = 6): string =>
  x === undefined || x === null ? "-" : Number.isFinite(x) ? x.toFixed(digits) : String(x);
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

const paramsText = (params: Readonly<Record<string, number>>) => {
  const entries = Object.entries(params);
  return entries.length === 0 ? "" : ` (${entries.map(([k, v]) => `${k}=${v}`).join(", ")})`;
};

const describeHeader = (path: string, h: LogHeader) => {
  const missing = paramsNotInHeader(h);
  return (
    `${path}: ${h.scenario.name} on ${h.hardware.name}, policy ${h.policy.name}${paramsText(h.policy.params)}, seed ${h.seed}, ` +
    `${h.durationMs} ms, ${describeDispatch(h)}, mode ${h.mode}${h.variants === undefined ? "" : ", supernet on"}${h.live === undefined ? "" : `, live at speed ${h.live.speed}`}; recorded by sdrm3 ${h.sdrm3Version}` +
    `${h.sdrm3Version === SDRM3_VERSION ? "" : ` (this is ${SDRM3_VERSION}: replaying by the header)`}\n` +
    (missing.length === 0
      ? ""
      : `note: the log records no value for ${missing.map((p) => p.name).join(", ")} (added to ${h.policy.name} after it was recorded); ` +
        `replaying with today's defaults ${missing.map((p) => `${p.name}=${p.value}`).join(", ")}, which may change decisions\n`)
  );
};

const truncationNote = (status: LogStatus): string =>
  status.stoppedAt === undefined
    ? ""
    : `--allow-truncated: used the first ${status.linesUsed} lines (header + ${status.entries} entries); stopped at ${status.stoppedAt.message}\n`;

/**
 * Runs a log command and closes the NATS connections it opened, whatever happens. What it throws
 * goes to main, which exits by the error's classification (contracts/errors): a log defect, a
 * missing file or run, a bad flag are input errors (exit 2, the message names the file and line).
 */
const guarded =
  <A extends unknown[]>(setResult: (code: number) => void, fn: (...args: A) => Promise<number>) =>
  async (...args: A): Promise<void> => {
    try {
      setResult(await fn(...args));
    } finally {
      await closeLogSources();
    }
  };

// ─── sdrm3 replay ────────────────────────────────────────────────────────────────────────────

interface ReplayFlags extends StreamSourceFlags {
  policy?: string;
  param?: string[];
  allowTruncated?: boolean;
  untilSeq?: string;
  untilTime?: string;
}

const parseCount = (flag: string, text: string): number => {
  if (!/^\d{1,12}$/.test(text)) throw new CliInputError(`${flag}: expected a non-negative integer, got '${text}'`);
  return Number(text);
};

/** A virtual time: `35ms`, `1.5s` (0 allowed). */
const parseTime = (flag: string, text: string): number => {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)\s*$/.exec(text);
  if (m === null) throw new CliInputError(`${flag}: expected a time such as 35ms or 1.5s, got '${text}'`);
  return Number(m[1]) * (m[2] === "s" ? 1000 : 1);
};

export const formatDivergence = (d: Divergence, r: ReplayReport): string => {
  const lines = [
    `divergence at seq ${d.seq} (line ${d.seq + 1}), t=${num(d.at)} ms: ${
      d.kind !== "event" ? d.message : d.expected?._tag === "decision" && d.actual?._tag === "decision" ? "the replay decided differently" : "the replay produced another event"
    }`,
    // a tampered input has no events to compare: the message names the recorded and recomputed fields
    ...(d.kind === "input" ? [] : [`  expected (log):    ${describeEvent(d.expected)}`, `  actual (replay):   ${describeEvent(d.actual)}`]),
  ];
  if (d.scoreDiffs.length > 0) {
    lines.push("  scores that differ:");
    for (const s of d.scoreDiffs) lines.push(`    ${s.key.padEnd(10)} expected ${num(s.expected)}  actual ${num(s.actual)}`);
  }
  const e = d.expected?._tag === "decision" ? d.expected.scores : undefined;
  const a = d.actual?._tag === "decision" ? d.actual.scores : undefined;
  if (e !== undefined || a !== undefined) {
    lines.push(`  expected scores: ${JSON.stringify(e ?? {})}`, `  actual scores:   ${JSON.stringify(a ?? {})}`);
  }
  lines.push(`  identical before it: ${r.events} events, ${r.decisions} decisions (${r.inputs} inputs)`);
  return `${lines.join("\n")}\n`;
};

const executeReplay = async (path: string | undefined, flags: ReplayFlags, io: LogIo): Promise<number> => {
  const opts = { allowTruncated: flags.allowTruncated === true };
  if (flags.policy !== undefined || flags.param !== undefined) {
    if (flags.untilSeq !== undefined || flags.untilTime !== undefined) {
      throw new CliInputError("--until-seq / --until-time apply to a replay, not to a re-simulation under --policy");
    }
    return executeResimulate(path, flags, io);
  }
  const untilSeq = flags.untilSeq === undefined ? undefined : parseCount("--until-seq", flags.untilSeq);
  const untilTimeMs = flags.untilTime === undefined ? undefined : parseTime("--until-time", flags.untilTime);
  const log = await openLogSource(path, flags, opts);
  io.out(describeHeader(logSourceName(path, flags), log.header));
  const r = await replayLog(log, { ...(untilSeq === undefined ? {} : { untilSeq }), ...(untilTimeMs === undefined ? {} : { untilTimeMs }) });
  io.out(truncationNote(r.status));
  if (r.divergence !== undefined) {
    io.out(formatDivergence(r.divergence, r));
    return 1;
  }
  const upTo = r.stopped === "untilSeq" || r.stopped === "untilTime" ? ` (up to seq ${r.lastSeq}, t=${num(r.kernel.time)} ms)` : "";
  io.out(`replayed ${r.events} events, ${r.decisions} decisions identical${upTo}\n`);
  return 0;
};

const metricRows = (a: RunMetrics, b: RunMetrics): Array<[string, string, string]> => {
  const rows: Array<[string, string, string]> = [
    ["UXCost", num(a.summary.uxCost, 4), num(b.summary.uxCost, 4)],
    ["XRBench score", num(a.summary.xrbenchScore, 4), num(b.summary.xrbenchScore, 4)],
    ["deadline-miss rate", pct(a.summary.deadlineMissRate), pct(b.summary.deadlineMissRate)],
    ["energy mJ/s", num(a.summary.energyMJPerS, 1), num(b.summary.energyMJPerS, 1)],
    ["released", String(a.summary.released), String(b.summary.released)],
    ["on time", String(a.summary.onTime), String(b.summary.onTime)],
    ["late", String(a.summary.late), String(b.summary.late)],
    ["dropped", String(a.summary.dropped), String(b.summary.dropped)],
    ["unfinished", String(a.summary.unfinished), String(b.summary.unfinished)],
    ["decisions", String(a.decisions), String(b.decisions)],
  ];
  a.models.forEach((m, i) => {
    const n = b.models[i]!;
    rows.push([`${m.name} miss rate`, pct(m.deadlineMissRate), pct(n.deadlineMissRate)]);
    rows.push([`${m.name} UX_m`, num(m.uxCost, 3), num(n.uxCost, 3)]);
  });
  return rows;
};

const executeResimulate = async (path: string | undefined, flags: ReplayFlags, io: LogIo): Promise<number> => {
  const log = await openLogSource(path, flags, { allowTruncated: flags.allowTruncated === true });
  const h = log.header;
  const overrides = parseParams(flags.param ?? []);
  // --param without --policy: the recorded policy with its recorded parameters, some overridden.
  const policy = flags.policy === undefined ? resolvePolicy(h.policy.name, { ...h.policy.params, ...overrides }) : resolvePolicy(flags.policy, overrides);
  io.out(describeHeader(logSourceName(path, flags), h));
  const recorded = await recordedMetrics(log);
  io.out(truncationNote(log.status));
  if (!log.status.finished) io.out("note: the recorded run is incomplete, so its metrics cover only the part in the log\n");
  const result = await resimulate(h, policy);
  const again = metricsFromFrames(h, result.frames, policy.name, result.decisions);
  const changed = Object.entries(overrides).map(([k, v]) => `, ${k}=${v}`).join("");
  const t = plainTable(["metric", `recorded (${h.policy.name})`, `re-simulated (${policy.name}${changed})`]);
  for (const row of metricRows(recorded, again)) t.push(row);
  io.out(`same workload (scenario, hardware, seed, duration, options) under ${policy.name}${paramsText(policy.params)}; recorded metrics recomputed from the log's frame events\n`);
  io.out(`${t.toString()}\n`);
  const rel = compareReleases(recorded.frames, result.frames);
  io.out(
    rel.identical
      ? `releases: identical (${rel.recorded} frames: same model, frame, nominal release and deadline)\n`
      : `releases: differ (${rel.recorded} recorded, ${rel.resimulated} re-simulated; first: ${rel.firstDifference})` +
          `${h.mode === policy.capabilities.semantics ? "" : ` — the ${h.mode} and ${policy.capabilities.semantics} modes release frames differently`}\n`,
  );
  return 0;
};

// ─── sdrm3 explain ───────────────────────────────────────────────────────────────────────────

interface ExplainFlags extends StreamSourceFlags {
  at?: string;
  job?: string;
  allowTruncated?: boolean;
}

const parseTarget = (flags: ExplainFlags): ExplainTarget => {
  if ((flags.at === undefined) === (flags.job === undefined)) throw new CliInputError("explain: give exactly one of --at <seq|time> or --job <model>:<frame>");
  if (flags.job !== undefined) {
    if (!/^[A-Za-z0-9_-]{1,64}:\d{1,9}$/.test(flags.job)) throw new CliInputError(`--job: expected <model>:<frame>, e.g. ES_RITNet:12, got '${flags.job}'`);
    return { kind: "job", job: flags.job };
  }
  const at = flags.at!;
  if (/^\d+$/.test(at.trim())) return { kind: "seq", seq: parseCount("--at", at.trim()) };
  return { kind: "time", atMs: parseTime("--at", at) };
};

const describeTarget = (t: ExplainTarget) =>
  t.kind === "seq" ? `the first decision at or after seq ${t.seq}` : t.kind === "time" ? `the first decision at or after t=${t.atMs} ms` : `the decisions about ${t.job}`;

const describeBlocks = (b: DecisionPoint["blocks"]): string =>
  "layers" in b ? `next block ${b.layers} layer${b.layers === 1 ? "" : "s"}` : `next block up to the ${b.quantumMs} ms quantum`;

export const formatPoint = (p: DecisionPoint, header: LogHeader): string => {
  const out: string[] = [];
  const first = p.decisions[0]?.n;
  const last = p.decisions[p.decisions.length - 1]?.n;
  out.push(`decision point at t=${num(p.at)} ms (after input seq ${p.inputSeq} from ${p.inputSource}); decisions #${first}..#${last}`);
  const tuned = Object.entries(p.params).filter(([k, v]) => header.policy.params[k] !== v);
  if (tuned.length > 0) out.push(`  parameters in force (tuned online): ${tuned.map(([k, v]) => `${k}=${num(v, 4)}`).join(", ")}`);
  for (const d of p.decisions) {
    const mark = d.target ? "->" : "  ";
    const what = d.action === "dispatch" ? `dispatch ${d.job} on ${d.acc} (${d.layerCount} layer${d.layerCount === 1 ? "" : "s"})` : `drop ${d.job}: ${d.reason}`;
    const scores = d.scores === undefined ? "" : `  ${Object.entries(d.scores).map(([k, v]) => `${k}=${num(v)}`).join(" ")}`;
    const rec = d.recorded === undefined ? "" : `  [recorded at seq ${d.recorded.seq}]`;
    out.push(`  ${mark} #${d.n} ${what}${scores}${rec}`);
  }
  const sdrm3 = p.pairs !== undefined;
  const models = plainTable(["model", "period ms", "recent miss rate", "last on time ms", ...(sdrm3 ? ["starving"] : [])]);
  for (const m of p.models) models.push([m.name, num(m.periodMs, 3), pct(m.recentMissRate), num(m.lastOnTimeAt, 3), ...(sdrm3 ? [m.starving ? "yes" : "no"] : [])]);
  out.push("models:", models.toString());
  const ready = plainTable(["ready job", "deadline ms", "slack ms", "ToGo* ms", "next layer", ...(sdrm3 ? ["U", "F"] : [])]);
  for (const j of p.ready) {
    ready.push([j.job, num(j.deadline, 3), num(j.slackMs, 3), num(j.toGoMs, 3), `${j.nextLayer}/${j.layerCount}`, ...(sdrm3 ? [num(j.u), num(j.f)] : [])]);
  }
  out.push(`ready jobs (${p.ready.length}):`, p.ready.length === 0 ? "  (none)" : ready.toString());
  out.push("accelerators:");
  for (const a of p.accelerators) {
    const block = a.block === undefined ? "" : ` running ${a.block.job} layers ${a.block.firstLayer}..${a.block.firstLayer + a.block.layerCount - 1}`;
    out.push(`  ${a.id} ${a.dataflow}  ${a.idle ? "idle" : `busy until ${num(a.busyUntil)} ms${block}`}`);
  }
  if (p.pairs !== undefined) {
    const prm = p.params;
    out.push(`MapScores S = U + alpha*F + beta*P (+ boost for a starving model's feasible jobs), alpha=${prm.alpha}, beta=${prm.beta}, ustar=${prm.ustar}; ${describeBlocks(p.blocks)}, guard margin ${prm.margin ?? 0} of the period:`);
    const t = plainTable(["job", "acc", "U", "F", "P", "boost", "S", ""]);
    for (const s of p.pairs) {
      t.push(
        s.status === "chosen" || s.status === "candidate"
          ? [s.job, s.acc, num(s.u), num(s.f), num(s.p), num(s.boost), num(s.s), s.status === "chosen" ? "chosen" : ""]
          : [s.job, s.acc, num(s.u), num(s.f), num(s.p), "-", "-", skippedBecause(s.status, prm.pmin)],
      );
    }
    out.push(p.pairs.length === 0 ? "  (no pair: no idle accelerator or no ready job)" : t.toString());
  }
  out.push(`drops here (${p.drops.length}):`);
  for (const d of p.drops) out.push(`  ${d.job} by the ${d.by}: ${d.reason}`);
  const match = scoresMatch(p);
  if (match !== undefined) {
    out.push(match ? "recorded scores: match (S, U, F, P of every dispatch equal the recomputed MapScore terms)" : "recorded scores: DIFFER from the recomputed MapScore terms");
  }
  return `${out.join("\n")}\n`;
};

/** Why sdrm3 skipped a pair, as explain prints it (the rule its scoring applied: policies/sdrm3-score.ts SkipReason). */
const skippedBecause = (by: "guard" | "affinity" | "block" | "overload", pmin: number | undefined): string => {
  switch (by) {
    case "guard":
      return "skipped: feasibility guard";
    case "affinity":
      return `skipped: affinity guard (P < pmin=${pmin})`;
    case "block":
      return "skipped: block guard (a job due earlier, with less laxity than this block, needs this accelerator)";
    case "overload":
      return "skipped: shed by the overload test (not started)";
  }
};

const executeExplain = async (path: string | undefined, flags: ExplainFlags, io: LogIo): Promise<number> => {
  const target = parseTarget(flags);
  const opts = { allowTruncated: flags.allowTruncated === true };
  let status: LogStatus | undefined;
  const report = await explainLog(async () => {
    const log = await openLogSource(path, flags, opts);
    status = log.status;
    return log;
  }, target);
  io.out(describeHeader(logSourceName(path, flags), report.header));
  if (status !== undefined) io.out(truncationNote(status));
  if (target.kind === "job") {
    for (const { seq, event } of report.jobHistory) if (event._tag !== "decision" && event._tag !== "block.dispatched") io.out(`seq ${seq}: ${describeEvent(event)} at t=${num(event.at)} ms\n`);
  }
  if (report.points.length === 0 && report.replay.divergence === undefined) {
    io.err(`sdrm3: explain: no decision found for ${describeTarget(target)}\n`);
    return 2;
  }
  for (const p of report.points) io.out(`\n${formatPoint(p, report.header)}`);
  if (report.replay.divergence !== undefined) {
    io.out(`\nthe log diverges from its replay before everything asked was explained:\n${formatDivergence(report.replay.divergence, report.replay)}`);
    return 1;
  }
  // explain stops reading where its answer is; the rest of the log is read too, so a truncated or
  // damaged log is reported as replay reports it (exit 2 naming the line; --allow-truncated: a note)
  if (status !== undefined && !status.finished && status.stoppedAt === undefined) {
    const rest = await openLogSource(path, flags, opts);
    for await (const _ of rest.entries);
    io.out(truncationNote(rest.status));
  }
  return 0;
};

// ─── sdrm3 trace ─────────────────────────────────────────────────────────────────────────────

interface TraceFlags extends StreamSourceFlags {
  out?: string;
  allowTruncated?: boolean;
}

const executeTrace = async (path: string | undefined, flags: TraceFlags, io: LogIo): Promise<number> => {
  checkOutputPaths([["--out", flags.out]], [["the log argument", path]]);
  const log = await openLogSource(path, flags, { allowTruncated: flags.allowTruncated === true });
  const file = flags.out === undefined ? undefined : new BufferedFileWriter(flags.out);
  try {
    const trace = new TraceBuilder(log.header, (t) => (file === undefined ? io.out(t) : file.write(t)));
    for await (const e of log.entries) if (e.type !== "input") trace.event(e.payload);
    trace.finish();
    file?.close();
    if (file !== undefined) io.err(`wrote trace (${trace.stats.slices} slices, ${trace.stats.instants} instants, ${trace.stats.counters} counter samples) to ${flags.out}\n`);
  } catch (e) {
    // a damaged log: leave no half-written trace file behind (stdout gets what was written so far)
    if (file !== undefined) {
      file.close();
      rmSync(file.path, { force: true });
    }
    throw e;
  }
  const note = truncationNote(log.status);
  if (note !== "") io.err(note);
  return 0;
};

// ─── registration ────────────────────────────────────────────────────────────────────────────

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** Adds `replay`, `explain` and `trace` to the program. */
export const registerLogCommands = (program: Command, io: LogIo, setResult: (code: number) => void): void => {
  program
    .command("replay")
    .description("replay an event log through a fresh scheduler and check every decision; --policy: re-simulate its workload under another policy")
    .argument("[log]", "event log (JSONL) written by `sdrm3 run --record` (or --nats/--run)")
    .option("--nats <url>", "read the log from JetStream (stream SDRM3_LOG) on this NATS server")
    .option("--run <id>", "with --nats: the run whose log to read")
    .option("--policy <name>", "re-simulate the recorded workload under this policy and compare metrics side by side")
    .option("--param <name=value>", "parameter of the re-simulated policy (repeatable; without --policy: overrides the recorded policy's)", collect)
    .option("--until-seq <n>", "replay only up to entry seq n")
    .option("--until-time <t>", "replay only the inputs up to virtual time t (e.g. 150ms)")
    .option("--allow-truncated", "use the valid prefix of a truncated or damaged log (stop at the first bad line)")
    .action(guarded(setResult, (path: string | undefined, flags: ReplayFlags) => executeReplay(path, flags, io)));
  program
    .command("explain")
    .description("show the scheduler's view and MapScores behind a recorded decision")
    .argument("[log]", "event log (JSONL) (or --nats/--run)")
    .option("--nats <url>", "read the log from JetStream (stream SDRM3_LOG) on this NATS server")
    .option("--run <id>", "with --nats: the run whose log to read")
    .option("--at <seq|time>", "an entry seq (integer) or a virtual time (35ms, 1.2s): the first decision at or after it")
    .option("--job <model:frame>", "every decision about this job, e.g. ES_RITNet:12")
    .option("--allow-truncated", "use the valid prefix of a truncated or damaged log")
    .action(guarded(setResult, (path: string | undefined, flags: ExplainFlags) => executeExplain(path, flags, io)));
  program
    .command("trace")
    .description("export a log's timeline as Chrome/Perfetto trace-event JSON (to stdout or --out)")
    .argument("[log]", "event log (JSONL) (or --nats/--run)")
    .option("--nats <url>", "read the log from JetStream (stream SDRM3_LOG) on this NATS server")
    .option("--run <id>", "with --nats: the run whose log to read")
    .option("--out <path>", "write the trace to this file instead of stdout")
    .option("--allow-truncated", "use the valid prefix of a truncated or damaged log")
    .action(guarded(setResult, (path: string | undefined, flags: TraceFlags) => executeTrace(path, flags, io)));
  registerLogStreamCommands(program, io, (fn) => guarded(setResult, fn));
};
