// Loads the built command (dist/sdrm3.cjs, one CommonJS bundle) through V8's code cache: the
// bytecode of the functions the common commands use is read instead of compiled, which is most of
// a short command's start-up (docs/performance.md, "Start-up"). Node 22 offers this as
// module.enableCompileCache(); Node 20 does not, and ES modules cannot use a code cache there.
//
// A code cache carries the path of the script it was made from (V8 names the functions after it
// in stack traces), and V8 takes it only from the same Node version with the same flags, so the
// cache file is keyed by the bundle's path, the Node version and the Node options: the build
// writes the one for the repository's dist/ and a plain `node` after a warm-up run; elsewhere (an
// installed package, other options) the first run writes its own when it can. A cache V8 rejects
// all the same is left alone (rewriting it could make two configurations take turns). With source maps on (--enable-source-maps) the bundle loads
// through require(), so stack traces map to the TypeScript.
"use strict";
const v8 = require("node:v8");
const { readFileSync, renameSync, writeFileSync } = require("node:fs");
const Module = require("node:module");
const { basename, join } = require("node:path");
const vm = require("node:vm");

/** The cache file of the bundle `file` for a Node with these options: FNV-1a of what V8's cache depends on. */
const cacheFile = (file, execArgv = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? "") => {
  const key = [file, process.version, ...execArgv, nodeOptions].join("\0");
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return `${file}.${h.toString(16).padStart(8, "0")}.cache`;
};

exports.cacheFile = cacheFile;

const readCache = (file) => {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
};

/** The bundle's import() of an external package (a script from a code cache cannot import() itself). */
const importExternal = (specifier) => import(specifier);

/** The bundle `file` compiled as the body of a CommonJS module function, named `origin` (its path in stack traces). */
const compile = (file, origin, cachedData) =>
  new vm.Script(`(function (exports, require, module, __filename, __dirname, __sdrm3Import) {${readFileSync(file, "utf8")}\n})`, { filename: origin, cachedData });

/** Runs the bundle `file` as a CommonJS module named `origin`. */
const run = (file, origin, cachedData) => {
  const script = compile(file, origin, cachedData);
  const module = { exports: {}, filename: file, id: file, loaded: true };
  script.runInThisContext().call(module.exports, module.exports, Module.createRequire(file), module, file, join(file, ".."), importExternal);
  return { exports: module.exports, script };
};

/**
 * The code cache of `script`, made under V8's default flags: a long simulation turns pretenuring
 * off (src/gc-tuning.ts) after the bundle was compiled, and a cache made under other flags would
 * be rejected by every later start.
 */
const cachedDataOf = (script) => {
  v8.setFlagsFromString("--allocation-site-pretenuring");
  return script.createCachedData();
};

/** Writes `data` to `path` through a rename, so a concurrent start never reads half a cache; best effort. */
const writeAtomically = (path, data) => {
  try {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch {}
};

/** The command's bundle in `dir` (default: ../dist): `{ cli, compareWorker, warmUp }`. */
exports.loadCommand = (dir = join(__dirname, "../dist")) => {
  const file = join(dir, "sdrm3.cjs");
  if (process.sourceMapsEnabled) return require(file);
  const cache = cacheFile(file);
  const cachedData = readCache(cache);
  const loaded = run(file, file, cachedData);
  // no cache for this path and these options yet: save what this run compiled, once it is done
  if (cachedData === undefined) process.once("exit", () => writeAtomically(cache, cachedDataOf(loaded.script)));
  return loaded.exports;
};

/**
 * For the build (run in a plain `node`): runs the warm-up of the bundle built in `dir` as if it
 * were in `finalDir` (where the build moves it) and writes into `dir` the code cache for that path
 * and a `node` without options.
 */
exports.writeCodeCache = async (dir, finalDir) => {
  const origin = join(finalDir, "sdrm3.cjs");
  const loaded = run(join(dir, "sdrm3.cjs"), origin, undefined);
  await loaded.exports.warmUp();
  writeFileSync(join(dir, basename(cacheFile(origin, [], ""))), cachedDataOf(loaded.script));
};

/**
 * For tests: whether V8 takes the code cache of the bundle in `dir` for a `node` without options
 * ("accepted", "rejected", or "missing" when there is none). Compiles the bundle, does not run it.
 */
exports.cacheStatus = (dir = join(__dirname, "../dist")) => {
  const file = join(dir, "sdrm3.cjs");
  const cachedData = readCache(cacheFile(file, [], ""));
  if (cachedData === undefined) return "missing";
  return compile(file, file, cachedData).cachedDataRejected ? "rejected" : "accepted";
};
