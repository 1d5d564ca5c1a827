import { connect } from "@nats-io/transport-node";
const role = process.argv[2]; const nc = await connect({ servers: "nats://127.0.0.1:4333", noAsyncTraces: true });
if (role === "resp") { const sub = nc.subscribe("rtt.x"); for await (const m of sub) m.respond(m.data); }
else {
  const xs = []; const data = new Uint8Array(200);
  for (let i = 0; i < 2000; i++) { const t = performance.now(); await nc.request("rtt.x", data, { timeout: 1000 }); xs.push(performance.now() - t); await new Promise(r => setTimeout(r, 1)); }
  xs.sort((a, b) => a - b); const q = f => xs[Math.floor(f * (xs.length - 1))].toFixed(3);
  console.log("rtt ms p50", q(.5), "p90", q(.9), "p99", q(.99), "max", q(1)); process.exit(0);
}
