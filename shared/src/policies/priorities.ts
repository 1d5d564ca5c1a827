/**
 * XR priority classes of the XRBench model tasks, shared by the priority-aware baselines (`prema`,
 * `planaria`). PREMA (Choi & Rhu, HPCA 2020) uses three classes with 9 / 3 / 1 tokens; Planaria
 * (Ghodrati et al., MICRO 2020) weighs its score by the same kind of priority. XRBench itself
 * assigns none, so this table is the project's, chosen by what a late result costs the user:
 *
 * | task | prefix | class | why |
 * |---|---|---|---|
 * | eye segmentation | ES | high (9) | feeds gaze: foveated rendering and eye input are perceived within a frame |
 * | gaze estimation | GE | high (9) | eye-based interaction; a stale gaze is a visible rendering or input error |
 * | hand tracking | HT | high (9) | direct manipulation: hand-to-photon latency is felt at once |
 * | depth estimation | DE | medium (3) | scene understanding for occlusion/placement; tolerates a frame of delay |
 * | plane detection | PD | medium (3) | anchors virtual content; planes change slowly |
 * | semantic segmentation | SS | medium (3) | scene context; consumed over several frames |
 * | object detection | OD | medium (3) | scene context (D2go_FastRCNN is the OD task of outdoor_activity_B) |
 * | keyword detection | KD | low (1) | audio at 3 FPS; a late wake word is tolerable |
 * | speech recognition | ASR | low (1) | a transcript after the utterance; seconds-scale |
 * | action segmentation | AS | low (1) | background activity context |
 * | depth refinement | DR | low (1) | refines an existing depth estimate; quality, not interaction |
 *
 * Unknown models default to medium. A scenario model is matched by the prefix of its scenario
 * name before the first "_" (e.g. "ES_RITNet" → ES), then by its canonical model's name (the cost
 * table's `model`, e.g. "OD_D2go_FasterRCNN"), then by the aliases below.
 */
import type { ModelView } from "./types";

export const PRIORITY_HIGH = 9;
export const PRIORITY_MEDIUM = 3;
export const PRIORITY_LOW = 1;

export interface TaskPriority {
  /** Task prefix of XRBench model names ("ES" in "ES_RITNet"). */
  readonly prefix: string;
  readonly task: string;
  readonly priority: number;
}

export const XR_TASK_PRIORITIES: ReadonlyArray<TaskPriority> = [
  { prefix: "ES", task: "eye segmentation", priority: PRIORITY_HIGH },
  { prefix: "GE", task: "gaze estimation", priority: PRIORITY_HIGH },
  { prefix: "HT", task: "hand tracking", priority: PRIORITY_HIGH },
  { prefix: "DE", task: "depth estimation", priority: PRIORITY_MEDIUM },
  { prefix: "PD", task: "plane detection", priority: PRIORITY_MEDIUM },
  { prefix: "SS", task: "semantic segmentation", priority: PRIORITY_MEDIUM },
  { prefix: "OD", task: "object detection", priority: PRIORITY_MEDIUM },
  { prefix: "KD", task: "keyword detection", priority: PRIORITY_LOW },
  { prefix: "ASR", task: "speech recognition", priority: PRIORITY_LOW },
  { prefix: "AS", task: "action segmentation", priority: PRIORITY_LOW },
  { prefix: "DR", task: "depth refinement", priority: PRIORITY_LOW },
];

/** Name prefixes of XRBench models whose prefix is not their task ("D2go_FastRCNN" is object detection). */
export const TASK_ALIASES: ReadonlyArray<{ readonly prefix: string; readonly task: string }> = [{ prefix: "D2go", task: "OD" }];

/** Prefix + "_" → priority, built once (immutable). */
const BY_PREFIX: ReadonlyArray<readonly [string, number]> = [
  ...XR_TASK_PRIORITIES.map((t) => [`${t.prefix}_`, t.priority] as const),
  ...TASK_ALIASES.map((a) => [`${a.prefix}_`, XR_TASK_PRIORITIES.find((t) => t.prefix === a.task)!.priority] as const),
];

/** Priority of a model name by its task prefix, or undefined when no prefix matches. Allocation-free. */
export const priorityOfName = (name: string): number | undefined => {
  for (const [prefix, priority] of BY_PREFIX) if (name.startsWith(prefix)) return priority;
  return undefined;
};

/** XR priority class (9 / 3 / 1) of a scenario model; medium when its task is unknown. */
export const priorityOf = (model: ModelView): number =>
  priorityOfName(model.name) ?? priorityOfName(model.costs.model) ?? PRIORITY_MEDIUM;
