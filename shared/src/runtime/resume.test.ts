/**
 * Resuming a run from its event log (runtime/resume.ts), in one process on the in-memory bus: a
 * scheduler is stopped mid-run (as if killed), the log it recorded loses its tail (as an
 * asynchronous recorder's would), and a second scheduler resumes from what is left, with the same
 * task and accelerator actors still running. The run's decisions and metrics equal an
 * uninterrupted run's, and the log completed by the second scheduler replays whole.
 */
import { describe, expect, it } from "vitest";
import { resolveRunSpec } from "./spec";
import { type EventLogSink, EventRecorder, type OutEntry, entryLine, headerLine, logHeaderFor, openLog, textLines } from "./event-log";
import type { LogHeader } from "../contracts/log";
import { type Hosted, hostAccelerator, hostModelTasks, hostScheduler } from "./host";
import { createMemoryBus } from "./memory-bus";
import { acceleratorCosts, kernelConfigFor, resultOf, runScenario, taskConfigsFor } from "./run";
import { catchUp, logWithEntries, resumeKernel } from "./resume";
import { replayLog } from "./replay";
import { tuningFor } from "./tuner";

class MemorySink implements EventLogSink {
  readonly lines: string[] = [];
  header(h: LogHeader) {
    this.lines.push(headerLine(h));
  }
  entry(e: OutEntry) {
    this.lines.push(entryLine(e));
  }
  close() {}
}

const text = (lines: ReadonlyArray<string>) => `${lines.join("\n")}\n`;

describe("resume a run from its log", () => {
  for (const [policy, cut] of [
    ["sdrm3", 3000],
    ["edf", 1201],
  ] as const) {
    it(`${policy}: stopped after ${cut} log lines, the tail lost, resumed to the uninterrupted run's result`, async () => {
      const opts = { ...resolveRunSpec({ scenario: "AR_gaming", hardware: "Dual_4K/WS_OS", policy, durationMs: 400, seed: 4 }), run: "resume" };
      const reference = await runScenario(opts);

      const bus = createMemoryBus();
      const hosted: Hosted[] = [...hostModelTasks(bus, taskConfigsFor(opts, "resume"))];
      opts.hardware.accelerators.forEach((spec, i) => hosted.push(hostAccelerator(bus, "resume", spec, acceleratorCosts(opts.costs, i))));
      const cfg = () => kernelConfigFor(opts, "resume", tuningFor(opts));

      // the first scheduler records, and "dies" once the log has `cut` lines
      const sink = new MemorySink();
      const recorder = new EventRecorder(sink, logHeaderFor(opts));
      let first: ReturnType<typeof hostScheduler> | undefined;
      let dead = false;
      const died = new Promise<void>((resolve) => {
        first = hostScheduler(bus, cfg(), {
          expectTasks: true,
          publishEvents: false,
          observer: {
            step: (input, at, effects) => {
              if (dead) return;
              recorder.step(input, at, effects);
              if (sink.lines.length >= cut) {
                dead = true;
                queueMicrotask(() => {
                  first!.stop();
                  resolve();
                });
              }
            },
          },
        });
      });
      void first!.done.catch(() => undefined);
      await died;
      const stored = sink.lines.slice(0, cut - 7); // the recorder's last lines never reached the store

      const log = await openLog(textLines(text(stored)), { allowTruncated: true });
      const resumed = await resumeKernel(log, cfg());
      expect(resumed.entries).toBe(stored.length - 1);
      expect(resumed.kernel.decisions).toBeGreaterThan(0);
      expect(resumed.kernel.finished).toBe(false);

      const sink2 = new MemorySink();
      const recorder2 = catchUp(resumed, (resume) => new EventRecorder(sink2, logHeaderFor(opts), { resume }));
      const second = hostScheduler(bus, cfg(), { expectTasks: true, publishEvents: false, observer: recorder2, resume: resumed });
      const outcome = await second.done;
      for (const h of hosted) h.stop();
      await bus.close();

      const result = resultOf(opts, "resume", outcome.kernel, 0);
      expect(result.frames).toEqual(reference.frames);
      expect(result.summary).toEqual(reference.summary);
      expect(result.decisions).toBe(reference.decisions);

      // the two recordings together are the whole log, and it replays with every decision identical
      const whole = [...stored, ...sink2.lines];
      const replay = await replayLog(await openLog(textLines(text(whole))));
      expect(replay.divergence).toBeUndefined();
      expect(replay.decisions).toBe(reference.decisions);
      expect(replay.kernel.frameRecords()).toEqual(reference.frames);
    }, 60_000);
  }

  it("refuses a log of live mode, of another run, and one without inputs", async () => {
    const opts = { ...resolveRunSpec({ scenario: "AR_gaming", hardware: "Dual_4K/WS_OS", policy: "fcfs", durationMs: 100, seed: 1 }), run: "r" };
    const header = headerLine(logHeaderFor(opts));
    await expect(resumeKernel(await openLog(textLines(`${header}\n`), { allowTruncated: true }), kernelConfigFor(opts, "r"))).rejects.toThrow(/holds no input/);
    await expect(resumeKernel(await openLog(textLines(`${header}\n`), { allowTruncated: true }), kernelConfigFor(opts, "other"))).rejects.toThrow(/the log is of run r, not other/);
    const live = headerLine(logHeaderFor({ ...opts, live: { speed: 1 } }));
    await expect(resumeKernel(await openLog(textLines(`${live}\n`), { allowTruncated: true }), kernelConfigFor(opts, "r"))).rejects.toThrow(/recorded in live mode/);
  });

  it("a log with only its header: logWithEntries says so beforehand, and resumeKernel's refusal names the log", async () => {
    const opts = { ...resolveRunSpec({ scenario: "AR_gaming", hardware: "Dual_4K/WS_OS", policy: "fcfs", durationMs: 100, seed: 1 }), run: "r" };
    const header = headerLine(logHeaderFor(opts));
    const headerOnly = () => openLog(textLines(`${header}\n`), { name: "runs/r.jsonl", allowTruncated: true });
    expect(await logWithEntries(await headerOnly())).toBeUndefined();
    await expect(resumeKernel(await headerOnly(), kernelConfigFor(opts, "r"))).rejects.toThrow(
      "runs/r.jsonl: line 2: the log of run r holds no input: no kernel to rebuild (a log with only its header is a run that never started: start it from the beginning)",
    );
    // a log with entries comes back whole: the entry read ahead is still there
    const sink = new MemorySink();
    await runScenario({ ...opts, observer: new EventRecorder(sink, logHeaderFor(opts)) });
    const stored = sink.lines.slice(0, 6);
    const log = await logWithEntries(await openLog(textLines(text(stored)), { allowTruncated: true }));
    expect(log).toBeDefined();
    const resumed = await resumeKernel(log!, kernelConfigFor(opts, "r"));
    expect(resumed.entries).toBe(stored.length - 1);
  });
});
