// Arbiter's dashboard: the keyed API read once at load, then kept current by /api/live.
// The key comes from the address's fragment (#key=…), is kept in this tab's sessionStorage,
// and is sent as X-API-Key (and as `key` on the WebSocket, which cannot carry headers).
"use strict";
const state = { key: "", feed: 0, seen: new Set(), trades: [], series: {}, colors: {}, connected: false };
const palette = ["#58a6ff", "#3fb950", "#d29922", "#f778ba", "#a5d6ff", "#ff7b72"];

function keyFromAddress() {
  const m = /(?:^|[#&])key=([^&]+)/.exec(location.hash);
  if (m) sessionStorage.setItem("arbiter-key", decodeURIComponent(m[1]));
  return sessionStorage.getItem("arbiter-key") || "";
}

async function api(path) {
  const r = await fetch(path, { headers: { "X-API-Key": state.key } });
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

// A raw integer amount (decimal text) in whole units, for display: exact digits, cut to 6 places.
function units(raw, decimals) {
  if (raw === undefined || raw === null) return "";
  let v = BigInt(raw), neg = v < 0n;
  if (neg) v = -v;
  const d = BigInt(decimals || 0), scale = 10n ** d;
  const whole = v / scale, frac = (v % scale).toString().padStart(Number(d), "0").slice(0, 6).replace(/0+$/, "");
  return (neg ? "-" : "") + whole.toString() + (frac ? "." + frac : "");
}
function toNumber(raw, decimals) { return Number(BigInt(raw)) / Math.pow(10, decimals || 0); }

function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
function body(id) { return document.querySelector("#" + id + " tbody"); }

function renderChains(chains, breakers) {
  const tb = body("chains");
  tb.textContent = "";
  for (const c of chains) {
    const r = tb.insertRow();
    r.className = "chain-row";
    r.dataset.chain = c.id;
    cell(r, c.name); cell(r, c.id); cell(r, c.head ?? "–"); cell(r, c.stateBlock ?? "–");
    cell(r, c.headLag, c.headLag > 3 ? "warn" : ""); cell(r, c.pools); cell(r, c.updates); cell(r, c.reorgs);
    cell(r, c.malformed, c.malformed > 0 ? "warn" : "");
    const b = (breakers || []).find(x => x.chain == c.id);
    cell(r, b ? b.state : "closed", b && b.state !== "closed" ? "neg" : "");
  }
}
let lastBreakers = [];

function addOpportunity(o) {
  if (state.seen.has(o.id)) return;
  state.seen.add(o.id);
  const li = document.createElement("li");
  li.className = "opportunity";
  const s = (t, c) => { const e = document.createElement("span"); e.textContent = t; if (c) e.className = c; li.appendChild(e); };
  s(o.kind, "kind"); s("chain " + o.chain); s("block " + o.block); s(o.decision || "", "decision");
  s("$" + (o.netProfitMicroUSD / 1e6).toFixed(2), "profit");
  const feed = document.getElementById("feed");
  feed.insertBefore(li, feed.firstChild);
  while (feed.children.length > 100) feed.removeChild(feed.lastChild);
  state.feed += 1;
  document.getElementById("feed-count").textContent = state.feed;
}

function addTrade(t) {
  if (state.trades.some(x => x.txHash === t.txHash)) return;
  state.trades.push(t);
  const tb = body("trades");
  const r = tb.insertRow(0);
  r.className = "trade-row";
  const diff = BigInt(t.realized) - BigInt(t.expected);
  cell(r, t.chainName || t.chain); cell(r, t.kind); cell(r, t.block); cell(r, t.symbol);
  cell(r, units(t.expected, t.decimals)); cell(r, units(t.realized, t.decimals), BigInt(t.realized) >= 0n ? "pos" : "neg");
  cell(r, units(diff.toString(), t.decimals), diff === 0n ? "" : "warn"); cell(r, t.txHash.slice(0, 12) + "…");
  const key = t.symbol + " (chain " + t.chain + ")";
  // Each series starts at zero at its first trade, so a single trade still draws a step.
  const s = state.series[key] || (state.series[key] = [{ x: Number(t.at), y: 0, start: true }]);
  const last = s[s.length - 1].y;
  s.push({ x: Number(t.at), y: last + toNumber(t.realized, t.decimals) });
  if (!state.colors[key]) state.colors[key] = palette[Object.keys(state.colors).length % palette.length];
  drawProfit();
}

function drawProfit() {
  const canvas = document.getElementById("profit"), ctx = canvas.getContext("2d");
  const w = canvas.width, h = canvas.height, pad = 36;
  ctx.clearRect(0, 0, w, h);
  const all = Object.values(state.series).flat();
  canvas.dataset.points = all.filter(p => !p.start).length;
  if (!all.length) { ctx.fillStyle = "#7d8a99"; ctx.fillText("no trades yet", pad, h / 2); return; }
  const xs = all.map(p => p.x), ys = all.map(p => p.y).concat([0]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || x0 + 1, y0 = Math.min(...ys), y1 = Math.max(...ys);
  const X = x => pad + (w - 2 * pad) * (x1 === x0 ? 1 : (x - x0) / (x1 - x0));
  const Y = y => h - pad - (h - 2 * pad) * (y1 === y0 ? 0.5 : (y - y0) / (y1 - y0));
  ctx.strokeStyle = "#263040"; ctx.beginPath(); ctx.moveTo(pad, Y(0)); ctx.lineTo(w - pad, Y(0)); ctx.stroke();
  const legend = document.getElementById("legend");
  legend.textContent = "";
  for (const [name, pts] of Object.entries(state.series)) {
    ctx.strokeStyle = state.colors[name]; ctx.lineWidth = 2; ctx.beginPath();
    pts.forEach((p, i) => i ? ctx.lineTo(X(p.x), Y(p.y)) : ctx.moveTo(X(p.x), Y(p.y)));
    ctx.stroke();
    ctx.fillStyle = state.colors[name];
    for (const p of pts) if (!p.start) { ctx.beginPath(); ctx.arc(X(p.x), Y(p.y), 3, 0, 2 * Math.PI); ctx.fill(); }
    const span = document.createElement("span");
    span.style.color = state.colors[name];
    span.textContent = name + ": " + pts[pts.length - 1].y.toFixed(6);
    legend.appendChild(span);
  }
}

// Nanoseconds as µs, ms or s, whichever reads best.
function duration(ns) {
  if (ns < 1e6) return (ns / 1e3).toFixed(1) + " µs";
  if (ns < 1e9) return (ns / 1e6).toFixed(1) + " ms";
  return (ns / 1e9).toFixed(2) + " s";
}

function renderLatency(stages) {
  const tb = body("latency");
  tb.textContent = "";
  for (const s of stages) {
    const r = tb.insertRow();
    cell(r, s.stage); cell(r, s.count);
    for (const k of ["p50", "p90", "p99", "max"]) cell(r, duration(s[k]));
  }
}

function renderRefusals(refusals) {
  const tb = body("refusals");
  tb.textContent = "";
  for (const x of refusals) { const r = tb.insertRow(); cell(r, x.reason); cell(r, x.count); }
}

function onEvent(e) {
  switch (e.type) {
    case "chains": renderChains(e.chains, lastBreakers); break;
    case "breakers": lastBreakers = e.breakers; break;
    case "opportunity": addOpportunity(e.opportunity); break;
    case "trade": addTrade(e.trade); break;
    case "latency": renderLatency(e.stages); break;
    case "refusals": renderRefusals(e.refusals); break;
    case "ready": {
      const el = document.getElementById("ready");
      el.textContent = e.ready ? "ready" : "not ready: " + e.reasons.join("; ");
      el.className = "badge " + (e.ready ? "on" : "off");
      break;
    }
  }
  document.getElementById("summary").textContent = state.feed + " opportunities · " + state.trades.length + " trades";
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(scheme + "//" + location.host + "/api/live?key=" + encodeURIComponent(state.key));
  const link = document.getElementById("link");
  ws.onopen = () => { state.connected = true; link.textContent = "live"; link.className = "badge on"; };
  ws.onmessage = m => { try { onEvent(JSON.parse(m.data)); } catch (err) { console.error(err); } };
  ws.onclose = () => {
    state.connected = false; link.textContent = "reconnecting…"; link.className = "badge off";
    setTimeout(connect, 1000);
  };
}

async function start() {
  state.key = keyFromAddress();
  try {
    const [chains, breakers, trades, opportunities, latency, refusals] = await Promise.all([
      api("/api/chains"), api("/api/breakers"), api("/api/trades?limit=1000"), api("/api/opportunities?limit=50"),
      api("/api/latency"), api("/api/refusals")]);
    lastBreakers = breakers;
    renderChains(chains, breakers);
    trades.slice().reverse().forEach(addTrade);
    opportunities.slice().reverse().forEach(addOpportunity);
    renderLatency(latency);
    renderRefusals(refusals);
  } catch (err) {
    document.getElementById("link").textContent = "API refused: " + err.message + " (open the address the lab printed, with #key=…)";
  }
  drawProfit();
  connect();
}
window.arbiter = state;
start();
