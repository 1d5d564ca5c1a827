/**
 * Where the time of an in-process run goes: CPU-profiles one run (default AR_Assistant on
 * Quad_8K/WS_OS_WS_OS, sdrm3, B = 1, 10 s simulated, after a 1 s warm-up run) with V8's sampling
 * profiler (the one `node --cpu-prof` uses, here through node:inspector so that only the run is
 * profiled, not start-up) and sums the samples by component:
 *
 * - self time, with native frames (JSON.parse, Map.get, Array.sort …) charged to the JavaScript
 *   function that called them, so "schema decoding" includes the JSON.parse of decodeJson;
 * - inclusive time: the share of samples with the component anywhere on the stack.
 *
 *   node --import tsx test/bench/profile.ts [--scenario S] [--duration-ms N] [--quantum-ms Q] [--speculate N] [--file x.cpuprofile]
 *
 * With --file, an existing profile (e.g. from `node --cpu-prof …`) is summarised instead. The
 * profile is written to test/bench/out/profile.cpuprofile.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Table from "cli-table3";
import { setFlagsFromString } from "node:v8";
import { resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: ReadonlyArray<number>;
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>;
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: ReadonlyArray<number>;
  readonly timeDeltas: ReadonlyArray<number>;
}

const HERE = fileURLToPath(new URL(".", import.meta.url));

/** The component of a frame, or undefined for a native frame (charged to its caller). */
export const componentOf = (f: CallFrame): string | undefined => {
  const { url, functionName: fn } = f;
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(idle)") return "idle";
  if (fn === "(program)") return "V8 (unattributed: compiler, runtime)";
  if (fn === "(root)") return "root";
  if (url === "") return undefined;
  if (url.includes("/node_modules/xstate/")) return "XState";
  if (url.includes("/node_modules/effect/") || url.includes("/shared/src/runtime/codec.ts")) return "schema decoding (Effect + decodeJson, JSON.parse)";
  if (url.includes("/node_modules/@nats-io/")) return "NATS client";
  if (url.includes("/node_modules/tsx/") || url.includes("esbuild")) return "tsx";
  if (url.includes("/shared/src/runtime/memory-bus.ts") || url.includes("/shared/src/runtime/bus.ts")) return "bus (in-memory)";
  if (url.includes("/shared/src/runtime/host.ts")) return "actor host (relay, JSON.stringify)";
  if (/\/shared\/src\/actors\/(scheduler-kernel|kernel-[a-z-]+)\.ts\b/.test(url)) return "scheduler kernel";
  if (url.includes("/shared/src/actors/")) return "machines and actor logic";
  if (url.includes("/shared/src/policies/")) return "policy (sdrm3)";
  if (url.includes("/shared/src/domain/")) return "metrics / domain";
  if (url.includes("/shared/src/contracts/")) return "contracts (subjects, messages)";
  if (url.includes("/shared/src/runtime/")) return "runtime (run, other)";
  if (url.includes("/shared/src/data/")) return "data loading";
  if (url.startsWith("node:")) return "node internals (microtasks, timers)";
  if (url.includes("/node_modules/")) return "other libraries";
  return "bench harness";
};

export interface ProfileSummary {
  readonly totalMs: number;
  readonly self: ReadonlyArray<{ component: string; ms: number; share: number }>;
  readonly inclusive: ReadonlyArray<{ component: string; ms: number; share: number }>;
  readonly topFunctions: ReadonlyArray<{ fn: string; where: string; ms: number; share: number }>;
}

export const summarizeProfile = (p: CpuProfile): ProfileSummary => {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfComponent = new Map<number, string>();
  const stackComponents = new Map<number, ReadonlySet<string>>();
  const resolveSelf = (id: number): string => {
    const cached = selfComponent.get(id);
    if (cached !== undefined) return cached;
    let cur: number | undefined = id;
    let c: string | undefined;
    while (cur !== undefined && (c = componentOf(byId.get(cur)!.callFrame)) === undefined) cur = parent.get(cur);
    const result = c ?? "native (no JS caller)";
    selfComponent.set(id, result);
    return result;
  };
  const stackOf = (id: number): ReadonlySet<string> => {
    const cached = stackComponents.get(id);
    if (cached !== undefined) return cached;
    const up = parent.get(id);
    const set = new Set(up === undefined ? [] : stackOf(up));
    const c = componentOf(byId.get(id)!.callFrame);
    if (c !== undefined) set.add(c);
    stackComponents.set(id, set);
    return set;
  };
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    const dt = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000; // µs → ms: a sample's time runs to the next one
    total += dt;
    const c = resolveSelf(id);
    self.set(c, (self.get(c) ?? 0) + dt);
    for (const s of stackOf(id)) incl.set(s, (incl.get(s) ?? 0) + dt);
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || "(anonymous)"}\t${f.url === "" ? "native" : `${f.url.replace(/^.*\/(node_modules\/[^/]+|shared\/src)\//, "$1/")}:${f.lineNumber + 1}`}`;
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + dt);
  }
  const rows = (m: Map<string, number>) =>
    [...m].map(([component, ms]) => ({ component, ms, share: ms / total })).sort((a, b) => b.ms - a.ms);
  return {
    totalMs: total,
    self: rows(self),
    inclusive: rows(incl).filter((r) => r.component !== "root"),
    topFunctions: [...fnSelf]
      .map(([k, ms]) => {
        const [fn, where] = k.split("\t") as [string, string];
        return { fn, where, ms, share: ms / total };
      })
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 25),
  };
};

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export const printSummary = (s: ProfileSummary, title: string): string => {
  const t1 = new Table({ head: ["component", "self ms", "self share", "inclusive share"], style: { head: [], border: [] } });
  const inclOf = new Map(s.inclusive.map((r) => [r.component, r.share]));
  for (const r of s.self) t1.push([r.component, r.ms.toFixed(0), pct(r.share), inclOf.has(r.component) ? pct(inclOf.get(r.component)!) : ""]);
  const t2 = new Table({ head: ["function (self)", "where", "ms", "share"], style: { head: [], border: [] } });
  for (const f of s.topFunctions) t2.push([f.fn, f.where, f.ms.toFixed(0), pct(f.share)]);
  return [`${title}: ${s.totalMs.toFixed(0)} ms sampled`, t1.toString(), "", "hottest functions (self time, natives not re-attributed):", t2.toString()].join("\n");
};

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

const main = async () => {
  const file = arg("--file");
  let profile: CpuProfile;
  let title: string;
  if (file !== undefined) {
    profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
    title = `profile ${file}`;
  } else {
    const scenario = arg("--scenario") ?? "AR_Assistant";
    const durationMs = Number(arg("--duration-ms") ?? 10_000);
    const quantumMs = Number(arg("--quantum-ms") ?? 0);
    const spec = { scenario, hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3", blockSize: 1, seed: 1, ...(quantumMs > 0 ? { quantumMs } : {}) };
    setFlagsFromString("--no-allocation-site-pretenuring"); // as the command runs a long simulation (services/cli/src/gc-tuning.ts)
    await runScenario(resolveRunSpec({ ...spec, durationMs: 1000 })); // warm-up
    const speculate = arg("--speculate");
    const resolved = { ...resolveRunSpec({ ...spec, durationMs }), ...(speculate === undefined ? {} : { speculate: Number(speculate) }) };
    const session = new Session();
    session.connect();
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    const t0 = performance.now();
    await runScenario(resolved);
    const wall = performance.now() - t0;
    const { profile: p } = (await session.post("Profiler.stop")) as unknown as { profile: CpuProfile };
    session.disconnect();
    profile = p;
    title = `${scenario} on Quad_8K/WS_OS_WS_OS, sdrm3, ${quantumMs > 0 ? `quantum ${quantumMs} ms` : "B = 1"}, ${durationMs / 1000} s simulated in ${(wall / 1000).toFixed(1)} s wall (profiled)`;
    mkdirSync(join(HERE, "out"), { recursive: true });
    writeFileSync(join(HERE, "out", "profile.cpuprofile"), JSON.stringify(profile));
  }
  const summary = summarizeProfile(profile);
  process.stdout.write(`${printSummary(summary, title)}\n`);
  mkdirSync(join(HERE, "out"), { recursive: true });
  writeFileSync(join(HERE, "out", "profile-summary.json"), `${JSON.stringify({ title, ...summary }, null, 2)}\n`);
};

await main();
