// advlab explore: the page. Plain JavaScript, no dependencies; talks to the JSON API in app.py.
"use strict";

const $ = (id) => document.getElementById(id);
const PANEL = 384;
const state = { info: null, job: null, result: null, view: "global", zoom: 1, center: "ab", lastPoint: null,
                probeSeq: 0, shownSeq: 0, pinned: false, church: null };

async function api(method, url, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
  const res = await fetch(url, opts);
  const data = await res.json().catch(() => ({ error: res.statusText }));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function setStatus(text, error) {
  const el = $("status");
  el.textContent = text;
  el.className = error ? "error" : "";
}

function drawPixels(canvas, pixels) {
  const h = pixels.length, w = pixels[0].length;
  const off = document.createElement("canvas");
  off.width = w; off.height = h;
  const ctx = off.getContext("2d");
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
    const v = pixels[i][j], k = 4 * (i * w + j);
    const rgb = Array.isArray(v) ? v : [v, v, v];
    for (let c = 0; c < 3; c++) img.data[k + c] = Math.round(255 * Math.min(1, Math.max(0, rgb[c])));
    img.data[k + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const out = canvas.getContext("2d");
  out.imageSmoothingEnabled = false;
  out.clearRect(0, 0, canvas.width, canvas.height);
  out.drawImage(off, 0, 0, canvas.width, canvas.height);
}

function drawBars(probs, prediction) {
  const bars = $("bars");
  bars.innerHTML = "";
  const classes = state.info.classes;
  probs.forEach((p, k) => {
    const row = document.createElement("div");
    row.className = "bar";
    row.dataset.cls = k;
    row.dataset.p = p;
    row.innerHTML = `<span class="name">${classes[k]}</span><span class="fill"></span><span class="value">${p.toFixed(4)}</span>`;
    const fill = row.querySelector(".fill");
    fill.style.width = `${Math.max(1, 300 * p)}px`;
    fill.style.background = state.info.palette[k];
    if (k === prediction) row.style.fontWeight = "700";
    bars.appendChild(row);
  });
}

// --- controls ----------------------------------------------------------------------------------------
async function init() {
  const info = await api("GET", "/api/info");
  state.info = info;
  $("dataset").textContent = `${info.dataset}: ${info.n_test} test images, ${info.classes.length} classes; runs: ${info.runs.map((r) => r.name).join(", ")}`;
  $("index").max = info.n_test - 1;
  $("third-index").max = info.n_test - 1;
  $("resolution").max = info.max_resolution;
  info.classes.forEach((c, k) => $("cls").add(new Option(c, k)));
  for (const name of info.attacks) {
    $("attack").add(new Option(name, name));
    $("third-attack").add(new Option(name, name));
  }
  $("attack").value = info.attacks.includes("pgd") ? "pgd" : info.attacks[0];
  $("third-attack").value = info.attacks.includes("fgsm") ? "fgsm" : info.attacks[0];
  info.runs.forEach((r, k) => {
    $("third-run").add(new Option(r.name, k));
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" class="run" value="${k}" ${k === 0 ? "checked" : ""}> ${r.name}`;
    $("runs").appendChild(label);
  });
  $("third").addEventListener("change", showThirdOptions);
  showThirdOptions();
  $("index").addEventListener("change", showImage);
  $("find").addEventListener("click", findImages);
  $("imagelist").addEventListener("change", () => { $("index").value = $("imagelist").value; showImage(); });
  $("compute").addEventListener("click", () => compute());
  $("cancel").addEventListener("click", cancel);
  $("global").addEventListener("click", () => { state.view = "global"; state.zoom = 1; state.center = "ab"; compute(); });
  $("local").addEventListener("click", () => { state.view = "local"; state.zoom = 1; state.center = "ab"; compute(); });
  $("zoom-in").addEventListener("click", () => { state.zoom *= 2; if (state.lastPoint) state.center = state.lastPoint; compute(); });
  $("zoom-out").addEventListener("click", () => { state.zoom = Math.max(1, state.zoom / 2); compute(); });
  $("church").addEventListener("click", church);
  await showImage();
  updateViewInfo();
}

function showThirdOptions() {
  const kind = $("third").value;
  document.querySelectorAll(".third-opt").forEach((el) => el.classList.toggle("shown", el.dataset.for.split(" ").includes(kind)));
}

async function showImage() {
  try {
    const img = await api("GET", `/api/image/${Number($("index").value)}`);
    drawPixels($("a-canvas"), img.pixels);
    const p = img.probabilities, k = p.indexOf(Math.max(...p));
    $("a-info").textContent = `label ${state.info.classes[img.label]}, predicted ${state.info.classes[k]} (${p[k].toFixed(3)})`;
  } catch (e) { $("a-info").textContent = e.message; }
}

async function findImages() {
  const q = new URLSearchParams({ class: $("cls").value, misclassified: $("mis").checked ? "1" : "0", limit: "200" });
  try {
    const res = await api("GET", `/api/images?${q}`);
    const list = $("imagelist");
    list.innerHTML = "";
    for (const im of res.images) {
      list.add(new Option(`#${im.index}: label ${state.info.classes[im.label]}, pred ${state.info.classes[im.prediction]}`, im.index));
    }
    setStatus(`${res.count} matching test images`);
  } catch (e) { setStatus(e.message, true); }
}

function numberOrNull(id) {
  const v = $(id).value.trim();
  return v === "" ? null : Number(v);
}

function request() {
  const body = {
    index: Number($("index").value), attack: $("attack").value, seed: Number($("seed").value),
    third: $("third").value, resolution: Number($("resolution").value), view: state.view, zoom: state.zoom,
    center: state.center, extend: Number($("extend").value),
    runs: [...document.querySelectorAll("input.run:checked")].map((el) => Number(el.value)),
  };
  if ($("norm").value) body.norm = $("norm").value;
  if (numberOrNull("eps") !== null) body.eps = numberOrNull("eps");
  if (numberOrNull("steps") !== null) body.steps = numberOrNull("steps");
  const kind = body.third;
  if (kind === "attack") body.third_attack = $("third-attack").value;
  if (kind === "random-perturbation") { body.third_size = Number($("third-size").value); body.third_norm = $("third-norm").value; }
  if (["seed", "random-image", "random-perturbation"].includes(kind)) body.third_seed = Number($("third-seed").value);
  if (kind === "model") body.third_run = Number($("third-run").value);
  if (kind === "image") body.third_index = Number($("third-index").value);
  if (!body.runs.length) body.runs = [0];
  return body;
}

function updateViewInfo() {
  const c = Array.isArray(state.center) ? `(${state.center.map((v) => v.toFixed(3)).join(", ")})` : state.center;
  $("view-info").textContent = `view: ${state.view}, zoom ×${state.zoom}, centre ${c}`;
}

// --- jobs ---------------------------------------------------------------------------------------------
async function cancel() {
  if (state.job) {
    const id = state.job;
    state.job = null;
    await api("DELETE", `/api/job/${id}`).catch(() => {});
    setStatus("cancelled");
  }
}

async function runJob(url, body, onDone) {
  await cancel();
  updateViewInfo();
  let id;
  try { id = (await api("POST", url, body)).job; } catch (e) { setStatus(e.message, true); return; }
  state.job = id;
  $("progress").removeAttribute("value");
  setStatus("starting…");
  while (state.job === id) {
    let st;
    try { st = await api("GET", `/api/job/${id}`); } catch (e) { setStatus(e.message, true); return; }
    if (st.total > 0) { $("progress").max = st.total; $("progress").value = Math.min(st.done, st.total); }
    if (st.state === "done") { state.job = null; $("progress").max = 1; $("progress").value = 1; setStatus("done"); onDone(id, st.result); return; }
    if (st.state === "error" || st.state === "cancelled") { state.job = null; setStatus(st.error || st.state, st.state === "error"); return; }
    setStatus(`${st.stage}${st.total ? ` — ${st.done} / ${st.total} evaluations` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function compute() {
  return runJob("/api/slice", request(), showSlice);
}

// --- the slice ------------------------------------------------------------------------------------
function toPixel(panel, s, t) {
  const [[s0, s1], [t0, t1]] = panel.extent;
  return [(s - s0) / (s1 - s0) * PANEL, PANEL - (t - t0) / (t1 - t0) * PANEL];
}

function toPlane(panel, x, y) {
  const [[s0, s1], [t0, t1]] = panel.extent;
  return [s0 + (x / PANEL) * (s1 - s0), t0 + ((PANEL - y) / PANEL) * (t1 - t0)];
}

function niceLength(span) {
  const target = span / 5, exp = Math.floor(Math.log10(target));
  for (const m of [5, 2, 1]) if (m * 10 ** exp <= target) return m * 10 ** exp;
  return 10 ** exp;
}

function drawOverlay(canvas, panel, point) {
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, PANEL, PANEL);
  const names = ["a", "b", "c"];
  panel.anchors.forEach(([s, t], k) => {
    const [x, y] = toPixel(panel, s, t);
    ctx.fillStyle = "#fff"; ctx.strokeStyle = "#000"; ctx.lineWidth = 1.5;
    ctx.beginPath();
    if (k === 0) ctx.arc(x, y, 6, 0, 2 * Math.PI);
    else if (k === 1) { for (let i = 0; i < 10; i++) { const r = i % 2 ? 3.5 : 8, a = -Math.PI / 2 + i * Math.PI / 5; ctx.lineTo(x + r * Math.cos(a), y + r * Math.sin(a)); } ctx.closePath(); }
    else ctx.rect(x - 5.5, y - 5.5, 11, 11);
    ctx.fill(); ctx.stroke();
    ctx.fillStyle = "#000"; ctx.font = "bold 12px sans-serif";
    ctx.fillText(names[k], x + 9, y - 7);
  });
  // scale bar (input-space L2 units), top left
  const [[s0, s1]] = panel.extent;
  const len = niceLength(s1 - s0), px = len / (s1 - s0) * PANEL;
  ctx.fillStyle = "rgba(255,255,255,0.8)"; ctx.fillRect(6, 6, px + 12, 22);
  ctx.fillStyle = "#000"; ctx.fillRect(12, 21, px, 3);
  ctx.font = "11px sans-serif"; ctx.fillText(`${len} (L2)`, 12, 17);
  if (point) {
    const [x, y] = toPixel(panel, point[0], point[1]);
    ctx.strokeStyle = "#000"; ctx.lineWidth = 1;
    ctx.beginPath(); ctx.moveTo(x - 8, y); ctx.lineTo(x + 8, y); ctx.moveTo(x, y - 8); ctx.lineTo(x, y + 8); ctx.stroke();
  }
}

function showSlice(id, result) {
  state.result = { id, ...result };
  $("caption").textContent = `${result.caption}${result.fooled ? "" : " — b is NOT adversarial (the attack failed)"}; ‖b − a‖₂ = ${result.ab_distance.toFixed(3)}, ‖c − a‖₂ = ${result.ac_distance.toFixed(3)}`;
  const panels = $("panels");
  panels.innerHTML = "";
  result.panels.forEach((p, k) => {
    const div = document.createElement("div");
    div.className = "panel";
    div.dataset.panel = k;
    const cls = p.anchor_classes.map((c) => state.info.classes[c]);
    div.innerHTML = `<div class="stack"><img class="regions" alt="slice" src="${p.regions}"><canvas class="overlay" width="${PANEL}" height="${PANEL}"></canvas></div>
      <div class="meta"><b>${p.name}</b>: a → ${cls[0]}, b → ${cls[1]}, c → ${cls[2]}; ${(100 * p.inside).toFixed(1)}% inside H;
      ${p.evaluations} model evaluations (adaptive); magnification ×${p.magnification.toPrecision(3)}<br>
      <a class="download-figure" href="${p.figure}" download>picture</a> · <a class="download-arrays" href="${p.arrays}" download>arrays (.npz)</a></div>`;
    const canvas = div.querySelector("canvas");
    drawOverlay(canvas, p, null);
    canvas.addEventListener("click", (ev) => probeAt(k, ev, true));
    canvas.addEventListener("mousemove", (ev) => { if ($("hover").checked && !state.pinned) probeAt(k, ev, false); });
    canvas.addEventListener("mouseleave", () => { state.pinned = false; });
    panels.appendChild(div);
  });
  drawProfiles(id, 0);
}

async function probeAt(k, ev, pin) {
  if (!state.result) return;
  const panel = state.result.panels[k];
  const rect = ev.target.getBoundingClientRect();
  const x = (ev.clientX - rect.left) * PANEL / rect.width, y = (ev.clientY - rect.top) * PANEL / rect.height;
  const [s, t] = toPlane(panel, x, y);
  if (pin) { state.pinned = true; state.lastPoint = [s, t]; }
  const seq = ++state.probeSeq;
  let res;
  try { res = await api("POST", `/api/job/${state.result.id}/probe`, { panel: k, s, t }); } catch (e) { $("probe-info").textContent = e.message; return; }
  if (seq < state.shownSeq || (!pin && state.pinned)) return;  // an older answer, or a hover after a click
  state.shownSeq = seq;
  document.querySelectorAll(".panel").forEach((div) => drawOverlay(div.querySelector("canvas"), state.result.panels[div.dataset.panel], [s, t]));
  drawPixels($("probe-canvas"), res.pixels);
  const probe = $("probe");
  probe.dataset.s = s; probe.dataset.t = t; probe.dataset.panel = k; probe.dataset.seq = seq;
  if (res.inside) {
    probe.dataset.prediction = res.prediction;
    $("probe-info").textContent = `${panel.name} at (s, t) = (${s.toFixed(3)}, ${t.toFixed(3)}): ${state.info.classes[res.prediction]} (${res.probabilities[res.prediction].toFixed(4)})`;
    drawBars(res.probabilities, res.prediction);
  } else {
    probe.dataset.prediction = "";
    $("probe-info").textContent = `(s, t) = (${s.toFixed(3)}, ${t.toFixed(3)}) lies outside H: not an input (the picture shows it clipped)`;
    $("bars").innerHTML = "";
  }
}

async function drawProfiles(id, k) {
  let p;
  try { p = await api("GET", `/api/job/${id}/profiles?panel=${k}`); } catch (e) { return; }
  const canvas = $("profiles"), ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, L = 40, R = 90, T = 16, B = 26;
  ctx.clearRect(0, 0, W, H);
  const xmax = p.positions[p.positions.length - 1];
  const X = (v) => L + (v / xmax) * (W - L - R), Y = (v) => T + (1 - v) * (H - T - B);
  ctx.strokeStyle = "#888"; ctx.strokeRect(L, T, W - L - R, H - T - B);
  ctx.fillStyle = "#000"; ctx.font = "11px sans-serif";
  for (const v of [0, 0.5, 1]) ctx.fillText(v.toFixed(1), 8, Y(v) + 4);
  p.anchors.forEach((pos, i) => {
    ctx.setLineDash([4, 3]); ctx.strokeStyle = "#444";
    ctx.beginPath(); ctx.moveTo(X(pos), T); ctx.lineTo(X(pos), H - B); ctx.stroke();
    ctx.setLineDash([]); ctx.font = "bold 12px sans-serif"; ctx.fillText(p.anchor_names[i], X(pos) - 3, T - 4);
  });
  const K = p.probabilities[0].length;
  for (let c = 0; c < K; c++) {
    if (Math.max(...p.probabilities.map((r) => r[c])) < 0.01) continue;
    ctx.strokeStyle = state.info.palette[c]; ctx.lineWidth = 1.6;
    ctx.beginPath();
    p.positions.forEach((pos, i) => { const f = i ? ctx.lineTo.bind(ctx) : ctx.moveTo.bind(ctx); f(X(pos), Y(p.probabilities[i][c])); });
    ctx.stroke();
    ctx.fillStyle = state.info.palette[c]; ctx.fillRect(W - R + 10, T + 14 * c, 10, 10);
    ctx.fillStyle = "#000"; ctx.font = "11px sans-serif"; ctx.fillText(state.info.classes[c], W - R + 24, T + 14 * c + 9);
  }
  ctx.fillText("L2 distance along the path", L, H - 6);
}

// --- church windows -------------------------------------------------------------------------------
function church() {
  const r = request();
  const body = { index: r.index, attack: r.attack, seed: r.seed, run: r.runs[0], resolution: 48, center: $("church-center").value };
  if (r.norm) body.norm = r.norm;
  if (r.eps !== undefined) body.eps = r.eps;
  if (r.steps !== undefined) body.steps = r.steps;
  return runJob("/api/church", body, (id, res) => {
    $("church-img").src = res.figure;
    const parts = res.kinds.map((kind, j) => `${kind}: ${(100 * res.inside[j]).toFixed(0)}% inside H${kind === "random" ? "" : `, axis crosses a boundary: ${res.crosses[j] ? "yes" : "no"}`}`);
    $("church-info").textContent = `half-width ${res.radius.toPrecision(3)} (L2), ${res.source}; ${parts.join("; ")}`;
  });
}

init().catch((e) => setStatus(e.message, true));
