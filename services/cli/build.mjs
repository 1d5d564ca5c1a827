#!/usr/bin/env node
// Builds the `sdrm3` command into services/cli/dist (`npm run build`; `npm ci` / `npm install` run
// it through the root package's `prepare` script, and the test suite's global setup runs it when
// the sources changed since the last build, so process tests always spawn the current code):
//   dist/sdrm3.mjs                 the command (bin/sdrm3.mjs starts it)
//   dist/compare-worker-boot.mjs   compare's worker threads
//   dist/*.mjs                     chunks, each loaded only by the commands that need it
//   dist/builtin-dataset.json      the built-in dataset, decoded and checked from shared/data
//   dist/page/                     the dashboard's page sources (bundled by the dashboard at start)
//   dist/.sources                  a hash of everything the build read (`--if-stale` compares it)
// One esbuild bundle with code splitting: the workspace sources and the pure-JS dependencies are
// bundled (tree-shaken, minified), so a command loads only its own modules; native or
// self-locating packages stay external. Source maps point stack traces at the TypeScript when
// Node runs with --enable-source-maps (NODE_OPTIONS=--enable-source-maps; off by default: reading
// the maps costs ~0.1 s per start). Design notes: docs/performance.md, "Start-up".
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const cliDir = dirname(fileURLToPath(import.meta.url));
const root = join(cliDir, "../..");
const dist = join(cliDir, "dist");
const STAMP = ".sources";

/** Packages loaded from node_modules at run time: native binaries, packages that locate their own files, dev tools. */
export const EXTERNAL = ["@resvg/resvg-js", "esbuild", "playwright-core", "vega", "vega-lite", "tsx"];

/** Everything the build reads, hashed: the workspaces' sources and data, this script, the lock file. */
export const sourcesHash = () => {
  const hash = createHash("sha256");
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && entry.name !== "dist") walk(path);
      } else {
        if (entry.name.endsWith(".test.ts")) continue; // tests are not part of the command
        hash.update(relative(root, path)).update("\0").update(readFileSync(path)).update("\0");
      }
    }
  };
  walk(join(root, "shared"));
  for (const service of readdirSync(join(root, "services")).sort()) {
    const src = join(root, "services", service, "src");
    if (existsSync(src)) walk(src);
  }
  for (const file of [join(cliDir, "build.mjs"), join(root, "package-lock.json")]) hash.update(readFileSync(file));
  return hash.digest("hex");
};

const isFresh = (hash) => {
  try {
    return readFileSync(join(dist, STAMP), "utf8") === hash;
  } catch {
    return false;
  }
};

/**
 * Builds into a fresh directory and swaps it in, so a command started from the old build while
 * this one runs keeps working until the swap. With `ifStale`, does nothing when dist/ was built
 * from the same sources (the common case when several test runs start at once).
 */
export const buildCli = async ({ quiet = false, ifStale = false } = {}) => {
  const hash = sourcesHash();
  if (ifStale && isFresh(hash)) return false;
  const started = performance.now();
  const { build } = await import("esbuild");
  const out = `${dist}.build-${process.pid}`;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      sdrm3: join(cliDir, "src/bin.ts"),
      "compare-worker-boot": join(cliDir, "src/compare-worker-main.ts"),
    },
    outdir: out,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    minify: true,
    sourcemap: true,
    external: EXTERNAL,
    // CommonJS dependencies (commander, cli-table3, …) call require(); give the ESM bundle one
    banner: { js: 'import { createRequire as __sdrm3Require } from "node:module"; const require = __sdrm3Require(import.meta.url);' },
    logLevel: quiet ? "error" : "warning",
    // SDRM3_BUILD_META=<file>: esbuild's metafile (what each chunk holds; docs/performance.md "Start-up")
    metafile: process.env.SDRM3_BUILD_META !== undefined,
  });
  if (result.metafile !== undefined) writeFileSync(process.env.SDRM3_BUILD_META, JSON.stringify(result.metafile));
  cpSync(join(root, "services/dashboard/src/page"), join(out, "page"), { recursive: true });
  // the prebuilt dataset: the sources through the same decoder and checks as every run (tsx: they are TypeScript)
  const { register } = await import("tsx/esm/api");
  const unregister = register();
  try {
    const data = await import(pathToFileURL(join(root, "shared/src/data/index.ts")).href);
    writeFileSync(join(out, "builtin-dataset.json"), data.datasetToJson(data.readBuiltinSources()));
  } finally {
    await unregister();
  }
  writeFileSync(join(out, STAMP), hash);
  const old = `${dist}.old-${process.pid}`;
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(out, dist);
  rmSync(old, { recursive: true, force: true });
  if (!quiet) console.error(`sdrm3: built ${relative(process.cwd(), dist) || "."} in ${Math.round(performance.now() - started)} ms`);
  return true;
};

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCli({ ifStale: process.argv.includes("--if-stale") });
}
