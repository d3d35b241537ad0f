// nablab playground page: controls → a query string → the server's session; frames → drawings.
// The server owns the model; this file only draws what it sends and sends what the user does.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = [[245, 147, 34], [8, 119, 189], [60, 160, 80], [140, 80, 180], [210, 50, 60]];
const WHITE = [255, 255, 255];
const FEATURE_LABELS = { x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁x₂",
  sinx1: "sin x₁", sinx2: "sin x₂" };
const ALL_FEATURES = Object.keys(FEATURE_LABELS);
let ACTIVATIONS = {};  // name → label, from the server's activation catalogue (hello)
const MULTI_CLASS = ["gauss", "spiral", "csv"];

let ws = null, limits = null, presets = {}, layout = null, frame = null;
let playing = false, pending = 0, query = new URLSearchParams(location.search);
let curves = { step: [], train: [], test: [], grads: {} };
let findingsSeen = new Map();  // "kind|layer" → the finding, kept after it stops firing
let fpsCount = 0, fpsTime = performance.now();
window.pgStats = { frames: 0, fps: 0 };  // frames drawn, drawn per second (tests read it)

// ----- connection ----------------------------------------------------------------------
function connect() {
  ws = new WebSocket(`ws://${location.host}/ws`);
  ws.onmessage = (event) => receive(JSON.parse(event.data));
  ws.onclose = () => showError("the connection to the server closed; reload the page to start again");
}

function send(message) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  if (message.type !== "export") pending += 1;
  ws.send(JSON.stringify(message));
}

function configure() { send({ type: "config", query: query.toString() }); }

function fillActivations() {
  const select = $("activation"), chosen = select.value;
  select.innerHTML = "";
  for (const [value, text] of Object.entries(ACTIVATIONS)) select.add(new Option(text, value));
  select.value = chosen in ACTIVATIONS ? chosen : "tanh";
}

function receive(message) {
  if (message.type === "hello") {
    limits = message.limits; presets = message.presets; ACTIVATIONS = message.activations;
    fillActivations(); fillPresets(); configure();
  } else if (message.type === "layout") {
    onLayout(message);
  } else if (message.type === "state") {  // a weight set by hand joined the state
    query = new URLSearchParams(message.query);
    layout.query = message.query;
    window.history.replaceState(null, "", `?${message.query}`);
  } else if (message.type === "frame") {
    pending -= 1; onFrame(message); schedule();
  } else if (message.type === "export") {
    showExport(message);
  } else if (message.type === "error") {
    if (message.field !== "session") pending = Math.max(0, pending - 1);
    showError(message.message);
    if (layout) { query = new URLSearchParams(layout.query); fillControls(); }  // back to the running state
    else if (message.field !== "session") { query = new URLSearchParams(); configure(); }  // a bad link: the defaults
    if (message.field === "session") setPlaying(false);
    schedule();
  }
}

// While playing, the next chunk is asked for as soon as a frame arrives, so the server trains
// while the page draws; drawing happens once per animation frame, with the latest frame.
function schedule() {
  if (playing && pending === 0) send({ type: "train" });
}

function setPlaying(on) {
  playing = on;
  $("play").textContent = on ? "❚❚" : "▶";
  $("play").classList.toggle("on", on);
  schedule();
}

// ----- errors ----------------------------------------------------------------------------
function showError(text) { $("error-text").textContent = text; $("error").hidden = false; }
function clearError() { $("error").hidden = true; }

// ----- controls → query ----------------------------------------------------------------------
// A changed control starts a new run: the weights set by hand belonged to the old one.
function restart() { query.delete("edits"); clearError(); configure(); }

function setField(name, value) {
  query.set(name, value);
  restart();
}

function fillControls() {
  for (const el of document.querySelectorAll("[data-field]")) {
    const value = query.get(el.dataset.field);
    if (value === null) continue;
    if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === value)) {
      el.add(new Option(value, value));
    }
    el.value = value;
  }
  const acts = (query.get("act") || "").split(",").filter(Boolean);
  $("activation").value = acts.length ? acts[0] : "tanh";
  $("noise-value").textContent = query.get("noise");
  $("train-value").textContent = `${query.get("train")}%`;
  $("classes").disabled = !MULTI_CLASS.includes(query.get("dataset"));
}

function bindControls() {
  for (const el of document.querySelectorAll("[data-field]")) {
    el.addEventListener("change", () => {
      if (el.dataset.field === "dataset" && !MULTI_CLASS.includes(el.value)) query.set("classes", "2");
      setField(el.dataset.field, el.value);
    });
  }
  $("activation").addEventListener("change", () => {
    const n = hiddenSizes().length;
    setField("act", Array(Math.max(n, 1)).fill($("activation").value).join(","));
  });
  $("play").onclick = () => setPlaying(!playing);
  $("step").onclick = () => { setPlaying(false); send({ type: "step" }); };
  $("reset").onclick = () => send({ type: "reset" });
  $("add-layer").onclick = () => changeLayers(+1);
  $("remove-layer").onclick = () => changeLayers(-1);
  $("show-test").onchange = () => drawBoundary();
  $("error-close").onclick = clearError;
  $("export").onclick = () => send({ type: "export" });
  $("export-close").onclick = () => { $("export-box").hidden = true; };
  $("preset").onchange = () => {
    const preset = presets[$("preset").value];
    if (!preset) return;
    query = new URLSearchParams(preset.query);
    $("preset-look").textContent = preset.look;
    clearError(); configure();
  };
  $("upload").onchange = async () => {
    const file = $("upload").files[0];
    if (!file) return;
    if (limits && file.size > limits.max_upload_bytes) {
      showError(`upload refused: the file has ${file.size} bytes; the limit is ${limits.max_upload_bytes}`);
      $("upload").value = "";
      return;
    }
    clearError();
    send({ type: "upload", text: await file.text() });
    $("upload").value = "";
  };
  $("weight-set").onclick = setWeight;
  $("weight-value").onkeydown = (e) => { if (e.key === "Enter") setWeight(); };
}

function hiddenSizes() { return (query.get("hidden") || "").split(",").filter(Boolean).map(Number); }
function activations() { return (query.get("act") || "").split(",").filter(Boolean); }

function changeLayers(delta) {
  const sizes = hiddenSizes(), acts = activations();
  if (delta > 0) {
    if (limits && sizes.length >= limits.max_layers) return showError(`hidden: at most ${limits.max_layers} hidden layers`);
    sizes.push(2); acts.push(acts.length ? acts[acts.length - 1] : $("activation").value);
  } else {
    if (!sizes.length) return;
    sizes.pop(); acts.pop();
  }
  query.set("hidden", sizes.join(",")); query.set("act", acts.join(","));
  restart();
}

function changeNeurons(layer, delta) {
  const sizes = hiddenSizes();
  sizes[layer] += delta;
  if (sizes[layer] < 1) return;
  if (limits && sizes[layer] > limits.max_neurons) return showError(`hidden: at most ${limits.max_neurons} neurons per layer`);
  setField("hidden", sizes.join(","));
}

function toggleFeature(name) {
  const features = (query.get("features") || "").split(",").filter(Boolean);
  const next = features.includes(name) ? features.filter((f) => f !== name) : [...features, name];
  setField("features", ALL_FEATURES.filter((f) => next.includes(f)).join(","));
}

function fillPresets() {
  for (const [name, preset] of Object.entries(presets)) $("preset").add(new Option(preset.title, name));
}

// ----- layout: the network drawing ---------------------------------------------------------------
function onLayout(message) {
  layout = message;
  frame = null;
  linkPaths = [];
  findingsShape = "";
  query = new URLSearchParams(message.query);
  window.history.replaceState(null, "", `?${message.query}`);
  curves = { step: [], train: [], test: [], grads: {} };
  findingsSeen = new Map();
  fillControls();
  buildNetwork();
  renderFindings([]);
  $("layer-count").textContent = `${layout.layers.length - 2} hidden layer(s)`;
}

const NODE = 40, COLUMN_GAP = 120, ROW_GAP = 52, TOP = 70, LEFT = 70;

function nodePosition(column, row) { return { x: LEFT + column * COLUMN_GAP, y: TOP + row * ROW_GAP }; }

function buildNetwork() {
  const net = $("net");
  net.querySelectorAll(".node, .column-head, .feature-off").forEach((n) => n.remove());
  const columns = layout.layers.length;
  const tallest = Math.max(...layout.layers, ALL_FEATURES.length);
  net.style.width = `${LEFT + (columns - 1) * COLUMN_GAP + NODE + 20}px`;
  net.style.height = `${TOP + tallest * ROW_GAP + 10}px`;
  // inputs: every feature, the unused ones dimmed (click to toggle)
  ALL_FEATURES.forEach((name, row) => {
    const used = layout.features.indexOf(name);
    const node = makeNode(0, row, `feature-${name}`);
    node.classList.add("input");
    if (used < 0) node.classList.add("off");
    node.title = `${FEATURE_LABELS[name]}: click to ${used >= 0 ? "remove" : "add"}`;
    node.onclick = () => toggleFeature(name);
    const label = document.createElement("span");
    label.className = "feature-label"; label.textContent = FEATURE_LABELS[name];
    node.appendChild(label);
    drawFeature(node.querySelector("canvas"), name);
  });
  const acts = activations();
  for (let c = 1; c < columns; c++) {
    const hidden = c < columns - 1;
    for (let r = 0; r < layout.layers[c]; r++) {
      const node = makeNode(c, r, hidden ? `h-${c}-${r}` : `out-${r}`);
      if (!hidden) node.classList.add("output-node");
    }
    const head = document.createElement("div");
    head.className = "column-head";
    head.style.left = `${nodePosition(c, 0).x - 20}px`;
    if (hidden) {
      const select = document.createElement("select");
      for (const [value, text] of Object.entries(ACTIVATIONS)) select.add(new Option(text, value));
      select.value = acts[c - 1];
      select.title = `activation of hidden layer ${c}`;
      select.onchange = () => { const a = activations(); a[c - 1] = select.value; setField("act", a.join(",")); };
      const plus = button("+", () => changeNeurons(c - 1, +1)), minus = button("−", () => changeNeurons(c - 1, -1));
      const buttons = document.createElement("div");
      buttons.append(plus, minus, ` ${layout.layers[c]} neurons`);
      head.append(buttons, select);
      head.id = `head-${c}`;
    } else {
      head.textContent = "output";
      head.id = "head-out";
    }
    net.appendChild(head);
  }
}

function button(text, onclick) { const b = document.createElement("button"); b.textContent = text; b.onclick = onclick; return b; }

function makeNode(column, row, id) {
  const node = document.createElement("div");
  node.className = "node";
  if (id) node.id = id;
  const p = nodePosition(column, row);
  node.style.left = `${p.x}px`; node.style.top = `${p.y}px`;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = layout.neuron_grid;
  node.appendChild(canvas);
  $("net").appendChild(node);
  return node;
}

function drawFeature(canvas, name) {
  const n = canvas.width, half = layout.extent, values = new Float64Array(n * n);
  const f = { x1: (a) => a, x2: (a, b) => b, x1sq: (a) => a * a, x2sq: (a, b) => b * b,
    x1x2: (a, b) => a * b, sinx1: (a) => Math.sin(a), sinx2: (a, b) => Math.sin(b) }[name];
  let scale = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const v = f(-half + (2 * half * j) / (n - 1), half - (2 * half * i) / (n - 1));
    values[i * n + j] = v; scale = Math.max(scale, Math.abs(v));
  }
  const bytes = new Uint8Array(n * n);
  values.forEach((v, k) => { bytes[k] = Math.round(255 * (0.5 + 0.5 * v / (scale || 1))); });
  paintDiverging(canvas, bytes);
}

// ----- frames ---------------------------------------------------------------------------------
function decode(text) { const s = atob(text), out = new Uint8Array(s.length); for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i); return out; }

function mix(a, b, t) { return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]; }

function diverging(byte) {
  const t = byte / 127.5 - 1;
  return t >= 0 ? mix(WHITE, COLORS[1], t) : mix(WHITE, COLORS[0], -t);
}

function paintDiverging(canvas, bytes) {
  const ctx = canvas.getContext("2d"), image = ctx.createImageData(canvas.width, canvas.height);
  for (let k = 0; k < bytes.length; k++) {
    const c = diverging(bytes[k]);
    image.data.set([c[0], c[1], c[2], 255], 4 * k);
  }
  ctx.putImageData(image, 0, 0);
}

const boundaryImage = document.createElement("canvas");

function onFrame(message) {
  frame = message;
  Object.assign(window.pgStats, { step: message.step, train_loss: message.train_loss, test_loss: message.test_loss });
  if (!curves.step.length || message.step > curves.step[curves.step.length - 1]) {
    curves.step.push(message.step); curves.train.push(message.train_loss); curves.test.push(message.test_loss);
    for (const [name, value] of Object.entries(message.grad_norms)) (curves.grads[name] ||= []).push([message.step, value]);
    if (curves.step.length > 2000) thinHistory();
  }
  if (!drawPending) { drawPending = true; requestAnimationFrame(draw); }
}

let drawPending = false;

function draw() {
  drawPending = false;
  const message = frame;
  if (!message) return;
  paintOutput(message.output);
  drawBoundary();
  message.neurons.forEach((layer, l) => layer.forEach((bytes, r) => {
    const node = $(`h-${l + 1}-${r}`);
    if (node) paintDiverging(node.querySelector("canvas"), decode(bytes));
  }));
  drawLinks(message.weights);
  drawLossChart();
  drawGradChart();
  renderFindings(message.findings);
  $("epoch").textContent = message.epoch.toFixed(3);
  $("steps").textContent = message.step;
  $("train-loss").textContent = formatLoss(message.train_loss);
  $("test-loss").textContent = formatLoss(message.test_loss);
  countFrame();
}

function thinHistory() {
  const keep = (a) => a.filter((_, i) => i % 2 === 0);
  curves.step = keep(curves.step); curves.train = keep(curves.train); curves.test = keep(curves.test);
  for (const name in curves.grads) curves.grads[name] = keep(curves.grads[name]);
}

function countFrame() {
  window.pgStats.frames += 1; fpsCount += 1;
  const now = performance.now();
  if (now - fpsTime >= 1000) {
    window.pgStats.fps = (fpsCount * 1000) / (now - fpsTime);
    $("fps").textContent = window.pgStats.fps.toFixed(0);
    fpsCount = 0; fpsTime = now;
  }
}

function formatLoss(value) { return value === null ? "NaN/Inf" : value.toFixed(3); }

function paintOutput(output) {
  const n = layout.grid;
  boundaryImage.width = boundaryImage.height = n;
  const ctx = boundaryImage.getContext("2d"), image = ctx.createImageData(n, n);
  const k = layout.classes;
  if (output.value) {
    decode(output.value).forEach((b, i) => image.data.set([...diverging(b), 255], 4 * i));
  } else {
    const cls = decode(output.class), conf = decode(output.confidence);
    for (let i = 0; i < cls.length; i++) {
      const t = Math.max(0, (conf[i] / 255 - 1 / k) / (1 - 1 / k));
      image.data.set([...mix(WHITE, COLORS[cls[i] % COLORS.length], t), 255], 4 * i);
    }
  }
  ctx.putImageData(image, 0, 0);
  output.units.forEach((bytes, unit) => {
    const node = $(`out-${unit}`);
    if (!node) return;
    const canvas = node.querySelector("canvas"), values = decode(bytes);
    if (k <= 2) return paintDiverging(canvas, values);
    const unitCtx = canvas.getContext("2d"), unitImage = unitCtx.createImageData(canvas.width, canvas.height);
    values.forEach((b, i) => unitImage.data.set([...mix(WHITE, COLORS[unit % COLORS.length], b / 255), 255], 4 * i));
    unitCtx.putImageData(unitImage, 0, 0);
  });
}

function drawBoundary() {
  if (!layout) return;
  const canvas = $("boundary"), ctx = canvas.getContext("2d"), size = canvas.width;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(boundaryImage, 0, 0, size, size);
  const half = layout.extent, toPixel = (v) => ((v + half) / (2 * half)) * size;
  const draw = (rows, test) => {
    for (const [x1, x2, label] of rows) {
      const color = layout.classes === 1 ? diverging(Math.round((Math.max(-1, Math.min(1, label)) + 1) * 127.5)) : COLORS[label % COLORS.length];
      ctx.beginPath();
      ctx.arc(toPixel(x1), size - toPixel(x2), 3, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${color.map(Math.round).join(",")})`;
      ctx.fill();
      ctx.lineWidth = 1; ctx.strokeStyle = test ? "#000" : layout.classes === 1 ? "#888" : "#fff";
      ctx.stroke();
    }
  };
  draw(layout.train, false);
  if ($("show-test").checked) draw(layout.test, true);
  ctx.fillStyle = "#555"; ctx.font = "11px sans-serif";
  ctx.fillText(`${-half}`, 3, size - 4); ctx.fillText(`${half}`, size - 22, size - 4);
}

function columnNodes(c) {
  if (c === 0) return layout.features.map((name) => ALL_FEATURES.indexOf(name));
  return [...Array(layout.layers[c]).keys()];
}

let linkPaths = [];  // one SVG path per weight, built once per layout, restyled per frame

function buildLinks(weights) {
  const svg = $("links"), net = $("net");
  svg.setAttribute("width", net.style.width); svg.setAttribute("height", net.style.height);
  const parts = [];
  weights.forEach((layer, l) => {
    const from = columnNodes(l), to = columnNodes(l + 1);
    layer.w.forEach((row, j) => row.forEach((_, i) => {
      const a = nodePosition(l, from[i]), b = nodePosition(l + 1, to[j]), y0 = a.y + NODE / 2, y1 = b.y + NODE / 2;
      const d = `M${a.x + NODE},${y0} C${a.x + NODE + 40},${y0} ${b.x - 40},${y1} ${b.x},${y1}`;
      parts.push(`<path class="link" d="${d}" data-layer="${layer.name}" data-row="${j}" data-column="${i}"><title></title></path>`);
    }));
  });
  svg.innerHTML = parts.join("");
  linkPaths = [...svg.querySelectorAll(".link")];
  linkPaths.forEach((path) => { path.onclick = (event) => openWeightEditor(path, event); });
}

function drawLinks(weights) {
  const flat = weights.flatMap((layer) => layer.w.flat());
  if (linkPaths.length !== flat.length) buildLinks(weights);
  const maxAbs = Math.max(...flat.map(Math.abs)) || 1;
  flat.forEach((w, k) => {
    const path = linkPaths[k];
    path.setAttribute("stroke", w >= 0 ? "rgb(8,119,189)" : "rgb(245,147,34)");
    path.setAttribute("stroke-width", (0.5 + (5 * Math.abs(w)) / maxAbs).toFixed(2));
    path.dataset.weight = w;
    path.firstChild.textContent = `${path.dataset.layer}.weight[${path.dataset.row}, ${path.dataset.column}] = ${w}`;
  });
}

let editing = null;
function openWeightEditor(path, event) {
  editing = { layer: path.dataset.layer, row: Number(path.dataset.row), column: Number(path.dataset.column) };
  $("weight-label").textContent = `${editing.layer}.weight[${editing.row}, ${editing.column}]`;
  $("weight-value").value = path.dataset.weight;
  const editor = $("weight-editor"), box = $("net").getBoundingClientRect();
  editor.style.left = `${event.clientX - box.left + 10}px`; editor.style.top = `${event.clientY - box.top + 10}px`;
  editor.hidden = false;
  $("weight-value").focus();
}

function setWeight() {
  if (!editing) return;
  const value = Number($("weight-value").value);
  send({ type: "set_weight", layer: editing.layer, row: editing.row, column: editing.column, value: Number.isFinite(value) ? value : $("weight-value").value });
  $("weight-editor").hidden = true;
}

// ----- charts ---------------------------------------------------------------------------------
function drawLossChart() {
  const canvas = $("loss-chart"), ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const values = [...curves.train, ...curves.test].filter((v) => v !== null && Number.isFinite(v));
  if (curves.step.length < 2 || !values.length) return;
  const top = Math.max(...values) * 1.05 || 1, last = curves.step[curves.step.length - 1] || 1;
  const line = (series, color) => {
    ctx.beginPath(); ctx.strokeStyle = color; ctx.lineWidth = 1.5;
    series.forEach((v, i) => { if (v === null) return; const x = (curves.step[i] / last) * w, y = h - (v / top) * (h - 4);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
    ctx.stroke();
  };
  line(curves.train, "#999"); line(curves.test, "#111");
  ctx.font = "10px sans-serif";
  ctx.fillStyle = "#666"; ctx.fillText(`${top.toPrecision(2)}`, 2, 10);
  ctx.fillStyle = "#999"; ctx.fillText("train", w - 62, 10);
  ctx.fillStyle = "#111"; ctx.fillText("test", w - 28, 10);
}

const LAYER_COLORS = ["#0877bd", "#f59322", "#3ca050", "#8c50b4", "#d2323c", "#444", "#999"];

function drawGradChart() {
  const canvas = $("grad-chart"), ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const names = Object.keys(curves.grads);
  const legend = names.map((n, i) => `<span style="color:${LAYER_COLORS[i % LAYER_COLORS.length]}">■ ${n}</span>`).join(" ");
  if ($("grad-legend").innerHTML !== legend) $("grad-legend").innerHTML = legend;
  let smallest = Infinity, largest = 0;
  for (const n of names) for (const [, v] of curves.grads[n]) if (v > 0 && Number.isFinite(v)) { smallest = Math.min(smallest, v); largest = Math.max(largest, v); }
  if (!largest) { ctx.fillStyle = "#999"; ctx.font = "11px sans-serif"; ctx.fillText(names.length ? "every ‖∇W‖ is 0" : "", 4, h / 2); return; }
  const lo = Math.floor(Math.log10(smallest)), hi = Math.ceil(Math.log10(largest));
  const span = Math.max(hi - lo, 1), last = curves.step[curves.step.length - 1] || 1;
  names.forEach((name, i) => {
    ctx.beginPath(); ctx.strokeStyle = LAYER_COLORS[i % LAYER_COLORS.length]; ctx.lineWidth = 1.3;
    let started = false;
    for (const [step, v] of curves.grads[name]) {
      if (!(v > 0)) { started = false; continue; }
      const x = (step / last) * w, y = h - ((Math.log10(v) - lo) / span) * (h - 12) - 2;
      started ? ctx.lineTo(x, y) : ctx.moveTo(x, y); started = true;
    }
    ctx.stroke();
  });
  ctx.fillStyle = "#666"; ctx.font = "10px sans-serif";
  ctx.fillText(`1e${hi}`, 2, 10); ctx.fillText(`1e${lo}`, 2, h - 2);
}

// ----- the Monitor ------------------------------------------------------------------------------
function layerColumn(name) {
  if (name === "out") return layout.layers.length - 1;
  const m = /^(fc|act|drop)(\d+)$/.exec(name);
  return m ? Number(m[2]) : null;
}

let findingsShape = "";  // what the list and the marks show; rebuilt only when it changes

function renderFindings(current) {
  const active = new Set();
  for (const f of current) { const key = `${f.kind}|${f.layer}`; active.add(key); findingsSeen.set(key, f); }
  const shape = JSON.stringify([...findingsSeen.keys(), ...active, ...current.map((f) => f.units)]);
  const list = $("findings");
  if (shape === findingsShape) {  // the same findings: only their numbers move
    [...findingsSeen.values()].forEach((f, i) => { list.children[i].querySelector(".message").textContent = f.message; });
    return;
  }
  findingsShape = shape;
  list.innerHTML = "";
  document.querySelectorAll(".node.dead, .node.flagged, .column-head.flagged").forEach((n) => n.classList.remove("dead", "flagged"));
  document.querySelectorAll(".column-head .mark").forEach((n) => n.remove());
  if (!findingsSeen.size) { list.innerHTML = '<li class="quiet">no findings yet</li>'; return; }
  for (const [key, f] of findingsSeen) {
    const item = document.createElement("li");
    item.className = `finding sev-${f.severity}${active.has(key) ? "" : " past"}`;
    item.dataset.kind = f.kind;
    item.innerHTML = `<b></b> <span class="where"></span><div class="message"></div><div class="fix"></div>`;
    item.querySelector("b").textContent = f.kind;
    item.querySelector(".where").textContent = `${f.layer} · from step ${f.first_step}${active.has(key) ? "" : " (no longer)"}`;
    item.querySelector(".message").textContent = f.message;
    item.querySelector(".fix").textContent = f.fix ? `Fix: ${f.fix}` : "";
    list.appendChild(item);
    if (active.has(key)) markDrawing(f);
  }
}

function markDrawing(f) {
  const names = f.layer === "(every layer)" ? layout.layers.slice(1).map((_, i) => (i === layout.layers.length - 2 ? "out" : `fc${i + 1}`)) : f.layers;
  for (const name of names) {
    const column = layerColumn(name);
    if (column === null) continue;
    const hidden = column < layout.layers.length - 1;
    if (f.units.length && hidden) {
      for (const u of f.units) {
        const node = $(`h-${column}-${u}`);
        if (node) node.classList.add(f.kind === "dead-units" ? "dead" : "flagged");
      }
    } else {
      const head = $(hidden ? `head-${column}` : "head-out");
      if (head) {
        head.classList.add("flagged");
        const mark = document.createElement("span");
        mark.className = "mark"; mark.textContent = f.kind.replace("-gradients", " ∇"); mark.title = f.message;
        head.appendChild(mark);
      }
    }
  }
}

// ----- export -----------------------------------------------------------------------------------
function showExport(message) {
  $("export-text").value = message.script;
  $("export-note").textContent = `reproduces the loss after ${message.steps} steps`;
  const blob = new Blob([message.script], { type: "text/x-python" });
  $("export-download").href = URL.createObjectURL(blob);
  $("export-box").hidden = false;
}

bindControls();
connect();
