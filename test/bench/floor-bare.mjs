/**
 * The bare processes of the floor benchmark (test/bench/floor.ts): plain `node`, the NATS client
 * and nothing of the product — what a NATS round trip costs on this machine when the processes at
 * both ends only relay.
 *
 *   node test/bench/floor-bare.mjs relay  '{"url","prefix","name","subject","workUs"}'
 *   node test/bench/floor-bare.mjs driver '{"url","prefix","accs","accRate","workloadRate","warmupMs","durationMs","drainMs","workUs"}'
 *
 * relay: subscribes to <subject> (<prefix>.accN, or <prefix>.workload), JSON.parses each message,
 *   spins workUs µs, publishes a ≈ 220-byte JSON completion to <prefix>.done. Prints "ready" once
 *   subscribed; when stdin ends, prints {"handled", "cpuUs"} and exits.
 * driver: subscribes to <prefix>.done, prints "ready", and on "go" on stdin sends ≈ 220-byte JSON
 *   dispatches round-robin to <prefix>.acc0… at accRate per second and requests to
 *   <prefix>.workload at workloadRate per second (deadline pacing with setTimeout: each tick sends
 *   what is due), first warmupMs unrecorded, then durationMs recorded (prints "measure" and "end"
 *   at the window's edges); spins workUs µs per completion received (after timing it). Prints one
 *   JSON line with every recorded round trip (send → completion received, performance.now() ms).
 */
import { connect } from "@nats-io/transport-node";

const BYTES = 220;
const [role, configJson] = process.argv.slice(2);
if ((role !== "relay" && role !== "driver") || configJson === undefined) throw new Error("usage: floor-bare.mjs relay|driver <config JSON>");
const config = JSON.parse(configJson);
const workMs = Number(config.workUs ?? 0) / 1000;

/** Busy-waits ms of CPU time (the per-message work of a real process). */
const spin = (ms) => {
  if (ms <= 0) return;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
};

/** `fields` as JSON padded to ≈ BYTES bytes (the pad computed once per shape; numbers vary its length by a few bytes). */
const padded = (fields) => {
  const bare = JSON.stringify({ ...fields, pad: "" }).length;
  return "x".repeat(Math.max(0, BYTES - bare));
};

const nc = await connect({
  servers: config.url,
  name: `floor-${role}-${config.name ?? "driver"}`,
  noAsyncTraces: true,
  ...(process.env.NATS_USER === undefined ? {} : { user: process.env.NATS_USER, pass: process.env.NATS_PASS }),
});

const lines = [];
let onLine = () => {};
let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buffered += d;
  for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
    lines.push(buffered.slice(0, i));
    buffered = buffered.slice(i + 1);
    onLine();
  }
});

if (role === "relay") {
  let handled = 0;
  const done = `${config.prefix}.done`;
  const sample = { _tag: "block.result", v: 1, run: config.prefix, acc: config.name, id: 100000, job: "OD_D2go_FasterRCNN#1234", frame: 1234, firstLayer: 17, layerCount: 1, busyUs: 1234.5, finishedAt: 123456.789 };
  const pad = padded(sample);
  nc.subscribe(config.subject, {
    callback: (err, m) => {
      if (err !== null) return;
      const d = JSON.parse(m.string());
      spin(workMs);
      const reply = { _tag: "block.result", v: 1, run: config.prefix, acc: config.name, id: d.id, job: d.job, frame: d.frame, firstLayer: d.firstLayer, layerCount: 1, busyUs: 1234.5, finishedAt: performance.now(), pad };
      nc.publish(done, JSON.stringify(reply));
      handled++;
    },
  });
  await nc.flush();
  process.stdout.write("ready\n");
  process.stdin.on("end", async () => {
    await nc.close();
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ handled, cpuUs: cpu.user + cpu.system })}\n`);
    process.exit(0);
  });
} else {
  const { prefix, accs, accRate, workloadRate, warmupMs, durationMs, drainMs } = config;
  const accPeriod = 1000 / accRate;
  const wlPeriod = 1000 / workloadRate;
  const capacity = Math.ceil(((warmupMs + durationMs) / 1000) * (accRate + workloadRate)) + 16;
  const sentAt = new Float64Array(capacity);
  const rtt = new Float64Array(capacity).fill(Number.NaN);
  const lateness = new Float64Array(capacity); // send time − due time, ms
  const toWorkload = new Uint8Array(capacity);
  const measured = new Uint8Array(capacity);
  let nextId = 0;
  let outstanding = 0;
  let drained = () => {};

  nc.subscribe(`${prefix}.done`, {
    callback: (err, m) => {
      const now = performance.now();
      if (err !== null) return;
      const d = JSON.parse(m.string());
      if (measured[d.id] === 1 && Number.isNaN(rtt[d.id])) {
        rtt[d.id] = now - sentAt[d.id];
        if (--outstanding === 0) drained();
      }
      spin(workMs);
    },
  });
  await nc.flush();

  const accDispatch = { _tag: "block.dispatch", v: 1, run: prefix, at: 123456.789, acc: "acc0", id: 100000, job: "OD_D2go_FasterRCNN#1234", model: "OD_D2go_FasterRCNN", frame: 1234, firstLayer: 17, layerCount: 1, timing: "exact" };
  const accPad = padded(accDispatch);
  const wlRequest = { _tag: "task.request", v: 1, run: prefix, at: 123456.789, id: 100000, model: "OD_D2go_FasterRCNN", frame: 1234, reason: "next frame", need: "release" };
  const wlPad = padded(wlRequest);
  const subjects = Array.from({ length: accs }, (_, i) => `${prefix}.acc${i}`);

  const send = (due, workload, measuring) => {
    const id = nextId++;
    const now = performance.now();
    sentAt[id] = now;
    lateness[id] = now - due;
    toWorkload[id] = workload ? 1 : 0;
    if (measuring) {
      measured[id] = 1;
      outstanding++;
    }
    const frame = id >> 4;
    if (workload) nc.publish(`${prefix}.workload`, JSON.stringify({ ...wlRequest, at: now, id, frame, pad: wlPad }));
    else nc.publish(subjects[id % accs], JSON.stringify({ ...accDispatch, at: now, acc: `acc${id % accs}`, id, frame, firstLayer: id % 50, pad: accPad }));
  };

  await new Promise((resolve) => {
    onLine = () => {
      if (lines.includes("go")) resolve();
    };
    process.stdout.write("ready\n");
  });

  const t0 = performance.now();
  const measureFrom = t0 + warmupMs;
  const end = measureFrom + durationMs;
  let nextAcc = t0;
  let nextWl = t0;
  let measureStart = 0;
  let lastSend = 0;
  let accSent = 0;
  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (measureStart === 0 && now >= measureFrom) {
        measureStart = now;
        process.stdout.write("measure\n");
      }
      while (nextAcc <= now && nextAcc < end) {
        send(nextAcc, false, nextAcc >= measureFrom);
        if (nextAcc >= measureFrom) accSent++;
        nextAcc += accPeriod;
        lastSend = now;
      }
      while (nextWl <= now && nextWl < end) {
        send(nextWl, true, nextWl >= measureFrom);
        nextWl += wlPeriod;
        lastSend = now;
      }
      if (nextAcc >= end && nextWl >= end) resolve();
      else setTimeout(tick, Math.max(0, Math.min(nextAcc, nextWl) - performance.now()));
    };
    tick();
  });
  const sendEnd = performance.now();
  if (outstanding > 0) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, drainMs);
      drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  process.stdout.write("end\n");
  const acc = [];
  const wl = [];
  const late = [];
  let lost = 0;
  for (let id = 0; id < nextId; id++) {
    if (measured[id] === 0) continue;
    late.push(lateness[id]);
    if (Number.isNaN(rtt[id])) lost++;
    else (toWorkload[id] === 1 ? wl : acc).push(Math.round(rtt[id] * 1000) / 1000);
  }
  await nc.close();
  const cpu = process.cpuUsage();
  const result = { accRtt: acc, workloadRtt: wl, lateness: late, lost, accSent, sendSpanMs: lastSend - measureStart, sendEndMs: sendEnd - measureStart, cpuUs: cpu.user + cpu.system };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
