#!/usr/bin/env node
// Entry point of the `sdrm3` command: the built JavaScript in ../dist (`npm ci` builds it through
// the `prepare` script; `npm run build` rebuilds it after a change to the sources).
import { existsSync } from "node:fs";

const entry = new URL("../dist/sdrm3.mjs", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("sdrm3: the command is not built (services/cli/dist is missing); run `npm run build` in the repository\n");
  process.exit(1);
}
await import(entry.href);
