/** Flag parsers shared by `sdrm3 run` and `sdrm3 compare`. Bad input throws CliInputError (exit 2). */
import { MAX_BLOCK_LAYERS } from "@sdrm3/shared/policies";
import { CliInputError, parseDurationOrNone } from "./duration";
import { MAX_SPECULATION_DEPTH, MAX_WARM_UP_MS } from "@sdrm3/shared/runtime";
import { MAX_TOLERANCE_MS } from "@sdrm3/shared/contracts";

/** A decimal number as a parameter value (`1.5`, `-2`, `1e-3`); `0x10`, `0b1` and `Infinity` are refused, as Number() would take them. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** `text` as a finite decimal number, or undefined. */
export const decimalOf = (text: string): number | undefined => {
  const value = Number(text);
  return DECIMAL.test(text.trim()) && Number.isFinite(value) ? value : undefined;
};

/** `text` as a finite decimal number, or CliInputError `${what}: expected a number, got '…'`. */
export const parseDecimal = (text: string, what: string): number => {
  const value = decimalOf(text);
  if (value === undefined) throw new CliInputError(`${what}: expected a number, got '${text}'`);
  return value;
};

/**
 * `--param alpha=1.5` (repeatable) → { alpha: 1.5 }. One parameter given twice is refused. The
 * record is built as data (Object.fromEntries), so a name such as `__proto__` is a parameter like
 * any other, refused by the policy, not a silently ignored prototype assignment.
 */
export const parseParams = (items: ReadonlyArray<string>): Record<string, number> => {
  const out = new Map<string, number>();
  for (const item of items) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(item);
    const name = m?.[1];
    const value = m === null ? undefined : decimalOf(m[2]!);
    if (name === undefined || value === undefined) throw new CliInputError(`--param: expected name=number, e.g. alpha=1.5, got '${item}'`);
    if (out.has(name)) throw new CliInputError(`--param: ${name} given twice (${name}=${out.get(name)} and ${item}); give it once`);
    out.set(name, value);
  }
  return Object.fromEntries(out);
};

/** `--block B`: layers per dispatch, a whole number in [1, MAX_BLOCK_LAYERS] (policies' block parameters have the same limit). */
export const parseBlockSize = (text: string | undefined): number => {
  if (text === undefined) return DISPATCH_DEFAULTS.blockSize;
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > MAX_BLOCK_LAYERS) {
    throw new CliInputError(`--block: expected a positive integer of at most ${MAX_BLOCK_LAYERS} (layers per block), got '${text}'`);
  }
  return Number(text);
};

/** How a run dispatches: block rule, dispatch queue depth and chain budget. */
export interface DispatchSettings {
  readonly blockSize: number;
  readonly quantumMs: number;
  readonly queueDepth: number;
  readonly chainMs: number;
}

/**
 * The dispatch defaults of `run`, `compare` and every role of `serve` in virtual time — one set, so
 * an in-process run and a distributed run of the same command line are the same experiment
 * (docker-compose.yml states its own on its command lines): blocks of one layer, no quantum, no
 * dispatch queue (depth 1: a block goes to an idle accelerator only).
 */
export const DISPATCH_DEFAULTS: DispatchSettings = { blockSize: 1, quantumMs: 0, queueDepth: 1, chainMs: 0 };

/**
 * The dispatch defaults of a live run (`--clock live`, in one process or distributed): in live
 * time every dispatch costs a message, a wake-up and, for a block that starts on an idle
 * accelerator, a round trip before it can retire, so blocks last about a quantum of 4 ms — the
 * smallest quantum whose live runs stayed within 5 % of their virtual twins over NATS on the 2-core
 * machine (2 ms: +18 % to +22 %; docs/live.md "Defaults of a live run", with what it costs in
 * virtual time); no queue (measured over NATS and in one process, a queue with a look-ahead did not
 * lower the lag and cost UXCost). A flag given wins over its default; the chain default applies
 * only with a queue.
 */
export const LIVE_DISPATCH_DEFAULTS: DispatchSettings = { blockSize: 1, quantumMs: 4, queueDepth: 1, chainMs: 0 };

/** The dispatch defaults of a run on the given clock. */
export const dispatchDefaults = (live: boolean): DispatchSettings => (live ? LIVE_DISPATCH_DEFAULTS : DISPATCH_DEFAULTS);

/** A run's dispatch options from its flags and its clock's defaults (what `run` and `serve scheduler` resolve). */
export const dispatchOptions = (
  flags: { readonly block?: string; readonly quantum?: string; readonly queueDepth?: string; readonly chain?: string; readonly lookahead?: string },
  live: boolean,
): { blockSize: number; quantumMs?: number; queueDepth?: number; chainMs?: number; lookaheadMs?: number } => {
  const defaults = dispatchDefaults(live);
  return {
    ...blockRuleOptions(parseBlockRule(flags.block, flags.quantum, defaults)),
    ...queueDepthOptions(flags.queueDepth, defaults),
    ...chainOptions(flags.chain, flags.queueDepth, defaults),
    ...lookaheadOptions(flags.lookahead, flags.queueDepth, defaults),
  };
};

/**
 * `--block` / `--quantum` given for a policy that dispatches whole frames (`granularity: "model"`,
 * xrbench): refused, as a flag that would change nothing (the run was the same with or without it).
 */
export const checkBlockFlagsApply = (flags: { readonly block?: string; readonly quantum?: string }, policy: { readonly name: string; readonly granularity: "model" | "block" }): void => {
  if (policy.granularity !== "model") return;
  const given = [flags.block === undefined ? undefined : "--block", flags.quantum === undefined ? undefined : "--quantum"].filter((f) => f !== undefined);
  if (given.length > 0) throw new CliInputError(`${given.join(" and ")}: policy ${policy.name} dispatches each frame as one whole-model job, so block sizes do not apply; leave ${given.length > 1 ? "them" : "it"} out`);
};

/**
 * A dispatch duration flag (`--quantum`, `--chain`, `--lookahead`): a number with a unit, at most
 * 1 s, `0.25ms`, `250us`, `0.001s`; `0` (with or without a unit) is 0. `meaning` ends the refusal.
 */
const parseDispatchDuration = (flag: string, text: string, example: string, meaning: string): number => {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(us|µs|ms|s)?$/.exec(text);
  if (m !== null && Number(m[1]) === 0) return 0;
  const ms = m === null || m[2] === undefined ? Number.NaN : Number(m[1]) * QUANTUM_UNITS[m[2]]!;
  if (!(Number.isFinite(ms) && ms <= MAX_QUANTUM_MS)) throw new CliInputError(`${flag}: expected a duration of at most 1s such as ${example} (${meaning}), got '${text}'`);
  return ms;
};

/** `--lookahead d`: 0 allowed (a busy accelerator takes no policy block: only chains queue). */
export const parseLookahead = (text: string): number =>
  parseDispatchDuration("--lookahead", text, "1ms or 500us", "a busy accelerator takes a block only once its queue ends within it");

/** The run options of a look-ahead (none when not given: any room counts); refused without a dispatch queue. */
export const lookaheadOptions = (text: string | undefined, queueDepth: string | undefined, defaults: DispatchSettings = DISPATCH_DEFAULTS): { lookaheadMs?: number } => {
  if (text === undefined) return {};
  const ms = parseLookahead(text);
  if (parseQueueDepth(queueDepth, defaults) < 2) throw new CliInputError(`--lookahead ${text}: a look-ahead is into a dispatch queue; give --queue-depth 2 or more`);
  return { lookaheadMs: ms };
};

/** Largest `--queue-depth` (runtime MAX_QUEUE_DEPTH). */
const MAX_QUEUE_DEPTH = 16;

/** `--queue-depth d`: blocks an accelerator may hold committed, the running one included, an integer in [1, 16]. */
export const parseQueueDepth = (text: string | undefined, defaults: DispatchSettings = DISPATCH_DEFAULTS): number => {
  if (text === undefined) return defaults.queueDepth;
  if (!/^[1-9][0-9]*$/.test(text) || Number(text) > MAX_QUEUE_DEPTH) {
    throw new CliInputError(`--queue-depth: expected an integer in [1, ${MAX_QUEUE_DEPTH}] (blocks an accelerator may hold committed; 1: no queue), got '${text}'`);
  }
  return Number(text);
};

/** The run options of a queue depth (none at depth 1, so a run without queues is what it was before the flag). */
export const queueDepthOptions = (text: string | undefined, defaults: DispatchSettings = DISPATCH_DEFAULTS): { queueDepth?: number } => {
  const d = parseQueueDepth(text, defaults);
  return d === 1 ? {} : { queueDepth: d };
};

/** `--chain d`: the chain budget (docs/architecture.md "Dispatch queues"), a duration of at most 1 s like `--quantum`; `0` is off. */
export const parseChain = (text: string | undefined): number =>
  text === undefined ? 0 : parseDispatchDuration("--chain", text, "0.5ms or 500us", "a job's blocks committed behind its own for that much run time; 0: off");

/**
 * The run options of a chain budget (none when off); refused without a dispatch queue (`--queue-depth`
 * 2 or more). Not given: the defaults' budget when the run has a queue, else off.
 */
export const chainOptions = (text: string | undefined, queueDepth: string | undefined, defaults: DispatchSettings = DISPATCH_DEFAULTS): { chainMs?: number } => {
  const depth = parseQueueDepth(queueDepth, defaults);
  const ms = text === undefined ? (depth >= 2 ? defaults.chainMs : 0) : parseChain(text);
  if (ms === 0) return {};
  if (depth < 2) throw new CliInputError(`--chain ${text}: a chain is committed into a dispatch queue; give --queue-depth 2 or more`);
  return { chainMs: ms };
};

/** The quantum `--block auto` stands for, ms (docs/live.md "Quantum blocks"). */
export const AUTO_QUANTUM_MS = 0.25;

/** Largest `--quantum`, ms (runtime MAX_QUANTUM_MS). */
const MAX_QUANTUM_MS = 1000;

const QUANTUM_UNITS: Readonly<Record<string, number>> = { us: 0.001, "µs": 0.001, ms: 1, s: 1000 };

/** `--quantum d`: a duration of at most 1 s, `0.25ms`, `250us`, `0.001s`; `0` (or `0ms`) is no quantum. */
export const parseQuantum = (text: string): number => parseDispatchDuration("--quantum", text, "0.25ms or 250us", "0: blocks of --block layers");

/** How a run sizes its blocks: `quantumMs` > 0 (the latency a block reaches), else `blockSize` layers. */
export interface BlockRule {
  readonly blockSize: number;
  readonly quantumMs: number;
}

/**
 * `--block B|auto` and `--quantum d` → the run's block rule (`defaults`, DISPATCH_DEFAULTS unless
 * given, for what is not given). `--block auto` is the quantum AUTO_QUANTUM_MS (or `--quantum`'s, given too); a quantum > 0
 * with a number of layers is refused, as is `--block auto --quantum 0`.
 */
export const parseBlockRule = (block: string | undefined, quantum: string | undefined, defaults: DispatchSettings = DISPATCH_DEFAULTS): BlockRule => {
  const q = quantum === undefined ? undefined : parseQuantum(quantum);
  if (block === "auto") {
    if (q === 0) throw new CliInputError(`--quantum ${quantum}: --block auto asks for quantum blocks; give a quantum above 0, or --block <layers> without --quantum`);
    return { blockSize: defaults.blockSize, quantumMs: q ?? AUTO_QUANTUM_MS };
  }
  const blockSize = block === undefined ? defaults.blockSize : parseBlockSize(block);
  if (q !== undefined && q > 0 && block !== undefined) {
    throw new CliInputError(`--quantum ${quantum}: not with --block ${block} (a quantum sizes blocks by their latency, --block by layers); give one of them`);
  }
  // a number of layers given sizes the blocks: the defaults' quantum does not apply
  return { blockSize, quantumMs: q ?? (block === undefined ? defaults.quantumMs : 0) };
};

/** The run options of a block rule (no `quantumMs` when there is none). */
export const blockRuleOptions = (rule: BlockRule): { blockSize: number; quantumMs?: number } =>
  rule.quantumMs > 0 ? { blockSize: rule.blockSize, quantumMs: rule.quantumMs } : { blockSize: rule.blockSize };

/** `block 8` or `quantum 0.25ms`: how a run (or a log header) sizes its blocks, for messages. */
export const describeBlockRule = (blockSize: number, quantumMs: number | undefined): string =>
  (quantumMs ?? 0) > 0 ? `quantum ${quantumMs}ms` : `block ${blockSize}`;

/**
 * A run's dispatch settings in words: the block rule, then the queue depth (always with
 * `withDepth`, else only when the run has a queue), chains and look-ahead when set.
 */
export const describeDispatch = (
  d: { readonly blockSize: number; readonly quantumMs?: number | undefined; readonly queueDepth?: number | undefined; readonly chainMs?: number | undefined; readonly lookaheadMs?: number | undefined },
  withDepth = false,
): string =>
  `${describeBlockRule(d.blockSize, d.quantumMs)}${d.queueDepth === undefined && !withDepth ? "" : `, queue depth ${d.queueDepth ?? 1}`}` +
  `${(d.chainMs ?? 0) > 0 ? `, chains of ${d.chainMs}ms` : ""}${d.lookaheadMs === undefined ? "" : `, look-ahead ${d.lookaheadMs}ms`}`;

/** `--supernet on|off` → true / false (undefined when not given). */
export const parseSupernet = (text: string | undefined): boolean | undefined => {
  if (text === undefined) return undefined;
  if (text === "on") return true;
  if (text === "off") return false;
  throw new CliInputError(`--supernet: expected on or off, got '${text}'`);
};

/**
 * The timing tolerance of a live run (`--tolerance`), wall ms: lateness of the emulation (a wake-up,
 * the message path) up to this is absorbed — the event is handled at its due time — and only what
 * exceeds it changes the run (docs/live.md "Timing tolerance"). 5 ms: above the p99 of the report
 * path over NATS with 7 processes on the 2-core machine (3–7 ms measured, docs/performance.md §4)
 * and under a frame period's tenth at 60 FPS.
 */
export const DEFAULT_TOLERANCE_MS = 5;

/** `--clock virtual|live`, `--speed x` and `--tolerance d` → the run's live setting (undefined: virtual time). */
export const parseClock = (
  clock: string | undefined,
  speed: string | undefined,
  tolerance?: string,
): { readonly speed: number; readonly toleranceMs: number } | undefined => {
  if (clock !== undefined && clock !== "virtual" && clock !== "live") throw new CliInputError(`--clock: expected virtual or live, got '${clock}'`);
  if (clock !== "live") {
    if (speed !== undefined) throw new CliInputError("--speed: only with --clock live");
    if (tolerance !== undefined) throw new CliInputError("--tolerance: only with --clock live (virtual time is exact)");
    return undefined;
  }
  const toleranceMs = tolerance === undefined ? DEFAULT_TOLERANCE_MS : parseDurationOrNone(tolerance, "--tolerance", MAX_TOLERANCE_MS, "of wall time");
  if (speed === undefined) return { speed: 1, toleranceMs };
  return { speed: parseSpeed(speed, "0.1 = ten times slower than real"), toleranceMs };
};

/**
 * `--speculate <n>` (run, serve scheduler): virtual time, block replies predicted from the run's cost
 * table and confirmed by the accelerators, at most n unconfirmed at once (runtime/speculation.ts); 0:
 * none. Refused with `--clock live` (live blocks take their time). Undefined: the default
 * (DEFAULT_SPECULATION_DEPTH, on every bus).
 */
export const parseSpeculate = (text: string | undefined, live: boolean): number | undefined => {
  if (text === undefined) return undefined;
  if (live) throw new CliInputError("--speculate: only in virtual time (a live block takes its latency of wall time; there is no reply to predict)");
  if (!/^\d{1,4}$/.test(text) || Number(text) > MAX_SPECULATION_DEPTH) {
    throw new CliInputError(`--speculate: expected an integer in [0, ${MAX_SPECULATION_DEPTH}] (block replies predicted and not yet confirmed at most; 0: none), got '${text}'`);
  }
  return Number(text);
};

/**
 * `--warm-up <d>` (run, serve scheduler): simulated time of a live run's virtual-time warm-up before
 * its clock starts (runtime/warm-up.ts), `0` for none; only with `--clock live`. Undefined: the default.
 */
export const parseWarmUp = (text: string | undefined, live: boolean): number | undefined => {
  if (text === undefined) return undefined;
  if (!live) throw new CliInputError("--warm-up: only with --clock live (a virtual-time run has no clock to warm up for)");
  return parseDurationOrNone(text, "--warm-up", MAX_WARM_UP_MS, "of simulated time");
};

/**
 * Slowest `--speed`: a thousand times slower than real. Slower ones were taken down to 1e-300: a
 * 20 ms run then never ended, and its timers overflowed Node's limit (24.8 days), which fires them
 * after 1 ms with a warning per timer.
 */
export const MIN_SPEED = 0.001;

/** `--speed x` (run and serve with --clock live, dashboard): a decimal number in [MIN_SPEED, 1000]; `shown` is the text as given. */
export const parseSpeed = (text: string, meaning: string, shown: string = text): number => {
  const value = decimalOf(text);
  if (value === undefined || !(value >= MIN_SPEED && value <= 1000)) {
    throw new CliInputError(`--speed: expected a number in [${MIN_SPEED}, 1000] (${meaning}), got '${shown}'`);
  }
  return value;
};
