#!/usr/bin/env node
// Entry point of the `sdrm3` command: the built JavaScript in ../dist (`npm ci` builds it through
// the `prepare` script; `npm run build` rebuilds it after a change to the sources), loaded by
// load.cjs with V8's code cache.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

if (!existsSync(new URL("../dist/sdrm3.cjs", import.meta.url))) {
  process.stderr.write("sdrm3: the command is not built (services/cli/dist is missing); run `npm run build` in the repository\n");
  process.exit(1);
}
const { loadCommand } = createRequire(import.meta.url)("./load.cjs");
process.exitCode = await loadCommand().cli(process.argv.slice(2));
// The command is done. A library may still hold a handle (the NATS client keeps the socket of a
// first connect that timed out), which must not keep the process alive: exit at the latest 2 s
// later (unref: a clean process exits at once).
setTimeout(() => process.exit(), 2_000).unref();
