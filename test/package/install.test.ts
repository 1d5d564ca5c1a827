/**
 * A package a user can install (README "Install the command"): `npm pack` of the CLI workspace
 * (the bundle carries the shared package), `npm install <tarball>` into an empty directory, and
 * `npx sdrm3` there prints what the sources print. npm takes the dependencies from its cache when
 * it has them (--prefer-offline) and from the registry otherwise.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../services/cli/src/main";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "sdrm3-pack-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) =>
  execFileSync("npm", [...args, "--no-audit", "--no-fund", "--loglevel=error"], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const inProcess = async (argv: string[]) => {
  let out = "";
  const code = await main(argv, { out: (t) => void (out += t), err: () => {} });
  return { code, out };
};

describe("npm pack of the CLI workspace", () => {
  it("installs into an empty directory and `npx sdrm3` runs there", { timeout: 300_000 }, async () => {
    npm(["pack", "-w", "@sdrm3/cli", "--pack-destination", dir], repo);
    const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
    expect(tarball).toBe("sdrm3-cli-0.1.0.tgz");
    const app = join(dir, "app");
    execFileSync("mkdir", [app]);
    npm(["init", "-y"], app);
    npm(["install", "--prefer-offline", join(dir, tarball!)], app);
    // the package carries no code cache (it would name the build's path): the first command
    // writes one for where it is installed, the next ones read it; the output is the same
    const installedDist = join(app, "node_modules/@sdrm3/cli/dist");
    const caches = () => readdirSync(installedDist).filter((f) => f.endsWith(".cache"));
    expect(caches()).toEqual([]);
    for (const argv of [
      ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "xrbench", "--duration", "700ms", "--json"],
      ["list", "scenarios"],
      ["run", "--scenario", "AR_gaming", "--hardware", "Dual_4K/WS_OS", "--policy", "xrbench", "--duration", "700ms", "--json"],
    ]) {
      const installed = spawnSync("npx", ["--no-install", "sdrm3", ...argv], { cwd: app, encoding: "utf8" });
      const want = await inProcess(argv);
      expect({ code: installed.status, out: installed.stdout }).toEqual(want);
      expect(caches()).toHaveLength(1);
    }
    // the package is the built command only: no TypeScript sources but the dashboard page's (its
    // server bundles it with esbuild when it starts), no tests
    const files = execFileSync("tar", ["-tzf", join(dir, tarball!)], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect(files.filter((f) => f.endsWith(".ts"))).toEqual(["package/dist/page/main.ts"]);
    expect(files).toContain("package/dist/sdrm3.cjs");
    expect(files.filter((f) => f.endsWith(".cache"))).toEqual([]);
    expect(files).toContain("package/dist/builtin-dataset.bin");
  });
});
