// siammask serve: open a video, draw the targets, track them live, download the results.
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
  if (state.live) { ctx.drawImage(state.live, 0, 0, canvas.width, canvas.height); return; }
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (state.first) ctx.drawImage(state.first, 0, 0, canvas.width, canvas.height);  // the preview may be smaller
  const line = Math.max(2, Math.round(Math.min(canvas.width, canvas.height) / 240));
  ctx.font = `${Math.max(12, Math.round(canvas.height / 30))}px sans-serif`;
  state.boxes.forEach((b, k) => {
    ctx.strokeStyle = ctx.fillStyle = color(k);
    ctx.lineWidth = k === state.selected ? line * 2 : line;
    ctx.strokeRect(b.x, b.y, b.w, b.h);
    ctx.fillText(String(k), b.x + 2, Math.max(12, b.y - 3));
  });
}

function listTargets() {
  const list = $("targets");
  list.replaceChildren();
  state.boxes.forEach((b, k) => {
    const item = document.createElement("li");
    item.className = (k === state.selected ? "selected " : "") + (state.absent[k] ? "absent" : "");
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = color(k);
    const text = document.createElement("span");
    text.textContent = `${k}: ${b.x},${b.y} ${b.w}×${b.h}`;
    const status = document.createElement("span");
    status.className = "state";
    status.textContent = state.absent[k] ? "absent" : "";
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "delete";
    remove.disabled = running();
    remove.addEventListener("click", () => removeBox(k));
    item.append(swatch, text, status, remove);
    item.addEventListener("click", (e) => { if (e.target !== remove) { state.selected = k; refresh(); } });
    list.append(item);
  });
  $("track").disabled = running() || !state.video || state.boxes.length === 0;
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
    if (p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h) return k;
  }
  return -1;
}

canvas.addEventListener("mousedown", (event) => {
  if (!state.video || running()) return;
  event.preventDefault();
  state.live = null;  // back to the first frame, where the boxes live
  const p = point(event);
  const k = hit(p);
  state.selected = k;
  state.drag = k >= 0 ? {mode: "move", dx: p.x - state.boxes[k].x, dy: p.y - state.boxes[k].y}
                      : {mode: "new", x0: p.x, y0: p.y};
  if (k < 0 && state.boxes.length >= state.maxTargets) { say(`at most ${state.maxTargets} targets`); state.drag = null; return; }
  if (k < 0) { state.boxes.push({x: Math.round(p.x), y: Math.round(p.y), w: 0, h: 0}); state.selected = state.boxes.length - 1; }
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
  const b = state.boxes[state.selected];
  if (state.drag.mode === "new" && (b.w < 2 || b.h < 2)) { state.boxes.pop(); state.selected = -1; }
  state.drag = null;
  state.absent = [];
  refresh();
});

window.addEventListener("keydown", (event) => {
  if ((event.key === "Delete" || event.key === "Backspace") && state.selected >= 0 && event.target === document.body) {
    removeBox(state.selected);
  }
});

$("clear").addEventListener("click", () => {
  if (running()) return;
  state.boxes = []; state.selected = -1; state.absent = []; state.live = null;
  refresh();
});

// --- opening a video -----------------------------------------------------------------------
function showVideo(video) {
  state.video = video;
  state.boxes = []; state.selected = -1; state.live = null; state.absent = [];
  canvas.width = video.width;
  canvas.height = video.height;
  // the session travels in a header only (a page of another site cannot send it): fetch, then show
  fetch("/api/frame", {headers: {"X-Session": SESSION}, cache: "no-store"})
    .then((response) => { if (!response.ok) throw new Error("the first frame could not be loaded"); return response.blob(); })
    .then((blob) => {
      const image = new Image();
      image.onload = () => { URL.revokeObjectURL(image.src); state.first = image; refresh(); };
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
  Object.assign(state, {video: null, first: null, boxes: [], selected: -1, live: null, job: null, absent: []});
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
  for (const id of ["download-json", "download-csv", "download-masks", "download-video"]) {
    $(id).removeAttribute("href");
    $(id).classList.add("disabled");
  }
  $("download-vot").replaceChildren("VOT txt per target: ", Object.assign(document.createElement("span"), {className: "none", textContent: "after a run"}));
}

function offerDownloads(job) {
  const url = (name) => `/api/jobs/${job.id}/files/${name}`;
  const links = {"download-json": "results.json", "download-csv": "results.csv",
                 "download-masks": "masks.zip", "download-video": "overlay.mp4"};
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

$("track").addEventListener("click", () => {
  if (running() || state.boxes.length === 0) return;
  say("");
  resetDownloads();
  const boxes = state.boxes.map((b) => [b.x, b.y, b.w, b.h]);
  const body = JSON.stringify({boxes, long_term: $("long-term").checked});
  api("/api/track", {method: "POST", headers: {"Content-Type": "application/json"}, body})
    .then((job) => {
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
        offerDownloads(done);
      });
      events.onerror = () => { if (running()) say("lost the connection to the server"); events.close(); };
    })
    .catch((error) => say(error.message));
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
