// The Skiff dashboard.  Every second it GETs /json/overview from the console
// that served it (same origin), with "Authorization: Bearer <token>"; the
// token is typed into the login form and kept in sessionStorage (this tab
// only).  A 401 drops it and shows the form again.  Rates (messages/s,
// bytes/s) are differences between two answers; a counter that went back (a
// restarted node) starts over.  Everything is written with textContent: a
// service or node name can never become markup.
"use strict";

const KEY = "skiffConsoleToken";
const PERIOD_MS = 1000;
const previous = new Map(); // key -> { value, t }
let timer = null;
let updates = 0;

const $ = (id) => document.getElementById(id);

function rate(key, value, t) {
  const p = previous.get(key);
  previous.set(key, { value, t });
  if (!p || value < p.value || t <= p.t) return null;
  return (value - p.value) / (t - p.t);
}

function fmtRate(x) { return x === null ? "…" : (x < 10 ? x.toFixed(1) : Math.round(x).toString()); }
function fmtBytes(n) {
  if (n === undefined || n === null) return "-";
  if (n < 1024) return String(n);
  if (n < 1048576) return (n / 1024).toFixed(1) + " KiB";
  return (n / 1048576).toFixed(1) + " MiB";
}
function fmtSeconds(x) {
  if (x === undefined || x === null) return "-";
  if (x < 1) return (x * 1000).toFixed(1) + " ms";
  return x.toFixed(2) + " s";
}

function row(tbody, cells, attrs) {
  const tr = document.createElement("tr");
  for (const [k, v] of Object.entries(attrs || {})) tr.dataset[k] = v;
  for (const c of cells) {
    const td = document.createElement("td");
    const [text, cls] = Array.isArray(c) ? c : [c, null];
    td.textContent = text === undefined || text === null ? "-" : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  tbody.appendChild(tr);
}

function fill(id, build) {
  const tbody = $(id).tBodies[0];
  const fresh = document.createElement("tbody");
  build(fresh);
  tbody.replaceWith(fresh);
}

function render(r) {
  const t = r.time;
  const load = new Map(r.load.map((l) => [l.node, l]));
  const failed = new Map();
  for (const entry of r.links) {
    let sum = 0;
    for (const l of entry.links || []) sum += l.calls_failed || 0;
    failed.set(entry.node, entry.error ? null : sum);
  }
  fill("nodes", (tb) => {
    for (const n of r.nodes) {
      const l = load.get(n.id) || {};
      const msgs = l.error ? null : rate("msg:" + n.id, l.messages, t);
      const longest = (l.queues || []).reduce((m, q) => Math.max(m, q.length), 0);
      row(tb, [
        n.id, n.name, n.address, [n.state, "state"], n.incarnation,
        n.self ? "this node" : (n.last_heartbeat === undefined ? "-" : fmtSeconds(n.last_heartbeat) + " ago"),
        [l.error ? "-" : fmtRate(msgs), "num"], [l.services, "num"], [l.error ? "-" : longest, "num"],
        [fmtBytes(l.memory), "num"], [failed.get(n.id), "num"],
        l.error ? l.error : fmtSeconds(l.uptime),
      ], { node: n.id, state: n.state, incarnation: n.incarnation || "" });
    }
  });
  fill("links", (tb) => {
    for (const entry of r.links) {
      if (entry.error) {
        row(tb, [entry.node, "-", entry.error], { node: entry.node });
        continue;
      }
      for (const l of entry.links) {
        const k = entry.node + ">" + l.peer;
        row(tb, [
          entry.node, l.peer, [l.state, "state"], fmtSeconds(l.rtt),
          [fmtBytes(rate("tx:" + k, l.bytes_sent, t)), "num"], [fmtBytes(rate("rx:" + k, l.bytes_received, t)), "num"],
          [fmtBytes(l.bytes_sent), "num"], [fmtBytes(l.bytes_received), "num"],
          [l.calls_failed, "num"], [l.queued, "num"],
        ], { node: entry.node, peer: l.peer, state: l.state });
      }
    }
  });
  fill("queues", (tb) => {
    for (const l of r.load) {
      if (l.error) continue;
      for (const q of l.queues) if (q.length > 0) row(tb, [l.node, q.service, q.name, [q.length, "num"]], { node: l.node });
    }
  });
  fill("names", (tb) => {
    for (const n of r.names) row(tb, [n.name, n.handle, n.node], { name: n.name });
  });
  const up = r.nodes.filter((n) => n.state === "up").length;
  // a leaving node drains: it still answers, but takes no newcomers
  const leaving = r.nodes.filter((n) => n.state === "leaving").length;
  $("summary").textContent = `${r.mode} mode, node ${r.node}: ${up} of ${r.nodes.length} nodes up`
    + (leaving ? `, ${leaving} leaving` : "")
    + (r.master ? `, master ${r.master.state}` : "") + (r.note ? ` (${r.note})` : "");
  updates += 1;
  document.body.dataset.updates = String(updates);
  $("status").textContent = "updated " + new Date().toLocaleTimeString();
}

function showLogin(message) {
  if (timer) clearTimeout(timer);
  timer = null;
  sessionStorage.removeItem(KEY);
  $("main").hidden = true;
  $("logout").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("token").focus();
}

async function poll() {
  const token = sessionStorage.getItem(KEY);
  if (!token) return showLogin();
  try {
    const res = await fetch("/json/overview", {
      headers: { Authorization: "Bearer " + token },
      cache: "no-store",
      credentials: "omit",
    });
    if (res.status === 401) return showLogin("The console refused this token.");
    const doc = await res.json();
    if (!doc.ok) throw new Error(doc.error);
    $("login").hidden = true;
    $("main").hidden = false;
    $("logout").hidden = false;
    render(doc.result);
  } catch (e) {
    $("status").textContent = "no answer from the console: " + e.message;
    document.body.dataset.error = String(e.message);
  }
  timer = setTimeout(poll, PERIOD_MS);
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $("token").value.trim());
  $("token").value = "";
  previous.clear();
  poll();
});
$("logout").addEventListener("click", () => showLogin());
poll();
