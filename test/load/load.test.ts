/**
 * Load (issue 7): the topology of the load benchmark (test/bench/load.ts) with a short simulated
 * duration, on every CI run — 30 synthetic XRBench models (`sdrm3 gen scenario --models 30 --seed 7`)
 * on 64 accelerators (`sdrm3 gen hardware --accelerators 64`) held by 8 accelerator processes
 * (`serve accelerator --slots 8`), a workload and a scheduler process over a real nats-server,
 * virtual time, sdrm3. Asserted: the run completes (every process exits 0), every slot was claimed
 * by one process, every model's frames are accounted for (released = on time + late + dropped +
 * unfinished, the totals equal the summary's; the run itself also checks the invariant, including
 * energy, and would have failed), the dispatches went to slots of several processes, and every
 * process reported its peak RSS. The run is deterministic (virtual time), so its metrics JSON must
 * equal the in-process run of the same flags (`sdrm3 run … --json`) byte for byte, and each slot
 * must have answered exactly the dispatches the in-process run made to that accelerator. No
 * wall-clock assertion: the wall time is the benchmark's business.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { captureIo } from "../support/processes";
import { runLoad } from "./topology";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-load-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Simulated time per CI run (the benchmark runs 60 s). */
const DURATION_MS = 2_000;
/** Layers per dispatch, as in the benchmark's full case. */
const BLOCK = 8;

describe("load: 30 models × 64 accelerators in 8 processes over NATS", () => {
  it(
    "completes with the accounting invariant intact and every process's peak memory reported",
    async () => {
      const nats = natsTestOptions();
      const lines: string[] = [];
      const r = await runLoad(
        { url: nats.servers, ...(nats.user === undefined ? {} : { user: nats.user }), ...(nats.pass === undefined ? {} : { pass: nats.pass }) },
        { durationMs: DURATION_MS, block: BLOCK, models: 30, seed: 7, accelerators: 64, processes: 8, dir, timeoutMs: 540_000, log: (l) => lines.push(l) },
      );
      expect(r.scenario).toBe("synthetic_30_s7");
      expect(r.hardware).toMatch(/^Synthetic_64\/(WS|OS|RS)(_(WS|OS|RS)){63}$/);
      expect(r.slotsPerProcess).toEqual([8, 8, 8, 8, 8, 8, 8, 8]);
      expect(r.models).toHaveLength(30);
      expect(r.invariantProblems).toEqual([]);
      expect(r.invariantOk).toBe(true);

      // the same run in one process: identical metrics JSON, and the same dispatches to each accelerator
      const local = captureIo();
      const record = join(dir, "in-process.jsonl");
      expect(await main(["run", ...r.runArgs, "--json", "--record", record], local), local.stderr).toBe(0);
      expect(r.schedulerStdout).toBe(local.stdout);
      const dispatchedBySlot: Record<string, number> = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`acc${i}`, 0]));
      for (const line of readFileSync(record, "utf8").trim().split("\n").slice(1)) {
        const entry = JSON.parse(line) as { type: string; payload: { acc?: string } };
        if (entry.type === "block.dispatched") dispatchedBySlot[entry.payload.acc!]! += 1;
      }
      expect(r.answeredBySlot).toEqual(dispatchedBySlot);

      // the load is substantial (these describe the workload; the figures themselves are checked above, equal to the in-process run's):
      // every model released its frames for the 2 s (15–60 FPS; cascade-free scenario)
      for (const m of r.models) expect(m.released, m.name).toBeGreaterThanOrEqual(30);
      expect(r.summary.onTime).toBeGreaterThan(0.8 * r.summary.released);
      expect(r.decisions).toBeGreaterThan(1000);
      // every slot was hosted and reported its dispatches when the run ended
      expect(Object.keys(r.answeredBySlot)).toHaveLength(64);
      // sdrm3 prefers the fast classes (6144 and 8192 PEs): with this load 18 of the 64 slots get
      // work (deterministic in virtual time), spread over the processes that hold them
      const used = Object.entries(r.answeredBySlot).filter(([, n]) => n > 0).map(([slot]) => slot);
      expect(used.length).toBeGreaterThanOrEqual(16);
      const owners = new Set(used.map((slot) => Object.entries(r.slotsByProcess).find(([, slots]) => slots.includes(slot))?.[0]));
      expect(owners.has(undefined)).toBe(false);
      expect(owners.size).toBeGreaterThanOrEqual(4);
      expect(Object.values(r.slotsByProcess).flat().sort()).toEqual(Array.from({ length: 64 }, (_, i) => `acc${i}`).sort());
      expect(r.memory.map((m) => m.name)).toEqual(["scheduler", ...Array.from({ length: 8 }, (_, i) => `acc-p${i}`), "workload"]); // in start order: the scheduler first (it publishes the spec)
      for (const m of r.memory) {
        expect(Number.isFinite(m.peakRssMB), `${m.name} reported its peak RSS`).toBe(true);
        expect(m.peakRssMB, m.name).toBeGreaterThan(30);
        expect(m.peakRssMB, m.name).toBeLessThan(4096);
      }
    },
    600_000,
  );
});
