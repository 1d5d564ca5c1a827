/**
 * The policy catalogue: every policy by name, and parameter resolution (defaults + overrides,
 * validated with errors that name the parameter and the valid range or names).
 */
import { Either, ParseResult, Schema } from "effect";
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
import type { ParamKind, ParamSpec, Policy, PolicyFactory, PolicyParams } from "./types";
import { veltair } from "./veltair";
import { xrbench } from "./xrbench";
import { Sdrm3Error } from "../contracts/errors";

export const POLICIES: ReadonlyMap<string, PolicyFactory> = new Map(
  [xrbench, sdrm3, fcfs, rr, edf, llf, sjf, prema, planaria, veltair, herald, idle, shed].map((f) => [f.name, f] as const),
);

export class PolicyInputError extends Sdrm3Error {
  readonly _tag = "PolicyInputError";
  readonly failure = "input";
}

export const kindOf = (spec: ParamSpec): ParamKind => spec.kind ?? "number";

/** What a parameter of `spec`'s kind and range accepts, as error messages and `sdrm3 list policies` say it. */
export const expectedValue = (spec: ParamSpec): string =>
  kindOf(spec) === "switch" ? "a switch, 0 (off) or 1 (on)" : `${kindOf(spec) === "integer" ? "an integer" : "a number"} in [${spec.min}, ${spec.max}]`;

/** The Effect Schema of one parameter's values: its kind and its range. */
export const paramSchema = (spec: ParamSpec): Schema.Schema<number> => {
  const kind = kindOf(spec);
  const accepts = (x: number) =>
    kind === "switch" ? x === 0 || x === 1 : Number.isFinite(x) && x >= spec.min && x <= spec.max && (kind === "number" || Number.isInteger(x));
  return Schema.Number.pipe(Schema.filter(accepts, { description: expectedValue(spec) }));
};

/** The Effect Schema of a policy's parameter overrides: each optional, of its kind; no other key. */
export const paramsSchema = (factory: PolicyFactory): Schema.Schema<Readonly<Record<string, number | undefined>>> =>
  Schema.Struct(Object.fromEntries(factory.params.map((p) => [p.name, Schema.optional(paramSchema(p))])));

/** The policy `factory` builds with `params` (resolved), with the capabilities it declares. */
export const buildPolicy = (factory: PolicyFactory, params: PolicyParams): Policy => ({ ...factory.create(params), capabilities: factory.capabilities });

/** The factory of policy `name`; throws PolicyInputError listing the valid names. */
export const policyFactory = (name: string, catalogue = POLICIES): PolicyFactory => {
  const factory = catalogue.get(name);
  if (factory === undefined) throw new PolicyInputError(`unknown policy '${name}'; valid: ${[...catalogue.keys()].join(", ")}`);
  return factory;
};

/**
 * Checks `overrides` against the parameters of policy `name` (its Schema): an unknown name, or a
 * value not of the parameter's kind and range, throws PolicyInputError naming the policy, the
 * parameter, what it accepts and the value given.
 */
export const checkParams = (factory: PolicyFactory, overrides: PolicyParams): void => {
  const unknown = Object.keys(overrides).find((key) => !factory.params.some((p) => p.name === key));
  if (unknown !== undefined) {
    const valid = factory.params.map((p) => p.name);
    throw new PolicyInputError(
      `policy '${factory.name}' has no parameter '${unknown}'; ${valid.length === 0 ? "it takes none" : `valid: ${valid.join(", ")}`}`,
    );
  }
  const result = Schema.decodeUnknownEither(paramsSchema(factory), { errors: "first" })(overrides);
  if (Either.isRight(result)) return;
  const key = String(ParseResult.ArrayFormatter.formatErrorSync(result.left)[0]?.path[0] ?? "");
  const spec = factory.params.find((p) => p.name === key)!;
  throw new PolicyInputError(`parameter ${factory.name}.${key}: expected ${expectedValue(spec)}, got ${overrides[key]}`);
};

/** Builds policy `name` with `overrides` on top of its defaults. */
export const resolvePolicy = (name: string, overrides: PolicyParams = {}, catalogue = POLICIES): Policy => {
  const factory = policyFactory(name, catalogue);
  checkParams(factory, overrides);
  const params: Record<string, number> = {};
  for (const p of factory.params) params[p.name] = p.default;
  return buildPolicy(factory, { ...params, ...overrides });
};

// ─── what the run setup reads through the capabilities ───────────────────────────────────────

/** Refuses a live-clock run of a policy that cannot run live (the one place this is decided). */
export const checkLiveCapable = (policy: Policy): void => {
  const { live } = policy.capabilities;
  if (!live.can) throw new PolicyInputError(`--clock live: ${live.why}`);
};

/** The online tuning `policy`'s tune switch turns on (undefined: off, or it has none). */
export const tuningOf = (policy: Policy): { readonly everyMs: number; readonly lookaheadMs: number } | undefined => {
  const tune = policy.capabilities.switches.tune;
  if (tune === undefined || policy.params[tune.on] !== 1) return undefined;
  return { everyMs: policy.params[tune.every]!, lookaheadMs: policy.params[tune.lookahead]! };
};

/** A run's features as flags give them (`--supernet on|off`, `--tune`); undefined: not given. */
export interface SwitchFlags {
  readonly supernet?: boolean | undefined;
  readonly tune?: boolean | undefined;
}

/**
 * Whether a run of policy `name` has supernets, and the parameters to build it with: a flag sets
 * the policy's switch parameter (so the log header records it); a flag and the same switch given
 * as a parameter that disagree are refused, naming both. Supernets are a property of the run:
 * a policy without the switch still runs with them (its jobs keep the full model); `--tune` on a
 * policy without a tune switch is refused, naming the policies that have one.
 */
export const withRunSwitches = (
  name: string,
  params: PolicyParams,
  flags: SwitchFlags,
  catalogue = POLICIES,
): { readonly supernet: boolean; readonly params: PolicyParams } => {
  const { switches } = policyFactory(name, catalogue).capabilities;
  const out: Record<string, number> = { ...params };
  const set = (what: string, on: boolean | undefined, param: string) => {
    if (on === undefined) return;
    const given = params[param];
    if (given !== undefined && given !== (on ? 1 : 0)) {
      throw new PolicyInputError(`${what} ${on ? "on" : "off"} contradicts the ${name} parameter ${param}=${given}; give one of them`);
    }
    out[param] = on ? 1 : 0;
  };
  if (switches.supernet !== undefined) set("supernet", flags.supernet, switches.supernet);
  if (flags.tune !== undefined) {
    if (switches.tune === undefined) {
      const tuners = [...catalogue.values()].filter((f) => f.capabilities.switches.tune !== undefined).map((f) => f.name);
      throw new PolicyInputError(`--tune: the ${name} policy does not tune itself; policies that do: ${tuners.join(", ")}`);
    }
    set("tune", flags.tune, switches.tune.on);
  }
  const supernet = flags.supernet ?? (switches.supernet !== undefined && out[switches.supernet] === 1);
  return { supernet, params: out };
};
