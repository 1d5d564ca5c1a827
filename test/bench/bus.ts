/**
 * Figure 3a — bus overhead: a dispatch round trip over NATS on loopback, scheduler side →
 * accelerator actor → result, against a raw NATS request/reply of the same payload sizes on the
 * same server in the same run.
 *
 * - Dispatch: this process sends a block.dispatch (JSON.stringify of the command, as the scheduler
 *   host does) with `bus.request` of the NATS Bus, the responder process (./bus-responder.ts)
 *   relays it through hostAccelerator (decode with the contract schema, XState accelerator
 *   machine, JSON reply), and this process decodes the reply with the AccelReply schema.
 * - Raw: `nc.request` on the same connection to a bare `nc.subscribe` responder in the same child
 *   process, request and reply padded to the same byte sizes, the reply read with `msg.string()`.
 * Requests are sequential (one in flight, as the kernel does within a step when one block is
 * dispatched). ROUNDS rounds, each of CALLS dispatch round trips then CALLS raw ones (interleaved
 * so that drift hits both); per round the p50s and their ratio; reported: the median over rounds
 * with the min–max.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { Either } from "effect";
import { AccelReply, Subjects } from "@sdrm3/shared/contracts";
import { type NatsBus, connectNatsBus } from "@sdrm3/shared/nats";
import { decodeJson } from "@sdrm3/shared/runtime";
import { BENCH_RUN, RAW_SUBJECT, dispatchCommand } from "./bus-common";
import { track } from "./children";
import type { NatsServer } from "./nats-server";
import { fmt, percentile, summarize, type Summary } from "./stats";

export interface BusOptions {
  readonly rounds: number;
  readonly calls: number;
}

export interface BusResult {
  readonly dispatchP50Us: Summary;
  readonly dispatchP99Us: Summary;
  readonly rawP50Us: Summary;
  readonly rawP99Us: Summary;
  readonly ratio: Summary;
  readonly requestBytes: number;
  readonly replyBytes: number;
  readonly calls: number;
}

const HERE = fileURLToPath(new URL(".", import.meta.url));

export const connectBench = (nats: NatsServer, name: string): Promise<NatsBus> =>
  connectNatsBus({
    servers: nats.url,
    name,
    ...(nats.user === undefined ? {} : { user: nats.user }),
    ...(nats.pass === undefined ? {} : { pass: nats.pass }),
  });

export const runBusOverhead = async (nats: NatsServer, o: BusOptions): Promise<BusResult> => {
  const child = track(
    spawn(process.execPath, ["--import", "tsx", `${HERE}bus-responder.ts`, nats.url], {
      stdio: ["pipe", "pipe", "inherit"],
      env: process.env,
    }),
  );
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    const lines = createInterface({ input: child.stdout! });
    const replyBytes = await new Promise<number>((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`bus responder exited with ${code}`)));
      lines.on("line", (l) => {
        const m = /^ready (\d+)$/.exec(l);
        if (m) resolve(Number(m[1]));
      });
    });
    const bus = await connectBench(nats, "sdrm3-bench-requester");
    try {
      const subject = Subjects.accelCmd(BENCH_RUN, "acc0");
      let at = 0;
      let frame = 0;
      let layer = 0;
      const dispatchOnce = async (): Promise<number> => {
        const t0 = performance.now();
        const msg = await bus.request(subject, JSON.stringify(dispatchCommand(at, frame, layer)), { timeoutMs: 5000 });
        const decoded = decodeJson(AccelReply, msg.data);
        const t1 = performance.now();
        if (Either.isLeft(decoded) || decoded.right._tag !== "block.result") {
          throw new Error(`unexpected reply: ${msg.data}`);
        }
        at = decoded.right.completesAt;
        if (++layer >= 138) {
          layer = 0;
          frame++;
        }
        return t1 - t0;
      };
      const requestBytes = Buffer.byteLength(JSON.stringify(dispatchCommand(123456.789, 1234, 17)));
      const rawPayload = new TextEncoder().encode("x".repeat(requestBytes));
      const rawOnce = async (): Promise<number> => {
        const t0 = performance.now();
        const m = await bus.nc.request(RAW_SUBJECT, rawPayload, { timeout: 5000 });
        const text = m.string();
        const t1 = performance.now();
        if (text.length !== replyBytes) throw new Error("raw reply of the wrong size");
        return t1 - t0;
      };
      for (let i = 0; i < 300; i++) {
        await dispatchOnce();
        await rawOnce();
      }
      const d50: number[] = [];
      const d99: number[] = [];
      const r50: number[] = [];
      const r99: number[] = [];
      const ratio: number[] = [];
      const times = new Float64Array(o.calls);
      for (let round = 0; round < o.rounds; round++) {
        for (let i = 0; i < o.calls; i++) times[i] = await dispatchOnce();
        const dp50 = percentile(times, 50) * 1000;
        d50.push(dp50);
        d99.push(percentile(times, 99) * 1000);
        for (let i = 0; i < o.calls; i++) times[i] = await rawOnce();
        const rp50 = percentile(times, 50) * 1000;
        r50.push(rp50);
        r99.push(percentile(times, 99) * 1000);
        ratio.push(dp50 / rp50);
      }
      return {
        dispatchP50Us: summarize(d50),
        dispatchP99Us: summarize(d99),
        rawP50Us: summarize(r50),
        rawP99Us: summarize(r99),
        ratio: summarize(ratio),
        requestBytes,
        replyBytes,
        calls: o.calls,
      };
    } finally {
      await bus.close();
    }
  } finally {
    child.stdin!.end();
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }
};

export const fmtUs = (s: Summary): string => `${fmt(s.median)} µs [${fmt(s.min)}–${fmt(s.max)}]`;
