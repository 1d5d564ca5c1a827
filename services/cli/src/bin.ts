/** Entry point of the built `sdrm3` command (dist/sdrm3.mjs; bin/sdrm3.mjs starts it). */
import { main } from "./main";

process.exitCode = await main(process.argv.slice(2), undefined, {
  // the command's modules have loaded the data module by now: point it at the prebuilt dataset
  commandLoaded: async () => (await import("./built")).usePrebuiltDataset(),
});
// The command is done. A library may still hold a handle (the NATS client keeps the socket of a
// first connect that timed out), which must not keep the process alive: exit at the latest 2 s
// later (unref: a clean process exits at once).
setTimeout(() => process.exit(), 2_000).unref();
