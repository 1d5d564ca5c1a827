#!/usr/bin/env node
// Entry point of the `sdrm3` command. The sources are TypeScript; tsx compiles them on the fly so
// the command works right after `npm ci`, with no build step.
import { register } from "tsx/esm/api";
register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
