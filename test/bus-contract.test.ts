/**
 * The Bus contract, run identically against the in-memory bus and the NATS bus (describe.each),
 * plus the memory bus's documented extras (deterministic queue-group choice, flush over cascades)
 * and the typed decoding helpers. NATS tests use the server from test/global-setup.ts and a fresh
 * subject prefix per run (`t.<uuid>.`), so runs sharing a server never see each other.
 */

import { Either, Schema } from "effect";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectNatsBus } from "../shared/src/nats";
import type { NatsBus } from "../shared/src/nats";
import {
  BusClosedError,
  BusInvalidSubjectError,
  BusNoRespondersError,
  BusTimeoutError,
  DEFAULT_MAX_PAYLOAD_BYTES,
  PayloadTooLargeError,
  publishSoon,
  subjectMatches,
  utf8ByteLength,
} from "../shared/src/runtime/bus";
import type { Bus, BusErrorContext, BusErrorHandler, BusMsg } from "../shared/src/runtime/bus";
import { createMemoryBus } from "../shared/src/runtime/memory-bus";
import {
  DecodeFailure,
  RemoteDecodeError,
  decodeJson,
} from "../shared/src/runtime/codec";
import { requestDecoded, subscribeDecoded } from "../shared/src/runtime/relay";
import { natsTestOptions, natsTestSource, uniqueSubjectPrefix } from "../shared/src/testkit";

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

interface Client {
  readonly bus: Bus;
  readonly handlerErrors: () => number;
}

interface Implementation {
  readonly kind: "memory" | "nats";
  /** A client of a fresh "world". */
  connect(onError: BusErrorHandler): Promise<Client>;
  /** Another client of the same world as `first` (memory: the same bus; NATS: a second connection). */
  peer(first: Client, onError: BusErrorHandler): Promise<Client>;
}

const memoryImpl: Implementation = {
  kind: "memory",
  connect: async (onError) => {
    const bus = createMemoryBus({ onError });
    return { bus, handlerErrors: () => bus.handlerErrors };
  },
  peer: async (first) => first,
};

const natsImpl: Implementation = {
  kind: "nats",
  connect: async (onError) => {
    const bus: NatsBus = await connectNatsBus({ ...natsTestOptions(), name: "bus-contract", onError });
    return { bus, handlerErrors: () => bus.handlerErrors };
  },
  peer: async (_first, onError) => natsImpl.connect(onError),
};

const RUN = uniqueSubjectPrefix("t");

const waitFor = async (what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** Resolves with the rejection of `p` (fails the test if `p` resolves). */
const rejectionOf = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
};

const thrownBy = (f: () => unknown): unknown => {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
};

const Frame = Schema.Struct({
  payload: Schema.Struct({ frame: Schema.Number, model: Schema.String }),
});
type Frame = typeof Frame.Type;
const Ack = Schema.Struct({ ok: Schema.Boolean, frame: Schema.Number });

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

describe.each([memoryImpl, natsImpl])("Bus contract: $kind", (impl) => {
  let testNo = 0;
  let subj = "";
  let client: Client;
  let bus: Bus;
  let errors: Array<{ error: unknown; ctx: BusErrorContext }> = [];
  const opened: Client[] = []; // closed after each test
  const onError: BusErrorHandler = (error, ctx) => {
    errors.push({ error, ctx });
  };

  beforeAll(async () => {
    // Only a diagnostic; without a server each test fails on its own (never skipped).
    if (impl.kind === "nats" && natsTestSource() !== "none") {
      const probe = await connectNatsBus({ ...natsTestOptions(), name: "bus-contract-probe", onError });
      console.log(`[bus-contract] NATS via ${natsTestSource()}, server ${probe.nc.info?.version ?? "?"}`);
      await probe.close();
    }
  });

  const setup = async (): Promise<void> => {
    errors = [];
    subj = `${RUN}${impl.kind}.${testNo++}.`;
    client = await impl.connect(onError);
    opened.push(client);
    bus = client.bus;
  };

  const peer = async (): Promise<Bus> => {
    const p = await impl.peer(client, onError);
    if (p !== client) opened.push(p);
    return p.bus;
  };

  afterEach(async () => {
    for (const c of opened.splice(0)) await c.bus.close();
  });

  it("reports its kind", async () => {
    await setup();
    expect(bus.kind).toBe(impl.kind);
  });

  it("delivers asynchronously, every subscription in publish order", async () => {
    await setup();
    const a: string[] = [];
    const b: string[] = [];
    bus.subscribe(`${subj}x`, (m) => {
      a.push(m.data);
    });
    bus.subscribe(`${subj}x`, (m) => {
      b.push(m.data);
    });
    const sent = Array.from({ length: 200 }, (_, i) => JSON.stringify({ i }));
    for (const s of sent) bus.publish(`${subj}x`, s);
    expect(a).toEqual([]); // never delivered inside publish
    await bus.flush();
    await waitFor("200 messages", () => a.length === 200 && b.length === 200);
    expect(a).toEqual(sent);
    expect(b).toEqual(sent);
  });

  it("delivers a message with its subject, data and no reply; respond() is then false", async () => {
    await setup();
    const got: BusMsg[] = [];
    bus.subscribe(`${subj}plain`, (m) => {
      got.push(m);
    });
    bus.publish(`${subj}plain`, '{"hello":"wörld ✓"}');
    await waitFor("message", () => got.length === 1);
    const m = got[0];
    expect(m?.subject).toBe(`${subj}plain`);
    expect(m?.data).toBe('{"hello":"wörld ✓"}');
    expect(m?.reply).toBeUndefined();
    expect(m?.respond("{}")).toBe(false);
  });

  it("has delivered everything to its own subscriptions once flush() resolves", async () => {
    await setup();
    const got: string[] = [];
    bus.subscribe(`${subj}f`, (m) => {
      got.push(m.data);
    });
    for (let i = 0; i < 50; i++) bus.publish(`${subj}f`, String(i));
    await bus.flush();
    expect(got).toHaveLength(50);
  });

  it("fixes interest at publish time: a later subscription does not get earlier messages", async () => {
    await setup();
    bus.publish(`${subj}late`, "before");
    const got: string[] = [];
    bus.subscribe(`${subj}late`, (m) => {
      got.push(m.data);
    });
    bus.publish(`${subj}late`, "after");
    await bus.flush();
    await waitFor("message", () => got.length >= 1);
    expect(got).toEqual(["after"]);
  });

  it("keeps subjects apart", async () => {
    await setup();
    const a: string[] = [];
    const b: string[] = [];
    bus.subscribe(`${subj}a`, (m) => {
      a.push(m.data);
    });
    bus.subscribe(`${subj}b`, (m) => {
      b.push(m.data);
    });
    bus.publish(`${subj}a`, "1");
    bus.publish(`${subj}b`, "2");
    bus.publish(`${subj}a`, "3");
    await bus.flush();
    await waitFor("messages", () => a.length === 2 && b.length === 1);
    expect(a).toEqual(["1", "3"]);
    expect(b).toEqual(["2"]);
  });

  it("matches wildcards: * is one token, > is one or more trailing tokens", async () => {
    await setup();
    const star: string[] = [];
    const tail: string[] = [];
    const mid: string[] = [];
    const all: string[] = []; // sentinel: gets everything, in order
    bus.subscribe(`${subj}acc.*`, (m) => {
      star.push(m.subject);
    });
    bus.subscribe(`${subj}acc.>`, (m) => {
      tail.push(m.subject);
    });
    bus.subscribe(`${subj}*.a1.cmd`, (m) => {
      mid.push(m.subject);
    });
    bus.subscribe(`${subj}>`, (m) => {
      all.push(m.subject);
    });
    const subjects = ["acc", "acc.a1", "acc.a1.cmd", "task.a1.cmd", "acc.a2"].map((s) => `${subj}${s}`);
    for (const s of subjects) bus.publish(s, "{}");
    await bus.flush();
    await waitFor("sentinel", () => all.length === subjects.length);
    expect(all).toEqual(subjects);
    expect(star).toEqual([`${subj}acc.a1`, `${subj}acc.a2`]);
    expect(tail).toEqual([`${subj}acc.a1`, `${subj}acc.a1.cmd`, `${subj}acc.a2`]);
    expect(mid).toEqual([`${subj}acc.a1.cmd`, `${subj}task.a1.cmd`]);
  });

  it("stops delivery after unsubscribe", async () => {
    await setup();
    const got: string[] = [];
    const sentinel: string[] = [];
    const sub = bus.subscribe(`${subj}u`, (m) => {
      got.push(m.data);
    });
    bus.subscribe(`${subj}u`, (m) => {
      sentinel.push(m.data);
    });
    expect(sub.subject).toBe(`${subj}u`);
    bus.publish(`${subj}u`, "1");
    await bus.flush();
    await waitFor("first", () => got.length === 1 && sentinel.length === 1);
    sub.unsubscribe();
    sub.unsubscribe(); // idempotent
    bus.publish(`${subj}u`, "2");
    bus.publish(`${subj}u`, "3");
    await bus.flush();
    await waitFor("sentinel", () => sentinel.length === 3);
    expect(got).toEqual(["1"]);
  });

  it("gives each message to exactly one member of a queue group, and a copy to plain subscribers", async () => {
    await setup();
    const other = await peer();
    const members: string[][] = [[], [], []];
    members.forEach((box, i) => {
      (i === 1 ? other : bus).subscribe(
        `${subj}work`,
        (m) => {
          box.push(m.data);
        },
        { queue: "workers" },
      );
    });
    const plain: string[] = [];
    bus.subscribe(`${subj}work`, (m) => {
      plain.push(m.data);
    });
    await other.flush(); // the peer's subscription is known to the server
    const sent = Array.from({ length: 30 }, (_, i) => String(i));
    for (const s of sent) bus.publish(`${subj}work`, s);
    await bus.flush();
    const total = (): number => members.reduce((n, box) => n + box.length, 0);
    await waitFor("30 + 30 deliveries", () => plain.length === 30 && total() === 30);
    await new Promise((resolve) => setTimeout(resolve, 50)); // no late duplicates
    expect(total()).toBe(30);
    expect(members.flat().sort((x, y) => Number(x) - Number(y))).toEqual(sent);
    expect(plain).toEqual(sent);
    for (const box of members) expect(box).toEqual([...box].sort((x, y) => Number(x) - Number(y))); // FIFO per member
  });

  it("gives one copy to each distinct queue group", async () => {
    await setup();
    const g1: string[] = [];
    const g2: string[] = [];
    for (let i = 0; i < 2; i++) {
      bus.subscribe(`${subj}q`, (m) => {
        g1.push(m.data);
      }, { queue: "g1" });
      bus.subscribe(`${subj}q`, (m) => {
        g2.push(m.data);
      }, { queue: "g2" });
    }
    for (let i = 0; i < 10; i++) bus.publish(`${subj}q`, String(i));
    await bus.flush();
    await waitFor("both groups", () => g1.length === 10 && g2.length === 10);
    expect(new Set(g1).size).toBe(10);
    expect(new Set(g2).size).toBe(10);
  });

  it("does request/reply (also across clients)", async () => {
    await setup();
    const responder = await peer();
    let sawReply: string | undefined;
    responder.subscribe(`${subj}upper`, (m) => {
      sawReply = m.reply;
      m.respond(JSON.stringify({ up: (JSON.parse(m.data) as { s: string }).s.toUpperCase() }));
    });
    await responder.flush();
    const reply = await bus.request(`${subj}upper`, JSON.stringify({ s: "abc" }), { timeoutMs: 2_000 });
    expect(JSON.parse(reply.data)).toEqual({ up: "ABC" });
    expect(typeof sawReply).toBe("string");
    const again = await bus.request(`${subj}upper`, JSON.stringify({ s: "x" }));
    expect(again.data).toBe('{"up":"X"}');
  });

  it("resolves a request to a queue group with one reply", async () => {
    await setup();
    let served = 0;
    for (let i = 0; i < 3; i++) {
      bus.subscribe(`${subj}svc`, (m) => {
        served++;
        m.respond(String(i));
      }, { queue: "svc" });
    }
    const replies = await Promise.all(
      Array.from({ length: 9 }, () => bus.request(`${subj}svc`, "{}", { timeoutMs: 2_000 })),
    );
    expect(replies.map((r) => ["0", "1", "2"].includes(r.data))).toEqual(Array(9).fill(true));
    expect(served).toBe(9);
  });

  it("rejects a request nobody answers with BusTimeoutError", async () => {
    await setup();
    let seen = 0;
    bus.subscribe(`${subj}silent`, () => {
      seen++;
    });
    // a timer due before the request's timeout has fired by the time the request is rejected (it waited its timeout)
    let earlier = false;
    const earlierTimer = setTimeout(() => (earlier = true), 100);
    const error = await rejectionOf(bus.request(`${subj}silent`, "{}", { timeoutMs: 150 }));
    clearTimeout(earlierTimer);
    expect(error).toBeInstanceOf(BusTimeoutError);
    expect(error).toMatchObject({ _tag: "BusTimeoutError", subject: `${subj}silent`, timeoutMs: 150 });
    expect(earlier).toBe(true);
    expect(seen).toBe(1);
  });

  it("rejects a request to a subject without subscribers with BusNoRespondersError, at once", async () => {
    await setup();
    // "at once": before the request's own timeout could fire (that would be a BusTimeoutError), and
    // before a timer due well before that timeout
    let timerFired = false;
    const timer = setTimeout(() => (timerFired = true), 15_000);
    const error = await rejectionOf(bus.request(`${subj}nobody`, "{}", { timeoutMs: 30_000 }));
    clearTimeout(timer);
    expect(error).toBeInstanceOf(BusNoRespondersError);
    expect(error).toMatchObject({ _tag: "BusNoRespondersError", subject: `${subj}nobody` });
    expect(timerFired).toBe(false);
  });

  it("publishSoon keeps its messages in order with publish and sends what it holds on flush or after a few ms", async () => {
    await setup();
    const got: string[] = [];
    bus.subscribe(`${subj}soon.>`, (m) => {
      got.push(m.data);
    });
    await bus.flush();
    publishSoon(bus, `${subj}soon.a`, "1");
    publishSoon(bus, `${subj}soon.b`, "2");
    bus.publish(`${subj}soon.a`, "3"); // sends what is held first
    publishSoon(bus, `${subj}soon.c`, "4");
    await bus.flush(); // sends what is held
    await waitFor("4 messages", () => got.length === 4);
    expect(got).toEqual(["1", "2", "3", "4"]);
    publishSoon(bus, `${subj}soon.a`, "5"); // nothing else sent: held at most a few ms
    await waitFor("the held message", () => got.length === 5);
    expect(thrownBy(() => publishSoon(bus, `${subj}soon.*`, "{}"))).toBeInstanceOf(BusInvalidSubjectError);
  });

  it("requestWith hands the reply or the failure to its callbacks, never throws", async () => {
    await setup();
    const requestWith = bus.requestWith!;
    expect(requestWith).toBeTypeOf("function");
    bus.subscribe(`${subj}cb`, (m) => m.respond(`re:${m.data}`));
    await bus.flush();
    const outcome = (subject: string, timeoutMs = 2_000) =>
      new Promise<unknown>((resolve) => {
        requestWith(subject, "x", { timeoutMs }, (reply) => resolve(reply.data), resolve);
      });
    expect(await outcome(`${subj}cb`)).toBe("re:x");
    expect(await outcome(`${subj}nobody-cb`)).toBeInstanceOf(BusNoRespondersError);
    expect(await outcome(`${subj}x.*`)).toBeInstanceOf(BusInvalidSubjectError);
    bus.subscribe(`${subj}mute`, () => undefined);
    expect(await outcome(`${subj}mute`, 100)).toBeInstanceOf(BusTimeoutError);
  });

  it("ignores a reply that comes after its request timed out; later requests are answered", async () => {
    await setup();
    const responder = await peer();
    let n = 0;
    responder.subscribe(`${subj}slow`, (m) => {
      const delay = n++ === 0 ? 300 : 0; // the first answer comes after its request gave up
      setTimeout(() => m.respond(`answer ${n}`), delay);
    });
    await responder.flush();
    expect(await rejectionOf(bus.request(`${subj}slow`, "{}", { timeoutMs: 100 }))).toBeInstanceOf(BusTimeoutError);
    await new Promise((r) => setTimeout(r, 350)); // the late answer arrives and finds no one waiting
    expect((await bus.request(`${subj}slow`, "{}", { timeoutMs: 2_000 })).data).toBe("answer 2");
    expect(errors).toEqual([]);
  });

  it("rejects a pending request with BusClosedError when closed", async () => {
    await setup();
    bus.subscribe(`${subj}never`, () => undefined);
    await bus.flush();
    const pending = bus.request(`${subj}never`, "{}", { timeoutMs: 10_000 });
    await bus.close();
    expect(await rejectionOf(pending)).toBeInstanceOf(BusClosedError);
  });

  it("refuses an oversized payload with PayloadTooLargeError (1 MiB default limit)", async () => {
    await setup();
    const got: number[] = [];
    bus.subscribe(`${subj}big`, (m) => {
      got.push(m.data.length);
    });
    const twoMiB = "x".repeat(2 * 1024 * 1024);
    const error = thrownBy(() => bus.publish(`${subj}big`, twoMiB));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error).toMatchObject({ subject: `${subj}big`, bytes: 2 * 1024 * 1024, limit: DEFAULT_MAX_PAYLOAD_BYTES });

    // size is counted in UTF-8 bytes: 600k two-byte characters are 1.2 MB
    const wide = "é".repeat(600_000);
    expect(thrownBy(() => bus.publish(`${subj}big`, wide))).toMatchObject({
      _tag: "PayloadTooLargeError",
      bytes: 1_200_000,
    });

    const reqError = await rejectionOf(bus.request(`${subj}big`, twoMiB, { timeoutMs: 1_000 }));
    expect(reqError).toBeInstanceOf(PayloadTooLargeError);

    // exactly at the limit is fine
    bus.publish(`${subj}big`, "y".repeat(DEFAULT_MAX_PAYLOAD_BYTES));
    await bus.flush();
    await waitFor("limit-sized message", () => got.length === 1);
    expect(got).toEqual([DEFAULT_MAX_PAYLOAD_BYTES]);
  });

  it("survives a throwing handler: counts it, reports it, keeps delivering", async () => {
    await setup();
    const got: string[] = [];
    const others: string[] = [];
    bus.subscribe(`${subj}boom`, (m) => {
      got.push(m.data);
      if (m.data === "2") throw new Error("handler failed on 2");
    });
    bus.subscribe(`${subj}boom`, (m) => {
      others.push(m.data);
    });
    for (const s of ["1", "2", "3"]) bus.publish(`${subj}boom`, s);
    await bus.flush();
    await waitFor("all deliveries", () => got.length === 3 && others.length === 3);
    expect(got).toEqual(["1", "2", "3"]);
    expect(others).toEqual(["1", "2", "3"]);
    expect(client.handlerErrors()).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.ctx).toEqual({ kind: "handler", subject: `${subj}boom` });
    expect((errors[0]?.error as Error).message).toBe("handler failed on 2");
    // and the bus still works for requests
    bus.subscribe(`${subj}echo`, (m) => {
      m.respond(m.data);
    });
    expect((await bus.request(`${subj}echo`, '"ok"')).data).toBe('"ok"');
  });

  it("refuses invalid subjects with BusInvalidSubjectError", async () => {
    await setup();
    for (const bad of ["", `${subj}a..b`, `${subj}a b`, `${subj}a.`, `${subj}*`, `${subj}>`]) {
      expect(thrownBy(() => bus.publish(bad, "{}"))).toBeInstanceOf(BusInvalidSubjectError);
    }
    for (const bad of ["", `${subj}a..b`, `${subj}>.x`, `${subj}a*`, `${subj}a\tb`]) {
      expect(thrownBy(() => bus.subscribe(bad, () => undefined))).toBeInstanceOf(BusInvalidSubjectError);
    }
    expect(await rejectionOf(bus.request(`${subj}x.*`, "{}"))).toBeInstanceOf(BusInvalidSubjectError);
  });

  it("refuses use after close (idempotent close)", async () => {
    await setup();
    const got: string[] = [];
    bus.subscribe(`${subj}c`, (m) => {
      got.push(m.data);
    });
    bus.publish(`${subj}c`, "queued before close");
    await bus.close();
    await bus.close();
    expect(got).toEqual(["queued before close"]); // close drains
    expect(thrownBy(() => bus.publish(`${subj}c`, "{}"))).toBeInstanceOf(BusClosedError);
    expect(thrownBy(() => bus.subscribe(`${subj}c`, () => undefined))).toBeInstanceOf(BusClosedError);
    expect(await rejectionOf(bus.request(`${subj}c`, "{}"))).toBeInstanceOf(BusClosedError);
    expect(await rejectionOf(bus.flush())).toBeInstanceOf(BusClosedError);
  });

  describe("decoding at the edge", () => {
    const good = (frame: number): string => JSON.stringify({ payload: { frame, model: "resnet" } });

    it("rejects bad payloads with an error naming the field; they never reach the handler", async () => {
      await setup();
      const values: Frame[] = [];
      const rejects: Array<{ subject: string; failure: DecodeFailure }> = [];
      const sub = subscribeDecoded(
        bus,
        `${subj}frames`,
        Frame,
        (v) => {
          values.push(v);
        },
        (subject, failure) => {
          rejects.push({ subject, failure });
        },
      );
      bus.publish(`${subj}frames`, good(1));
      bus.publish(`${subj}frames`, '{"payload": {"frame": 2,'); // malformed JSON
      bus.publish(`${subj}frames`, JSON.stringify({ payload: { model: "resnet" } })); // missing field
      bus.publish(`${subj}frames`, JSON.stringify({ payload: { frame: "4", model: "resnet" } })); // wrong type
      bus.publish(`${subj}frames`, good(5));
      await bus.flush();
      await waitFor("5 messages", () => values.length + rejects.length === 5);

      expect(values).toEqual([{ payload: { frame: 1, model: "resnet" } }, { payload: { frame: 5, model: "resnet" } }]);
      expect(sub.accepted).toBe(2);
      expect(sub.rejected).toBe(3);
      expect(rejects.map((r) => r.subject)).toEqual(Array(3).fill(`${subj}frames`));
      const [malformed, missing, wrongType] = rejects.map((r) => r.failure);
      expect(malformed).toBeInstanceOf(DecodeFailure);
      expect(malformed?.issues).toHaveLength(1);
      expect(malformed?.issues[0]?.path).toBe("");
      expect(malformed?.issues[0]?.message).toMatch(/^invalid JSON: /);
      expect(missing?.issues).toEqual([{ path: "payload.frame", message: "is missing" }]);
      expect(missing?.message).toBe("payload.frame: is missing");
      expect(wrongType?.issues).toEqual([{ path: "payload.frame", message: 'Expected number, actual "4"' }]);
      expect(wrongType?.message).toContain("payload.frame");
      expect(client.handlerErrors()).toBe(0);
    });

    it("answers a request whose payload does not decode with a decode-error reply", async () => {
      await setup();
      const responder = await peer();
      const handled: number[] = [];
      let rejected = 0;
      subscribeDecoded(
        responder,
        `${subj}score`,
        Frame,
        (v, m) => {
          handled.push(v.payload.frame);
          m.respond(JSON.stringify({ ok: true, frame: v.payload.frame }));
        },
        () => {
          rejected++;
        },
      );
      await responder.flush();

      const raw = await bus.request(`${subj}score`, JSON.stringify({ payload: { frame: true, model: "m" } }), {
        timeoutMs: 2_000,
      });
      expect(JSON.parse(raw.data)).toEqual({
        _tag: "error",
        v: 1,
        kind: "decode",
        message: "payload.frame: Expected number, actual true",
        issues: [{ path: "payload.frame", message: "Expected number, actual true" }],
      });

      const refused = await rejectionOf(requestDecoded(bus, `${subj}score`, '{"payload":{}}', Ack, { timeoutMs: 2_000 }));
      expect(refused).toBeInstanceOf(RemoteDecodeError);
      expect((refused as RemoteDecodeError).issues.map((i) => i.path)).toEqual(["payload.frame", "payload.model"]);
      expect((refused as RemoteDecodeError).message).toContain("payload.frame: is missing");

      const ack = await requestDecoded(bus, `${subj}score`, good(7), Ack, { timeoutMs: 2_000 });
      expect(ack).toEqual({ ok: true, frame: 7 });

      // a reply that does not match the reply schema
      const badReply = await rejectionOf(
        requestDecoded(bus, `${subj}score`, good(8), Schema.Struct({ ok: Schema.Boolean, score: Schema.Number })),
      );
      expect(badReply).toBeInstanceOf(DecodeFailure);
      expect((badReply as DecodeFailure).issues).toEqual([{ path: "score", message: "is missing" }]);

      expect(handled).toEqual([7, 8]);
      expect(rejected).toBe(2);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Memory-bus specifics (documented in docs/bus.md)
// ---------------------------------------------------------------------------------------------

describe("memory bus specifics", () => {
  it("chooses queue-group members round-robin in subscription order", async () => {
    const bus = createMemoryBus();
    const boxes: string[][] = [[], [], []];
    boxes.forEach((box) =>
      bus.subscribe("w.in", (m) => {
        box.push(m.data);
      }, { queue: "w" }),
    );
    for (let i = 0; i < 9; i++) bus.publish("w.in", String(i));
    await bus.flush();
    expect(boxes).toEqual([["0", "3", "6"], ["1", "4", "7"], ["2", "5", "8"]]);
    await bus.close();
  });

  it("flush() waits for cascades (handlers that publish)", async () => {
    const bus = createMemoryBus();
    const seen: string[] = [];
    bus.subscribe("a", (m) => {
      seen.push(`a:${m.data}`);
      bus.publish("b", m.data);
    });
    bus.subscribe("b", (m) => {
      seen.push(`b:${m.data}`);
      if (m.data === "1") bus.publish("c", m.data);
    });
    bus.subscribe("c", (m) => {
      seen.push(`c:${m.data}`);
    });
    bus.publish("a", "1");
    bus.publish("a", "2");
    await bus.flush();
    expect(seen).toEqual(["a:1", "a:2", "b:1", "b:2", "c:1"]);
    expect(bus.published).toBe(5);
    await bus.close();
  });

  it("hands every subscriber the same BusMsg (no copies)", async () => {
    const bus = createMemoryBus();
    const got: BusMsg[] = [];
    bus.subscribe("z", (m) => {
      got.push(m);
    });
    bus.subscribe("*", (m) => {
      got.push(m);
    });
    bus.publish("z", '{"k":1}');
    await bus.flush();
    expect(got).toHaveLength(2);
    expect(got[0]).toBe(got[1]);
    await bus.close();
  });

  it("honours a custom maxPayload", async () => {
    const bus = createMemoryBus({ maxPayload: 8 });
    expect(bus.maxPayload).toBe(8);
    bus.publish("s", "12345678");
    expect(thrownBy(() => bus.publish("s", "123456789"))).toMatchObject({ bytes: 9, limit: 8 });
    await bus.close();
  });

  it("rejects pending requests when closed", async () => {
    const bus = createMemoryBus();
    bus.subscribe("never", () => undefined);
    const pending = bus.request("never", "{}", { timeoutMs: 10_000 });
    await bus.close();
    expect(await rejectionOf(pending)).toBeInstanceOf(BusClosedError);
  });
});

describe("bus helpers", () => {
  it("matches subjects like NATS", () => {
    expect(subjectMatches("a.*", "a.b")).toBe(true);
    expect(subjectMatches("a.*", "a.b.c")).toBe(false);
    expect(subjectMatches("a.*", "a")).toBe(false);
    expect(subjectMatches("a.>", "a.b.c")).toBe(true);
    expect(subjectMatches("a.>", "a")).toBe(false);
    expect(subjectMatches(">", "a")).toBe(true);
    expect(subjectMatches("*.b.*", "x.b.y")).toBe(true);
    expect(subjectMatches("a.b", "a.b")).toBe(true);
    expect(subjectMatches("a.b", "a.c")).toBe(false);
  });

  it("counts UTF-8 bytes like TextEncoder", () => {
    for (const s of ["", "abc", "é", "✓", "😀", "a😀b", "\ud800x", "x\udc00"]) {
      expect(utf8ByteLength(s)).toBe(new TextEncoder().encode(s).length);
    }
  });

  it("decodeJson: value or a DecodeFailure with dotted paths", () => {
    const S = Schema.Struct({ items: Schema.Array(Schema.Struct({ id: Schema.Number })) });
    expect(decodeJson(S, '{"items":[{"id":1}]}')).toEqual(Either.right({ items: [{ id: 1 }] }));
    const bad = decodeJson(S, '{"items":[{"id":1},{"id":"2"},{}]}');
    expect(Either.isLeft(bad) && bad.left.issues).toEqual([
      { path: "items.1.id", message: 'Expected number, actual "2"' },
      { path: "items.2.id", message: "is missing" },
    ]);
    const notJson = decodeJson(S, "nope");
    expect(Either.isLeft(notJson) && notJson.left.message).toMatch(/^invalid JSON: /);
  });
});
