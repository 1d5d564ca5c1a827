/** The XR priority table shared by `prema` and `planaria`. */
import { describe, expect, it } from "vitest";
import { PRIORITY_HIGH, PRIORITY_LOW, PRIORITY_MEDIUM, XR_TASK_PRIORITIES, priorityOf, priorityOfName } from "./priorities";
import { buildView } from "./testing";

describe("XR priorities", () => {
  it("classes every XRBench task by its name prefix", () => {
    const names = [
      "ES_RITNet",
      "GE_FBNet_C",
      "HT_hand_graph_cnn_half",
      "DE_midas_v21_small",
      "PD_Plane_RCNN_Quarter",
      "SS_HRViT_b1",
      "OD_D2go_FasterRCNN",
      "D2go_FastRCNN",
      "KD_res8_narrow",
      "ASR_EM_24L",
      "AS_ED_TCN",
      "DR_RGBd_200",
    ];
    expect(names.map(priorityOfName)).toEqual([9, 9, 9, 3, 3, 3, 3, 3, 1, 1, 1, 1]);
    expect(XR_TASK_PRIORITIES.map((t) => t.prefix)).toEqual(["ES", "GE", "HT", "DE", "PD", "SS", "OD", "KD", "ASR", "AS", "DR"]);
  });

  it("falls back to the canonical model's name, then to medium", () => {
    const view = buildView({
      models: [
        { name: "my_gaze", canonical: "GE_FBNet_C", latencyMs: [[1], [1]] },
        { name: "mystery", latencyMs: [[1], [1]] },
        { name: "KD", latencyMs: [[1], [1]] }, // no "_": not the KD task
      ],
    });
    expect(view.models.map((m) => [m.name, priorityOf(m)])).toEqual([
      ["KD", PRIORITY_MEDIUM],
      ["my_gaze", PRIORITY_HIGH],
      ["mystery", PRIORITY_MEDIUM],
    ]);
    expect(PRIORITY_LOW).toBe(1);
  });
});
