/**
 * Bad input under load (issue 7, item 3). During a run over a real nats-server, a raw NATS client
 * floods the run's subjects with more than 10,000 bad messages — malformed, truncated, binary,
 * deeply nested, wrong-version, wrong-type, unknown-tag, wrong-message, subject-token injection,
 * messages for another run id or accelerator, payloads just under the server's max_payload and
 * payloads over it — as plain publishes and as requests (with reply subjects), to every
 * accelerator's and every model task's cmd subject, to ctl.register and ctl.control, and to event
 * subjects. It starts before the run, keeps going while the run lasts and ends with a burst after it.
 *
 * What must hold:
 * - no crash: the run finishes (its accounting invariant is checked in resultOf);
 * - the run's metrics (models, summary, frames, decisions) are byte-identical to a clean in-process
 *   run (memory bus) with the same inputs, so no frame is lost;
 * - `RunResult.rejected` equals the number of deliveries of undecodable flood messages to the
 *   actors' subscriptions (see `expectedRejects` below for why it is a count of deliveries, not of
 *   messages sent);
 * - every undecodable request that reached an accelerator or model task is answered with a decode
 *   error naming the offending field; foreign (other run / other accelerator) requests are refused;
 * - payloads over max_payload are refused by the client with a clear error;
 * - memory stays bounded (peak RSS is reported; the bound is generous, there is no timing assertion).
 *
 * The figures (sent per kind, reached, rejected, refused by the client, frames lost, peak RSS) are
 * printed with console.log for the README's Reliability section.
 *
 * Assertions that a product bug can break are `expect.soft`, so one failure does not hide the rest
 * of the picture; test/faults/relay-edge.test.ts has a minimal reproduction of each bug found here.
 */
import { randomUUID } from "node:crypto";
import { Either, type Schema } from "effect";
import { describe, expect, it } from "vitest";
import {
  AccelCommand,
  ErrorReply,
  PROTOCOL_VERSION,
  Registration,
  RunControl,
  RunEvent,
  Subjects,
  TaskCommand,
} from "@sdrm3/shared/contracts";
import { connectNatsBus, type NatsBus } from "@sdrm3/shared/nats";
import { type Bus, type BusMsg, PayloadTooLargeError, type RunResult, decodeJson, resolveRunSpec, runScenario } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";
import { comparable } from "../support/run-result";

// ─── the run ────────────────────────────────────────────────────────────────────────────────────
/** About 1 s in memory and 4–10 s over NATS (longer under the flood): long enough to overlap it. */
const BASE_SPEC = { scenario: "VR_gaming", hardware: "Dual_4K/WS_OS", policy: "sdrm3", durationMs: 1_000, seed: 3 } as const;
const OTHER_RUN = "other-run";

/** What the comparison covers (the run id differs between the two runs and is not part of it). */

// ─── flood shape ────────────────────────────────────────────────────────────────────────────────
/** Small messages per batch; after each batch the flooder flushes and yields to the run. */
const BATCH = 40;
/**
 * Batches sent while the run lasts, paced by the run's progress (its events), not by the wall clock:
 * one batch per 1/RUN_BATCHES of the clean run's events. A loaded machine that slows the run down
 * therefore gets the same flood, not a larger one that slows the run further (about 16,000 messages).
 */
const RUN_BATCHES = 400;
/** Pause between checks of the run's progress (ms). */
const PAUSE_MS = 10;
/** One message just under max_payload every this many batches. */
const BIG_EVERY = 10;
/** Messages sent before the run starts, and after it ends. */
const PRE_RUN = 1_500;
const END_BURST = 2_500;
const MIN_BAD_MESSAGES = 10_000;
/** Deep nesting that a JSON parser accepts but a recursive formatter may not (40 KB). */
const DEPTH = 20_000;
/** Memory guard: the run plus the flood must stay well under this (figures are printed). */
const MAX_PEAK_RSS_BYTES = 2 * 1024 ** 3;

type TargetKind = "accel" | "task" | "register" | "control" | "event";
interface Target {
  readonly kind: TargetKind;
  readonly subject: string;
  /** Accelerator id or model name (cmd subjects). */
  readonly name: string;
}

const CATEGORIES = [
  "malformed JSON",
  "truncated JSON",
  "binary (invalid UTF-8)",
  "random text",
  "non-object JSON",
  "deeply nested JSON",
  "wrong protocol version",
  "unknown _tag",
  "wrong type",
  "subject-token injection",
  "wrong message for subject",
  "just under max_payload",
  "another run id",
  "another accelerator",
  "over max_payload",
] as const;
type Category = (typeof CATEGORIES)[number];

/** `bad`: must not decode at the edge (counted as rejected); `foreign`: decodes, but is not for this run/actor. */
type Class = "bad" | "foreign";

interface Template {
  readonly category: Category;
  readonly cls: Class;
  /** What goes on the wire (big payloads are pre-encoded so the flood does not re-encode them). */
  readonly data: string | Uint8Array;
  /** What the receiver sees (`msg.string()`). */
  readonly text: string;
  /** bad: the field path a decode error must name (`""`: the whole message); undefined: any. */
  readonly path: string | undefined;
}

type Json = Record<string, unknown>;

const TE = new TextEncoder();
const TD = new TextDecoder();

/** Seeded PRNG (mulberry32), so the flood is the same every time. */
const prng = (seed: number) => {
  let a = seed >>> 0;
  return (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const schemaOf = (kind: TargetKind): Schema.Schema<unknown, unknown> =>
  ({ accel: AccelCommand, task: TaskCommand, register: Registration, control: RunControl, event: RunEvent })[kind] as Schema.Schema<unknown, unknown>;

/** Valid messages of every kind for `run` (the flood only ever sends mutations of them, or foreign copies). */
const messagesFor = (run: string, acc: string, model: string) => ({
  dispatch: { _tag: "block.dispatch", v: PROTOCOL_VERSION, run, at: 1, acc, job: `${model}:1`, model, frame: 1, firstLayer: 0, layerCount: 1, timing: "exact" },
  tick: { _tag: "task.tick", v: PROTOCOL_VERSION, run, at: 1 },
  parentEnded: { _tag: "task.parentEnded", v: PROTOCOL_VERSION, run, at: 1, parent: "ES_RITNet", frame: 1, releaseAt: 0, outcome: "onTime" },
  frameEnded: { _tag: "task.frameEnded", v: PROTOCOL_VERSION, run, at: 1, model, frame: 1, outcome: "onTime" },
  accelRegister: { _tag: "accel.register", v: PROTOCOL_VERSION, run, acc, dataflow: "WS", numPes: 2048, nocBw: 128, costClass: "WS_2048pe_bw128", host: "flood" },
  taskRegister: { _tag: "task.register", v: PROTOCOL_VERSION, run, models: [model], host: "flood" },
  control: { _tag: "run.control", v: PROTOCOL_VERSION, run, op: "discover" },
  runFinished: { _tag: "run.finished", v: PROTOCOL_VERSION, run, at: 1 },
  frameEndedEvent: { _tag: "frame.ended", v: PROTOCOL_VERSION, run, at: 1, job: `${model}:1`, outcome: "onTime" },
});

/** `text` is what the receiver decodes (`msg.string()` strips a leading BOM, for one). */
const text = (category: Category, cls: Class, s: string, path: string | undefined): Template => ({ category, cls, data: s, text: TD.decode(TE.encode(s)), path });
const json = (category: Category, cls: Class, value: unknown, path: string | undefined): Template => text(category, cls, JSON.stringify(value), path);

/** The small templates for one target: every bad kind, built from the messages valid on that subject. */
const smallTemplates = (run: string, t: Target, accs: ReadonlyArray<string>, random: () => number): Template[] => {
  const acc = t.kind === "accel" ? t.name : accs[0]!;
  const model = t.kind === "task" ? t.name : "ES_RITNet";
  const m = messagesFor(run, acc, model);
  const own: Json[] = {
    accel: [m.dispatch],
    task: [m.tick, m.parentEnded, m.frameEnded],
    register: [m.accelRegister, m.taskRegister],
    control: [m.control],
    event: [m.runFinished, m.frameEndedEvent],
  }[t.kind];
  const wrongMessage: Json[] = {
    accel: [m.tick, m.control, m.accelRegister],
    task: [m.dispatch, m.control],
    register: [m.control, m.tick],
    control: [m.accelRegister, m.dispatch],
    event: [m.control, m.tick],
  }[t.kind];
  const out: Template[] = [];
  for (const base of own) {
    const s = JSON.stringify(base);
    for (const cut of [1, 7, Math.floor(s.length / 2), s.length - 1]) out.push(text("truncated JSON", "bad", s.slice(0, cut), ""));
    out.push(text("malformed JSON", "bad", `${s}x`, ""), text("malformed JSON", "bad", s + s, ""), text("malformed JSON", "bad", s.replace(/"/g, "'"), ""));
    out.push(json("wrong protocol version", "bad", { ...base, v: 2 }, "v"), json("wrong protocol version", "bad", { ...base, v: "1" }, "v"));
    const { v: _v, ...noV } = base;
    out.push(json("wrong protocol version", "bad", noV, "v"));
    out.push(json("unknown _tag", "bad", { ...base, _tag: "flood.unknown" }, "_tag"), json("unknown _tag", "bad", { ...base, _tag: 7 }, "_tag"));
    const { _tag: _t, ...noTag } = base;
    out.push(json("unknown _tag", "bad", noTag, "_tag"));
    for (const [key, value] of Object.entries(base)) {
      if (key === "_tag" || key === "v") continue;
      const wrong = typeof value === "number" ? String(value) : typeof value === "string" ? 1 : "x";
      out.push(json("wrong type", "bad", { ...base, [key]: wrong }, key), json("wrong type", "bad", { ...base, [key]: null }, key));
      if (typeof value === "number") out.push(json("wrong type", "bad", { ...base, [key]: -1.5 }, key));
    }
    for (const inject of ["a.b", "*", ">", "a b", "run\n"]) out.push(json("subject-token injection", "bad", { ...base, run: inject }, "run"));
    if ("acc" in base) for (const inject of ["acc0.cmd", "*"]) out.push(json("subject-token injection", "bad", { ...base, acc: inject }, "acc"));
    if ("model" in base) out.push(json("subject-token injection", "bad", { ...base, model: ">" }, "model"));
  }
  for (const other of wrongMessage) out.push(json("wrong message for subject", "bad", other, "_tag"));
  for (const s of ["", " ", "{", "}", "[", "]", "not json", '{"_tag":', "{'_tag':'task.tick'}", "NaN", "undefined", '{"_tag":"x",}', "\u0000", '"unterminated']) {
    out.push(text("malformed JSON", "bad", s, ""));
  }
  // a byte-order mark: the NATS client's decoder strips it, so the actor sees the rest
  out.push(text("malformed JSON", "bad", `\ufeff${JSON.stringify(own[0]).slice(1)}`, ""));
  for (const s of ["null", "true", "42", "-0", '"task.tick"', "[]", "{}", `[${JSON.stringify(own[0])}]`]) out.push(text("non-object JSON", "bad", s, undefined));
  out.push(text("deeply nested JSON", "bad", `{"_tag":${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}}`, undefined));
  out.push(text("deeply nested JSON", "bad", `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`, undefined));
  out.push(text("deeply nested JSON", "bad", `${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}`, undefined));
  const alphabet = '{}[]":,.-_0123456789abcdefrtuvnl \\';
  for (let i = 0; i < 8; i++) {
    const n = 1 + Math.floor(random() * 120);
    out.push(text("random text", "bad", Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join(""), undefined));
  }
  for (let i = 0; i < 4; i++) {
    const bytes = Uint8Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256));
    bytes[Math.floor(random() * bytes.length)] = 0xff; // never valid UTF-8
    out.push({ category: "binary (invalid UTF-8)", cls: "bad", data: bytes, text: TD.decode(bytes), path: undefined });
  }
  // well-formed, but for another run or another accelerator
  const f = (category: Category, value: Json): [Category, Json] => [category, value];
  const foreign: Array<[Category, Json]> = {
    accel: [
      f("another run id", { ...m.dispatch, run: OTHER_RUN }),
      f("another accelerator", { ...m.dispatch, acc: accs.find((a) => a !== acc) ?? "acc99" }),
      f("another accelerator", { ...m.dispatch, acc: "acc99" }),
    ],
    task: [
      f("another run id", { ...m.tick, run: OTHER_RUN, at: 1e9 }),
      f("another run id", { ...m.parentEnded, run: OTHER_RUN }),
      f("another run id", { ...m.frameEnded, run: OTHER_RUN }),
    ],
    register: [
      f("another run id", { ...m.accelRegister, run: OTHER_RUN }),
      f("another accelerator", { ...m.accelRegister, acc: "acc99" }),
      f("another run id", { ...m.taskRegister, run: OTHER_RUN }),
    ],
    control: (["discover", "stop", "finished"] as const).map((op) => f("another run id", { ...m.control, run: OTHER_RUN, op })),
    event: [f("another run id", { ...m.runFinished, run: OTHER_RUN })],
  }[t.kind];
  for (const [category, value] of foreign) out.push(json(category, "foreign", value, undefined));
  return out;
};

/** Payloads of exactly `size` UTF-8 bytes (ASCII), just under the server's limit. */
const bigTemplates = (run: string, t: Target, accs: ReadonlyArray<string>, size: number): Template[] => {
  const acc = t.kind === "accel" ? t.name : accs[0]!;
  const model = t.kind === "task" ? t.name : "ES_RITNet";
  const m = messagesFor(run, acc, model);
  const base: Json = { accel: m.dispatch, task: m.frameEnded, register: m.accelRegister, control: m.control, event: m.runFinished }[t.kind];
  const field = { accel: "at", task: "at", register: "acc", control: "op", event: "at" }[t.kind];
  const fill = (before: string, after: string) => `${before}${"x".repeat(size - before.length - after.length)}${after}`;
  const encoded = (category: Category, cls: Class, s: string, path: string | undefined): Template => {
    if (TE.encode(s).length !== size) throw new Error(`big template of ${TE.encode(s).length} bytes, wanted ${size}`);
    return { category, cls, data: TE.encode(s), text: s, path };
  };
  /** `[0,0,…,0]` padded with spaces to exactly `n` bytes. */
  const numbers = (n: number) => {
    const k = Math.floor((n - 3) / 2);
    return `[${"0,".repeat(k)}0${" ".repeat(n - 3 - 2 * k)}]`;
  };
  const withField = JSON.stringify({ ...base, [field]: "@@" }).split('"@@"');
  const foreign = JSON.stringify({ ...base, run: OTHER_RUN, pad: "@@" }).split('"@@"');
  return [
    // a wrong-typed field holding almost the whole payload
    encoded("just under max_payload", "bad", fill(`${withField[0]}"`, `"${withField[1]}`), field),
    // valid JSON, wrong shape
    encoded("just under max_payload", "bad", numbers(size), undefined),
    encoded("just under max_payload", "bad", fill('{"pad":"', '"}'), "_tag"),
    // well-formed (excess properties are ignored), but for another run
    encoded("another run id", "foreign", fill(`${foreign[0]}"`, `"${foreign[1]}`), undefined),
  ];
};

// ─── a tap on the run's bus: which flood messages reached which actor subscription ────────────
interface Tap {
  readonly bus: Bus;
  /** Deliveries of flood messages to the actors' subscriptions, by class. */
  readonly deliveries: Record<Class, number>;
  readonly byCategory: Map<Category, number>;
  readonly byTarget: Map<TargetKind, number>;
  /** Undecodable flood deliveries per target kind. */
  readonly badByTarget: Map<TargetKind, number>;
  /** Request numbers (from the reply subject) of flood requests delivered to an actor, once per delivery. */
  readonly deliveredRequests: number[];
  legit: number;
}

const tapBus = (inner: NatsBus, classify: ReadonlyMap<string, { target: Target; templates: ReadonlyMap<string, Template> }>, replyPrefix: string): Tap => {
  const tap: Tap = {
    deliveries: { bad: 0, foreign: 0 },
    byCategory: new Map(),
    byTarget: new Map(),
    badByTarget: new Map(),
    deliveredRequests: [],
    legit: 0,
    bus: {
      kind: inner.kind,
      publish: (subject, data) => inner.publish(subject, data),
      request: (subject, data, opts) => inner.request(subject, data, opts),
      flush: () => inner.flush(),
      close: () => inner.close(),
      subscribe: (subject, handler, opts) =>
        inner.subscribe(
          subject,
          (msg: BusMsg) => {
            // counted before the actor's handler runs, so a handler that throws cannot hide a delivery
            const entry = classify.get(subject);
            const tpl = entry?.templates.get(msg.data);
            if (entry === undefined || tpl === undefined) {
              tap.legit++;
            } else {
              tap.deliveries[tpl.cls]++;
              tap.byCategory.set(tpl.category, (tap.byCategory.get(tpl.category) ?? 0) + 1);
              tap.byTarget.set(entry.target.kind, (tap.byTarget.get(entry.target.kind) ?? 0) + 1);
              if (tpl.cls === "bad") tap.badByTarget.set(entry.target.kind, (tap.badByTarget.get(entry.target.kind) ?? 0) + 1);
              if (msg.reply?.startsWith(replyPrefix) === true) tap.deliveredRequests.push(Number(msg.reply.slice(replyPrefix.length)));
            }
            handler(msg);
          },
          opts,
        ),
    },
  };
  return tap;
};

const count = <K>(map: Map<K, number>, key: K, n = 1) => map.set(key, (map.get(key) ?? 0) + n);
const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;

// depth 2 (dispatch queues, docs/architecture.md): queued blocks under the flood, the same guarantees
describe.each([[1, ""], [2, ", chains of 0.5 ms"]] as const)("a flood of bad messages during a run over NATS (queue depth %i%s)", (queueDepth, _chains) => {
  const SPEC = queueDepth === 1 ? BASE_SPEC : { ...BASE_SPEC, queueDepth, chainMs: 0.5 };
  it("is rejected and counted, answered naming the field, and leaves the run's metrics identical to a clean run", async () => {
    const resolved = resolveRunSpec(SPEC);
    let cleanEvents = 0;
    const clean = await runScenario({ ...resolved, onEvent: () => void cleanEvents++ });
    const eventsPerBatch = Math.max(1, Math.floor(cleanEvents / RUN_BATCHES));

    const run = `flood-${randomUUID().slice(0, 8)}`;
    const busErrors: string[] = [];
    const runBus = await connectNatsBus({ ...natsTestOptions(), name: `${run}-run`, onError: (e, ctx) => busErrors.push(`${ctx.kind} on ${ctx.subject}: ${e instanceof Error ? e.message.slice(0, 160) : String(e)}`) });
    const flooderBus = await connectNatsBus({ ...natsTestOptions(), name: `${run}-flooder`, onError: () => {} });
    const nc = flooderBus.nc;
    const rssBefore = process.memoryUsage.rss();
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20);
    try {
      const maxPayload = nc.info!.max_payload;
      const accs = resolved.hardware.accelerators.map((a) => a.id);
      const models = resolved.scenario.models.map((m) => m.name);
      const targets: Target[] = [
        ...accs.map((a): Target => ({ kind: "accel", name: a, subject: Subjects.accelCmd(run, a) })),
        ...models.map((n): Target => ({ kind: "task", name: n, subject: Subjects.taskCmd(run, n) })),
        { kind: "register", name: "register", subject: Subjects.control(run, "register") },
        { kind: "control", name: "control", subject: Subjects.control(run, "control") },
        { kind: "event", name: "run-finished", subject: Subjects.event(run, "sched", "run-finished") },
        { kind: "event", name: "decision", subject: Subjects.event(run, "sched", "decision") },
      ];

      // ── the flood's templates, checked against the contract (a "bad" one must not decode, a foreign one must)
      const random = prng(7);
      const classify = new Map<string, { target: Target; templates: Map<string, Template> }>();
      const small: Array<{ target: Target; tpl: Template }> = [];
      const big: Array<{ target: Target; tpl: Template }> = [];
      const generatorProblems: string[] = [];
      let decoderThrows = 0;
      for (const target of targets) {
        const templates = new Map<string, Template>();
        for (const [list, tpls] of [
          [small, smallTemplates(run, target, accs, random)],
          [big, bigTemplates(run, target, accs, maxPayload - 1)],
        ] as const) {
          for (const tpl of tpls) {
            if (templates.has(tpl.text)) continue; // the same text twice (e.g. "{" and a 1-character truncation)
            templates.set(tpl.text, tpl);
            list.push({ target, tpl });
            let decoded: ReturnType<typeof decodeJson<unknown, unknown>> | undefined;
            try {
              decoded = decodeJson(schemaOf(target.kind), tpl.text);
            } catch {
              decoderThrows++; // the product's bug, not the generator's (see relay-edge.test.ts)
              continue;
            }
            if (tpl.cls === "foreign" && Either.isLeft(decoded)) generatorProblems.push(`${target.kind} ${tpl.category}: does not decode: ${decoded.left.message}`);
            if (tpl.cls === "bad" && Either.isRight(decoded)) generatorProblems.push(`${target.kind} ${tpl.category}: decodes: ${tpl.text.slice(0, 80)}`);
            if (tpl.cls === "bad" && Either.isLeft(decoded) && tpl.path !== undefined && !decoded.left.issues.some((i) => i.path === tpl.path)) {
              generatorProblems.push(`${target.kind} ${tpl.category}: expected an issue at '${tpl.path}', got ${decoded.left.message.slice(0, 120)}`);
            }
          }
        }
        classify.set(target.subject, { target, templates });
      }
      expect(generatorProblems).toEqual([]);
      const oversized = [TE.encode(JSON.stringify({ pad: "x".repeat(maxPayload) })), TE.encode("x".repeat(maxPayload + 1)), TE.encode("y".repeat(2 * maxPayload))];

      // ── shots: every small template as a publish and as a request, in a seeded order
      const order = small.flatMap((s) => [{ ...s, mode: "publish" as const }, { ...s, mode: "request" as const }]);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const replyPrefix = `_FLOOD.${run}.`;
      const requests: Array<{ target: Target; tpl: Template }> = [];
      const replies = new Map<number, string[]>();
      let statusReplies = 0;
      nc.subscribe(`${replyPrefix}>`, {
        callback: (err, msg) => {
          if (err !== null) return;
          if (msg.data.length === 0 && msg.headers !== undefined) {
            statusReplies++; // e.g. 503 no responders, for requests to subjects nobody listens to
            return;
          }
          const n = Number(msg.subject.slice(replyPrefix.length));
          const list = replies.get(n) ?? [];
          list.push(msg.string());
          replies.set(n, list);
        },
      });

      const sent = new Map<string, number>();
      const sentByTarget = new Map<TargetKind, number>();
      const sentByClass = new Map<Class, number>();
      const refused = new Map<string, number>();
      const refusals = new Set<string>();
      let total = 0;
      let cursor = 0;
      let bigCursor = 0;
      let oversizedCursor = 0;
      let requestNo = 0;
      const shoot = (target: Target, tpl: Template, mode: "publish" | "request") => {
        if (mode === "request") {
          const n = requestNo++;
          requests[n] = { target, tpl };
          nc.publish(target.subject, tpl.data, { reply: `${replyPrefix}${n}` });
        } else {
          nc.publish(target.subject, tpl.data);
        }
        total++;
        count(sent, `${tpl.category}|${mode}`);
        count(sentByTarget, target.kind);
        count(sentByClass, tpl.cls);
      };
      const shootOversized = (target: Target) => {
        const mode = oversizedCursor % 2 === 0 ? "publish" : "request";
        const data = oversized[oversizedCursor++ % oversized.length]!;
        try {
          nc.publish(target.subject, data, mode === "request" ? { reply: `${replyPrefix}oversized` } : undefined);
          count(sent, `over max_payload|${mode}`); // must not happen
        } catch (e) {
          count(refused, `over max_payload|${mode}`);
          refusals.add(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
        }
      };
      const batch = (n: number) => {
        for (let k = 0; k < n; k++) {
          const shot = order[cursor++ % order.length]!;
          shoot(shot.target, shot.tpl, shot.mode);
        }
        const target = targets[oversizedCursor % targets.length]!;
        shootOversized(target);
      };
      const shootBig = () => {
        const shot = big[bigCursor % big.length]!;
        shoot(shot.target, shot.tpl, Math.floor(bigCursor / big.length) % 2 === 0 ? "request" : "publish");
        bigCursor++;
      };

      // ── before the run
      while (total < PRE_RUN) {
        batch(BATCH);
        await nc.flush();
      }
      const sentBeforeRun = total;

      // ── during the run: a batch each time the run has made `eventsPerBatch` more events
      let running = true;
      let batches = 0;
      let runEvents = 0;
      const flooding = (async () => {
        while (running) {
          if (runEvents >= (batches + 1) * eventsPerBatch) {
            batch(BATCH);
            if (++batches % BIG_EVERY === 0) shootBig();
            await nc.flush();
          }
          await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
        }
      })();
      const tap = tapBus(runBus, classify, replyPrefix);
      const rejectsBySubject = new Map<string, number>();
      let flooded: RunResult;
      try {
        flooded = await runScenario({ ...resolved, bus: tap.bus, run, onEvent: () => void runEvents++, onReject: (subject) => count(rejectsBySubject, subject) });
      } finally {
        running = false;
        await flooding;
      }
      const sentDuringRun = total - sentBeforeRun;

      // ── after the run: a burst, and at least MIN_BAD_MESSAGES in all
      const endTarget = total + END_BURST;
      while (total < endTarget || (sentByClass.get("bad") ?? 0) < MIN_BAD_MESSAGES) {
        batch(BATCH);
        await nc.flush();
      }
      const sentAfterRun = total - sentBeforeRun - sentDuringRun;
      for (let i = 0; i < big.length; i++) shootBig(); // every big one at least once
      await runBus.flush();
      await nc.flush();
      await runBus.flush();
      await nc.flush();
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());

      // ── what the actors should have rejected: every delivery of an undecodable flood message to an
      //    actor's subscription, once per subscription (ctl.control has one per accelerator host plus
      //    the workload host). Messages sent before the subscriptions existed or after they were gone,
      //    to event subjects (no subscriber in runScenario), and well-formed foreign messages (they
      //    decode; the accelerator refuses them, the others ignore them) are not rejects.
      const expectedRejects = tap.deliveries.bad;
      const controlSubscribers = accs.length + 1;
      const badMessagesReached =
        [...tap.badByTarget].reduce((sum, [kind, n]) => sum + (kind === "control" ? 0 : n), 0) + (tap.badByTarget.get("control") ?? 0) / controlSubscribers;
      const rejectListener = [...rejectsBySubject.values()].reduce((a, b) => a + b, 0);

      // ── replies to requests that reached an accelerator or a model task
      const replyProblems = new Map<string, number>();
      const problem = (key: string) => count(replyProblems, key);
      let decodeReplies = 0;
      let namingField = 0;
      let foreignRefused = 0;
      let stolenFrames = 0;
      let unansweredCtl = 0;
      for (const n of tap.deliveredRequests) {
        const req = requests[n]!;
        const got = replies.get(n) ?? [];
        const where = `${req.tpl.category} → ${req.target.kind}`;
        if (req.target.kind === "register" || req.target.kind === "control") {
          if (got.length === 0) unansweredCtl++; // pub/sub subjects: nobody answers
          continue;
        }
        if (req.tpl.cls === "bad") {
          if (got.length !== 1) {
            problem(`${where}: ${got.length} replies instead of one decode error`);
            continue;
          }
          const reply = decodeJson(ErrorReply, got[0]!);
          if (Either.isLeft(reply) || reply.right.kind !== "decode" || reply.right.issues.length === 0) {
            problem(`${where}: reply is not a decode error: ${got[0]!.slice(0, 100)}`);
            continue;
          }
          decodeReplies++;
          if (req.tpl.path !== undefined && !reply.right.issues.some((i) => i.path === req.tpl.path)) {
            problem(`${where}: decode error does not name '${req.tpl.path}': ${reply.right.message.slice(0, 100)}`);
            continue;
          }
          namingField++;
        } else if (req.target.kind === "accel") {
          const reply = got.length === 1 ? decodeJson(ErrorReply, got[0]!) : undefined;
          if (reply === undefined || Either.isLeft(reply) || reply.right.kind !== "rejected") {
            problem(`${where}: expected one 'rejected' error, got ${got.map((g) => g.slice(0, 80)).join(" | ") || "no reply"}`);
          } else foreignRefused++;
        } else {
          // a model task must not act on a command for another run
          const released = got.filter((g) => g.includes('"_tag":"task.released"'));
          stolenFrames += released.filter((g) => !g.includes('"frames":[]')).length;
          if (released.length > 0) problem(`${where}: the task actor answered task.released to a command for run '${OTHER_RUN}'`);
          else foreignRefused++;
        }
      }

      // ── frames: every frame of the clean run, identical
      const key = (f: RunResult["frames"][number]) => `${f.model}:${f.frame}`;
      const floodedFrames = new Map(flooded.frames.map((f) => [key(f), JSON.stringify(f)]));
      const framesLost = clean.frames.filter((f) => !floodedFrames.has(key(f))).length;
      const framesChanged = clean.frames.filter((f) => floodedFrames.has(key(f)) && floodedFrames.get(key(f)) !== JSON.stringify(f)).length;

      // ── figures
      const categories = CATEGORIES.filter((c) => [...sent.keys(), ...refused.keys()].some((k) => k.startsWith(`${c}|`)));
      const table = categories.map((c) => ({
        kind: c,
        publish: sent.get(`${c}|publish`) ?? 0,
        request: sent.get(`${c}|request`) ?? 0,
        "refused by client": (refused.get(`${c}|publish`) ?? 0) + (refused.get(`${c}|request`) ?? 0),
        "deliveries to actors": tap.byCategory.get(c) ?? 0,
      }));
      const refusedTotal = [...refused.values()].reduce((a, b) => a + b, 0);
      const columns = Object.keys(table[0]!) as Array<keyof (typeof table)[number]>;
      const widths = columns.map((c) => Math.max(c.length, ...table.map((row) => String(row[c]).length)));
      const line = (cells: ReadonlyArray<string | number>) => `| ${cells.map((v, i) => (i === 0 ? String(v).padEnd(widths[i]!) : String(v).padStart(widths[i]!))).join(" | ")} |`;
      console.log(
        [
          `[flood] run ${run}: ${SPEC.scenario} on ${SPEC.hardware}, ${SPEC.policy}, ${SPEC.durationMs} ms simulated, seed ${SPEC.seed}, queue depth ${queueDepth}; server max_payload ${maxPayload} B`,
          line(columns),
          `|${widths.map((w, i) => (i === 0 ? "-".repeat(w + 2) : `${"-".repeat(w + 1)}:`)).join("|")}|`,
          ...table.map((row) => line(columns.map((c) => row[c]))),
          line(["total", ...columns.slice(1).map((c) => table.reduce((sum, row) => sum + Number(row[c]), 0))]),
        ].join("\n"),
      );
      console.log(
        [
          `[flood] messages sent: ${total} (before the run ${sentBeforeRun}, during ${sentDuringRun} in ${batches} batches, one per ${eventsPerBatch} of the run's events, after ${sentAfterRun + big.length}): ${sentByClass.get("bad") ?? 0} undecodable + ${sentByClass.get("foreign") ?? 0} well-formed for another run or accelerator; distinct templates ${small.length} small + ${big.length} just under max_payload`,
          `[flood] sent per target: ${[...sentByTarget].map(([k, v]) => `${k} ${v}`).join(", ")}`,
          `[flood] refused by the client (over max_payload): ${refusedTotal} — ${[...refusals].join("; ")}`,
          `[flood] deliveries of flood messages to actor subscriptions: ${tap.deliveries.bad} undecodable + ${tap.deliveries.foreign} foreign (by subject: ${[...tap.byTarget].map(([k, v]) => `${k} ${v}`).join(", ")}); legit deliveries ${tap.legit}`,
          `[flood] undecodable flood messages that reached an actor subject: ${badMessagesReached} (ctl.control has ${controlSubscribers} subscribers, each rejects its copy)`,
          `[flood] RunResult.rejected: ${flooded.rejected} (expected ${expectedRejects} = deliveries of undecodable flood messages; onReject calls ${rejectListener}: ${[...rejectsBySubject].map(([s, v]) => `${s.slice(run.length + 7)} ${v}`).join(", ")})`,
          `[flood] requests delivered to actors: ${tap.deliveredRequests.length}; decode-error replies ${decodeReplies}, naming the expected field ${namingField}; foreign requests refused ${foreignRefused}; ctl requests (unanswered by design) ${unansweredCtl}; status replies (no responders) ${statusReplies}`,
          `[flood] reply problems: ${replyProblems.size === 0 ? "none" : [...replyProblems].map(([p, n]) => `${n}× ${p}`).join("; ")}`,
          `[flood] frames: clean ${clean.frames.length}, flooded ${flooded.frames.length}, lost ${framesLost}, changed ${framesChanged}, frames released to the flooder by task actors answering foreign commands ${stolenFrames}; decisions ${clean.decisions} vs ${flooded.decisions}`,
          `[flood] run-bus handler errors ${runBus.handlerErrors}; bus errors ${busErrors.length}${busErrors.length === 0 ? "" : ` (first: ${busErrors[0]})`}; contract decoder threw on ${decoderThrows} templates`,
          `[flood] peak RSS ${mb(peakRss)} (before the flood ${mb(rssBefore)})`,
        ].join("\n"),
      );

      // ── no crash, the flood overlapped the run, enough bad messages
      expect(sentByClass.get("bad") ?? 0).toBeGreaterThanOrEqual(MIN_BAD_MESSAGES);
      expect(sentDuringRun).toBeGreaterThan(0);
      for (const kind of ["accel", "task", "register", "control"] as const) expect(tap.byTarget.get(kind) ?? 0, `flood deliveries to ${kind}`).toBeGreaterThan(0);
      // ── oversized payloads: refused by the client, clearly; the Bus API says how big and what limit
      expect(refusedTotal).toBeGreaterThan(0);
      expect(refused.get("over max_payload|publish") ?? 0).toBeGreaterThan(0);
      expect(refused.get("over max_payload|request") ?? 0).toBeGreaterThan(0);
      expect(sent.get("over max_payload|publish") ?? 0).toBe(0);
      expect(sent.get("over max_payload|request") ?? 0).toBe(0);
      for (const r of refusals) expect(r).toMatch(/max_payload size exceeded/);
      const tooLarge = (() => {
        try {
          flooderBus.publish(Subjects.accelCmd(run, accs[0]!), "x".repeat(maxPayload + 1));
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(tooLarge).toBeInstanceOf(PayloadTooLargeError);
      expect(tooLarge).toMatchObject({ bytes: maxPayload + 1, limit: maxPayload });
      // ── rejects: counted, reported, and exactly the undecodable deliveries
      expect(flooded.rejected).toBeGreaterThan(0);
      expect(rejectListener).toBe(flooded.rejected);
      expect.soft(flooded.rejected, "RunResult.rejected = deliveries of undecodable flood messages to actor subscriptions").toBe(expectedRejects);
      expect(expectedRejects).toBeGreaterThanOrEqual(badMessagesReached);
      // ── decode errors name the field; foreign requests are refused
      expect(decodeReplies).toBeGreaterThan(0);
      expect.soft([...replyProblems].map(([p, n]) => `${n}× ${p}`), "problems with the replies to flood requests").toEqual([]);
      expect.soft(runBus.handlerErrors, "exceptions thrown by the actors' bus handlers").toBe(0);
      expect.soft(busErrors.slice(0, 5), "errors reported by the run's bus").toEqual([]);
      // ── the run: identical to the clean run, no frame lost
      expect.soft(framesLost, "frames lost").toBe(0);
      expect.soft(framesChanged, "frames changed").toBe(0);
      expect.soft(flooded.summary, "summary equal to the clean run's").toEqual(clean.summary);
      expect.soft(flooded.decisions, "decisions equal to the clean run's").toBe(clean.decisions);
      expect.soft(comparable(flooded) === comparable(clean), "models, summary, frames and decisions byte-identical to the clean in-process run").toBe(true);
      // ── memory stays bounded
      expect(peakRss).toBeLessThan(MAX_PEAK_RSS_BYTES);
    } finally {
      clearInterval(sampler);
      await flooderBus.close();
      await runBus.close();
    }
    // generous: the clean run, the run over NATS under the flood and the bursts take minutes on a loaded machine
  }, 300_000);
});
