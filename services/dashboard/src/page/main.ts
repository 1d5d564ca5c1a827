/// <reference lib="dom" />
/**
 * The dashboard page: listens to the server's Server-Sent Events and draws the run — one canvas
 * lane per accelerator (blocks coloured by model, drops marked, ownership changes as markers), the
 * per-model panels, UXCost over the sliding window, the scheduler's parameters and tuning steps.
 * Plain DOM and canvas; bundled by esbuild when the server starts (services/dashboard/src/server.ts).
 */
import type { AccView, BlockView, DropView, ModelView, RunInfo, Snapshot, Update } from "../model";

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f", "#e15759", "#bab0ac", "#17becf", "#8c564b"];
const colorOf = (i: number): string => PALETTE[i % PALETTE.length]!;
const WINDOWS = [20, 100, 500, 2000] as const;
/** Blocks older than the widest window are forgotten. */
const KEEP_MS = 2_000;

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
};
const fmtMs = (ms: number): string => (ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s` : `${ms.toFixed(1)} ms`);
const fmt = (x: number, d = 2): string => (Number.isInteger(x) ? String(x) : x.toFixed(d));

let info: RunInfo | undefined;
let snap: Snapshot | undefined;
let windowMs: number = WINDOWS[1];
const blocksByAcc = new Map<string, BlockView[]>();
let drops: DropView[] = [];
const modelColor = new Map<string, number>();
const lanes = new Map<string, { root: HTMLElement; canvas: HTMLCanvasElement; label: HTMLElement }>();
let dropLane: { root: HTMLElement; canvas: HTMLCanvasElement } | undefined;

const colorFor = (model: string): string => colorOf(modelColor.get(model) ?? 0);

const addData = (u: Update) => {
  for (const b of u.blocks) {
    let list = blocksByAcc.get(b.acc);
    if (list === undefined) blocksByAcc.set(b.acc, (list = []));
    list.push(b);
  }
  drops.push(...u.drops);
  const now = u.snapshot.now;
  for (const [acc, list] of blocksByAcc) {
    let cut = 0;
    while (cut < list.length && list[cut]!.end < now - KEEP_MS) cut++;
    if (cut > 0) blocksByAcc.set(acc, list.slice(cut));
  }
  if (drops.length > 0 && drops[0]!.at < now - KEEP_MS) drops = drops.filter((d) => d.at >= now - KEEP_MS);
};

/** A canvas sized to its box in device pixels; returns its context and CSS size. */
const fit = (canvas: HTMLCanvasElement) => {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(1, canvas.clientWidth);
  const h = Math.max(1, canvas.clientHeight);
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d")!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
};

const ensureLane = (a: AccView) => {
  let lane = lanes.get(a.id);
  if (lane === undefined) {
    const root = el("div", { class: "lane", "data-acc": a.id });
    const label = el("div", { class: "label" });
    const canvas = el("canvas");
    root.append(label, canvas);
    const container = $("lanes");
    if (dropLane === undefined) container.append(root);
    else container.insertBefore(root, dropLane.root);
    lane = { root, canvas, label };
    lanes.set(a.id, lane);
  }
  if (dropLane === undefined) {
    const root = el("div", { class: "lane drops", "data-lane": "drops" });
    const label = el("div", { class: "label" });
    label.innerHTML = '<b>drops</b><span class="owner">dropped frames</span>';
    const canvas = el("canvas");
    root.append(label, canvas);
    $("lanes").append(root);
    dropLane = { root, canvas };
  }
  return lane;
};

const renderLanes = () => {
  if (snap === undefined) return;
  const right = snap.now;
  const left = right - windowMs;
  for (const a of snap.accelerators) {
    const lane = ensureLane(a);
    lane.root.dataset.state = a.state;
    lane.root.dataset.owner = a.owner ?? "";
    lane.root.dataset.blocks = String(a.blocks);
    const state = { up: "up", waiting: "waiting", gone: "GONE", released: "released" }[a.state];
    lane.label.innerHTML = "";
    const title = el("b", {}, a.id);
    const badge = el("span", { class: "state" }, state);
    const owner = el("span", { class: "owner" }, `${a.dataflow ?? ""}${a.owner === undefined ? "" : ` · ${a.owner}`}`);
    owner.title = a.owner ?? "";
    lane.label.append(title, badge, owner);
    const { ctx, w, h } = fit(lane.canvas);
    const x = (t: number) => ((t - left) / windowMs) * w;
    if (a.state === "gone") {
      ctx.fillStyle = "#fdecee";
      ctx.fillRect(0, 0, w, h);
    }
    const list = blocksByAcc.get(a.id) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const b = list[i]!;
      if (b.end < left) break;
      if (b.start > right) continue;
      const x0 = Math.max(0, x(b.start));
      const x1 = Math.min(w, x(b.end));
      ctx.fillStyle = colorFor(b.model);
      ctx.fillRect(x0, 5, Math.max(1, x1 - x0), h - 10);
    }
    ctx.fillStyle = "#d1343f";
    for (const d of drops) {
      if (d.acc !== a.id || d.at < left) continue;
      const dx = x(d.at);
      ctx.beginPath();
      ctx.moveTo(dx - 4, 0);
      ctx.lineTo(dx + 4, 0);
      ctx.lineTo(dx, 7);
      ctx.fill();
    }
    for (const ev of a.history) {
      if (ev.at < left || ev.kind === "claimed") continue;
      const ex = x(ev.at);
      ctx.strokeStyle = ev.kind === "gone" ? "#d1343f" : "#1f8a4c";
      ctx.setLineDash([3, 2]);
      ctx.beginPath();
      ctx.moveTo(ex, 0);
      ctx.lineTo(ex, h);
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }
  if (dropLane !== undefined) {
    const { ctx, w, h } = fit(dropLane.canvas);
    dropLane.root.dataset.drops = String(drops.length);
    for (const d of drops) {
      if (d.at < left) continue;
      const dx = ((d.at - left) / windowMs) * w;
      ctx.strokeStyle = colorFor(d.model);
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(dx - 4, h / 2 - 4);
      ctx.lineTo(dx + 4, h / 2 + 4);
      ctx.moveTo(dx + 4, h / 2 - 4);
      ctx.lineTo(dx - 4, h / 2 + 4);
      ctx.stroke();
      ctx.lineWidth = 1;
    }
  }
  $("axis-left").textContent = fmtMs(Math.max(0, left));
  $("axis-right").textContent = fmtMs(right);
};

const renderModels = (models: ReadonlyArray<ModelView>) => {
  const box = $("models");
  const legend = $("legend");
  legend.innerHTML = "";
  box.innerHTML = "";
  for (const m of models) {
    modelColor.set(m.name, m.color);
    const sw = el("span", { class: "sw" });
    sw.style.background = colorOf(m.color);
    const item = el("span");
    item.append(sw, document.createTextNode(m.name));
    legend.append(item);

    const card = el("div", { class: "model", "data-model": m.name });
    card.style.borderLeftColor = colorOf(m.color);
    card.append(el("div", { class: "name", title: m.name }, m.name));
    const row = (k: string, v: string, cls = "") => {
      const r = el("div", { class: "row" });
      r.append(el("span", {}, k), el("span", cls === "" ? {} : { class: cls }, v));
      card.append(r);
    };
    const target = m.targetFps === null ? "?" : `${fmt(m.targetFps, 1)}${m.estimated ? " (est.)" : ""}`;
    row("FPS achieved / target", `${m.fps.toFixed(1)} / ${target}`);
    const bar = el("div", { class: "bar" });
    const fill = el("div");
    const ratio = m.targetFps === null || m.targetFps <= 0 ? 0 : Math.min(1, m.fps / m.targetFps);
    fill.style.width = `${(ratio * 100).toFixed(1)}%`;
    if (ratio < 0.9) fill.style.background = ratio < 0.5 ? "#d1343f" : "#c77700";
    bar.append(fill);
    card.append(bar);
    row("deadline misses", `${(m.missRate * 100).toFixed(1)}%`, m.missRate > 0.05 ? "bad" : "");
    row("energy / frame", m.energyPerFrameMJ === null ? "–" : `${m.energyPerFrameMJ.toFixed(2)} mJ`);
    row("variant", m.width === null ? "full model" : `×${m.width}`);
    row("UX_m", m.uxCost === null ? "–" : m.uxCost.toFixed(3));
    row("on time / late / dropped", `${m.onTime} / ${m.late} / ${m.dropped}`);
    box.append(card);
  }
};

const renderUx = (s: Snapshot) => {
  $("ux-now").textContent = s.uxCost === null ? "–" : s.uxCost.toFixed(3);
  $("ux-hint").textContent = `window ${fmtMs(s.windowMs)}`;
  const { ctx, w, h } = fit($<HTMLCanvasElement>("ux-chart"));
  const pts = s.uxSeries;
  if (pts.length < 2) {
    ctx.fillStyle = "#66707c";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(info !== undefined && info.models.length === 0 ? "needs the run's --scenario/--hardware (ideal energies)" : "collecting…", 8, h / 2);
    return;
  }
  const pad = { l: 34, r: 6, t: 6, b: 16 };
  const t0 = pts[0]!.at;
  const t1 = pts[pts.length - 1]!.at;
  const vmax = Math.max(1.5, ...pts.map((p) => p.v)) * 1.05;
  const vmin = 1;
  const X = (t: number) => pad.l + ((t - t0) / Math.max(1e-9, t1 - t0)) * (w - pad.l - pad.r);
  const Y = (v: number) => h - pad.b - ((v - vmin) / (vmax - vmin)) * (h - pad.t - pad.b);
  ctx.strokeStyle = "#dde1e6";
  ctx.fillStyle = "#66707c";
  ctx.font = "10px system-ui, sans-serif";
  for (const v of [vmin, (vmin + vmax) / 2, vmax]) {
    ctx.beginPath();
    ctx.moveTo(pad.l, Y(v));
    ctx.lineTo(w - pad.r, Y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(2), 2, Y(v) + 3);
  }
  ctx.fillText(fmtMs(t0), pad.l, h - 3);
  const right = fmtMs(t1);
  ctx.fillText(right, w - pad.r - ctx.measureText(right).width, h - 3);
  ctx.strokeStyle = "#3461c1";
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  pts.forEach((p, i) => (i === 0 ? ctx.moveTo(X(p.at), Y(p.v)) : ctx.lineTo(X(p.at), Y(p.v))));
  ctx.stroke();
  ctx.lineWidth = 1;
};

const renderScheduler = (s: Snapshot) => {
  const last = s.tunes[s.tunes.length - 1];
  const prev = s.tunes[s.tunes.length - 2];
  const changed = new Set(
    last === undefined ? [] : Object.keys(last.params).filter((k) => (prev === undefined ? info?.policy?.params[k] : prev.params[k]) !== last.params[k]),
  );
  const table = $("params");
  table.innerHTML = "";
  const keys = Object.keys(s.params);
  if (keys.length === 0) table.append(el("span", { class: "hint" }, "parameters unknown (start the dashboard with the run's flags)"));
  for (const k of keys) {
    const row = el("div", changed.has(k) ? { class: "changed", "data-param": k } : { "data-param": k });
    row.append(el("span", {}, k), el("span", {}, fmt(s.params[k]!, 3)));
    table.append(row);
  }
  const tunes = $("tunes");
  tunes.innerHTML = "";
  if (s.tunes.length === 0) tunes.append(el("span", { class: "hint" }, "no tuning steps (online tuning off, or none yet)"));
  for (const t of [...s.tunes].reverse().slice(0, 20)) {
    const p = ["alpha", "beta", "gamma"].filter((k) => k in t.params).map((k) => `${k}=${fmt(t.params[k]!, 3)}`).join(" ");
    const figures = Object.entries(t.info).slice(0, 3).map(([k, v]) => `${k} ${fmt(v, 3)}`).join(", ");
    tunes.append(el("div", { "data-step": String(t.step) }, `step ${t.step} @ ${fmtMs(t.at)}: ${p}${figures === "" ? "" : ` (${figures})`}`));
  }
};

const renderOwnership = (s: Snapshot) => {
  const box = $("ownership");
  // newest first; within one wall-clock millisecond, the later entry first
  const rows = s.accelerators.flatMap((a) => a.history.filter((h) => h.kind !== "claimed").map((h, i) => ({ acc: a.id, i, ...h })));
  rows.sort((a, b) => b.wall - a.wall || b.at - a.at || b.i - a.i);
  box.innerHTML = "";
  if (rows.length === 0) {
    const claimed = s.accelerators.filter((a) => a.owner !== undefined).map((a) => `${a.id}: ${a.owner}`);
    box.append(el("span", { class: "hint" }, claimed.length === 0 ? "no owners seen yet" : `no changes; ${claimed.join(", ")}`));
    return;
  }
  for (const r of rows.slice(0, 30)) {
    box.append(el("div", { "data-kind": r.kind, "data-acc": r.acc }, `${new Date(r.wall).toLocaleTimeString()} ${r.acc}: ${r.text} (t = ${fmtMs(r.at)})`));
  }
};

const render = () => {
  if (snap === undefined) return;
  const s = snap;
  $("phase").textContent = s.phase;
  $("phase").dataset.phase = s.phase;
  $("message").textContent = s.message;
  $("message").dataset.phase = s.phase;
  $("now").textContent = fmtMs(s.now);
  $("events").textContent = String(s.events);
  const mal = $("malformed");
  mal.dataset.count = String(s.malformed);
  mal.textContent = `${s.malformed} malformed skipped`;
  mal.title = s.lastMalformed ?? "";
  renderModels(s.models);
  $("models-hint").textContent = `over the last ${fmtMs(s.windowMs)} of run time`;
  renderLanes();
  renderUx(s);
  renderScheduler(s);
  renderOwnership(s);
};

const setupWindows = () => {
  const box = $("windows");
  for (const ms of WINDOWS) {
    const b = el("button", { type: "button", "aria-pressed": String(ms === windowMs) }, fmtMs(ms).replace(".0 ms", " ms"));
    b.addEventListener("click", () => {
      windowMs = ms;
      for (const other of Array.from(box.querySelectorAll("button"))) other.setAttribute("aria-pressed", String(other === b));
      renderLanes();
    });
    box.append(b);
  }
};

const start = () => {
  setupWindows();
  const source = new EventSource("/events");
  source.addEventListener("init", (ev) => {
    const data = JSON.parse((ev as MessageEvent<string>).data) as Update & { info: RunInfo };
    info = data.info;
    blocksByAcc.clear();
    drops = [];
    $("run").textContent = info.run;
    $("what").textContent =
      info.mode === "replay"
        ? `replay of ${info.source} at ${info.speed ?? 1}×`
        : `live · ${info.source}`;
    $("what").textContent += info.scenario === undefined ? "" : ` · ${info.scenario} on ${info.hardware}`;
    $("policy").textContent = info.policy === undefined ? "" : info.policy.name;
    $("tl-hint").textContent = info.durationMs === undefined ? "" : `run time ${fmtMs(info.durationMs)} simulated`;
    snap = data.snapshot;
    for (const m of snap.models) modelColor.set(m.name, m.color);
    addData(data);
    render();
  });
  source.addEventListener("update", (ev) => {
    const data = JSON.parse((ev as MessageEvent<string>).data) as Update;
    snap = data.snapshot;
    for (const m of snap.models) modelColor.set(m.name, m.color);
    addData(data);
    render();
  });
  source.addEventListener("error", () => {
    $("message").textContent = "connection to the dashboard server lost; retrying…";
  });
  window.addEventListener("resize", () => renderLanes());
};

start();
