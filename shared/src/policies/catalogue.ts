/**
 * The policy catalogue: every policy by name, and parameter resolution (defaults + overrides,
 * validated with errors that name the parameter and the valid range or names).
 */
import { edf } from "./edf";
import { fcfs } from "./fcfs";
import { herald } from "./herald";
import { idle } from "./idle";
import { llf } from "./llf";
import { planaria } from "./planaria";
import { prema } from "./prema";
import { rr } from "./rr";
import { sdrm3 } from "./sdrm3";
import { shed } from "./shed";
import { sjf } from "./sjf";
import type { Policy, PolicyFactory, PolicyParams } from "./types";
import { veltair } from "./veltair";
import { xrbench } from "./xrbench";

export const POLICIES: ReadonlyMap<string, PolicyFactory> = new Map(
  [xrbench, sdrm3, fcfs, rr, edf, llf, sjf, prema, planaria, veltair, herald, idle, shed].map((f) => [f.name, f] as const),
);

export class PolicyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PolicyInputError";
  }
}

/** Builds policy `name` with `overrides` on top of its defaults. */
export const resolvePolicy = (name: string, overrides: PolicyParams = {}, catalogue = POLICIES): Policy => {
  const factory = catalogue.get(name);
  if (factory === undefined) throw new PolicyInputError(`unknown policy '${name}'; valid: ${[...catalogue.keys()].join(", ")}`);
  const params: Record<string, number> = {};
  for (const p of factory.params) params[p.name] = p.default;
  for (const [key, value] of Object.entries(overrides)) {
    const spec = factory.params.find((p) => p.name === key);
    if (spec === undefined) {
      const valid = factory.params.map((p) => p.name);
      throw new PolicyInputError(
        `policy '${name}' has no parameter '${key}'; ${valid.length === 0 ? "it takes none" : `valid: ${valid.join(", ")}`}`,
      );
    }
    if (!Number.isFinite(value) || value < spec.min || value > spec.max) {
      throw new PolicyInputError(`parameter ${name}.${key}: expected a number in [${spec.min}, ${spec.max}], got ${value}`);
    }
    params[key] = value;
  }
  return factory.create(params);
};
