/** `sdrm3 compare`: its flags (the work is in compare.ts, loaded when the command runs). */
import type { Command } from "commander";
import { type CompareFlags, executeCompare } from "./compare";
import { AUTO_QUANTUM_MS } from "./flags";
import { type Io, collect, processIo } from "./io";

export const registerCompare = (program: Command, io: Io, setResult: (code: number) => void): void => {
  program
    .command("compare")
    .description("run every scenario × hardware × policy × seed on all cores; tables, CSV/JSON and charts (docs/compare.md)")
    .option("--scenarios <list>", "comma-separated scenarios, 'all' (the 7 usage scenarios) or 'paper' (the paper's 5)", "paper")
    .option("--hardware <list>", "comma-separated hardware, e.g. Dual_4K/WS_OS,Quad_8K/WS_OS_WS_OS (required)")
    .option("--policies <list>", "comma-separated policies, 'all' (every policy but xrbench, each baseline also with drop=1) or 'fair' (sdrm3 and every baseline with drop=1); variants: 'sdrm3[gamma=1000]'", "all")
    .option("--seeds <seeds>", "a count N (seeds 1..N), a range 41-45 or a list 41,43", "1")
    .option("--duration <d>", "simulated time per run: 700ms, 10s, 1.5m", "10s")
    .option("--param <policy.name=value>", "policy parameter, e.g. --param sdrm3.alpha=1.5 (repeatable)", collect)
    .option("--block <layers|auto>", `block size B: layers per dispatch (default 1 = layer granularity); auto: quantum blocks of --quantum, default ${AUTO_QUANTUM_MS}ms`)
    .option("--quantum <d>", "quantum blocks: a job's layers grouped until their latency reaches d, e.g. 0.25ms (0: blocks of --block layers; docs/live.md)")
    .option("--supernet <on|off>", "sdrm3 with supernet variants (as --param sdrm3.supernet=1); an entry's own [supernet=0|1] wins (docs/supernets.md)")
    .option("--jobs <n>", "worker threads (default: all cores)")
    .option("--out <dir>", "write results.csv, results.json, uxcost.svg/png, miss-vs-energy.svg/png")
    .option("--json", "print the results.json array instead of tables")
    .option("--nats <url>", "fan the runs out to `sdrm3 serve worker` processes through a NATS queue group (same results)")
    .option("--run-timeout <d>", "with --nats: retry a run elsewhere when no reply comes within this time (default 10m)")
    .option("--in-flight <n>", "with --nats: runs in flight at once (default 4)")
    .option("--engine <direct|actors>", "direct (default): the scheduler kernel fed by the actors' pure logic, about ten times faster; actors: the emulated system of XState actors on the bus — identical results (tested on every CI run)", "direct")
    .action(async (flags: CompareFlags) =>
      setResult(await executeCompare(flags, io, { tty: io === processIo && process.stderr.isTTY === true })),
    );
};
