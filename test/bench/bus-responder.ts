/**
 * Child process of the bus benchmark (./bus.ts): on one NATS connection it hosts
 *   - accelerator actor acc0 of run `bench` (hostAccelerator: the product's relay point — subscribe,
 *     decode with the contract schema, XState machine, reply), with AR_Assistant's costs on
 *     Quad_8K/WS_OS_WS_OS, and
 *   - a raw NATS responder on `bench.raw` that answers every request with a fixed payload of the
 *     same byte size as the accelerator's block.result reply.
 * Prints "ready <reply bytes>" on stdout once both are subscribed; exits when stdin closes.
 *
 *   node --import tsx test/bench/bus-responder.ts <nats url>
 */
import { executeBlock } from "@sdrm3/shared/actors";
import { connectNatsBus } from "@sdrm3/shared/nats";
import { acceleratorCosts, hostAccelerator, resolveRunSpec } from "@sdrm3/shared/runtime";
import { BENCH_RUN, RAW_SUBJECT, dispatchCommand } from "./bus-common";

const main = async () => {
  const url = process.argv[2];
  if (url === undefined) throw new Error("usage: bus-responder.ts <nats url>");
  const resolved = resolveRunSpec({ scenario: "AR_Assistant", hardware: "Quad_8K/WS_OS_WS_OS", policy: "sdrm3" });
  const costs = acceleratorCosts(resolved.costs, 0);
  const bus = await connectNatsBus({
    servers: url,
    name: "sdrm3-bench-responder",
    ...(process.env.NATS_USER === undefined ? {} : { user: process.env.NATS_USER }),
    ...(process.env.NATS_PASS === undefined ? {} : { pass: process.env.NATS_PASS }),
  });
  const hosted = hostAccelerator(bus, BENCH_RUN, resolved.hardware.accelerators[0]!, costs, { host: "bench" });
  const sample = JSON.stringify(executeBlock(costs, dispatchCommand(123456.789, 1234, 17)));
  const reply = new TextEncoder().encode(sample.replace(/./g, "x"));
  const raw = bus.nc.subscribe(RAW_SUBJECT, { callback: (_err, m) => void m.respond(reply) });
  await bus.flush();
  process.stdout.write(`ready ${reply.length}\n`);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    raw.unsubscribe();
    hosted.stop();
    await bus.close();
    process.exit(0);
  });
};

await main();
