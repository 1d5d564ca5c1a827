/**
 * Where the dashboard's observations come from: a live run over NATS (its event and ctl subjects,
 * and its slot lease bucket, read only) or a recorded log replayed at a chosen speed. Every message
 * is decoded with the contract's Effect schemas at this edge; one that does not decode (or names
 * another run) is skipped and counted on the page, and the rest keep flowing.
 */
import { Either, Schema } from "effect";
import type { KV } from "@nats-io/kv";
import { ControlMessage, EVENT_PAYLOADS, type RunEvent, RunEvent as RunEventSchema, Subjects, errorMessage } from "@sdrm3/shared/contracts";
import { type NatsBus, leaseBucketName, openExistingKv } from "@sdrm3/shared/nats";
import { type LogLine, relaySubscribe } from "@sdrm3/shared/runtime";
import type { DashboardModel } from "./model";


/** Takes one event message as the relay decoded it; a failure (or another run's event) is counted on the model. */
export const acceptEvent = (model: DashboardModel, run: string, subject: string, decoded: Either.Either<RunEvent, { readonly message: string }>): RunEvent | undefined => {
  if (Either.isLeft(decoded)) {
    model.malformedEvent(`${subject}: ${decoded.left.message}`);
    return undefined;
  }
  if (decoded.right.run !== run) {
    model.malformedEvent(`${subject}: an event of run ${decoded.right.run}, not ${run}`);
    return undefined;
  }
  model.event(decoded.right);
  return decoded.right;
};

export interface LiveSource {
  stop(): Promise<void>;
}

/**
 * Follows run `run` on `bus`: its events (`sdrm3.<run>.evt.>`), registrations and run control
 * (`ctl.register`, `ctl.control`), and, every `pollMs`, the owner of every known slot in the run's
 * lease bucket (read only: the bucket is opened, never created; on NATS 2.9 an expired key gives
 * no watch event, so the dashboard polls like the spares do).
 */
export const followRun = (bus: NatsBus, run: string, model: DashboardModel, opts: { readonly pollMs?: number; readonly log?: (line: string) => void; readonly wall?: () => number } = {}): LiveSource => {
  const wall = opts.wall ?? (() => Date.now());
  const subs = [
    relaySubscribe(bus, Subjects.allEvents(run), RunEventSchema, undefined, (event, msg) => void acceptEvent(model, run, msg.subject, Either.right(event)), (subject, message) =>
      void acceptEvent(model, run, subject, Either.left({ message })),
    ),
    ...["register", "control"].map((kind) =>
      // a bad control message is not the dashboard's to report as an event; it is skipped
      relaySubscribe(bus, Subjects.control(run, kind), ControlMessage, undefined, (control) => {
        if (control.run === run) model.controlMessage(control, wall());
      }, undefined),
    ),
  ];
  let kv: KV | undefined;
  let polling = false;
  let stopped = false;
  let warned = false;
  const poll = async () => {
    if (polling || stopped) return;
    polling = true;
    try {
      if (kv === undefined) {
        kv = await openExistingKv(bus.nc, leaseBucketName(run)); // direct gets (shared/src/nats/leases.ts)
      }
      model.leaseBucket(true);
      for (const slot of model.slots()) {
        const e = await kv.get(slot);
        model.lease(slot, e !== null && e.operation === "PUT" ? (e.json<{ owner?: string }>().owner ?? "?") : undefined, wall());
      }
    } catch (e) {
      // no bucket (yet, or any more: the scheduler removes it at the end of the run)
      kv = undefined;
      if (!/not found/i.test(errorMessage(e)) && !warned) {
        warned = true;
        opts.log?.(`cannot read the slot leases of run ${run}: ${errorMessage(e)}`);
      }
    } finally {
      polling = false;
    }
  };
  const timer = setInterval(() => void poll(), opts.pollMs ?? 500);
  void poll();
  return {
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      for (const s of subs) s.unsubscribe();
    },
  };
};

/** Event entries of a log: `{type, payload}` with the payload decoded by the log's schema of that type. */
const decodeLogEvent = (model: DashboardModel, run: string, l: LogLine): RunEvent | undefined => {
  let json: unknown;
  try {
    json = JSON.parse(l.text);
  } catch (e) {
    model.malformedEvent(`line ${l.line}: not valid JSON (${errorMessage(e)})`);
    return undefined;
  }
  if (typeof json !== "object" || json === null) {
    model.malformedEvent(`line ${l.line}: not a JSON object`);
    return undefined;
  }
  const entry = json as { type?: unknown; payload?: unknown };
  if (entry.type === "input") return undefined; // a kernel input, not an event
  const schema = typeof entry.type === "string" ? EVENT_PAYLOADS.get(entry.type) : undefined;
  if (schema === undefined) {
    model.malformedEvent(`line ${l.line}: unknown entry type ${JSON.stringify(entry.type)}`);
    return undefined;
  }
  const decoded = Schema.decodeUnknownEither(schema)(entry.payload);
  if (Either.isLeft(decoded)) {
    model.malformedEvent(`line ${l.line}: bad ${entry.type} entry: ${decoded.left.message.split("\n")[0]}`);
    return undefined;
  }
  if (decoded.right.run !== run) {
    model.malformedEvent(`line ${l.line}: an event of run ${decoded.right.run}, not ${run}`);
    return undefined;
  }
  model.event(decoded.right);
  return decoded.right;
};

export interface ReplaySource {
  /** Resolves when the whole log has been played (or the replay was stopped). */
  readonly done: Promise<void>;
  stop(): void;
}

/**
 * Plays the entries of a log (lines after the header) into the model, `speed` virtual ms per wall
 * ms: an event at virtual time t is applied t / speed wall ms after the start.
 */
export const replayLines = (lines: AsyncIterable<LogLine>, run: string, model: DashboardModel, speed: number, wall: () => number = () => Date.now()): ReplaySource => {
  let stopped = false;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const done = (async () => {
    const t0 = wall();
    // the log's own checks (as the reader's): consecutive seq from 1, no cut last line, run.finished at the end
    let expectedSeq = 1;
    let lastLine = 1;
    let finished = false;
    for await (const l of lines) {
      if (stopped) return;
      if (l.line === 1 || l.text.trim() === "") continue; // the header (already read)
      lastLine = l.line;
      if (!l.terminated) {
        model.logDefect(`line ${l.line} is cut (the file ends without a newline): the log is truncated`);
        continue;
      }
      const seq = /"seq":(\d+)/.exec(l.text);
      if (seq !== null && Number(seq[1]) !== expectedSeq) {
        model.logDefect(`line ${l.line}: expected seq ${expectedSeq}, got ${seq[1]} (a line is missing, repeated or out of order)`);
      }
      if (seq !== null) expectedSeq = Number(seq[1]) + 1;
      const at = (() => {
        const m = /"at":(-?[0-9.eE+-]+)/.exec(l.text);
        return m === null ? undefined : Number(m[1]);
      })();
      if (at !== undefined && Number.isFinite(at)) {
        const due = t0 + at / speed;
        const wait = due - wall();
        if (wait > 15) await sleep(wait);
      }
      if (stopped) return;
      if (decodeLogEvent(model, run, l)?._tag === "run.finished") finished = true;
    }
    if (!finished && !stopped) model.logDefect(`it ends after line ${lastLine} before the run finished (no run.finished entry): it is truncated`);
  })();
  return { done, stop: () => void (stopped = true) };
};
