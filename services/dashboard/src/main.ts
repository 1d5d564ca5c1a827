/**
 * The dashboard service. Composition root: builds the model from what is known of the run, starts
 * the source (a live run over NATS, or a recorded log) and the HTTP server, and runs until `signal`
 * aborts (SIGINT / SIGTERM in the CLI).
 *
 *   live:   serveDashboard({ bus, run, info, port })       (`sdrm3 serve dashboard --nats …`)
 *   replay: replayDashboard({ path, speed, port })          (`sdrm3 dashboard run.jsonl`)
 */
import { basename } from "node:path";
import { fileLines, openLogFile } from "@sdrm3/shared/runtime";
import type { NatsBus } from "@sdrm3/shared/nats";
import { DashboardModel, type RunInfo } from "./model";
import { runInfoOfHeader } from "./run-info";
import { type DashboardServer, startServer } from "./server";
import { followRun, replayLines } from "./sources";
import { errorMessage } from "@sdrm3/shared/contracts";

export interface DashboardOptions {
  readonly port: number;
  /** Address to listen on. Default 127.0.0.1 (0.0.0.0 in a container). */
  readonly host?: string;
  /** Sliding window of the per-model figures and UXCost, virtual ms. Default 1000. */
  readonly windowMs?: number;
  readonly signal: AbortSignal;
  readonly log?: (line: string) => void;
  /** Called once the server listens (tests, the CLI's "open …" line). */
  readonly onListening?: (server: DashboardServer) => void;
}

const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));

/** Follows a live run over NATS until `signal` aborts. */
export const serveDashboard = async (opts: DashboardOptions & { readonly bus: NatsBus; readonly info: RunInfo }): Promise<void> => {
  const model = new DashboardModel(opts.info, Date.now(), opts.windowMs === undefined ? {} : { windowMs: opts.windowMs });
  const source = followRun(opts.bus, opts.info.run, model, opts.log === undefined ? {} : { log: opts.log });
  try {
    const server = await startServer({ model, port: opts.port, host: opts.host ?? "127.0.0.1" });
    opts.log?.(`dashboard of run ${opts.info.run} (live, ${opts.info.source}) on ${server.url}`);
    opts.onListening?.(server);
    await untilAborted(opts.signal);
    await server.close();
  } finally {
    await source.stop();
  }
};

/** Replays a recorded log to the page at `speed` (virtual ms per wall ms) until `signal` aborts. */
export const replayDashboard = async (opts: DashboardOptions & { readonly path: string; readonly speed: number }): Promise<void> => {
  const log = await openLogFile(opts.path); // the header: a bad one fails here, with its line and reason
  // the page and /api/state name the file, not where it is on this machine
  const info = runInfoOfHeader(log.header, basename(opts.path), opts.speed);
  const model = new DashboardModel(info, Date.now(), opts.windowMs === undefined ? {} : { windowMs: opts.windowMs });
  const server = await startServer({ model, port: opts.port, host: opts.host ?? "127.0.0.1" });
  opts.log?.(`dashboard of run ${info.run} (replay of ${opts.path} at ${opts.speed}x) on ${server.url}`);
  opts.onListening?.(server);
  const replay = replayLines(fileLines(opts.path), info.run, model, opts.speed);
  void replay.done.then(
    () => opts.log?.(`replay of ${opts.path} done: ${model.snapshot(Date.now()).events} events`),
    (e: unknown) => opts.log?.(`replay of ${opts.path} stopped: ${errorMessage(e)}`),
  );
  try {
    await untilAborted(opts.signal);
  } finally {
    replay.stop();
    await server.close();
  }
};
