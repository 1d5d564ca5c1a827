/**
 * The built command (services/cli/dist, made by build.mjs; the test run's global setup rebuilds it
 * when the sources changed): its prebuilt dataset is the sources' dataset, byte for byte, and the
 * command it builds is the command the sources define.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { datasetToJson, readBuiltinSources } from "@sdrm3/shared/data";
import { sourcesHash } from "../build.mjs";
import { main } from "./main";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const bin = fileURLToPath(new URL("../bin/sdrm3.mjs", import.meta.url));

const capture = () => {
  let out = "";
  let err = "";
  return { io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) }, text: () => ({ out, err }) };
};

describe("the built sdrm3 command", () => {
  it("was built from the current sources", () => {
    expect(readFileSync(`${dist}.sources`, "utf8")).toBe(sourcesHash());
  });

  it("carries the built-in dataset exactly as the sources decode it", () => {
    expect(readFileSync(`${dist}builtin-dataset.json`, "utf8")).toBe(datasetToJson(readBuiltinSources()));
  });

  it("prints what the sources print, for a run, a list and a bad flag (exit codes too)", async () => {
    const cases = [
      ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "xrbench", "--duration", "100ms", "--json"],
      ["list", "policies"],
      ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--seed", "x"],
    ];
    for (const argv of cases) {
      const inProcess = capture();
      const code = await main(argv, inProcess.io);
      const built = spawnSync(process.execPath, [bin, ...argv], { encoding: "utf8" });
      expect({ code: built.status, out: built.stdout, err: built.stderr }).toEqual({ code, ...inProcess.text() });
    }
  });
});
