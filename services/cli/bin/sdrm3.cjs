#!/usr/bin/env node
// Entry point of the `sdrm3` command: the built JavaScript in ../dist (`npm ci` builds it through
// the `prepare` script; `npm run build` rebuilds it after a change to the sources), loaded by
// load.cjs with V8's code cache. CommonJS, as the bundle: an ES module entry would start Node's ES
// module loader first (≈ 14 M instructions, ≈ 5 ms of every start; docs/performance.md "Start-up").
"use strict";
const { existsSync } = require("node:fs");
const { join } = require("node:path");

if (!existsSync(join(__dirname, "../dist/sdrm3.cjs"))) {
  process.stderr.write("sdrm3: the command is not built (services/cli/dist is missing); run `npm run build` in the repository\n");
  process.exit(1);
}
require("./load.cjs")
  .loadCommand()
  .cli(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
      // The command is done. A library may still hold a handle (the NATS client keeps the socket of
      // a first connect that timed out), which must not keep the process alive: exit at the latest
      // 2 s later (unref: a clean process exits at once).
      setTimeout(() => process.exit(), 2_000).unref();
    },
    (err) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
