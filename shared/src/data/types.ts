/**
 * The Dataset: everything a run needs to know about workloads and hardware, as loaded from
 * shared/data/xrbench and optionally extended with user files.
 */
import type { Dataflow, HardwareConfig, Model, Scenario } from "../domain/types";
import type { CostTable } from "./costs";

export interface Dataset {
  readonly models: ReadonlyMap<string, Model>;
  readonly scenarios: ReadonlyMap<string, Scenario>;
  readonly hardwareConfigs: ReadonlyMap<string, HardwareConfig>;
  readonly costs: CostTable;
  /**
   * The dataflow combinations XRBench runs on each hardware group (from dataflows.json, the files
   * under dataflows/<group>/): single → WS, OS, RS; dual → OS_OS, RS_RS, WS_OS, WS_WS; quad → ….
   * Empty for a group that XRBench does not sweep (Not_Used, user).
   */
  readonly dataflowSets: ReadonlyMap<string, ReadonlyArray<ReadonlyArray<Dataflow>>>;
}
