/**
 * What the dashboard knows about a run before its traffic: from the run's flags (live, the same
 * resolution every service of the run does) or from a log header (replay). Model figures are the
 * run's own ModelInfo (ideal frame energy e*, period), so the page's UXCost is the runs' UXCost.
 */
import { taskPeriodMs } from "@sdrm3/shared/actors";
import type { LogHeader } from "@sdrm3/shared/contracts";
import { type ResolvedRun, modeOf, modelInfo, recordedPolicy, runOptionsFromHeader } from "@sdrm3/shared/runtime";
import type { RunInfo } from "./model";

/** Credentials in a URL are not shown. */
export const maskUrl = (url: string): string => url.replace(/\/\/[^@/]*@/, "//***@");

const fromOptions = (
  base: Pick<RunInfo, "run" | "mode" | "source"> & { readonly speed?: number },
  r: Pick<ResolvedRun, "scenario" | "hardware" | "costs" | "policy" | "durationMs" | "variants" | "supernet">,
): RunInfo => {
  const mode = modeOf(r.policy);
  return {
    ...base,
    scenario: r.scenario.name,
    hardware: r.hardware.name,
    policy: { name: r.policy.name, params: { ...r.policy.params } },
    durationMs: r.durationMs,
    accelerators: r.hardware.accelerators.map((a) => ({ id: a.id, dataflow: a.dataflow, numPes: a.numPes })),
    models: r.scenario.models.map((m) => {
      const costs = r.costs.get(m.name);
      if (costs === undefined) throw new Error(`no costs for scenario model ${m.name}`);
      const widths = r.supernet === true ? r.variants?.get(m.name)?.map((v) => v.width) : undefined;
      return { ...modelInfo(m.name, m.fps, taskPeriodMs({ fps: m.fps, mode }), costs), ...(widths === undefined ? {} : { widths }) };
    }),
  };
};

/** A live run described by its flags (`sdrm3 serve dashboard --scenario … --hardware …`). */
export const runInfoOfResolved = (run: string, natsUrl: string, resolved: ResolvedRun): RunInfo =>
  fromOptions({ run, mode: "live", source: maskUrl(natsUrl) }, resolved);

/** A live run known only by its id: accelerators and models are learnt from the traffic. */
export const runInfoOfId = (run: string, natsUrl: string): RunInfo => ({ run, mode: "live", source: maskUrl(natsUrl), accelerators: [], models: [] });

/** A recorded run, from its log header. */
export const runInfoOfHeader = (header: LogHeader, path: string, speed: number): RunInfo =>
  fromOptions({ run: header.run, mode: "replay", source: path, speed }, runOptionsFromHeader(header, recordedPolicy(header)));
