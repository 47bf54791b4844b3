// The stats page: plain HTML, CSS and JavaScript, nothing fetched from elsewhere. It reads
// stats.json (beside the page's own path) every second and redraws: tables per frontend, backend and
// server with states coloured as on HAProxy's page, and a chart of the request rate and errors over
// the last minutes with the reloads marked.
export const STATS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ferry stats</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:1em 2em;color:#222;background:#fafafa}
h1{font-size:18px;margin:0 0 .3em}h2{font-size:15px;margin:1.2em 0 .3em}
#info{color:#555;margin-bottom:.6em}
table{border-collapse:collapse;margin-bottom:.8em;min-width:60%}
th,td{border:1px solid #ccc;padding:2px 8px;text-align:right;white-space:nowrap}th{background:#dde}
td:first-child,th:first-child{text-align:left}
tr.backend td{background:#eef;font-weight:bold}
.UP{background:#c0ffc0}.DOWN{background:#ff9090}.DRAIN{background:#a0a0ff}.MAINT{background:#c07820;color:#fff}
.OPEN{background:#c0ffc0}
#chart{border:1px solid #ccc;background:#fff}
.legend span{display:inline-block;width:12px;height:3px;margin:0 4px 3px 10px}
#error{color:#b00}
</style></head><body>
<h1>ferry</h1><div id="info">loading…</div><div id="error"></div>
<canvas id="chart" width="720" height="160"></canvas>
<div class="legend"><span style="background:#2a6"></span>requests/s<span style="background:#c22"></span>errors/s (5xx and failed ends)<span style="background:#888"></span>reload</div>
<h2>Frontends</h2><table id="frontends"></table>
<h2>Backends and servers</h2><table id="backends"></table>
<script>
"use strict";
const url = location.pathname.replace(/\\/?$/, "/").replace(/\\/index\\.html\\/$/, "/") + "stats.json";
const history = [];
const KEEP_MS = 5 * 60 * 1000;
const MIN_SPAN_MS = 60 * 1000;
let previous;
function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
function head(table, names) { const r = table.createTHead().insertRow(); for (const n of names) { const th = document.createElement("th"); th.textContent = n; r.appendChild(th); } }
function bytes(n) { const u = ["B", "kB", "MB", "GB", "TB"]; let i = 0; while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; } return (i ? n.toFixed(1) : n) + " " + u[i]; }
function rate(now, before, key, dt) { return before === undefined || dt <= 0 ? 0 : Math.max(0, (now[key] - before[key]) / dt); }
function codes(s) { return s.slice(1).map((n, i) => (n > 0 ? (i + 1) + "xx " + n : "")).filter(Boolean).join(", ") || "-"; }
function byName(list, name) { return list === undefined ? undefined : list.find((x) => x.name === name); }
function render(d) {
  const dt = previous === undefined ? 0 : (d.time - previous.time) / 1000;
  document.getElementById("info").textContent = "generation " + d.generation + " · reloads " + d.reloads + " (failed " + d.failedReloads + ") · handed over " + d.handedOver.session + " sessions, " + d.handedOver.flow + " flows · up " + Math.round((d.time - d.startedAt) / 1000) + " s · " + new Date(d.time).toLocaleTimeString();
  const fe = document.getElementById("frontends"); fe.textContent = "";
  head(fe, ["frontend", "mode", "state", "current", "total", "rate/s", "requests", "req/s", "bytes in", "bytes out", "HTTP responses", "errors"]);
  const body = fe.createTBody();
  for (const f of d.frontends) {
    const r = body.insertRow(); const p = byName(previous && previous.frontends, f.name);
    cell(r, f.name); cell(r, f.mode); cell(r, "OPEN", "OPEN"); cell(r, f.current); cell(r, f.total); cell(r, rate(f, p, "total", dt).toFixed(1));
    cell(r, f.requests); cell(r, rate(f, p, "requests", dt).toFixed(1)); cell(r, bytes(f.bytesIn)); cell(r, bytes(f.bytesOut)); cell(r, codes(f.statuses)); cell(r, f.errors);
  }
  const be = document.getElementById("backends"); be.textContent = "";
  head(be, ["backend / server", "state", "weight", "current", "total", "rate/s", "conn errors", "bytes in", "bytes out", "HTTP responses", "check", "last change"]);
  const bb = be.createTBody();
  for (const b of d.backends) {
    const r = bb.insertRow(); r.className = "backend"; const p = byName(previous && previous.backends, b.name);
    cell(r, b.name); cell(r, b.servers.length === 0 ? "service" : b.up + "/" + b.servers.length + " up"); cell(r, ""); cell(r, b.current); cell(r, b.total); cell(r, rate(b, p, "total", dt).toFixed(1));
    cell(r, b.failures); cell(r, bytes(b.bytesIn)); cell(r, bytes(b.bytesOut)); cell(r, codes(b.statuses)); cell(r, ""); cell(r, "");
    for (const s of b.servers) {
      const q = bb.insertRow(); q.dataset.server = b.name + "/" + s.name; const ps = byName(p && p.servers, s.name);
      cell(q, "\\u00a0\\u00a0" + s.name + " (" + s.address + ")"); cell(q, s.state, s.state); cell(q, s.weight); cell(q, s.current); cell(q, s.total); cell(q, rate(s, ps, "total", dt).toFixed(1));
      cell(q, s.failures); cell(q, bytes(s.bytesIn)); cell(q, bytes(s.bytesOut)); cell(q, codes(s.statuses)); cell(q, s.check === null ? "-" : s.check); cell(q, s.sinceChangeS + " s ago");
    }
  }
  chart(d, dt);
  previous = d;
}
function chart(d, dt) {
  const sum = (k) => d.frontends.reduce((n, f) => n + f[k], 0);
  const point = { time: d.time, requests: sum("requests"), errors: sum("errors") + d.frontends.reduce((n, f) => n + f.statuses[5], 0) };
  const last = history[history.length - 1];
  point.rq = last === undefined || dt <= 0 ? 0 : Math.max(0, (point.requests - last.requests) / dt);
  point.er = last === undefined || dt <= 0 ? 0 : Math.max(0, (point.errors - last.errors) / dt);
  history.push(point);
  while (history.length > 0 && history[0].time < d.time - KEEP_MS) history.shift();
  const c = document.getElementById("chart"); const g = c.getContext("2d");
  g.clearRect(0, 0, c.width, c.height);
  // The time axis grows from one minute to five as the page stays open.
  const span = Math.min(KEEP_MS, Math.max(MIN_SPAN_MS, d.time - history[0].time));
  const t0 = d.time - span; const x = (t) => ((t - t0) / span) * c.width;
  const top = Math.max(1, ...history.map((p) => Math.max(p.rq, p.er)));
  const y = (v) => c.height - 12 - (v / top) * (c.height - 24);
  g.strokeStyle = "#888"; g.fillStyle = "#888"; g.font = "10px sans-serif";
  for (const t of d.reloadTimes) { if (t < t0) continue; g.beginPath(); g.moveTo(x(t), 0); g.lineTo(x(t), c.height); g.stroke(); g.fillText("reload", x(t) + 2, 10); }
  for (const [key, colour] of [["rq", "#2a6"], ["er", "#c22"]]) {
    g.strokeStyle = colour; g.beginPath();
    history.forEach((p, i) => (i === 0 ? g.moveTo(x(p.time), y(p[key])) : g.lineTo(x(p.time), y(p[key]))));
    g.stroke();
  }
  g.fillStyle = "#555"; g.fillText(top.toFixed(1) + "/s", 2, 20); g.fillText("last " + Math.round(span / 60000) + " min", c.width - 60, c.height - 2);
}
async function refresh() {
  try {
    const res = await fetch(url, { cache: "no-store" });
    if (!res.ok) throw new Error(res.status + " " + res.statusText);
    render(await res.json());
    document.getElementById("error").textContent = "";
  } catch (e) {
    document.getElementById("error").textContent = "cannot read " + url + ": " + e.message;
  }
  setTimeout(refresh, 1000);
}
refresh();
</script></body></html>
`;
