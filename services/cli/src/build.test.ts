/**
 * The built command (services/cli/dist, made by build.mjs; the test run's global setup rebuilds it
 * when the sources changed): its prebuilt dataset is the sources' dataset, byte for byte, and the
 * command it builds is the command the sources define.
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LONG_SIMULATION_MS } from "./gc-tuning";
import { datasetToPrebuilt, readBuiltinSources } from "@sdrm3/shared/data";
import { sourcesHash } from "../build.mjs";
import { main } from "./main";

const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const bin = fileURLToPath(new URL("../bin/sdrm3.cjs", import.meta.url));
const caches = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".cache"));
const { cacheFile } = createRequire(import.meta.url)("../bin/load.cjs") as { cacheFile: (file: string, execArgv: string[], nodeOptions: string) => string };

const capture = () => {
  let out = "";
  let err = "";
  return { io: { out: (t: string) => void (out += t), err: (t: string) => void (err += t) }, text: () => ({ out, err }) };
};

/** The command (bin and dist, without a code cache or source map) copied to `copy`, with the repository's node_modules. */
const copyCommand = (copy: string): void => {
  cpSync(fileURLToPath(new URL("../bin", import.meta.url)), join(copy, "bin"), { recursive: true });
  cpSync(dist, join(copy, "dist"), { recursive: true, filter: (f) => !f.endsWith(".cache") && !f.endsWith(".map") });
  symlinkSync(fileURLToPath(new URL("../../../node_modules", import.meta.url)), join(copy, "node_modules"));
};

describe("the built sdrm3 command", () => {
  it("was built from the current sources", () => {
    expect(readFileSync(`${dist}.sources`, "utf8")).toBe(sourcesHash());
  });

  it("carries the built-in dataset exactly as the sources decode it", () => {
    expect(Buffer.compare(readFileSync(`${dist}builtin-dataset.bin`), datasetToPrebuilt(readBuiltinSources()))).toBe(0);
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

  it("loads through the code cache the build wrote for dist's path and a plain node, and writes none of its own", () => {
    const cache = cacheFile(join(dist, "sdrm3.cjs"), [], "");
    const before = { files: caches(dist), mtime: statSync(cache).mtimeMs };
    const { NODE_OPTIONS: _, ...env } = process.env;
    const help = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8", env });
    expect(help.status).toBe(0);
    expect({ files: caches(dist), mtime: statSync(cache).mtimeMs }).toEqual(before);
    // and V8 takes it (a rejected cache would also be left alone, so ask V8 in a plain node)
    const loader = fileURLToPath(new URL("../bin/load.cjs", import.meta.url));
    const status = spawnSync(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(loader)}).cacheStatus())`], { encoding: "utf8", env });
    expect(status.stdout).toBe("accepted");
  });

  it("elsewhere writes a cache on first use and ignores one that V8 rejects; the output is unchanged", () => {
    const copy = mkdtempSync(join(tmpdir(), "sdrm3-cache-"));
    try {
      copyCommand(copy);
      const argv = ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "xrbench", "--duration", "100ms", "--json"];
      const { NODE_OPTIONS: _, ...env } = process.env; // a plain node: the cache cacheStatus asks about
      const run = () => spawnSync(process.execPath, [join(copy, "bin/sdrm3.cjs"), ...argv], { encoding: "utf8", env });
      const want = spawnSync(process.execPath, [bin, ...argv], { encoding: "utf8" });
      expect(want.status).toBe(0);
      expect(caches(join(copy, "dist"))).toEqual([]);
      expect(run().stdout).toBe(want.stdout);
      const [cache, ...others] = caches(join(copy, "dist"));
      expect(others).toEqual([]);
      expect(cache).not.toBe(caches(dist)[0]); // keyed by the bundle's path
      const loader = join(copy, "bin/load.cjs");
      const status = () =>
        spawnSync(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(loader)}).cacheStatus(${JSON.stringify(join(copy, "dist"))}))`], { encoding: "utf8", env }).stdout;
      expect(status()).toBe("accepted"); // what the first run wrote, V8 takes
      const path = join(copy, "dist", cache!);
      writeFileSync(path, "not a code cache");
      expect(run().stdout).toBe(want.stdout);
      expect(status()).toBe("rejected"); // the garbage, ignored by the run above and left in place
      expect(caches(join(copy, "dist"))).toEqual([cache]);
      expect(readFileSync(path, "utf8")).toBe("not a code cache"); // left alone: no two configurations take turns
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("a first use that turned pretenuring off (a long simulation, src/gc-tuning.ts) still writes a cache the next start takes", () => {
    const copy = mkdtempSync(join(tmpdir(), "sdrm3-cache-long-"));
    try {
      copyCommand(copy);
      const { NODE_OPTIONS: _, ...env } = process.env;
      // xrbench: a fast policy; the simulated time is what turns pretenuring off (LONG_SIMULATION_MS)
      const argv = ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "xrbench", "--duration", `${LONG_SIMULATION_MS}ms`, "--json"];
      const first = spawnSync(process.execPath, [join(copy, "bin/sdrm3.cjs"), ...argv], { encoding: "utf8", env });
      expect(first.status, first.stderr).toBe(0);
      expect(caches(join(copy, "dist"))).toHaveLength(1);
      const loader = join(copy, "bin/load.cjs");
      const status = spawnSync(process.execPath, ["-e", `process.stdout.write(require(${JSON.stringify(loader)}).cacheStatus(${JSON.stringify(join(copy, "dist"))}))`], { encoding: "utf8", env });
      expect(status.stdout).toBe("accepted");
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("imports the chart packages from a command loaded through the code cache (compare --out)", () => {
    const out = mkdtempSync(join(tmpdir(), "sdrm3-charts-"));
    try {
      const argv = ["compare", "--scenarios", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policies", "fcfs", "--seeds", "1", "--duration", "10ms", "--jobs", "1", "--out", out];
      const r = spawnSync(process.execPath, [bin, ...argv], { encoding: "utf8" });
      expect(r.stderr).not.toMatch(/failed/);
      expect(r.status).toBe(0);
      expect(readdirSync(out).sort()).toEqual(["miss-vs-energy.png", "miss-vs-energy.svg", "results.csv", "results.json", "uxcost.png", "uxcost.svg"]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("exits quietly (0, no stack trace) when its reader closes the pipe before the output is written (`| head -1`)", async () => {
    const argv = ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "sdrm3", "--duration", "200ms", "--json"];
    const child = spawn(process.execPath, [bin, ...argv], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // the reader is gone before the command writes: its write fails with EPIPE
    let err = "";
    child.stderr.on("data", (d: Buffer) => void (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", (c) => resolve(c)));
    expect(err).toBe("");
    expect(code).toBe(0);
  });
});

