// The dashboard at `GET /`: one self-contained HTML page (inline CSS and vanilla JS, no CDN, no fonts, no
// framework) that draws its charts as SVG from the JSON read API, refreshing every few seconds.
//
// Why one long string literal: the collector ships as a single binary, so the page cannot be a SwiftPM resource;
// keeping it verbatim here (a raw string, so JS `\` and `${}` need no escaping) lets it be edited as HTML.
//
// Every API request the page makes goes through `api(name, params)` over the templates declared in the
// `<script id="fw-api" type="application/json">` block, and the page has no other `fetch(`: the end-to-end test
// (Tests/Python/test_dashboard.py) reads that block and checks each template answers JSON.
//
// Authentication: with auth on, `GET /` needs the admin token, and a browser cannot set a header when it
// navigates, so the page is opened as `/?token=<admin token>`. The page reads the token from its own address and
// sends it as `Authorization: Bearer …` on every API request; it never puts it in an API URL. The response carries
// `Referrer-Policy: no-referrer`, so the page's address (with the token) is not sent on as a Referer.
//
// What it shows:
//   * bytes per reading per protocol (GET /v1/bandwidth) as bars, with the ratio to the cheapest protocol and the
//     share of headers, framing and payload;
//   * bandwidth over time per protocol (GET /v1/bandwidth/history; "no history yet" while that answers 404);
//   * a sortable device table (GET /v1/bandwidth/devices, using its sort/limit when the server has them, sorting
//     in the browser either way) with a sparkline per visible row (GET /v1/devices/{d}/series, at most 50 rows);
//   * a device view (click a row): one small chart per sensor (GET /v1/devices/{d} then .../series per sensor).
// The protocol names the page colours come from `WireProtocol`, embedded as the `fw-protocols` JSON block.
// Colours are the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies), and every
// coloured mark also carries its protocol's name in text.

import Accounting


/// The dashboard page served at `GET /`.
enum DashboardPage {
    /// The response for `GET /` (HEAD gets the same headers; the transport drops the body).
    static var response: RESTResponse {
        RESTResponse(
            status: 200,
            headers: [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache"),
                      ("referrer-policy", "no-referrer")],
            body: Array(html.utf8))
    }

    /// The page itself.
    static let html: String = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fleetwire collector</title>
<link rel="icon" href="data:,">
<style>
:root {
  --bg: #f6f7f9; --card: #ffffff; --ink: #1b1f24; --muted: #5b6470; --line: #e3e6ea; --grid: #eef0f3;
  --accent: #0072B2; --warn: #D55E00;
  --font: system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", Roboto, Helvetica, Arial, sans-serif;
  --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
}
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.4 var(--font); }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 24px 10px; }
header h1 { font-size: 20px; margin: 0; letter-spacing: .2px; }
header .sub { color: var(--muted); }
header .status { margin-left: auto; display: flex; gap: 10px; align-items: center; color: var(--muted); font-size: 13px; }
.pill { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px; background: #e8f1f8; color: #0b4f7c; font-weight: 600; }
.pill.bad { background: #fbe9e0; color: #8a3200; }
.pill .dot { width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
main { display: grid; grid-template-columns: repeat(12, 1fr); gap: 14px; padding: 0 24px 24px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 16px 14px; min-width: 0; }
.card h2 { font-size: 14px; margin: 0 0 2px; font-weight: 650; }
.card .hint { color: var(--muted); font-size: 12px; margin: 0 0 8px; }
.tiles { grid-column: span 12; display: grid; grid-template-columns: repeat(6, 1fr); gap: 14px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 8px 14px; }
.tile .k { color: var(--muted); font-size: 12px; }
.tile .v { font-size: 20px; font-weight: 650; font-variant-numeric: tabular-nums; }
#bpr { grid-column: span 5; }
#hist { grid-column: span 7; }
#devs { grid-column: span 7; }
#dev { grid-column: span 5; }
svg { display: block; overflow: visible; }
svg text { font-family: var(--font); fill: var(--ink); }
svg .axis text { fill: var(--muted); font-size: 11px; }
svg .grid line { stroke: var(--grid); }
.empty { color: var(--muted); padding: 20px 0; text-align: center; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12px; color: var(--muted); margin-top: 4px; }
.legend span::before { content: ""; display: inline-block; width: 14px; height: 3px; margin-right: 6px; vertical-align: middle; background: var(--c); }
.tablewrap { max-height: max(300px, calc(100vh - 500px)); overflow: auto; border-top: 1px solid var(--line); }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 8px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--grid); }
th:first-child, td:first-child, th.l, td.l { text-align: left; }
thead th { position: sticky; top: 0; background: var(--card); z-index: 1; font-size: 12px; color: var(--muted); font-weight: 600; border-bottom: 1px solid var(--line); }
thead th[data-key] { cursor: pointer; user-select: none; }
thead th[data-key]:hover { color: var(--ink); }
thead th[aria-sort] { color: var(--ink); }
thead th[aria-sort="ascending"]::after { content: " \25B2"; font-size: 9px; }
thead th[aria-sort="descending"]::after { content: " \25BC"; font-size: 9px; }
tbody tr { cursor: pointer; }
tbody tr:hover { background: #f2f6fa; }
tbody tr.sel { background: #e3eef7; }
td.dev { font-family: var(--mono); font-size: 13px; }
.proto { display: inline-flex; align-items: center; gap: 6px; }
.proto i { width: 10px; height: 10px; border-radius: 2px; background: var(--c); display: inline-block; }
td.spark { padding: 2px 8px; width: 150px; }
.foot { color: var(--muted); font-size: 12px; margin-top: 6px; }
.sensors { display: grid; grid-template-columns: 1fr; gap: 6px; }
.sensor h3 { margin: 4px 0 0; font-size: 13px; font-weight: 600; display: flex; justify-content: space-between; }
.sensor h3 .val { font-variant-numeric: tabular-nums; color: var(--muted); font-weight: 500; }
.controls { display: flex; gap: 6px; align-items: center; }
.controls button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid var(--line); background: var(--card); border-radius: 6px; cursor: pointer; color: var(--ink); }
.controls button[aria-pressed="true"] { background: var(--accent); border-color: var(--accent); color: #fff; }
.head { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
.err { color: var(--warn); font-size: 12px; }
</style>
<script id="fw-api" type="application/json">
{
  "health": "/healthz",
  "bandwidth": "/v1/bandwidth",
  "history": "/v1/bandwidth/history?step={step}&from={from}",
  "bandwidthDevices": "/v1/bandwidth/devices?sort={sort}&order={order}&limit={limit}",
  "device": "/v1/devices/{device}",
  "series": "/v1/devices/{device}/series?sensor={sensor}&from={from}&step={step}&agg=avg"
}
</script>
<script id="fw-protocols" type="application/json">
\#(WireProtocol.namesJSON)
</script>
</head>
<body>
<header>
  <h1>Fleetwire</h1><span class="sub">telemetry collector &middot; live view</span>
  <div class="status"><span id="updated">loading&hellip;</span><span id="health" class="pill"><span class="dot"></span>&hellip;</span></div>
</header>
<main>
  <section class="tiles" id="tiles"></section>
  <section class="card" id="bpr">
    <h2>Bytes per reading, by protocol</h2>
    <p class="hint">All socket bytes in + out divided by readings stored; ratio to the cheapest protocol.</p>
    <div id="bprChart"></div>
  </section>
  <section class="card" id="hist">
    <div class="head"><h2>Bandwidth over time</h2><span class="hint">bytes in + out per second, per protocol</span></div>
    <div id="histChart"></div>
  </section>
  <section class="card" id="devs">
    <div class="head"><h2>Devices</h2><span class="hint">click a column to sort, a row to open the device</span></div>
    <div class="tablewrap" id="tablewrap">
      <table>
        <thead><tr>
          <th data-key="device" class="l">Device</th>
          <th data-key="protocol" class="l">Protocol</th>
          <th data-key="readings">Readings</th>
          <th data-key="bytes_in">Bytes in</th>
          <th data-key="bytes_out">Bytes out</th>
          <th data-key="bytes_per_reading">B/reading</th>
          <th class="l" id="sparkHead">Recent</th>
        </tr></thead>
        <tbody id="rows"></tbody>
      </table>
    </div>
    <div class="foot" id="tableFoot"></div>
  </section>
  <section class="card" id="dev">
    <div class="head"><h2 id="devTitle">Device</h2>
      <div class="controls" id="windows"></div></div>
    <p class="hint" id="devHint">Select a device in the table.</p>
    <div class="sensors" id="sensors"></div>
  </section>
</main>
<script>
"use strict";
const API = JSON.parse(document.getElementById("fw-api").textContent);
// The admin token the page was opened with (`/?token=…`); sent only as a header, never in an API URL.
const TOKEN = new URLSearchParams(location.search).get("token") || "";
const REFRESH_MS = 5000, MAX_ROWS = 200, MAX_SPARKS = 50;
// Okabe–Ito colours, one fixed colour per protocol so a protocol keeps its colour across charts.
// The protocol names come from the collector (`fw-protocols`, its WireProtocol enum), never spelled here.
const PROTOCOLS = JSON.parse(document.getElementById("fw-protocols").textContent);
const COLORS = { [PROTOCOLS.grpcStream]: "#0072B2", [PROTOCOLS.grpcUnary]: "#E69F00", [PROTOCOLS.restJSON]: "#009E73",
  [PROTOCOLS.restJSONH2]: "#CC79A7", [PROTOCOLS.query]: "#8C8C8C", [PROTOCOLS.h2c]: "#D55E00" };
const EXTRA = ["#56B4E9", "#F0E442", "#000000"];
const WINDOWS = [["15m", 15 * 60e3], ["1h", 3600e3], ["6h", 6 * 3600e3], ["24h", 24 * 3600e3]];
const state = { sort: "device", order: "asc", rows: [], selected: null, windowMs: 3600e3,
  anchorMs: 0, sensors: new Map(), sparks: new Map(), visible: new Set(), historyMissing: false };

function color(p) { if (!COLORS[p]) COLORS[p] = EXTRA[Object.keys(COLORS).length % EXTRA.length]; return COLORS[p]; }
function esc(s) { return String(s).replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]); }
function fmtInt(n) { return n == null ? "–" : Math.round(n).toLocaleString("en-US"); }
function fmtBytes(n) {
  if (n == null) return "–";
  const u = ["B", "kB", "MB", "GB", "TB"]; let i = 0;
  while (Math.abs(n) >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i === 0 ? Math.round(n) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + " " + u[i];
}
function fmtNum(v) {
  if (v == null || !isFinite(v)) return "–";
  const a = Math.abs(v);
  return a >= 1000 ? v.toFixed(0) : a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}
function fmtStep(ms) { return ms % 3600e3 === 0 ? ms / 3600e3 + " h" : ms % 60e3 === 0 ? ms / 60e3 + " min" : ms / 1000 + " s"; }
function fmtTime(ms, span) {
  const d = new Date(ms), p = x => String(x).padStart(2, "0");
  const hm = p(d.getHours()) + ":" + p(d.getMinutes());
  return span < 10 * 60e3 ? hm + ":" + p(d.getSeconds()) : span > 2 * 86400e3 ? (d.getMonth() + 1) + "/" + d.getDate() + " " + hm : hm;
}

// The only place the page talks to the server: a declared template filled with encoded parameters.
async function api(name, params = {}) {
  const [template, query = ""] = API[name].split("?");
  const fill = t => t.replace(/\{(\w+)\}/g, (_, k) => String(params[k] ?? ""));
  const pairs = query.split("&").filter(Boolean).map(kv => kv.split("="))
    .map(([k, v]) => [k, fill(v)]).filter(([, v]) => v !== "");   // an empty parameter is left out
  const path = template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k] ?? ""))
    + (pairs.length ? "?" + pairs.map(([k, v]) => k + "=" + encodeURIComponent(v)).join("&") : "");
  const headers = { "Accept": "application/json" };
  if (TOKEN) headers["Authorization"] = "Bearer " + TOKEN;
  const r = await fetch(path, { headers, cache: "no-store" });
  const body = await r.json().catch(() => null);
  if (r.status === 401) {
    const e = new Error("unauthorized: open this page as /?token=<admin token>"); e.status = 401; throw e;
  }
  if (!r.ok) { const e = new Error((body && body.message) || ("HTTP " + r.status)); e.status = r.status; throw e; }
  return body;
}

// ---- SVG helpers ------------------------------------------------------------------------------------------
function niceTicks(lo, hi, n) {
  if (!(hi > lo)) { const d = Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
  const raw = (hi - lo) / n, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map(m => m * mag).find(s => s >= raw);
  const ticks = []; for (let v = Math.floor(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(+v.toPrecision(12));
  if (ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}
// lines: [{label, color, points: [[t, v], ...]}]; returns an SVG string.
function lineChart(lines, o) {
  const W = o.width, H = o.height, L = o.left ?? 52, R = 12, T = 8, B = 22;
  const pts = lines.flatMap(l => l.points);
  if (!pts.length) return "";
  let x0 = Math.min(...pts.map(p => p[0])), x1 = Math.max(...pts.map(p => p[0]));
  if (o.x0 != null) x0 = Math.min(x0, o.x0);
  if (x1 === x0) x1 = x0 + 1;
  const ticks = niceTicks(o.zero ? 0 : Math.min(...pts.map(p => p[1])), Math.max(...pts.map(p => p[1])), o.yTicks ?? 4);
  const y0 = ticks[0], y1 = ticks[ticks.length - 1];
  const sx = t => L + (t - x0) / (x1 - x0) * (W - L - R), sy = v => T + (1 - (v - y0) / (y1 - y0 || 1)) * (H - T - B);
  let s = `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(o.label || "chart")}"><g class="grid">`;
  for (const v of ticks) s += `<line x1="${L}" x2="${W - R}" y1="${sy(v)}" y2="${sy(v)}"/>`;
  s += `</g><g class="axis">`;
  const tick = (y1 - y0) / (ticks.length - 1 || 1);
  let decimals = 0;   // as many as the tick step needs (0.25 needs 2)
  while (decimals < 6 && Math.abs(tick * 10 ** decimals - Math.round(tick * 10 ** decimals)) > 1e-6) decimals++;
  for (const v of ticks) s += `<text x="${L - 6}" y="${sy(v) + 4}" text-anchor="end">${esc(o.fmt ? o.fmt(v) : v.toFixed(decimals))}</text>`;
  const nx = Math.max(2, Math.floor((W - L - R) / 90));
  for (let i = 0; i <= nx; i++) {
    const t = x0 + (x1 - x0) * i / nx;
    s += `<text x="${sx(t)}" y="${H - 5}" text-anchor="${i === 0 ? "start" : i === nx ? "end" : "middle"}">${fmtTime(t, x1 - x0)}</text>`;
  }
  s += `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#c9ced5"/></g>`;
  for (const l of lines) {
    if (!l.points.length) continue;
    const d = l.points.map((p, i) => (i ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1)).join("");
    if (o.area && lines.length === 1) {
      s += `<path d="${d}L${sx(l.points[l.points.length - 1][0]).toFixed(1)} ${H - B}L${sx(l.points[0][0]).toFixed(1)} ${H - B}Z" fill="${l.color}" opacity="0.10"/>`;
    }
    s += `<path d="${d}" fill="none" stroke="${l.color}" stroke-width="${o.stroke ?? 2}" stroke-linejoin="round"${l.dash ? ` stroke-dasharray="${l.dash}"` : ""}/>`;
    const last = l.points[l.points.length - 1];
    s += `<circle cx="${sx(last[0])}" cy="${sy(last[1])}" r="3" fill="${l.color}"/>`;
  }
  return s + "</svg>";
}
function sparkline(points, c) {
  const W = 96, H = 22;
  if (!points || points.length < 2) return `<span class="hint">${points ? "no recent data" : "…"}</span>`;
  const vs = points.map(p => p[1]), lo = Math.min(...vs), hi = Math.max(...vs), t0 = points[0][0], t1 = points[points.length - 1][0];
  const sx = t => 1 + (t - t0) / (t1 - t0 || 1) * (W - 4), sy = v => 2 + (1 - (v - lo) / (hi - lo || 1)) * (H - 4);
  const d = points.map((p, i) => (i ? "L" : "M") + sx(p[0]).toFixed(1) + " " + sy(p[1]).toFixed(1)).join("");
  const last = points[points.length - 1];
  return `<span style="display:inline-flex;align-items:center;gap:6px"><svg width="${W}" height="${H}"><path d="${d}" fill="none" stroke="${c}" stroke-width="1.5"/>` +
    `<circle cx="${sx(last[0])}" cy="${sy(last[1])}" r="2" fill="${c}"/></svg><span style="font-size:12px;color:var(--muted)">${fmtNum(last[1])}</span></span>`;
}

// ---- panels -----------------------------------------------------------------------------------------------
function renderTiles(bw) {
  const rows = bw.protocols || [];
  const sum = k => rows.reduce((a, r) => a + (r[k] || 0), 0);
  const ingest = rows.filter(r => r.readings > 0);
  const tiles = [["Devices", fmtInt(state.rows.length ? new Set(state.rows.map(r => r.device)).size : null)],
    ["Readings stored", fmtInt(sum("readings"))], ["Batches", fmtInt(sum("batches"))],
    ["Socket bytes in", fmtBytes(bw.socket_bytes_in)], ["Socket bytes out", fmtBytes(bw.socket_bytes_out)],
    ["Protocols with readings", String(ingest.length)]];
  document.getElementById("tiles").innerHTML = tiles.map(([k, v]) => `<div class="tile"><div class="k">${k}</div><div class="v">${v}</div></div>`).join("");
}

function renderBytesPerReading(bw) {
  const el = document.getElementById("bprChart");
  const rows = (bw.protocols || []).filter(r => r.readings > 0 && r.bytes_per_reading != null)
    .sort((a, b) => a.bytes_per_reading - b.bytes_per_reading);
  if (!rows.length) { el.innerHTML = `<div class="empty">No readings stored yet.</div>`; return; }
  const cheapest = rows[0].bytes_per_reading, max = rows[rows.length - 1].bytes_per_reading;
  const W = el.clientWidth || 520, label = 112, right = 200, barH = 26, gap = 26, H = rows.length * (barH + gap) + 4;
  let s = `<svg width="${W}" height="${H}" role="img" aria-label="bytes per reading by protocol">`;
  rows.forEach((r, i) => {
    const y = i * (barH + gap) + 2, w = Math.max(2, (W - label - right) * r.bytes_per_reading / max);
    const ratio = r.bytes_per_reading / cheapest;
    const parts = ["header", "framing", "payload"].map(k => (r[k + "_bytes_in"] || 0) + (r[k + "_bytes_out"] || 0));
    const total = parts.reduce((a, b) => a + b, 0) || 1;
    s += `<text x="0" y="${y + 17}" font-size="13" font-weight="600">${esc(r.protocol)}</text>`;
    s += `<rect x="${label}" y="${y}" width="${w}" height="${barH}" rx="3" fill="${color(r.protocol)}"/>`;
    s += `<text x="${label + w + 8}" y="${y + 17}" font-size="13"><tspan font-weight="650">${r.bytes_per_reading.toFixed(1)} B</tspan>` +
      `<tspan fill="#5b6470" dx="8">${i === 0 ? "1× (cheapest)" : ratio.toFixed(ratio < 10 ? 2 : 1) + "× the cheapest"}</tspan></text>`;
    s += `<text x="${label}" y="${y + barH + 15}" font-size="11" fill="#5b6470">${fmtInt(r.readings)} readings · headers ${Math.round(100 * parts[0] / total)}% · framing ${Math.round(100 * parts[1] / total)}% · payload ${Math.round(100 * parts[2] / total)}%</text>`;
  });
  el.innerHTML = s + "</svg>";
}

async function refreshHistory() {
  const el = document.getElementById("histChart");
  const step = 10000, from = Date.now() - 30 * 60e3;
  let h;
  try { h = await api("history", { step: "10s", from }); }
  catch (e) {
    el.innerHTML = (e.status === 404
      ? `<div class="empty">No history yet: this collector does not serve /v1/bandwidth/history.</div>`
      : `<div class="empty err">History unavailable: ${esc(e.message)}</div>`) + totalsTable();
    return;
  }
  const stepMs = h.step_ms || step, byProto = new Map();
  for (const b of h.buckets || []) {
    if (!byProto.has(b.protocol)) byProto.set(b.protocol, []);
    byProto.get(b.protocol).push([b.start, ((b.bytes_in || 0) + (b.bytes_out || 0)) * 1000 / stepMs]);
  }
  const lines = [...byProto].map(([p, pts]) => ({ label: p, color: color(p), points: pts.sort((a, b) => a[0] - b[0]) }));
  if (!lines.length) { el.innerHTML = `<div class="empty">No history yet: no bytes in the last 30 minutes.</div>`; return; }
  el.innerHTML = lineChart(lines, { width: el.clientWidth || 700, height: 200, zero: true, fmt: v => fmtBytes(v) + "/s", left: 70, label: "bandwidth over time" }) +
    `<div class="legend">${lines.map(l => `<span style="--c:${l.color}">${esc(l.label)}</span>`).join("")}</div>`;
}

// Shown under "no history yet": the totals per protocol since the collector started.
function totalsTable() {
  const rows = (state.bandwidth && state.bandwidth.protocols) || [];
  if (!rows.length) return "";
  const all = rows.reduce((a, r) => a + r.bytes_in + r.bytes_out, 0) || 1;
  return `<p class="hint">Totals since the collector started:</p><table><thead><tr><th class="l">Protocol</th><th>Bytes in</th><th>Bytes out</th>` +
    `<th>Share</th><th>Calls</th><th>Connections</th><th>Errors</th></tr></thead><tbody>` +
    rows.slice().sort((a, b) => (b.bytes_in + b.bytes_out) - (a.bytes_in + a.bytes_out)).map(r =>
      `<tr style="cursor:default"><td class="l"><span class="proto" style="--c:${color(r.protocol)}"><i></i>${esc(r.protocol)}</span></td>` +
      `<td>${fmtBytes(r.bytes_in)}</td><td>${fmtBytes(r.bytes_out)}</td><td>${(100 * (r.bytes_in + r.bytes_out) / all).toFixed(1)} %</td>` +
      `<td>${fmtInt(r.calls)}</td><td>${fmtInt(r.connections)}</td><td>${fmtInt(r.errors)}</td></tr>`).join("") + `</tbody></table>`;
}

function sortRows(rows) {
  const k = state.sort, dir = state.order === "asc" ? 1 : -1;
  return rows.slice().sort((a, b) => {
    const x = a[k], y = b[k];
    if (x == null && y == null) return a.device < b.device ? -1 : 1;
    if (x == null) return 1; if (y == null) return -1;   // rows without a value go last either way
    const c = typeof x === "string" ? x.localeCompare(y) : x - y;
    return c ? c * dir : (a.device < b.device ? -1 : a.device > b.device ? 1 : 0);
  });
}

function sparkSensor(device) { const s = state.sensors.get(device); return s ? (s.includes("temperature") ? "temperature" : s[0]) : null; }

function renderTable() {
  document.querySelectorAll("thead th[data-key]").forEach(th => {
    if (th.dataset.key === state.sort) th.setAttribute("aria-sort", state.order === "asc" ? "ascending" : "descending");
    else th.removeAttribute("aria-sort");
  });
  const rows = sortRows(state.rows).slice(0, MAX_ROWS);
  const tb = document.getElementById("rows");
  tb.innerHTML = rows.map(r => {
    const key = r.device + "|" + r.protocol, sp = state.sparks.get(r.device);
    return `<tr data-device="${esc(r.device)}" data-key="${esc(key)}" class="${r.device === state.selected ? "sel" : ""}">` +
      `<td class="dev">${esc(r.device)}</td><td class="l"><span class="proto" style="--c:${color(r.protocol)}"><i></i>${esc(r.protocol)}</span></td>` +
      `<td>${fmtInt(r.readings)}</td><td>${fmtBytes(r.bytes_in)}</td><td>${fmtBytes(r.bytes_out)}</td>` +
      `<td>${r.bytes_per_reading == null ? "–" : r.bytes_per_reading.toFixed(1)}</td>` +
      `<td class="spark l">${sparkline(sp && sp.points, color(r.protocol))}</td></tr>`;
  }).join("");
  const devices = new Set(state.rows.map(r => r.device)).size;
  document.getElementById("tableFoot").textContent = state.rows.length > MAX_ROWS
    ? `Showing ${MAX_ROWS} of ${fmtInt(state.rows.length)} rows (${fmtInt(devices)} devices). Sparklines: mean of each device's temperature (or first sensor) over the selected window.`
    : `${fmtInt(state.rows.length)} rows, ${fmtInt(devices)} devices. Sparklines: mean of each device's temperature (or first sensor) over the selected window.`;
  observeRows();
}

// Sparklines load for rows in view only (at most MAX_SPARKS per refresh).
let observer = null;
function observeRows() {
  if (!observer) observer = new IntersectionObserver(entries => {
    for (const e of entries) { const d = e.target.dataset.device; if (e.isIntersecting) state.visible.add(d); else state.visible.delete(d); }
  }, { root: document.getElementById("tablewrap"), rootMargin: "160px 0px" });
  observer.disconnect();
  state.visible.clear();
  const wrap = document.getElementById("tablewrap"), top = wrap.scrollTop - 160, bottom = wrap.scrollTop + wrap.clientHeight + 160;
  for (const tr of document.querySelectorAll("#rows tr")) {
    if (tr.offsetTop + tr.offsetHeight >= top && tr.offsetTop <= bottom) state.visible.add(tr.dataset.device);
    observer.observe(tr);
  }
}

async function pool(items, n, fn) {
  const queue = items.slice(); const workers = [];
  for (let i = 0; i < n; i++) workers.push((async () => { while (queue.length) { try { await fn(queue.shift()); } catch (e) {} } })());
  await Promise.all(workers);
}

async function deviceDetail(device) {
  const d = await api("device", { device });
  state.sensors.set(device, d.sensors.map(s => s.sensor));
  for (const s of d.sensors) if (s.latest && s.latest.ts > state.anchorMs) state.anchorMs = s.latest.ts;
  return d;
}

function seriesRange() {
  const windowMs = state.windowMs, step = Math.max(1000, Math.ceil(windowMs / 90 / 1000) * 1000);
  return { from: Math.floor((state.anchorMs || Date.now()) - windowMs), step };
}

async function refreshSparks() {
  const devices = [...new Set(sortRows(state.rows).slice(0, MAX_ROWS).map(r => r.device))].filter(d => state.visible.has(d)).slice(0, MAX_SPARKS);
  if (!devices.length) return;
  if (!state.anchorMs) await deviceDetail(devices[0]).catch(() => {});
  await pool(devices.filter(d => !state.sensors.has(d)), 6, deviceDetail);
  const { from, step } = seriesRange();
  await pool(devices, 6, async device => {
    const sensor = sparkSensor(device); if (!sensor) return;
    const s = await api("series", { device, sensor, from, step });
    state.sparks.set(device, { sensor, points: s.buckets.map(b => [b.start, b.value]) });
  });
  const s = [...state.sparks.values()][0];
  document.getElementById("sparkHead").textContent = "Recent " + (s ? s.sensor : "");
  renderTable();
}

async function refreshDevice() {
  const device = state.selected, box = document.getElementById("sensors"), hint = document.getElementById("devHint");
  if (!device) return;
  document.getElementById("devTitle").textContent = device;
  let d;
  try { d = await deviceDetail(device); }
  catch (e) { hint.innerHTML = `<span class="err">${esc(e.message)}</span>`; box.innerHTML = ""; return; }
  const row = state.rows.find(r => r.device === device);
  const windowMs = state.windowMs, step = Math.max(1000, Math.ceil(windowMs / 120 / 1000) * 1000);
  hint.textContent = (row ? row.protocol + " · " : "") + `${fmtInt(d.readings)} readings · ${fmtInt(d.batches)} batches` +
    ` · last seen ${new Date(d.last_seen_ms).toLocaleTimeString("en-GB")} · mean per ${fmtStep(step)}`;
  const latestTs = Math.max(0, ...d.sensors.map(s => s.latest ? s.latest.ts : 0));
  const from = latestTs - windowMs;
  const series = await Promise.all(d.sensors.map(s => api("series", { device, sensor: s.sensor, from, step }).catch(() => null)));
  if (state.selected !== device) return;
  const W = box.clientWidth || 480, c = row ? color(row.protocol) : "#0072B2";
  // Small multiples sized so that all sensors fit beside the device table (whose height follows the viewport).
  // (Measured to the table's footer, not the card: the grid stretches the cards to each other's height.)
  const foot = document.getElementById("tableFoot").getBoundingClientRect().bottom;
  const room = Math.max(480, foot - box.getBoundingClientRect().top - 4);
  const h = Math.max(96, Math.min(160, Math.floor(room / Math.max(1, d.sensors.length)) - 26));
  box.innerHTML = d.sensors.map((s, i) => {
    const pts = series[i] ? series[i].buckets.map(b => [b.start, b.value]) : [];
    const chart = pts.length ? lineChart([{ label: s.sensor, color: c, points: pts }], { width: W, height: h, area: true, label: s.sensor, yTicks: 3 })
      : `<div class="empty">no readings in this window</div>`;
    return `<div class="sensor"><h3><span>${esc(s.sensor)}</span><span class="val">latest ${s.latest ? fmtNum(s.latest.value) : "–"} · ${fmtInt(s.readings)} readings</span></h3>${chart}</div>`;
  }).join("");
}

function renderWindows() {
  document.getElementById("windows").innerHTML = WINDOWS.map(([n, ms]) =>
    `<button data-ms="${ms}" aria-pressed="${ms === state.windowMs}">${n}</button>`).join("");
}

// ---- refresh loop -----------------------------------------------------------------------------------------
let busy = false;
async function refresh() {
  if (busy) return; busy = true;
  try {
    const [bw, devs, health] = await Promise.all([
      api("bandwidth"),
      api("bandwidthDevices", ["device", "bytes_per_reading", "bytes_in", "bytes_out", "readings"].includes(state.sort)
        ? { sort: state.sort, order: state.order, limit: 5000 } : {}),
      api("health").catch(e => ({ status: e.message }))]);
    state.rows = devs.devices || [];
    state.bandwidth = bw;
    await refreshHistory();
    renderTiles(bw); renderBytesPerReading(bw); renderTable();
    if (!state.selected && state.rows.length) {
      const m = location.hash.match(/device=([^&]+)/);
      state.selected = m ? decodeURIComponent(m[1]) : sortRows(state.rows)[0].device;
    }
    await Promise.all([refreshSparks(), refreshDevice()]);
    const hp = document.getElementById("health");
    hp.className = "pill" + (health.status === "ok" ? "" : " bad");
    hp.innerHTML = `<span class="dot"></span>${health.status === "ok" ? "healthy" : esc(health.status)}`;
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString("en-GB") + " · every " + REFRESH_MS / 1000 + " s";
  } catch (e) {
    const hp = document.getElementById("health");
    hp.className = "pill bad"; hp.innerHTML = `<span class="dot"></span>${esc(e.message || "offline")}`;
  } finally { busy = false; }
}

document.querySelector("thead").addEventListener("click", e => {
  const th = e.target.closest("th[data-key]"); if (!th) return;
  const k = th.dataset.key;
  if (state.sort === k) state.order = state.order === "asc" ? "desc" : "asc";
  else { state.sort = k; state.order = (k === "device" || k === "protocol") ? "asc" : "desc"; }
  renderTable(); refreshSparks();
});
document.getElementById("rows").addEventListener("click", e => {
  const tr = e.target.closest("tr[data-device]"); if (!tr) return;
  state.selected = tr.dataset.device; history.replaceState(null, "", "#device=" + encodeURIComponent(state.selected));
  document.querySelectorAll("#rows tr").forEach(r => r.classList.toggle("sel", r.dataset.device === state.selected));
  refreshDevice();
});
document.getElementById("windows").addEventListener("click", e => {
  const b = e.target.closest("button[data-ms]"); if (!b) return;
  state.windowMs = +b.dataset.ms; state.sparks.clear(); renderWindows(); renderTable(); refreshSparks(); refreshDevice();
});
let scrollTimer = 0;
document.getElementById("tablewrap").addEventListener("scroll", () => { clearTimeout(scrollTimer); scrollTimer = setTimeout(refreshSparks, 250); });
let resizeTimer = 0;
window.addEventListener("resize", () => { clearTimeout(resizeTimer); resizeTimer = setTimeout(() => { observeRows(); refreshSparks(); refreshDevice(); }, 200); });
renderWindows();
refresh();
setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
</script>
</body>
</html>
"""#
}
