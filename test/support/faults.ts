/**
 * Helpers for the fault tests (test/faults): an outside observer of a run's dispatches and replies,
 * the accounting check on `serve scheduler --json` output, and the in-process reference run that a
 * distributed run in virtual time must equal.
 *
 * The fault scenarios take `extraFlags` (appended to every `sdrm3 serve` command) so the same
 * scenario can run in live mode (`--clock live --speed …`) once that exists; in live mode the
 * in-process equality does not hold and a caller passes `compareInProcess: false`.
 */
import { expect } from "vitest";
import { main } from "@sdrm3/cli";
import { Subjects } from "@sdrm3/shared/contracts";
import { connectNatsBus, removeLeaseBucket } from "@sdrm3/shared/nats";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { type RunSpec, resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { captureIo, decisionLines } from "./processes";

export interface NatsLogin {
  readonly servers: string;
  readonly user?: string;
  readonly pass?: string;
}

/** NATS_USER / NATS_PASS for child processes, from the fixture's login. */
export const natsEnv = (nats: NatsLogin): NodeJS.ProcessEnv => ({
  ...process.env,
  ...(nats.user === undefined ? {} : { NATS_USER: nats.user }),
  ...(nats.pass === undefined ? {} : { NATS_PASS: nats.pass }),
});

export interface ReplySpySummary {
  /** Dispatch requests seen per slot. */
  readonly dispatches: Readonly<Record<string, number>>;
  /** Dispatch requests that got at least one reply. */
  readonly answered: number;
  /** Reply subjects of dispatches answered more than once (a stale owner answering beside the new one). */
  readonly answeredTwice: ReadonlyArray<{ slot: string; replies: number }>;
}

/**
 * Watches, from a separate NATS connection, every accelerator dispatch of `run` (requests on
 * `sdrm3.<run>.accel.*.cmd`) and every reply to them (the requester's inbox): a dispatch that two
 * processes answer shows up as two replies on its reply subject.
 */
export const startReplySpy = async (nats: NatsLogin, run: string) => {
  const bus = await connectNatsBus({ ...nats, name: `fault-spy-${run}` });
  const requests = new Map<string, { slot: string; at: number }>(); // reply subject -> slot, when seen
  const replies = new Map<string, number[]>(); // reply subject -> when each reply was seen
  const dispatches: Record<string, number> = {};
  const bySlot = new Map<string, string[]>(); // slot -> reply subjects of its dispatches, in the order seen
  bus.nc.subscribe(Subjects.allAccelCmds(run), {
    callback: (_e, m) => {
      if (m.reply === undefined || m.reply === "") return;
      const slot = m.subject.split(".")[3]!;
      requests.set(m.reply, { slot, at: Date.now() });
      dispatches[slot] = (dispatches[slot] ?? 0) + 1;
      const seen = bySlot.get(slot);
      if (seen === undefined) bySlot.set(slot, [m.reply]);
      else seen.push(m.reply);
    },
  });
  bus.nc.subscribe("_INBOX.>", {
    callback: (_e, m) => {
      const seen = replies.get(m.subject);
      if (seen === undefined) replies.set(m.subject, [Date.now()]);
      else seen.push(Date.now());
    },
  });
  await bus.nc.flush();
  return {
    /**
     * Resolves after a round trip to the server: every message the server routed to the spy before
     * this call has been seen, so a dispatch counted afterwards was routed after the call began.
     */
    flush: () => bus.nc.flush(),
    /** Dispatches to `slot` seen so far. */
    dispatchCount: (slot: string): number => bySlot.get(slot)?.length ?? 0,
    /**
     * Waits for the dispatch to `slot` after the first `after` ones (by the spy's count) and returns
     * its reply subject; fails after `timeoutMs` saying so.
     */
    nextDispatch: async (slot: string, after: number, timeoutMs: number): Promise<string> => {
      const t0 = Date.now();
      for (;;) {
        const seen = bySlot.get(slot) ?? [];
        if (seen.length > after) return seen[after]!;
        if (Date.now() - t0 > timeoutMs) throw new Error(`no dispatch to ${slot} within ${timeoutMs} ms (${seen.length} seen in all)`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    /** Replies seen so far to the dispatch with this reply subject. */
    repliesTo: (reply: string): number => replies.get(reply)?.length ?? 0,
    summary: (): ReplySpySummary => {
      let answered = 0;
      const answeredTwice: Array<{ slot: string; replies: number }> = [];
      for (const [reply, { slot }] of requests) {
        const n = replies.get(reply)?.length ?? 0;
        if (n > 0) answered++;
        if (n > 1) answeredTwice.push({ slot, replies: n });
      }
      return { dispatches: { ...dispatches }, answered, answeredTwice };
    },
    /** Replies seen at or after `after` (test clock, ms) to `slot`'s dispatches sent before `sentBefore`. */
    lateReplies: (slot: string, sentBefore: number, after: number): number => {
      let n = 0;
      for (const [reply, r] of requests) if (r.slot === slot && r.at < sentBefore) n += (replies.get(reply) ?? []).filter((t) => t >= after).length;
      return n;
    },
    close: () => bus.close(),
  };
};

interface ModelFigures {
  readonly name: string;
  readonly released: number;
  readonly onTime: number;
  readonly late: number;
  readonly dropped: number;
  readonly unfinished: number;
}

/**
 * The accounting invariant on a `--json` result: for every model, released = onTime + late +
 * dropped, with nothing unfinished and something released. Returns the totals.
 */
export const expectAccounted = (json: string) => {
  const result = JSON.parse(json) as { models: ModelFigures[] };
  expect(result.models.length).toBeGreaterThan(0);
  for (const m of result.models) {
    expect(m.released, m.name).toBeGreaterThan(0);
    expect(m.onTime + m.late + m.dropped, `${m.name}: onTime + late + dropped = released`).toBe(m.released);
    expect(m.unfinished, m.name).toBe(0);
  }
  const sum = (f: (m: ModelFigures) => number) => result.models.reduce((n, m) => n + f(m), 0);
  return { released: sum((m) => m.released), onTime: sum((m) => m.onTime), late: sum((m) => m.late), dropped: sum((m) => m.dropped), models: result.models };
};

/** Frame ids ended in a JSONL events file (`serve scheduler --events`): each must appear once. */
export const frameEnds = (jsonl: string): string[] =>
  jsonl
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { _tag: string; job?: string })
    .filter((e) => e._tag === "frame.ended")
    .map((e) => e.job!);

/**
 * Every frame accounted exactly once, from outside the scheduler: the `--json` result's invariant
 * (expectAccounted) and each frame's `frame.ended` exactly once in the `--events` file, as many as
 * were released.
 */
export const expectEachFrameEndedOnce = (json: string, eventsJsonl: string) => {
  const totals = expectAccounted(json);
  const ends = frameEnds(eventsJsonl);
  expect(new Set(ends).size, "a frame ended twice").toBe(ends.length);
  expect(ends.length, "frame.ended events = frames released").toBe(totals.released);
  return totals;
};

/** `sdrm3 run <spec> --json` in this process: the uninterrupted reference run. */
export const inProcessJson = async (spec: ReadonlyArray<string>): Promise<string> => {
  const io = captureIo();
  const code = await main(["run", ...spec, "--json"], io);
  if (code !== 0) throw new Error(`in-process run failed (${code}): ${io.stderr}`);
  return io.stdout;
};

/**
 * A distributed run in virtual time equals the uninterrupted in-process run: the same `--json`
 * output byte for byte (`sdrm3 run <spec> --json`), and the same decision sequence as the events
 * file (`--events`) records.
 */
export const expectSameAsInProcess = async (spec: ReadonlyArray<string>, runSpec: RunSpec, json: string, eventsJsonl: string): Promise<void> => {
  expect(json).toBe(await inProcessJson(spec));
  const local: string[] = [];
  await runScenario({ ...resolveRunSpec(runSpec), onEvent: (e) => local.push(JSON.stringify(e)) });
  expect(decisionLines(eventsJsonl)).toEqual(decisionLines(local.join("\n")));
};

/** Clean-up of a test file's runs on the suite's NATS server: removes each run's slot lease bucket (gone already is fine). */
export const removeLeaseBuckets = async (runs: ReadonlyArray<string>, name: string): Promise<void> => {
  const bus = await connectNatsBus({ ...natsTestOptions(), name });
  try {
    for (const run of runs) await removeLeaseBucket(bus.nc, run).catch(() => false);
  } finally {
    await bus.close();
  }
};
