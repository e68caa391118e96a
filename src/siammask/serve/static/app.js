// siammask serve: open a video, draw the targets, track them live, download the results; then seek
// any frame, correct a box there (a keyframe), re-track only what it changes, undo.
// Plain JavaScript, no framework: the page must work offline and without a build step.
"use strict";

const SESSION = document.querySelector('meta[name="siammask-session"]').content;
const $ = (id) => document.getElementById(id);
const canvas = $("frame");
const ctx = canvas.getContext("2d");

const state = {
  palette: [[255, 0, 0]],
  video: null,        // {name, width, height, frames, fps}
  first: null,        // Image of the first frame
  boxes: [],          // [{x, y, w, h}] in video pixels
  selected: -1,
  drag: null,         // {mode: "new"|"move", x0, y0, dx, dy}
  live: null,         // Image of the newest tracked frame, shown instead of the boxes
  job: null,
  events: null,
  absent: [],
  maxTargets: 32,
  frameIndex: 0,      // the frame shown (the start frame of a first run)
  frameImage: null,   // Image of that frame
  timeline: null,     // after a run: {first, last, direction, targets: [{keyframes, ends, absent}], undo}
  regions: [],        // after a run: each target on the shown frame {present, keyframe, polygon, box}
  pending: null,      // a correction not yet re-tracked: {action, frame, target, box}
  seekToken: 0,       // only the newest seek's answers are shown
};

function api(path, options = {}) {
  options.headers = Object.assign({"X-Session": SESSION}, options.headers || {});
  return fetch(path, options).then(async (response) => {
    const body = await response.json().catch(() => ({error: `the server answered ${response.status}`}));
    if (!response.ok) throw new Error(body.error || `the server answered ${response.status}`);
    return body;
  });
}

function say(text) { $("message").textContent = text || ""; }
function color(k) { const c = state.palette[k % state.palette.length]; return `rgb(${c[0]},${c[1]},${c[2]})`; }
function running() { return state.job && !["done", "stopped", "failed"].includes(state.job.state); }

// --- drawing -------------------------------------------------------------------------------
function showStage() {
  // before a video (or after one failed to open) the page says what to do, not a grey box
  $("frame").hidden = !state.video;
  $("empty").hidden = !!state.video;
}

function draw() {
  showStage();
  drawTimeline();
  if (state.live) { ctx.drawImage(state.live, 0, 0, canvas.width, canvas.height); return; }
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const image = state.frameImage || state.first;
  if (image) ctx.drawImage(image, 0, 0, canvas.width, canvas.height);  // the preview may be smaller
  const line = Math.max(2, Math.round(Math.min(canvas.width, canvas.height) / 240));
  ctx.font = `${Math.max(12, Math.round(canvas.height / 30))}px sans-serif`;
  state.boxes.forEach((b, k) => {
    if (!b) return;
    ctx.strokeStyle = ctx.fillStyle = color(k);
    const region = state.regions[k];
    const edited = state.pending && state.pending.target === k;
    if (region && region.polygon && !edited && region.keyframe !== "region") {  // a tracked frame: its polygon
      ctx.lineWidth = line;
      ctx.beginPath();
      for (let i = 0; i < region.polygon.length; i += 2) ctx.lineTo(region.polygon[i], region.polygon[i + 1]);
      ctx.closePath();
      ctx.stroke();
      ctx.setLineDash([line * 2, line * 2]);  // the box to drag, dashed
    }
    ctx.lineWidth = k === state.selected ? line * 2 : line;
    ctx.strokeRect(b.x, b.y, b.w, b.h);
    ctx.setLineDash([]);
    ctx.fillText(String(k), b.x + 2, Math.max(12, b.y - 3));
  });
}

// --- the timeline: keyframes, end marks, absent frames; click to seek ------------------------
const strip = $("timeline");
const stripCtx = strip.getContext("2d");

function frameCount() { return state.video && state.video.frames ? state.video.frames : 0; }

function drawTimeline() {
  const total = frameCount();
  strip.hidden = $("seekbar").hidden = !state.video || total < 2;
  if (strip.hidden) return;
  const targets = state.timeline ? state.timeline.targets : [];
  const row = 10;
  strip.height = Math.max(1, targets.length) * row + 6;
  const x = (f) => (f + 0.5) * strip.width / total;
  const w = Math.max(1, strip.width / total);
  stripCtx.clearRect(0, 0, strip.width, strip.height);
  targets.forEach((t, k) => {
    const y = 3 + k * row;
    const c = state.palette[k % state.palette.length];
    stripCtx.fillStyle = `rgba(${c[0]},${c[1]},${c[2]},0.35)`;  // the frames some run covers
    stripCtx.fillRect(x(state.timeline.first) - w / 2, y, (state.timeline.last - state.timeline.first + 1) * w, row - 2);
    stripCtx.fillStyle = "#888";  // absent
    t.absent.forEach(([a, b]) => stripCtx.fillRect(x(a) - w / 2, y, (b - a + 1) * w, row - 2));
    stripCtx.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
    t.keyframes.forEach((f) => stripCtx.fillRect(x(f) - Math.max(1.5, w / 2), y - 2, Math.max(3, w), row + 2));
    stripCtx.fillStyle = "#000";
    t.ends.forEach((f) => stripCtx.fillRect(x(f) - 1, y - 2, 2, row + 2));
  });
  stripCtx.fillStyle = "#b00020";  // the frame shown
  stripCtx.fillRect(x(state.frameIndex) - 1, 0, 2, strip.height);
}

strip.addEventListener("click", (event) => {
  const rect = strip.getBoundingClientRect();
  const total = frameCount();
  seek(Math.min(total - 1, Math.max(0, Math.floor((event.clientX - rect.left) / rect.width * total))));
});

function listTargets() {
  const list = $("targets");
  list.replaceChildren();
  state.boxes.forEach((b, k) => {
    const region = state.regions[k];
    const absent = state.live ? state.absent[k] : (state.timeline ? !b : state.absent[k]);
    const item = document.createElement("li");
    item.className = (k === state.selected ? "selected " : "") + (absent ? "absent" : "");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = color(k);
    const text = document.createElement("span");
    text.textContent = b ? `${k}: ${b.x},${b.y} ${b.w}×${b.h}` : `${k}:`;
    const status = document.createElement("span");
    status.className = "state";
    status.textContent = absent ? "absent" : (region && region.keyframe === "region" ? "keyframe" : "");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "delete";
    remove.disabled = running();
    remove.addEventListener("click", () => (state.timeline ? correctDelete(k) : removeBox(k)));
    item.append(swatch, text, status, remove);
    item.addEventListener("click", (e) => { if (e.target !== remove) { state.selected = k; refresh(); } });
    list.append(item);
  });
  $("track").disabled = running() || !state.video || state.boxes.length === 0 || !!state.timeline;
  $("retrack").disabled = running() || !state.pending;
  $("undo").disabled = running() || !state.timeline || !state.timeline.undo;
  $("pending").textContent = describePending();
}

function describePending() {
  const p = state.pending;
  if (!p) return "";
  const what = {set: "a keyframe", delete: "keyframe deleted", end: "target ends"}[p.action];
  return `frame ${p.frame}, target ${p.target}: ${what} (press Re-track)`;
}

function refresh() { draw(); listTargets(); }

function removeBox(k) {
  if (running()) return;
  state.boxes.splice(k, 1);
  state.selected = -1;
  state.absent = [];
  state.live = null;
  refresh();
}

// --- mouse: draw, select, move -----------------------------------------------------------
function point(event) {
  const rect = canvas.getBoundingClientRect();  // CSS may scale the canvas: back to video pixels
  const x = (event.clientX - rect.left) * canvas.width / rect.width;
  const y = (event.clientY - rect.top) * canvas.height / rect.height;
  return {x: Math.min(Math.max(x, 0), canvas.width), y: Math.min(Math.max(y, 0), canvas.height)};
}

function hit(p) {
  for (let k = state.boxes.length - 1; k >= 0; k--) {
    const b = state.boxes[k];
    if (b && p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h) return k;
  }
  return -1;
}

canvas.addEventListener("mousedown", (event) => {
  if (!state.video || running()) return;
  event.preventDefault();
  state.live = null;  // back to the shown frame, where the boxes live
  const p = point(event);
  const k = hit(p);
  if (k >= 0) {
    state.selected = k;
    state.drag = {mode: "move", dx: p.x - state.boxes[k].x, dy: p.y - state.boxes[k].y};
  } else {
    // after a run a new box belongs to the selected target (a correction), else to a new one
    const target = state.timeline && state.selected >= 0 ? state.selected : state.boxes.length;
    if (target >= state.maxTargets) { say(`at most ${state.maxTargets} targets`); return; }
    if (state.timeline && state.pending && state.pending.target !== target) restoreFrame();
    state.boxes[target] = {x: Math.round(p.x), y: Math.round(p.y), w: 0, h: 0};
    state.selected = target;
    state.drag = {mode: "new", x0: p.x, y0: p.y};
  }
  refresh();
});

window.addEventListener("mousemove", (event) => {
  if (!state.drag) return;
  const p = point(event);
  const b = state.boxes[state.selected];
  if (state.drag.mode === "move") {
    b.x = Math.round(Math.min(Math.max(p.x - state.drag.dx, 0), canvas.width - b.w));
    b.y = Math.round(Math.min(Math.max(p.y - state.drag.dy, 0), canvas.height - b.h));
  } else {
    b.x = Math.round(Math.min(p.x, state.drag.x0)); b.y = Math.round(Math.min(p.y, state.drag.y0));
    b.w = Math.round(Math.abs(p.x - state.drag.x0)); b.h = Math.round(Math.abs(p.y - state.drag.y0));
  }
  refresh();
});

window.addEventListener("mouseup", () => {
  if (!state.drag) return;
  const k = state.selected;
  const b = state.boxes[k];
  const tooSmall = state.drag.mode === "new" && (b.w < 2 || b.h < 2);
  state.drag = null;
  state.absent = [];
  if (state.timeline) {
    if (tooSmall) { restoreFrame(); return; }
    // one correction at a time: another target's edit puts the frame back as it was first
    if (state.pending && state.pending.target !== k) restoreFrame(k);
    state.pending = {action: "set", frame: state.frameIndex, target: k, box: [b.x, b.y, b.w, b.h]};
  } else if (tooSmall) {
    state.boxes.pop(); state.selected = -1;
  }
  refresh();
});

function restoreFrame(keep = -1) {
  // the shown frame's boxes as the last run left them (a pending correction given up), but `keep`
  const kept = keep >= 0 ? state.boxes[keep] : null;
  state.pending = null;
  state.boxes = state.regions.map(boxOf);
  if (keep >= 0) state.boxes[keep] = kept;
  refresh();
}

function correctDelete(k) {
  // on a keyframe: delete it; on a tracked frame: the target ends here (absent until its next keyframe)
  if (running() || !state.timeline || k >= state.regions.length) return;
  if (state.pending && state.pending.target !== k) restoreFrame();
  const region = state.regions[k];
  state.pending = {action: region && region.keyframe ? "delete" : "end", frame: state.frameIndex, target: k};
  state.boxes[k] = null;
  refresh();
}

window.addEventListener("keydown", (event) => {
  if (event.target !== document.body) return;
  if ((event.key === "Delete" || event.key === "Backspace") && state.selected >= 0) {
    if (state.timeline) correctDelete(state.selected); else removeBox(state.selected);
  } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
    seek(state.frameIndex + (event.key === "ArrowLeft" ? -1 : 1));
  }
});

$("clear").addEventListener("click", () => {
  // after a run: a fresh start on the shown frame (the keyframes are forgotten by the page only)
  if (running()) return;
  Object.assign(state, {boxes: [], selected: -1, absent: [], live: null, timeline: null, regions: [], pending: null});
  refresh();
});

// --- seeking -------------------------------------------------------------------------------
function boxOf(region) {
  // a target's box on the shown frame: the keyframe's region, or the bounds of the tracked polygon
  if (!region || !region.present || !region.polygon) return null;
  const xs = region.polygon.filter((_, i) => i % 2 === 0), ys = region.polygon.filter((_, i) => i % 2 === 1);
  const x = Math.round(Math.min(...xs)), y = Math.round(Math.min(...ys));
  return {x, y, w: Math.round(Math.max(...xs)) - x, h: Math.round(Math.max(...ys)) - y};
}

function seek(index) {
  const total = frameCount();
  if (!state.video || running() || total < 1) return;
  index = Math.min(total - 1, Math.max(0, index));
  if (state.timeline && state.pending && state.pending.frame !== index) state.pending = null;  // given up
  state.frameIndex = index;
  $("seek").value = String(index);
  $("frame-number").textContent = `frame ${index} of ${total}`;
  loadFrame(index);
}

function loadFrame(index, keepLive = false) {
  const token = ++state.seekToken;
  const image = fetch(`/api/frame?index=${index}`, {headers: {"X-Session": SESSION}, cache: "no-store"})
    .then(async (response) => {
      if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || `frame ${index} could not be loaded`);
      return response.blob();
    })
    .then((blob) => new Promise((resolve) => {
      const shown = new Image();
      shown.onload = () => { URL.revokeObjectURL(shown.src); resolve(shown); };
      shown.src = URL.createObjectURL(blob);
    }));
  const regions = state.timeline ? api(`/api/timeline?frame=${index}`).then((t) => t.regions || []) : Promise.resolve(null);
  return Promise.all([image, regions]).then(([shown, found]) => {
    if (token !== state.seekToken) return;  // a newer seek came meanwhile
    state.frameImage = shown;
    if (!keepLive) state.live = null;  // after a run its last frame stays shown until the next seek
    if (found) {
      state.regions = found;
      state.boxes = found.map(boxOf);
      if (state.pending) state.boxes[state.pending.target] = state.pending.box ? {x: state.pending.box[0], y: state.pending.box[1], w: state.pending.box[2], h: state.pending.box[3]} : null;
    }
    $("frame").dataset.shown = String(index);  // for tests: which frame the canvas shows
    refresh();
  }).catch((error) => say(error.message));
}

$("seek").addEventListener("input", () => seek(Number($("seek").value)));
$("prev-frame").addEventListener("click", () => seek(state.frameIndex - 1));
$("next-frame").addEventListener("click", () => seek(state.frameIndex + 1));

function refreshTimeline() {
  return api("/api/timeline").then((t) => {
    state.timeline = t.timeline;
    if (state.timeline) $("direction").value = state.timeline.direction;
    return loadFrame(state.frameIndex, true);
  }).catch((error) => say(error.message));
}

// --- opening a video -----------------------------------------------------------------------
function showVideo(video) {
  state.video = video;
  Object.assign(state, {boxes: [], selected: -1, live: null, absent: [], frameIndex: 0, frameImage: null,
                        timeline: null, regions: [], pending: null});
  $("seek").max = String(Math.max(0, (video.frames || 1) - 1));
  $("seek").value = "0";
  $("frame-number").textContent = `frame 0 of ${video.frames || "?"}`;
  canvas.width = video.width;
  canvas.height = video.height;
  // the session travels in a header only (a page of another site cannot send it): fetch, then show
  fetch("/api/frame", {headers: {"X-Session": SESSION}, cache: "no-store"})
    .then((response) => { if (!response.ok) throw new Error("the first frame could not be loaded"); return response.blob(); })
    .then((blob) => {
      const image = new Image();
      image.onload = () => { URL.revokeObjectURL(image.src); state.first = image; $("frame").dataset.shown = "0"; refresh(); };
      image.src = URL.createObjectURL(blob);
    })
    .catch((error) => say(error.message));
  const frames = video.frames ? `${video.frames} frames, ` : "";
  say("");
  setProgress(0, `${video.name}: ${video.width}×${video.height}, ${frames}draw the targets`);
  resetDownloads();
}

function forgetVideo(text) {
  // a failed (or new) upload: nothing of the previous clip stays on the page to be tracked
  if (running()) api(`/api/jobs/${state.job.id}/stop`, {method: "POST"}).catch(() => {});  // its files go with it
  if (state.events) { state.events.close(); state.events = null; }
  Object.assign(state, {video: null, first: null, boxes: [], selected: -1, live: null, job: null, absent: [],
                        frameIndex: 0, frameImage: null, timeline: null, regions: [], pending: null});
  $("pause").disabled = $("stop").disabled = true;
  $("pause").textContent = "Pause";
  resetDownloads();
  setProgress(0, text || "no video open");
  refresh();
}

function uploadFile(file) {
  // XMLHttpRequest, not fetch: its upload events give the progress of the body being sent
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/api/upload?name=${encodeURIComponent(file.name)}`);
    request.setRequestHeader("X-Session", SESSION);
    request.responseType = "json";
    const mb = (n) => (n / 1048576).toFixed(1);
    request.upload.onprogress = (event) => {
      if (!event.lengthComputable) return;
      setProgress(event.loaded / event.total, `uploading ${file.name}: ${Math.floor(100 * event.loaded / event.total)} % (${mb(event.loaded)} of ${mb(event.total)} MB)`);
    };
    request.upload.onload = () => setProgress(1, `${file.name}: uploaded, opening it …`);
    request.onload = () => {
      const body = request.response || {};
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new Error(body.error || `the server answered ${request.status}`));
    };
    request.onerror = () => reject(new Error(`${file.name}: the upload failed (connection lost)`));
    request.send(file);
  });
}

$("video-file").addEventListener("change", () => {
  const file = $("video-file").files[0];
  if (!file) return;
  forgetVideo(`uploading ${file.name} …`);
  say("");
  uploadFile(file)
    .then(showVideo)
    .catch((error) => { forgetVideo("no video open"); say(error.message); });
});

$("media-open").addEventListener("click", () => {
  const path = $("media-list").value;
  if (!path) return;
  forgetVideo(`opening ${path} …`);
  say("");
  api("/api/media/open", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({path})})
    .then(showVideo)
    .catch((error) => { forgetVideo("no video open"); say(error.message); });
});

// --- tracking ------------------------------------------------------------------------------
function setProgress(fraction, text) {
  $("progress-bar").value = fraction;
  $("progress-text").textContent = text;
}

function describe(job) {
  const mode = job.long_term ? " · long-term" : "";
  if (["done", "stopped", "failed"].includes(job.state) || job.state === "queued") return job.message + mode;
  const of = job.total ? ` / ${job.total}` : "";
  const rate = job.fps ? ` · ${job.fps.toFixed(1)} frames/s` : "";
  if (job.state === "paused") return `paused: ${job.frames}${of} frames${rate}${mode}`;  // nothing counts down
  const left = job.seconds_left != null ? ` · ${Math.ceil(job.seconds_left)} s left` : "";
  return `tracking: ${job.frames}${of} frames${rate}${left}${mode}`;
}

function onProgress(job) {
  state.job = job;
  state.absent = job.absent || [];
  setProgress(job.total ? job.frames / job.total : (job.state === "done" ? 1 : 0), describe(job));
  $("pause").textContent = job.state === "paused" ? "Resume" : "Pause";
  $("pause").disabled = $("stop").disabled = !running();
  if (job.state === "failed") say(job.message);
  listTargets();
}

function resetDownloads() {
  for (const id of ["download-json", "download-csv", "download-masks", "download-video", "download-cvat", "download-keyframes"]) {
    $(id).removeAttribute("href");
    $(id).classList.add("disabled");
  }
  $("download-vot").replaceChildren("VOT txt per target: ", Object.assign(document.createElement("span"), {className: "none", textContent: "after a run"}));
}

function offerDownloads(job) {
  const url = (name) => `/api/jobs/${job.id}/files/${name}`;
  const links = {"download-json": "results.json", "download-csv": "results.csv",
                 "download-masks": "masks.zip", "download-video": "overlay.mp4",
                 "download-cvat": "annotations.xml", "download-keyframes": "keyframes.csv"};
  for (const [id, name] of Object.entries(links)) {
    if (!job.files.includes(name)) continue;
    $(id).href = url(name);
    $(id).download = name;
    $(id).classList.remove("disabled");
  }
  const vot = $("download-vot");
  vot.replaceChildren("VOT txt per target: ");
  job.files.filter((n) => n.endsWith(".txt")).forEach((name, k) => {
    const link = Object.assign(document.createElement("a"), {href: url(name), download: name, id: `download-vot-${k}`});
    link.textContent = `target ${k}`;
    vot.append(link, " ");
  });
}

function follow(request) {
  // a run started (a first one, a re-track, an undo): live frames and progress, then the downloads
  return request.then((job) => {
    onProgress(job);
    const events = new EventSource(`/api/jobs/${job.id}/events`);
    state.events = events;
    events.addEventListener("frame", (event) => {
      const image = new Image();
      image.onload = () => { state.live = image; draw(); };
      image.src = "data:image/jpeg;base64," + event.data;
    });
    events.addEventListener("progress", (event) => onProgress(JSON.parse(event.data)));
    events.addEventListener("end", (event) => {
      events.close();
      const done = JSON.parse(event.data);
      onProgress(done);
      if (done.files.length) offerDownloads(done);
      if (done.state !== "failed") { state.pending = null; refreshTimeline(); }
    });
    events.onerror = () => { if (running()) say("lost the connection to the server"); events.close(); };
  }).catch((error) => say(error.message));
}

function post(path, body) {
  return api(path, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
}

$("track").addEventListener("click", () => {
  if (running() || state.boxes.length === 0) return;
  say("");
  resetDownloads();
  const boxes = state.boxes.map((b) => [b.x, b.y, b.w, b.h]);
  follow(post("/api/track", {boxes, long_term: $("long-term").checked, start: state.frameIndex,
                             direction: $("direction").value}));
});

$("retrack").addEventListener("click", () => {
  if (running() || !state.pending) return;
  say("");
  follow(post("/api/keyframes", Object.assign({direction: $("direction").value}, state.pending)));
});

$("undo").addEventListener("click", () => {
  if (running() || !state.timeline) return;
  say("");
  state.pending = null;
  follow(post("/api/undo", {}));
});

$("pause").addEventListener("click", () => {
  if (!running()) return;
  api(`/api/jobs/${state.job.id}/${state.job.state === "paused" ? "resume" : "pause"}`, {method: "POST"})
    .then(onProgress).catch((error) => say(error.message));
});

$("stop").addEventListener("click", () => {
  if (running()) api(`/api/jobs/${state.job.id}/stop`, {method: "POST"}).catch((error) => say(error.message));
});

// --- start-up and the end of the session ---------------------------------------------------
api("/api/info").then((info) => {
  state.palette = info.palette;
  state.maxTargets = info.max_targets || state.maxTargets;
  $("model").textContent = `model: ${info.model} · ${info.engine} ${info.precision}`;
  $("untrained").hidden = !info.untrained;
  // long-term: on by default when the server was started with --long-term; off and explained
  // in one line when the model's search graph cannot take the wider crops
  const longTerm = info.long_term || {available: false, default: false, why_not: null};
  $("long-term").checked = longTerm.available && longTerm.default;
  $("long-term").disabled = !longTerm.available;
  $("long-term-note").textContent = longTerm.available ? "" : (longTerm.why_not || "");
  $("long-term-note").hidden = longTerm.available;
  if (info.media) {
    api("/api/media").then(({files}) => {
      $("media-list").replaceChildren(...files.map((f) => Object.assign(document.createElement("option"), {value: f, textContent: f})));
      $("media-pick").hidden = files.length === 0;
    });
  }
}).catch((error) => say(error.message));

// keepalive: sent even as the page goes; a header (sendBeacon cannot set one) carries the session
window.addEventListener("pagehide", () => {
  fetch("/api/session/end", {method: "POST", headers: {"X-Session": SESSION}, keepalive: true}).catch(() => {});
});

refresh();
