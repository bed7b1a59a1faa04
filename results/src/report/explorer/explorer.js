// The history explorer (results/src/report/explorer/): reads the JSON in #explorer-data that
// Rust wrote (operations as columns, faults, clocks, anomalies, colours) and draws it on a
// canvas. No library, no network: the report opens from disk.
(function () {
  "use strict";
  var started = performance.now();
  var api = { ready: false, readyAt: null, initMs: null };
  window.faultlineExplorer = api;
  var source = document.getElementById("explorer-data");
  var root = document.getElementById("explorer");
  if (!source || !root) return;
  var D = JSON.parse(source.textContent);
  api.parseMs = performance.now() - started;
  var C = D.colours;

  // ---- the operations, decoded from columns (times in µs since the run started) ----
  var o = D.ops, n = o.t0.length, NAMES = o.names, VALUES = o.values;
  var T0 = new Float64Array(n), T1 = new Float64Array(n), IDX = new Float64Array(n);
  var end = D.end, t = 0, ix = 0, i;
  for (i = 0; i < n; i++) {
    t += o.t0[i]; ix += o.idx[i];
    T0[i] = t; IDX[i] = ix;
    T1[i] = o.lat[i] < 0 ? -1 : t + o.lat[i];
    if (T1[i] > end) end = T1[i];
  }
  end = Math.max(end, 1);
  for (i = 0; i < n; i++) if (T1[i] < 0) T1[i] = end; // never answered: to the end of the run
  var lanes = D.lanes, laneOps = lanes.map(function () { return []; });
  for (i = 0; i < n; i++) laneOps[o.lane[i]].push(i);
  function str(id) { return id > 0 ? NAMES[id - 1] : ""; } // names are numbered from 1
  function value(id) { return id < 0 ? "" : VALUES[id]; }
  function result(p) { return o.res[p] < 0 ? VALUES[o.val[p]] : VALUES[o.res[p]]; } // -1: the value
  function posOf(index) { // position of the operation invoked at history index `index`
    var lo = 0, hi = n - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (IDX[mid] === index) return mid;
      if (IDX[mid] < index) lo = mid + 1; else hi = mid - 1;
    }
    return -1;
  }
  var blocked = D.blocked == null ? -1 : posOf(D.blocked);
  var outcomeName = ["ok", "fail", "info", "rejected", "no answer"];

  // ---- the page's elements ----
  var overview = root.querySelector(".explorer-overview");
  var canvas = root.querySelector(".explorer-canvas");
  var scroller = root.querySelector(".explorer-scroll");
  var tip = root.querySelector(".explorer-tip");
  var selLine = root.querySelector(".explorer-selection");
  var ctx = canvas.getContext("2d"), octx = overview.getContext("2d");

  // ---- geometry ----
  var LEFT = 78, RIGHT = 8, AXIS = 20, STRIP = 13, MINW = 2;
  var families = ["process", "network", "clock", "other"].filter(function (f) {
    return D.faults.some(function (w) { return w.family === f; });
  });
  // Lanes tall enough for a label inside an operation; past ~50 of them, the scrollbar.
  var laneH = Math.max(12, Math.min(20, Math.floor(600 / Math.max(1, lanes.length))));
  var lanesTop = AXIS + families.length * STRIP + (families.length ? 3 : 0);
  // H: every lane; VH: what the canvas shows of them at once (a scrollbar beside it moves
  // through the rest: a run's final reads can add a process per key).
  var W = 800, H = lanesTop + lanes.length * laneH + 2, VH = Math.min(H, lanesTop + 600), sy = 0;
  var v0 = 0, v1 = end; // the view, µs
  var selected = -1, selKey = -1, drag = null, moved = false, stats = { lanesDrawn: 0, opsDrawn: 0 };

  function x(tu) { return LEFT + (tu - v0) / (v1 - v0) * (W - LEFT - RIGHT); }
  function timeAt(px) { return v0 + (px - LEFT) / (W - LEFT - RIGHT) * (v1 - v0); }
  function laneTop(l) { return lanesTop + l * laneH - sy; }
  function laneShown(l) { return laneTop(l) >= lanesTop && laneTop(l) + laneH <= VH + 1; }
  function opRect(p) {
    var xa = x(T0[p]), xb = Math.max(x(T1[p]), xa + MINW);
    return { x: xa, y: laneTop(o.lane[p]) + 1, w: xb - xa, h: Math.max(2, laneH - 2) };
  }
  function alpha(hex, a) {
    var v = parseInt(hex.slice(1), 16);
    return "rgba(" + (v >> 16) + "," + ((v >> 8) & 255) + "," + (v & 255) + "," + a + ")";
  }
  function seconds(us, digits) { return (us / 1e6).toFixed(digits) + " s"; }
  function duration(us) {
    if (us < 1000) return us.toFixed(0) + " µs";
    if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 3 : 1) + " ms";
    return (us / 1e6).toFixed(3) + " s";
  }
  function size() {
    var dpr = window.devicePixelRatio || 1;
    scroller.style.height = VH + "px";
    root.querySelector(".explorer-spacer").style.height = (H - VH) + "px";
    W = Math.max(300, scroller.clientWidth);
    [[canvas, VH], [overview, 28]].forEach(function (c) {
      c[0].style.width = W + "px"; c[0].style.height = c[1] + "px";
      c[0].width = Math.round(W * dpr); c[0].height = Math.round(c[1] * dpr);
      c[0].getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
    });
  }

  // ---- drawing ----
  function ticks() { // about eight round steps across the view
    var span = v1 - v0, raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw))), step = p;
    [2, 5, 10].forEach(function (m) { if (step < raw) step = p * m; });
    var digits = Math.max(0, Math.ceil(-Math.log10(step / 1e6)));
    var out = [];
    for (var tk = Math.ceil(v0 / step) * step; tk <= v1; tk += step) out.push([tk, seconds(tk, digits)]);
    return out;
  }
  function label(p) {
    var f = str(o.f[p]), v = value(o.val[p]), r = result(p), s = f;
    if (v) s += " " + v;
    if (o.out[p] === 4) s += " ?";
    else if (r && r !== v) s += " → " + r;
    return s;
  }
  function fit(text, room) { // the text, cut to `room` pixels, or "" where nothing fits
    if (ctx.measureText(text).width <= room) return text;
    var lo = 0, hi = text.length;
    while (lo < hi) {
      var mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(text.slice(0, mid) + "…").width <= room) lo = mid; else hi = mid - 1;
    }
    return lo >= 2 ? text.slice(0, lo) + "…" : "";
  }
  function draw() {
    var began = performance.now();
    ctx.clearRect(0, 0, W, VH);
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    var bottom = Math.min(VH, laneTop(lanes.length));
    // Lanes in view, alternately shaded, named where there is room (every k-th when thin).
    var every = Math.ceil(11 / laneH);
    var first = Math.floor(sy / laneH), lastLane = Math.min(lanes.length - 1, Math.floor((sy + VH - lanesTop) / laneH));
    stats.lanesDrawn = 0;
    for (var l = first; l <= lastLane; l++) {
      if (!laneShown(l)) continue;
      if (l % 2) { ctx.fillStyle = "#f4f4f4"; ctx.fillRect(LEFT, laneTop(l), W - LEFT - RIGHT, laneH); }
      if (l % every === 0) { ctx.fillStyle = "#333"; ctx.fillText(fit(lanes[l], LEFT - 6), 2, laneTop(l) + laneH / 2); }
      stats.lanesDrawn++;
    }
    // Fault windows: a strip per family above the lanes (solid until the heal begins), a
    // shade across every lane.
    D.faults.forEach(function (w) {
      var xa = Math.max(LEFT, x(w.start)), xb = Math.min(W - RIGHT, Math.max(x(w.end), x(w.start) + MINW));
      if (xb < LEFT || xa > W - RIGHT) return;
      var colour = C.family[w.family], row = families.indexOf(w.family);
      ctx.fillStyle = alpha(colour, 0.12);
      ctx.fillRect(xa, lanesTop, xb - xa, bottom - lanesTop);
      var xh = Math.min(xb, Math.max(xa, x(w.heal))), top = AXIS + row * STRIP;
      ctx.fillStyle = alpha(colour, 0.45);
      ctx.fillRect(xa, top, xh - xa, STRIP - 1);
      ctx.fillStyle = alpha(colour, 0.2);
      ctx.fillRect(xh, top, xb - xh, STRIP - 1);
      // The fault in words where it fits (all of it on hover).
      var words = fit(w.text, xb - xa - 4);
      if (words) { ctx.fillStyle = "#222"; ctx.fillText(words, xa + 2, top + STRIP / 2); }
    });
    // Operations, clipped to the plot.
    ctx.save();
    ctx.beginPath(); ctx.rect(LEFT, lanesTop, W - LEFT - RIGHT, VH - lanesTop); ctx.clip();
    // Lane by lane; slivers of one colour that touch are filled as one rectangle (at full
    // range thousands of operations share a few hundred pixels: one fill each would cost
    // more than everything else on the page).
    var h = Math.max(2, laneH - 2), drawn = 0, labels = [], dim = {};
    C.outcome.forEach(function (c) { dim[c] = alpha(c, 0.18); });
    for (l = first; l <= lastLane; l++) {
      var list = laneOps[l], y = laneTop(l) + 1, runX = 0, runEnd = -1, runStyle = null;
      for (var k = 0; k < list.length; k++) {
        var p = list[k];
        if (T1[p] < v0 || T0[p] > v1) continue;
        var xa = x(T0[p]), w = Math.max(x(T1[p]) - xa, MINW);
        var colour = C.outcome[o.out[p]];
        var style = selKey >= 0 && o.key[p] !== selKey ? dim[colour] : colour;
        drawn++;
        if (style === runStyle && w < 4 && xa <= runEnd + 0.5) { runEnd = Math.max(runEnd, xa + w); continue; }
        if (runStyle) { ctx.fillStyle = runStyle; ctx.fillRect(runX, y, runEnd - runX, h); }
        runX = xa; runEnd = xa + w; runStyle = style;
        if (laneH >= 11 && w > 24) labels.push(p);
      }
      if (runStyle) { ctx.fillStyle = runStyle; ctx.fillRect(runX, y, runEnd - runX, h); }
    }
    ctx.fillStyle = "#fff";
    labels.forEach(function (p) {
      var r = opRect(p), text = fit(label(p), Math.min(r.x + r.w, W - RIGHT) - Math.max(r.x, LEFT) - 4);
      if (text) ctx.fillText(text, Math.max(r.x, LEFT) + 2, r.y + h / 2);
    });
    stats.opsDrawn = drawn;
    // The selection ringed in black, the blocked operation in red inside it.
    [[selected, "#000", 2], [blocked, C.blocked, 0.5]].forEach(function (m) {
      if (m[0] < 0) return;
      var r = opRect(m[0]);
      ctx.strokeStyle = m[1]; ctx.lineWidth = 2;
      ctx.strokeRect(r.x - m[2], r.y - m[2], r.w + 2 * m[2], h + 2 * m[2]);
    });
    ctx.restore();
    // Time axis.
    ctx.fillStyle = "#333"; ctx.strokeStyle = "#ccc"; ctx.lineWidth = 1;
    ticks().forEach(function (tk) {
      var px = Math.round(x(tk[0])) + 0.5;
      ctx.beginPath(); ctx.moveTo(px, AXIS - 4); ctx.lineTo(px, bottom); ctx.stroke();
      ctx.fillText(tk[1], Math.min(px + 2, W - 60), AXIS / 2);
    });
    if (drag && drag.mode === "range") {
      ctx.fillStyle = "rgba(0,0,0,0.12)";
      ctx.fillRect(Math.min(drag.x, drag.cx), lanesTop, Math.abs(drag.cx - drag.x), bottom - lanesTop);
    }
    drawOverview();
    api.drawMs = performance.now() - began;
  }
  var density = null;
  function drawOverview() { // the whole run: operations per column, faults, the view's window
    var w = W - LEFT - RIGHT;
    if (!density || density.length !== Math.ceil(w)) {
      density = new Float64Array(Math.ceil(w));
      for (var p = 0; p < n; p++) density[Math.min(density.length - 1, Math.floor(T0[p] / end * w))]++;
    }
    var max = 1;
    for (var c = 0; c < density.length; c++) max = Math.max(max, density[c]);
    octx.clearRect(0, 0, W, 28);
    D.faults.forEach(function (f) {
      octx.fillStyle = alpha(C.family[f.family], 0.3);
      octx.fillRect(LEFT + f.start / end * w, 0, Math.max(1, (f.end - f.start) / end * w), 28);
    });
    octx.fillStyle = C.context;
    for (c = 0; c < density.length; c++) {
      var bar = density[c] / max * 24;
      octx.fillRect(LEFT + c, 26 - bar, 1, bar);
    }
    octx.strokeStyle = "#000"; octx.lineWidth = 1.5;
    var a = LEFT + v0 / end * w, b = LEFT + v1 / end * w;
    octx.strokeRect(a, 1, Math.max(2, b - a), 26);
    octx.fillStyle = "#555"; octx.font = "10px system-ui, sans-serif"; octx.textBaseline = "middle";
    octx.fillText("whole run", 2, 14);
  }

  // ---- what is under the pointer ----
  function opAt(px, py) {
    var l = Math.floor((py - lanesTop + sy) / laneH);
    if (py < lanesTop || py > VH) return -1;
    if (l < 0 || l >= lanes.length || px < LEFT) return -1;
    var list = laneOps[l], tu = timeAt(px), slack = (v1 - v0) / (W - LEFT - RIGHT) * MINW;
    var lo = 0, hi = list.length; // first operation invoked after the pointer
    while (lo < hi) { var mid = (lo + hi) >> 1; if (T0[list[mid]] <= tu) lo = mid + 1; else hi = mid; }
    for (var k = lo - 1; k >= 0 && k >= lo - 64; k--) { // latest first: what is drawn on top
      var p = list[k];
      if (T0[p] <= tu && tu <= Math.max(T1[p], T0[p] + slack)) return p;
    }
    return -1;
  }
  function faultAt(px, py) {
    var row = Math.floor((py - AXIS) / STRIP), tu = timeAt(px);
    if (py < AXIS || row >= families.length) return null;
    return D.faults.filter(function (w) {
      return w.family === families[row] && w.start <= tu && tu <= w.end;
    })[0] || null;
  }
  function clocksAt(tu) {
    return D.clocks.map(function (c) {
      var k = 0;
      while (k + 1 < c.t.length && c.t[k + 1] <= tu) k++;
      var ms = c.ms[k];
      return c.node + " " + (ms > 0 ? "+" : "") + ms + " ms";
    }).join(", ");
  }
  function describe(p) {
    var key = str(o.key[p]), lines = [];
    lines.push("#" + IDX[p] + " · " + lanes[o.lane[p]] + " · " + str(o.f[p]) + (key ? " key " + key : ""));
    lines.push("value " + (value(o.val[p]) || "–") + " · result " + (result(p) || "–") + " (" + outcomeName[o.out[p]] + ")");
    lines.push("node " + (str(o.node[p]) || "–") + " · latency " +
      (o.out[p] === 4 ? "no answer" : duration(T1[p] - T0[p])) + " · invoked " + seconds(T0[p], 6));
    if (p === blocked) lines.push("the operation the checker cannot linearize");
    return lines;
  }
  function showTip(lines, ev) {
    tip.textContent = "";
    lines.forEach(function (s) { var d = document.createElement("div"); d.textContent = s; tip.appendChild(d); });
    tip.style.display = "block";
    var box = root.getBoundingClientRect();
    var left = ev.clientX - box.left + 14, top = ev.clientY - box.top + 14;
    tip.style.left = Math.min(left, W - tip.offsetWidth - 4) + "px";
    tip.style.top = top + "px";
  }

  // ---- the view ----
  function zoomTo(a, b) {
    var span = Math.max(5, b - a), mid = (a + b) / 2;
    span = Math.min(span, end * 1.02);
    v0 = mid - span / 2; v1 = mid + span / 2;
    if (v0 < 0) { v1 -= v0; v0 = 0; }
    if (v1 > end) { v0 = Math.max(0, v0 - (v1 - end)); v1 = end; }
    draw();
  }
  function select(p, zoom) {
    selected = p;
    selKey = p < 0 ? -1 : o.key[p];
    if (p < 0) { selLine.textContent = "Click an operation to highlight every operation on its key."; draw(); return; }
    var same = 0;
    for (var q = 0; q < n; q++) if (o.key[q] === selKey) same++;
    var key = str(selKey);
    selLine.textContent = "Selected " + describe(p).join(" · ") + " — " + same + " operations on " +
      (key ? "key " + key : "no key") + " highlighted.";
    if (zoom) {
      if (!laneShown(o.lane[p])) { // scroll its lane into the middle of the view
        scroller.scrollTop = o.lane[p] * laneH - (VH - lanesTop) / 2;
        sy = scroller.scrollTop;
      }
      var len = T1[p] - T0[p];
      var pad = Math.max(2 * len, 5000); // the operation and what ran around it
      zoomTo(T0[p] - pad, T1[p] + pad);
    } else draw();
  }
  function fromHash() {
    var h, m;
    try { h = decodeURIComponent(location.hash.slice(1)); } catch (_) { return; } // a malformed link
    if ((m = /^op=(\d+)$/.exec(h))) {
      var p = posOf(Number(m[1]));
      if (p >= 0) select(p, true);
      else selLine.textContent = "Operation #" + m[1] + " is not in this page (see history.jsonl).";
    } else if ((m = /^t=([\d.]+)-([\d.]+)$/.exec(h))) {
      var a = Number(m[1]), b = Number(m[2]);
      if (isFinite(a) && isFinite(b)) zoomTo(a * 1e6, b * 1e6);
    }
  }

  // ---- the reader's hands ----
  function local(ev) { var b = canvas.getBoundingClientRect(); return [ev.clientX - b.left, ev.clientY - b.top]; }
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var at = timeAt(local(ev)[0]), k = Math.exp(ev.deltaY * 0.002);
    zoomTo(at - (at - v0) * k, at + (v1 - at) * k);
  }, { passive: false });
  canvas.addEventListener("mousedown", function (ev) {
    var pt = local(ev);
    moved = false;
    drag = { mode: ev.shiftKey || ev.button === 1 ? "pan" : "range", x: pt[0], cx: pt[0], v0: v0, v1: v1 };
    ev.preventDefault();
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var px = local(ev)[0];
    if (Math.abs(px - drag.x) > 3) moved = true;
    drag.cx = px;
    if (drag.mode === "pan") {
      var shift = (drag.x - px) / (W - LEFT - RIGHT) * (drag.v1 - drag.v0);
      v0 = drag.v0 + shift; v1 = drag.v1 + shift;
      zoomTo(v0, v1);
    } else draw();
  });
  window.addEventListener("mouseup", function () {
    if (drag && drag.mode === "range" && moved) {
      var a = timeAt(Math.min(drag.x, drag.cx)), b = timeAt(Math.max(drag.x, drag.cx));
      drag = null;
      zoomTo(a, b);
    }
    drag = null;
  });
  canvas.addEventListener("click", function (ev) {
    if (moved) { moved = false; return; }
    var pt = local(ev);
    select(opAt(pt[0], pt[1]), false);
  });
  canvas.addEventListener("mousemove", function (ev) {
    if (drag) { tip.style.display = "none"; return; }
    var pt = local(ev), p = opAt(pt[0], pt[1]), w = faultAt(pt[0], pt[1]), lines;
    var tu = timeAt(pt[0]);
    if (p >= 0) lines = describe(p);
    else if (w) lines = [w.text, "from " + seconds(w.start, 3) + ", heal from " + seconds(w.heal, 3) + " to " + seconds(w.end, 3)];
    else if (pt[0] >= LEFT && pt[1] >= lanesTop) lines = [seconds(tu, 6)];
    else { tip.style.display = "none"; return; }
    if (D.clocks.length) lines.push("clocks at " + seconds(tu, 3) + ": " + clocksAt(tu));
    showTip(lines, ev);
  });
  canvas.addEventListener("mouseleave", function () { tip.style.display = "none"; });
  function panOverview(ev) {
    var b = overview.getBoundingClientRect(), at = (ev.clientX - b.left - LEFT) / (W - LEFT - RIGHT) * end;
    zoomTo(at - (v1 - v0) / 2, at + (v1 - v0) / 2);
  }
  var overviewDrag = false;
  overview.addEventListener("mousedown", function (ev) { overviewDrag = true; panOverview(ev); ev.preventDefault(); });
  window.addEventListener("mousemove", function (ev) { if (overviewDrag) panOverview(ev); });
  window.addEventListener("mouseup", function () { overviewDrag = false; });
  root.querySelector(".explorer-all").addEventListener("click", function () { zoomTo(0, end); });
  root.querySelector(".explorer-out").addEventListener("click", function () {
    var span = v1 - v0; zoomTo(v0 - span * 1.5, v1 + span * 1.5);
  });
  scroller.addEventListener("scroll", function () { sy = scroller.scrollTop; draw(); });
  window.addEventListener("hashchange", fromHash);
  window.addEventListener("resize", function () { size(); density = null; draw(); });

  // ---- anomalies: each a link to its operation ----
  var list = root.querySelector(".explorer-anomalies");
  D.anomalies.forEach(function (a) {
    var li = document.createElement("li"), link = document.createElement("a");
    link.href = "#op=" + a.idx;
    link.textContent = "#" + a.idx + " " + a.text;
    // Jumps even when the fragment already names it (the reader may have zoomed away since).
    link.addEventListener("click", function (ev) {
      ev.preventDefault();
      history.replaceState(null, "", link.getAttribute("href"));
      fromHash();
    });
    li.appendChild(link); list.appendChild(li);
  });
  if (!D.anomalies.length) list.parentNode.removeChild(list);

  // ---- for readers who link, and for tests ----
  api.lanes = function () {
    return lanes.map(function (name, l) { return { name: name, top: laneTop(l), height: laneH, ops: laneOps[l].length }; });
  };
  api.rectOf = function (index) { // CSS pixels in the viewport, or null when not drawn
    var p = posOf(index);
    if (p < 0 || T1[p] < v0 || T0[p] > v1 || !laneShown(o.lane[p])) return null;
    var r = opRect(p), b = canvas.getBoundingClientRect();
    var xa = Math.max(r.x, LEFT), xb = Math.min(r.x + r.w, W - RIGHT);
    return { x: b.left + xa, y: b.top + r.y, width: xb - xa, height: r.h };
  };
  api.select = function (index) { select(posOf(index), true); };
  api.selected = function () { return selected < 0 ? null : IDX[selected]; };
  api.highlighted = function () {
    var c = 0;
    for (var q = 0; q < n; q++) if (selKey >= 0 && o.key[q] === selKey) c++;
    return c;
  };
  api.zoomTo = function (fromS, toS) { zoomTo(fromS * 1e6, toS * 1e6); };
  api.view = function () { return [v0 / 1e6, v1 / 1e6]; };
  api.stats = function () { return { lanesDrawn: stats.lanesDrawn, opsDrawn: stats.opsDrawn, shown: n, total: D.total }; };

  size();
  selLine.textContent = "Click an operation to highlight every operation on its key.";
  draw();
  if (location.hash) fromHash();
  api.readyAt = performance.now();
  api.initMs = api.readyAt - started;
  api.ready = true;
})();
