/**
 * Subject builders (DESIGN.md §3 layout) and token validation: a run id, model name or accelerator
 * id that could inject wildcards, extra tokens or whitespace is refused with an error naming what.
 */
import { describe, expect, it } from "vitest";
import { InvalidSubjectTokenError, SUBJECT_ROOT, Subjects, checkToken, isValidToken } from "./subjects";

/** Calls `build`, which must throw an InvalidSubjectTokenError, and returns it. */
const refusal = (build: () => unknown): InvalidSubjectTokenError => {
  try {
    build();
  } catch (error) {
    if (error instanceof InvalidSubjectTokenError) return error;
    throw error;
  }
  throw new Error("expected an InvalidSubjectTokenError, but the subject was built");
};

describe("subject layout", () => {
  it("builds every documented address", () => {
    expect(SUBJECT_ROOT).toBe("sdrm3");
    expect(Subjects.accelCmd("r1", "acc0")).toBe("sdrm3.r1.accel.acc0.cmd");
    expect(Subjects.taskCmd("r1", "ES_RITNet")).toBe("sdrm3.r1.task.ES_RITNet.cmd");
    expect(Subjects.allAccelCmds("r1")).toBe("sdrm3.r1.accel.*.cmd");
    expect(Subjects.allTaskCmds("r1")).toBe("sdrm3.r1.task.*.cmd");
    expect(Subjects.event("r1", "sched", "frame-released")).toBe("sdrm3.r1.evt.sched.frame-released");
    expect(Subjects.allEvents("r1")).toBe("sdrm3.r1.evt.>");
    expect(Subjects.control("r1", "register")).toBe("sdrm3.r1.ctl.register");
    expect(Subjects.allOfRun("r1")).toBe("sdrm3.r1.>");
    expect(Subjects.log("r1")).toBe("sdrm3.r1.log");
    expect(Subjects.allLogs()).toBe("sdrm3.*.log");
    expect(Subjects.sweep()).toBe("sdrm3.sweep.run");
    expect(Subjects.leaseBucket("r1")).toBe("sdrm3_leases_r1");
  });

  it("accepts tokens of letters, digits, '_' and '-' up to 64 characters", () => {
    const longest = "a".repeat(64);
    expect(Subjects.accelCmd(longest, "A-b_9")).toBe(`sdrm3.${longest}.accel.A-b_9.cmd`);
    expect(checkToken("run id", "x")).toBe("x");
    expect(isValidToken(longest)).toBe(true);
    expect(isValidToken("a".repeat(65))).toBe(false);
  });
});

const BAD_TOKENS: ReadonlyArray<readonly [string, string]> = [
  ["star wildcard", "a*"],
  ["lone star", "*"],
  ["tail wildcard", ">"],
  ["embedded '>'", "a>b"],
  ["dot (extra token)", "a.b"],
  ["space", "a b"],
  ["tab", "a\tb"],
  ["newline", "a\n"],
  ["empty", ""],
  ["65 characters", "a".repeat(65)],
];

describe.each(BAD_TOKENS)("a token with %s is refused", (_label, bad) => {
  it("as a run id", () => {
    const error = refusal(() => Subjects.allEvents(bad));
    expect(error.what).toBe("run id");
    expect(error.value).toBe(bad);
    expect(error.name).toBe("InvalidSubjectTokenError");
    expect(error.message).toBe(
      `invalid run id ${JSON.stringify(bad)}: expected 1-64 characters of letters, digits, '_' or '-' (no '.', '*', '>' or whitespace)`,
    );
    // every builder checks the run id
    expect(refusal(() => Subjects.accelCmd(bad, "acc0")).what).toBe("run id");
    expect(refusal(() => Subjects.taskCmd(bad, "m")).what).toBe("run id");
    expect(refusal(() => Subjects.allEvents(bad)).what).toBe("run id");
    expect(refusal(() => Subjects.allOfRun(bad)).what).toBe("run id");
  });

  it("as a model name", () => {
    const error = refusal(() => Subjects.taskCmd("r1", bad));
    expect(error.what).toBe("model name");
    expect(error.value).toBe(bad);
    expect(error.message.startsWith(`invalid model name ${JSON.stringify(bad)}:`)).toBe(true);
  });

  it("as an accelerator id", () => {
    const error = refusal(() => Subjects.accelCmd("r1", bad));
    expect(error.what).toBe("accelerator id");
    expect(error.value).toBe(bad);
    expect(error.message.startsWith(`invalid accelerator id ${JSON.stringify(bad)}:`)).toBe(true);
  });

  it("as an event source, event type or control kind", () => {
    expect(refusal(() => Subjects.event("r1", bad, "t")).what).toBe("event source");
    expect(refusal(() => Subjects.event("r1", "s", bad)).what).toBe("event type");
    expect(refusal(() => Subjects.control("r1", bad)).what).toBe("control kind");
  });
});
