#!/usr/bin/env node
// Entry point of the `sdrm3` command. The sources are TypeScript; tsx compiles them on the fly so
// the command works right after `npm ci`, with no build step.
import { register } from "tsx/esm/api";
register();
const { main } = await import("../src/main.ts");
process.exitCode = await main(process.argv.slice(2));
// The command is done. A library may still hold a handle (the NATS client keeps the socket of a
// first connect that timed out), which must not keep the process alive: exit at the latest 2 s
// later (unref: a clean process exits at once).
setTimeout(() => process.exit(), 2_000).unref();
