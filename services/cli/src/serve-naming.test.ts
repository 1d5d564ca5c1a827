import { describe, expect, it } from "vitest";
import { RunConfigError } from "@sdrm3/shared/contracts";
import { RunTakenError } from "@sdrm3/shared/nats";
import { CliInputError } from "./duration";
import { naming } from "./serve";

describe("serve scheduler names the step a library error came from (docs/reliability.md)", () => {
  it("a bare library error gets the step's name, and keeps the original as its cause", async () => {
    const bare = new Error("timeout");
    const named = await naming("publishing the run's spec (JetStream KV)", Promise.reject(bare)).catch((e: unknown) => e);
    expect(named).toBeInstanceOf(Error);
    expect((named as Error).message).toBe("publishing the run's spec (JetStream KV): timeout");
    expect((named as Error).cause).toBe(bare);
  });

  it("sdrm3's own errors pass unchanged (their class decides the exit code)", async () => {
    for (const own of [new CliInputError("--speed: bad"), new RunConfigError("bad run"), new RunTakenError("run r1 is taken")]) {
      await expect(naming("a step", Promise.reject(own))).rejects.toBe(own);
    }
  });

  it("a value passes through", async () => {
    await expect(naming("a step", Promise.resolve(42))).resolves.toBe(42);
  });
});
