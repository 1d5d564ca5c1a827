/**
 * The streaming CSV reader (a bad row ends the read: only the start of a large file is read; line
 * ends split across chunks), the limits at the loader level, and the nearest-field suggestion.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCostRecords, readCostCsv } from "./costs";
import { FileLines, csvRecords, parseCsv, textLines } from "./csv";
import { nearestName } from "./decode";
import { DataError, loadBuiltinDataset, loadHardwareFile, loadScenarioFile } from "./index";
import { MAX_PHASES } from "./limits";

const dir = mkdtempSync(join(tmpdir(), "sdrm3-limits-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const dataset = loadBuiltinDataset();

describe("FileLines and csvRecords", () => {
  it("stop reading a 200 MB cost CSV at its duplicate row on line 3, after the first 64 KiB", () => {
    const path = join(dir, "big.csv");
    const fd = openSync(path, "w");
    writeSync(fd, "model,layer_idx,WS_2048pe_bw128_cycles,WS_2048pe_bw128_energy_nJ\nKD_res8_narrow,0,1,1\nKD_res8_narrow,0,1,1\n");
    ftruncateSync(fd, 200 * 1024 * 1024);
    closeSync(fd);
    const lines = new FileLines(path);
    expect(() => parseCostRecords(csvRecords(lines, path), path, dataset.models)).toThrow(
      `${path}: line 3: expected one row per layer (line 2 already has KD_res8_narrow layer 0), got a second row`,
    );
    expect(lines.bytesRead).toBe(64 * 1024);
    // loadCostCsv reads the file the same way (readCostCsv)
    expect(() => readCostCsv(path, path, dataset.models)).toThrow(`${path}: line 3: expected one row per layer`);
  });

  it("read the same records as the in-memory reader, with line ends split across chunks", () => {
    // a CRLF whose CR is the last byte of the first 64 KiB chunk, CR-only ends, a quoted cell over two lines, a BOM
    const filler = `a,${"x".repeat(64 * 1024 - 1 - 3 - 1)}`; // "\ufeff" is 3 bytes in UTF-8
    const text = `\ufeff${filler}\r\nb,"two\nlines",c\rd,e\n\n"f""g",h`;
    const path = write("chunks.csv", text);
    const fromFile = [...csvRecords(new FileLines(path), path)];
    expect(fromFile).toEqual(parseCsv(text.slice(1), path));
    expect(fromFile.map((r) => r.line)).toEqual([1, 2, 4, 6]);
    expect(fromFile[1]!.cells).toEqual(["b", "two\nlines", "c"]);
    expect(fromFile[3]!.cells).toEqual(['f"g', "h"]);
    expect([...textLines("a\r\nb\rc\n")]).toEqual(["a", "b", "c"]);
  });

  it("refuse a quote left open at the end, naming the line it opened on", () => {
    const path = write("open-quote.csv", 'model,layer_idx\n"KD_res8_narrow,0\n1,2\n');
    expect(() => [...csvRecords(new FileLines(path), path)]).toThrow(`${path}: line 2: expected a closing quote ("), got the end of the file`);
  });
});

describe("limits at the loaders", () => {
  it("phases per scenario", () => {
    const phases = Array.from({ length: MAX_PHASES + 1 }, (_, i) => ({ from_ms: i, to_ms: i + 1, scenario: "AR_gaming" }));
    const path = write("phases.json", JSON.stringify({ name: "p", phases }));
    expect(() => loadScenarioFile(path, dataset)).toThrow(`${path}: phases: expected at most 256 phases (the phases-per-scenario limit), got 257 phases`);
  });

  it("a list of the wrong type under a limit is reported by its type", () => {
    const path = write("hw-type.json", JSON.stringify({ name: "H", sub_accelerators: "many" }));
    expect(() => loadHardwareFile(path)).toThrow(`${path}: sub_accelerators: expected an array, got "many"`);
    const phase = write("phase-type.json", JSON.stringify({ name: "p", phases: [{ from_ms: 0, models: "abc" }] }));
    expect(() => loadScenarioFile(phase, dataset)).toThrow(`${phase}: phases[0].models: expected an array, got "abc"`);
  });

  it("an unknown field in a list file names its entry; far from every known field, the known ones are listed", () => {
    const path = write("hw-list.json", JSON.stringify({ configs: [{ name: "H", sub_accelerators: [{ num_pes: 1, top_noc_bw: 1 }], colour: "red" }] }));
    const error = (() => {
      try {
        loadHardwareFile(path);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).path).toBe("configs[0].colour");
    expect((error as DataError).expected).toBe(
      "a known field (name, group, sub_accelerators, used_by_run_evals_py, source_file, num_sub_accelerators, total_pes)",
    );
  });
});

describe("nearestName", () => {
  it("suggests within an edit distance of a third of the word (at least 2)", () => {
    expect(nearestName("probabilty", ["probability", "probability_effective", "name"])).toBe("probability");
    expect(nearestName("dependencies", ["dependency", "model"])).toBe("dependency");
    expect(nearestName("FPS", ["fps", "target_fps"])).toBe("fps");
    expect(nearestName("colour", ["name", "group"])).toBeUndefined();
  });
});
