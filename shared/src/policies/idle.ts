/**
 * `idle` — the reference floor (DESIGN.md §7): runs nothing and drops every ready frame at the
 * first scheduling point after its release (reason "idle policy"). It spends no energy and
 * completes no frame, so its UXCost is the worst an honest schedule can be compared against:
 * every policy must rank above it, sdrm3 in every cell.
 *
 * Not from a paper: the project's own sanity reference (switching everything off must never look
 * like a win).
 */
import { BASELINE_CAPABILITIES } from "./capabilities";
import { NO_DECISION } from "./common";
import type { Decision, Drop, PolicyFactory, SchedulerView } from "./types";

export const IDLE_DROP_REASON = "idle policy";

export const decideIdle = (view: SchedulerView): Decision => {
  let drops: Drop[] | undefined;
  for (const m of view.models) for (const j of m.queue) if (!j.running) (drops ??= []).push({ job: j.id, reason: IDLE_DROP_REASON });
  return drops === undefined ? NO_DECISION : { dispatches: [], drops };
};

export const idle: PolicyFactory = {
  name: "idle",
  description: "reference floor: drops every frame, runs nothing",
  source: "the project's reference policy (DESIGN.md §7): the worst possible schedule",
  params: [],
  capabilities: BASELINE_CAPABILITIES,
  create: (params) => ({ name: "idle", description: idle.description, params, granularity: "block", decide: decideIdle }),
};
