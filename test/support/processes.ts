/**
 * Helpers shared by the tests that start real processes (`sdrm3 serve …`; a nats-server is started
 * through test/support/nats-server.ts): capturing the CLI's output, the decision lines of an event
 * file, and child processes with captured output that a test can signal and clean up.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An Io for `main(argv, io)` that keeps what the CLI wrote. */
export const captureIo = () => {
  const io = { stdout: "", stderr: "", out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
};

/** Decision events of a JSONL event file without the run id, one JSON string per decision. */
export const decisionLines = (jsonl: string) =>
  jsonl
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { _tag: string; run?: string })
    .filter((e) => e._tag === "decision")
    .map(({ run: _run, ...rest }) => JSON.stringify(rest));

// ─── child processes with captured output (tests that start `sdrm3 serve …`, nats-server, …) ────

/** A started child process: its output so far, and ways to wait for it. */
export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves when the process exits; `ms` is its wall time from spawn. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  out(): string;
  err(): string;
  /** Resolves when stderr matches `re` (at least `count` times); rejects if the process exits first or on timeout. */
  waitErr(re: RegExp, timeoutMs: number, count?: number): Promise<void>;
  running(): boolean;
}

/**
 * Starts processes and remembers them, so `killAll()` in afterAll can end whatever a failed test
 * left running (each by its own pid, never by name).
 */
export const processGroup = () => {
  const procs: Proc[] = [];
  const start = (name: string, command: string, args: ReadonlyArray<string>, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc => {
    const started = Date.now();
    const child = spawn(command, [...args], { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
    );
    child.on("error", (e) => (err += `\n[spawn error] ${e.message}\n`));
    const running = () => child.exitCode === null && child.signalCode === null;
    const waitErr = async (re: RegExp, timeoutMs: number, count = 1) => {
      const t0 = Date.now();
      const global = new RegExp(re.source, re.flags.includes("g") ? re.flags : `${re.flags}g`);
      while ((err.match(global) ?? []).length < count) {
        if (!running()) throw new Error(`${name} exited before ${re}: ${err}`);
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${re} on ${name}'s stderr: ${err}`);
        await sleep(25);
      }
    };
    const proc: Proc = { name, child, exited, out: () => out, err: () => err, waitErr, running };
    procs.push(proc);
    return proc;
  };
  const killAll = async (signal: NodeJS.Signals = "SIGKILL") => {
    for (const p of procs) {
      if (!p.running()) continue;
      p.child.kill("SIGCONT"); // a stopped process would not act on SIGTERM
      p.child.kill(signal);
    }
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(5_000)]);
  };
  return { start, killAll, all: () => [...procs] };
};

/**
 * Waits until every process has exited, at most `timeoutMs`; on timeout it fails naming each process
 * still running with the tail of its stderr (a hung run says which part hung, not just "timed out").
 */
export const exitedWithin = async (procs: ReadonlyArray<Proc>, timeoutMs: number): Promise<Array<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  const all = Promise.all(procs.map((p) => p.exited));
  const r = await Promise.race([all, timeout]);
  clearTimeout(timer);
  if (r !== "timeout") return r;
  const stuck = procs.filter((p) => p.running());
  const state = (p: Proc) => (p.running() ? "still running" : `exited ${p.child.exitCode ?? p.child.signalCode}`);
  throw new Error(
    `still running after ${timeoutMs} ms: ${stuck.map((p) => p.name).join(", ")}\n` +
      procs.map((p) => `── ${p.name} (${state(p)}) stderr (tail) ──\n${p.err().slice(-1500)}`).join("\n"),
  );
};

/** The `sdrm3` CLI as a command line: `node <repo>/services/cli/bin/sdrm3.cjs …`, optionally run through a wrapper (`ip netns exec <ns>`). */
export const sdrm3Command = (args: ReadonlyArray<string>, wrap: ReadonlyArray<string> = []): { command: string; args: string[] } => {
  const bin = new URL("../../services/cli/bin/sdrm3.cjs", import.meta.url).pathname;
  const line = [...wrap, process.execPath, bin, ...args];
  return { command: line[0]!, args: line.slice(1) };
};

/** The repository root (cwd for CLI processes). */
export const repoRoot = () => new URL("../..", import.meta.url).pathname;

/** Lines in a file written by a running process (0 while it does not exist). */
export const lineCount = (file: string): number => (existsSync(file) ? readFileSync(file, "utf8").split("\n").length - 1 : 0);

/** The `at` (run time, ms) of the last complete event in a JSONL event file a run is writing (0 before any). */
export const lastEventAt = (file: string): number => {
  if (lineCount(file) === 0) return 0;
  const all = readFileSync(file, "utf8");
  const last = all.slice(0, all.lastIndexOf("\n")).split("\n").pop()!;
  return (JSON.parse(last) as { at: number }).at;
};
