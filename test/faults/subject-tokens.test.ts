/**
 * Subject-token validation end to end (issue 7, item 3): a run id, model name or accelerator id
 * containing `*`, `>`, `.` or whitespace would inject wildcards or extra tokens into the run's
 * subjects. The subject builders refuse them (shared/src/contracts/subjects.test.ts); this checks
 * that every way in refuses them too, with a clear error and before anything touches the bus:
 *
 * - runScenario / runScheduler with such a run id;
 * - a scenario file whose model instance name is such a token (resolveRunSpec, then runScenario),
 *   leaving no subscription behind;
 * - the CLI: `sdrm3 serve <role> --run 'a.b'`, `sdrm3 run --scenario-file` with such a model name,
 *   `sdrm3 serve accelerator --slot 'a.b'`: exit 2 (bad input), one clear line on stderr.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "@sdrm3/cli";
import { InvalidSubjectTokenError } from "@sdrm3/shared/contracts";
import { DataError } from "@sdrm3/shared/data";
import { connectNatsBus, removeLeaseBucket } from "@sdrm3/shared/nats";
import { type Bus, createMemoryBus, resolveRunSpec, runScenario, runScheduler } from "@sdrm3/shared/runtime";
import { natsTestOptions } from "@sdrm3/shared/testkit";

const BAD_TOKENS = ["*", ">", "a.b", "a b", "a\tb", "a*", "run>", ".", "a.>"] as const;
const MESSAGE_TAIL = "expected 1-64 characters of letters, digits, '_' or '-' (no '.', '*', '>' or whitespace)";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-tokens-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A scenario file with model instances of these names (all ES_RITNet at 30 FPS). */
const scenarioFile = (name: string, models: ReadonlyArray<string>): string => {
  const path = join(dir, `${randomUUID()}.json`);
  writeFileSync(path, JSON.stringify({ name, models: models.map((m) => ({ name: m, model: "ES_RITNet", fps: 30 })) }));
  return path;
};

/** A memory bus that records every call and which subscriptions are still open. */
const recordingBus = () => {
  const inner = createMemoryBus();
  const calls: string[] = [];
  const open = new Map<number, string>();
  let n = 0;
  const bus: Bus = {
    kind: inner.kind,
    publish: (subject, data) => {
      calls.push(`publish ${subject}`);
      inner.publish(subject, data);
    },
    request: (subject, data, opts) => {
      calls.push(`request ${subject}`);
      return inner.request(subject, data, opts);
    },
    subscribe: (subject, handler, opts) => {
      calls.push(`subscribe ${subject}`);
      const id = n++;
      const sub = inner.subscribe(subject, handler, opts);
      open.set(id, subject);
      return {
        subject: sub.subject,
        unsubscribe: () => {
          open.delete(id);
          sub.unsubscribe();
        },
      };
    },
    flush: () => inner.flush(),
    close: () => inner.close(),
  };
  return { bus, calls, open, close: () => inner.close() };
};

/** The error `run` fails with, which must be an instance of `kind`. */
const failure = async <E>(kind: abstract new (...args: never[]) => E, run: () => Promise<unknown>): Promise<E> => {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(kind);
  return error as E;
};
const refusal = (run: () => Promise<unknown>) => failure(InvalidSubjectTokenError, run);

const RESOLVED = resolveRunSpec({ scenario: "VR_gaming", hardware: "Single_4K/WS", policy: "sdrm3", durationMs: 100 });

describe.each(BAD_TOKENS)("run id %j", (bad) => {
  it("is refused by runScenario and runScheduler before anything touches the bus", async () => {
    for (const start of [
      (bus: Bus) => runScenario({ ...RESOLVED, bus, run: bad }),
      (bus: Bus) => runScheduler({ ...RESOLVED, bus, run: bad }),
    ]) {
      const rec = recordingBus();
      const error = await refusal(() => start(rec.bus));
      expect(error.message).toBe(`invalid run id ${JSON.stringify(bad)}: ${MESSAGE_TAIL}`);
      expect(rec.calls).toEqual([]);
      await rec.close();
    }
  });
});

// A model name is checked where the scenario file is loaded (issue 17.2: the file, the field and the
// value, before any run starts); nothing reaches the bus.
const loadRefusal = (run: () => Promise<unknown>) => failure(DataError, run);

describe("a model instance name that is not a subject token", () => {
  it.each(BAD_TOKENS)("%j is refused when its scenario file loads, naming the file, the field and the name", async (bad) => {
    const file = scenarioFile("S_bad", [bad]);
    const files = { scenarios: [file] };
    const rec = recordingBus();
    const error = await loadRefusal(async () => runScenario({ ...resolveRunSpec({ scenario: "S_bad", hardware: "Single_4K/WS", policy: "sdrm3", durationMs: 100, files }), bus: rec.bus, run: "r1" }));
    expect(error.message).toBe(`${file}: models[0].name: expected a model name of 1-64 letters, digits, '_' or '-', got ${JSON.stringify(bad)}`);
    expect(rec.calls, "nothing touched the bus").toEqual([]);
    expect([...rec.open.values()], "subscriptions left open after the refusal").toEqual([]);
    await rec.close();
  });

  it("after a valid one, names the bad one and leaves no subscription and no actor of the valid one behind", async () => {
    const files = { scenarios: [scenarioFile("S_mixed", ["ok", "a.b"])] };
    const rec = recordingBus();
    const error = await loadRefusal(async () => runScenario({ ...resolveRunSpec({ scenario: "S_mixed", hardware: "Single_4K/WS", policy: "sdrm3", durationMs: 100, files }), bus: rec.bus, run: "r1" }));
    expect(error.message).toContain(`models[1].name: expected a model name of 1-64 letters, digits, '_' or '-', got "a.b"`);
    expect(rec.calls, "nothing touched the bus").toEqual([]);
    expect([...rec.open.values()], "subscriptions left open after the refusal").toEqual([]);
    await rec.close();
  });
});

// ─── the CLI ───────────────────────────────────────────────────────────────────────────────────
const sdrm3 = async (...argv: string[]) => {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
};

/** Nothing listens there: a command that tried to connect would fail with a connection error (exit 1). */
const NO_NATS = ["--nats", "127.0.0.1:1", "--connect-timeout", "300ms"];
const SERVE_SPEC = ["--scenario", "VR_gaming", "--hardware", "Dual_4K/WS_OS", "--duration", "100ms"];

describe("sdrm3 serve --run <not a token>", () => {
  it.each(BAD_TOKENS.flatMap((bad) => (["scheduler", "workload", "accelerator"] as const).map((role) => [role, bad] as const)))(
    "serve %s --run %j: exit 2 before connecting, one clear line",
    async (role, bad) => {
      const r = await sdrm3("serve", role, ...NO_NATS, "--run", bad, ...SERVE_SPEC);
      expect(r).toEqual({ code: 2, out: "", err: `sdrm3: --run: invalid run id ${JSON.stringify(bad)}: ${MESSAGE_TAIL}\n` });
    },
  );
});

describe("sdrm3 run --scenario-file with a model name that is not a token", () => {
  it.each(["a.b", "a b", "*", ">"])("model %j: exit 2 (bad input), naming the model", async (bad) => {
    const file = scenarioFile("S_cli", [bad]);
    const r = await sdrm3("run", "--scenario", "S_cli", "--hardware", "Single_4K/WS", "--policy", "sdrm3", "--duration", "100ms", "--scenario-file", file);
    expect(r.out).toBe("");
    expect(r.err).toBe(`sdrm3: ${file}: models[0].name: expected a model name of 1-64 letters, digits, '_' or '-', got ${JSON.stringify(bad)}\n`);
    expect(r.err).not.toContain("    at ");
    expect(r.code, `exit code; stderr: ${r.err.trim()}`).toBe(2);
  });
});

describe("sdrm3 serve accelerator --slot <not a slot id>", () => {
  it.each(["a.b", "*", ">", "acc0,a b"])("--slot %j: exit 2, naming the slot, and nothing left on the server", async (slots) => {
    const nats = natsTestOptions();
    const run = `slot-${randomUUID().slice(0, 8)}`;
    const env = { user: process.env.NATS_USER, pass: process.env.NATS_PASS };
    let r: Awaited<ReturnType<typeof sdrm3>>;
    try {
      if (nats.user !== undefined) process.env.NATS_USER = nats.user;
      if (nats.pass !== undefined) process.env.NATS_PASS = nats.pass;
      r = await sdrm3("serve", "accelerator", "--nats", nats.servers, "--run", run, ...SERVE_SPEC, "--slot", slots);
    } finally {
      for (const [key, value] of [["NATS_USER", env.user], ["NATS_PASS", env.pass]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    // a refused command must not have created the run's slot lease bucket (removed here either way)
    const bus = await connectNatsBus({ ...nats, name: `${run}-check` });
    const leftBucket = await removeLeaseBucket(bus.nc, run).finally(() => bus.close());
    expect(r.out).toBe("");
    expect(r.err).toContain(`'${slots.split(",").at(-1)}'`);
    expect(r.err).not.toContain("    at ");
    expect.soft(r.code, `exit code; stderr: ${r.err.trim()}`).toBe(2);
    expect.soft(leftBucket, `lease bucket of run ${run} left on the server`).toBe(false);
  });
});
