#!/usr/bin/env node
// Builds the `sdrm3` command into services/cli/dist (`npm run build`; `npm ci` / `npm install` run
// it through the root package's `prepare` script, and the test suite's global setup runs it when
// the sources changed since the last build, so process tests always spawn the current code):
//   dist/sdrm3.cjs                 the command, one CommonJS bundle (bin/sdrm3.cjs starts it
//                                  through bin/load.cjs)
//   dist/sdrm3.cjs.<hash>.cache    V8's code cache of the bundle at that path, made by a warm-up run
//   dist/compare-worker-boot.mjs   compare's worker threads
//   dist/builtin-dataset.bin       the built-in dataset, decoded and checked from shared/data
//   dist/page/                     the dashboard's page sources (bundled by the dashboard at start)
//   dist/.sources                  a hash of everything the build read (`--if-stale` compares it)
// One esbuild bundle: the workspace sources and the pure-JS dependencies are bundled (tree-shaken,
// minified) into one CommonJS file whose modules initialise when a command first imports them;
// native, ESM-only or self-locating packages stay external. A CommonJS script, unlike an ES module
// on Node 20, can be compiled from a code cache: the build runs the common commands once and saves
// the bytecode V8 compiled (bin/load.cjs reads it). Source maps point stack traces at the
// TypeScript when Node runs with --enable-source-maps (NODE_OPTIONS=--enable-source-maps; off by
// default: reading the maps costs ~0.1 s per start). Design notes: docs/performance.md, "Start-up".
import { execFileSync } from "node:child_process";
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

/**
 * The bundle's first line. The sources locate files next to themselves (import.meta.url, defined
 * as __sdrm3Url): next to the bundle. A dynamic import() in a script compiled from a code cache
 * fails on Node 20 ("A dynamic import callback was not specified"), so the bundle's import() of an
 * external package goes through __imp_: the loader's own import() (bin/load.cjs passes
 * __sdrm3Import), or, when the bundle is require()d, the bundle's.
 */
const BANNER =
  'var __sdrm3Url = require("node:url").pathToFileURL(__filename).href; ' +
  'var __imp_ = typeof __sdrm3Import === "function" ? __sdrm3Import : (s) => import(s);';

/**
 * Points every `import("<external>")` of the bundle at __imp_ (same length, so the source map
 * stays exact) and fails the build if any other import() is left.
 */
const routeDynamicImports = (file) => {
  const text = readFileSync(file, "utf8");
  const firstLine = text.indexOf("\n") + 1;
  let body = text.slice(firstLine);
  for (const name of EXTERNAL) body = body.replaceAll(`import(${JSON.stringify(name)})`, `__imp_(${JSON.stringify(name)})`);
  const left = /(^|[^\w$.])import\(/.exec(body);
  if (left !== null) throw new Error(`build: a dynamic import() the code cache cannot run is left in the bundle: …${body.slice(left.index, left.index + 60)}…`);
  writeFileSync(file, text.slice(0, firstLine) + body);
};

/** compare's worker-thread entry (compare.ts finds it next to the bundle). */
const WORKER_BOOT = `// Worker-thread entry of \`sdrm3 compare\` (written by build.mjs): the bundle, through its code cache.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
const { loadCommand } = createRequire(import.meta.url)("../bin/load.cjs");
await loadCommand(fileURLToPath(new URL(".", import.meta.url))).compareWorker();
`;

/**
 * Runs the bundle's warm-up (the common commands, output discarded) in a fresh Node and saves the
 * bytecode V8 compiled meanwhile as the bundle's code cache. Source maps off: they change how the
 * bundle loads.
 */
const writeCodeCache = (dir) => {
  const script = `
    require(${JSON.stringify(join(cliDir, "bin/load.cjs"))}).writeCodeCache(${JSON.stringify(dir)}, ${JSON.stringify(dist)})
      .catch((e) => { console.error(e); process.exitCode = 1; });`;
  execFileSync(process.execPath, ["-e", script], { env: { ...process.env, NODE_OPTIONS: "" }, stdio: ["ignore", "inherit", "inherit"] });
};

/** Everything the build reads, hashed: the workspaces' sources and data, this script, the loader, the lock file. */
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
  for (const file of [join(cliDir, "build.mjs"), join(cliDir, "bin/load.cjs"), join(root, "package-lock.json")]) hash.update(readFileSync(file));
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
    entryPoints: { sdrm3: join(cliDir, "src/bundle.ts") },
    outdir: out,
    outExtension: { ".js": ".cjs" },
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    // SDRM3_BUILD_MINIFY=0: readable function names in a CPU profile (docs/performance.md)
    minify: process.env.SDRM3_BUILD_MINIFY !== "0",
    sourcemap: true,
    external: EXTERNAL,
    // the sources locate files next to themselves (import.meta.url): next to the bundle
    define: { "import.meta.url": "__sdrm3Url" },
    banner: { js: BANNER },
    logLevel: quiet ? "error" : "warning",
    // SDRM3_BUILD_META=<file>: esbuild's metafile (what each chunk holds; docs/performance.md "Start-up")
    metafile: process.env.SDRM3_BUILD_META !== undefined,
  });
  if (result.metafile !== undefined) writeFileSync(process.env.SDRM3_BUILD_META, JSON.stringify(result.metafile));
  routeDynamicImports(join(out, "sdrm3.cjs"));
  cpSync(join(root, "services/dashboard/src/page"), join(out, "page"), { recursive: true });
  // the prebuilt dataset: the sources through the same decoder and checks as every run (tsx: they are TypeScript)
  const { register } = await import("tsx/esm/api");
  const unregister = register();
  try {
    const data = await import(pathToFileURL(join(root, "shared/src/data/index.ts")).href);
    writeFileSync(join(out, "builtin-dataset.bin"), data.datasetToPrebuilt(data.readBuiltinSources()));
  } finally {
    await unregister();
  }
  writeFileSync(join(out, "compare-worker-boot.mjs"), WORKER_BOOT);
  writeCodeCache(out);
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
