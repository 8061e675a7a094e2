// The web page at `/`: one static HTML document (CSS and JS inline; no CDN, no build step). It
// talks to the /v1 API only: pick or upload a video, scrub frames, draw a box or click points
// on a canvas over the frame (the mask, decoded from RLE in JS, is overlaid at once), track
// (progress, then a filmstrip with each region's mask in its colour and a visibility
// timeline), ask (region chips insert <Prompt0>…, the answer streams from the event stream),
// download the answer and masks as JSON. Elements the browser test drives carry data-testid.
enum WebPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gar serve</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f4f4f6;color:#222}
header{background:#223;color:#fff;padding:8px 14px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
header h1{font-size:16px;margin:0 10px 0 0}
main{display:flex;gap:14px;padding:12px;flex-wrap:wrap}
section{background:#fff;border-radius:6px;padding:10px;box-shadow:0 1px 2px #0002}
#stage{position:relative;display:inline-block;line-height:0;background:#000}
#stage img,#stage canvas{max-width:720px;width:100%}
#stage canvas{position:absolute;left:0;top:0;height:100%;cursor:crosshair}
#scrub{width:100%}
.row{display:flex;gap:8px;align-items:center;margin:6px 0;flex-wrap:wrap}
.chip{border:2px solid;border-radius:12px;padding:1px 8px;cursor:pointer;background:#fff}
.chip.sel{font-weight:bold}
#film{display:flex;gap:4px;overflow-x:auto;max-width:720px}
#film canvas{height:80px}
#timeline td{width:8px;height:12px;padding:0}
#answer{white-space:pre-wrap;min-height:40px;border:1px solid #ccc;padding:6px;max-width:520px}
#status{color:#a00}
progress{width:200px}
</style></head>
<body>
<header><h1>gar serve</h1>
<select id="media" data-testid="media"></select><button id="open" data-testid="open">Open</button>
<label>or upload <input type="file" id="upload" accept="video/*"></label>
<label id="tokrow" hidden>token <input id="token" type="password" size="12"></label>
<span id="facts" data-testid="facts"></span></header>
<main>
<section>
 <div id="stage"><img id="frame" alt="frame"><canvas id="overlay" data-testid="overlay"></canvas></div>
 <input type="range" id="scrub" min="0" max="0" value="0" data-testid="scrub">
 <div class="row">frame <span id="fno">0</span>
  <label><input type="radio" name="tool" value="box" checked> box</label>
  <label><input type="radio" name="tool" value="point"> points (shift-click: background)</label>
  <button id="newregion">new region</button></div>
 <div class="row" id="chips"></div>
 <div class="row"><button id="track" data-testid="track">Track</button> frames <input id="nframes" type="number" value="16" min="1" max="300" style="width:60px">
  <progress id="prog" value="0" max="1" data-testid="progress"></progress> <span id="jobstate" data-testid="jobstate"></span></div>
 <div id="film" data-testid="filmstrip"></div>
 <table id="timeline" data-testid="timeline"></table>
</section>
<section>
 <div class="row"><textarea id="question" rows="3" cols="50" data-testid="question">What is <Prompt0> doing?</textarea></div>
 <div class="row"><button id="ask" data-testid="ask">Ask</button> max tokens <input id="maxtok" type="number" value="64" min="1" style="width:60px">
  <button id="download" data-testid="download" disabled>Download JSON</button></div>
 <div id="answer" data-testid="answer"></div>
 <div id="done" data-testid="answer-done" hidden></div>
 <div id="status" data-testid="status"></div>
</section>
</main>
<script>
"use strict";
const $ = id => document.getElementById(id);
const COLORS = ["#e6194b","#3cb44b","#4363d8","#f58231","#911eb4","#46f0f0","#f032e6","#bcf60c"];
let video = null, frame = 0, regions = [], selected = -1, job = null, lastAnswer = null, drag = null;
const frameCache = {};

function headers(json) {
  const h = {}; const t = $("token").value || localStorage.getItem("garToken");
  if (t) h["Authorization"] = "Bearer " + t;
  if (json) h["Content-Type"] = "application/json";
  return h;
}
async function api(method, path, body) {
  const r = await fetch(path, {method, headers: headers(body !== undefined && !(body instanceof FormData)),
    body: body === undefined ? undefined : (body instanceof FormData ? body : JSON.stringify(body))});
  if (r.status === 401) { $("tokrow").hidden = false; }
  const j = await r.json().catch(() => ({error: "HTTP " + r.status}));
  if (!r.ok) throw new Error(j.error || ("HTTP " + r.status));
  return j;
}
function status(msg) { $("status").textContent = msg || ""; }

// COCO RLE (compressed string or run list) to a w*h Uint8Array, row-major.
function decodeRLE(rle) {
  const [h, w] = rle.size; let counts = rle.counts;
  if (typeof counts === "string") {
    const s = counts, out = []; let p = 0;
    while (p < s.length) {
      let x = 0, k = 0, more = 1, c;
      while (more) { c = s.charCodeAt(p) - 48; x |= (c & 0x1f) << (5 * k); more = c & 0x20; p++; k++;
        if (!more && (c & 0x10)) x |= -1 << (5 * k); }
      if (out.length > 2) x += out[out.length - 2];
      out.push(x);
    }
    counts = out;
  }
  const m = new Uint8Array(w * h); let i = 0, v = 0;
  for (const n of counts) { if (v) for (let j = i; j < i + n; j++) m[(j % h) * w + Math.floor(j / h)] = 1; i += n; v ^= 1; }
  return {w, h, bits: m};
}
function paintMask(ctx, mask, color, W, H) {
  const c = document.createElement("canvas"); c.width = mask.w; c.height = mask.h;
  const cx = c.getContext("2d"), img = cx.createImageData(mask.w, mask.h);
  const r = parseInt(color.slice(1, 3), 16), g = parseInt(color.slice(3, 5), 16), b = parseInt(color.slice(5, 7), 16);
  for (let i = 0; i < mask.bits.length; i++) if (mask.bits[i]) { img.data[4*i] = r; img.data[4*i+1] = g; img.data[4*i+2] = b; img.data[4*i+3] = 120; }
  cx.putImageData(img, 0, 0); ctx.drawImage(c, 0, 0, W, H);
}

async function frameURL(k, maxSide) {
  const key = k + "/" + (maxSide || 0);
  if (!frameCache[key]) {
    const q = maxSide ? "?max_side=" + maxSide : "";
    const r = await fetch(`/v1/videos/${video.id}/frames/${k}${q}`, {headers: headers(false)});
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || "frame " + k);
    frameCache[key] = URL.createObjectURL(await r.blob());
  }
  return frameCache[key];
}
async function showFrame(k) {
  frame = k; $("fno").textContent = k; $("scrub").value = k;
  const img = $("frame"); img.src = await frameURL(k, 720);
  await img.decode().catch(() => {});
  draw();
}
function draw() {
  const cv = $("overlay"), img = $("frame");
  cv.width = img.naturalWidth || 1; cv.height = img.naturalHeight || 1;
  const ctx = cv.getContext("2d"), sx = cv.width / video.width, sy = cv.height / video.height;
  regions.forEach((r, i) => {
    const m = maskOn(i, frame);
    if (m) paintMask(ctx, m, r.color, cv.width, cv.height);
    if (r.frame !== frame) return;
    ctx.strokeStyle = r.color; ctx.lineWidth = i === selected ? 3 : 2;
    const p = r.prompt;
    if (p.box) ctx.strokeRect(p.box[0] * sx, p.box[1] * sy, (p.box[2] - p.box[0]) * sx, (p.box[3] - p.box[1]) * sy);
    for (const [x, y, l] of p.points || []) { ctx.fillStyle = l ? r.color : "#000"; ctx.beginPath(); ctx.arc(x * sx, y * sy, 5, 0, 7); ctx.fill(); }
  });
  if (drag) { ctx.strokeStyle = "#fff"; ctx.setLineDash([4, 3]); ctx.strokeRect(drag.x0, drag.y0, drag.x1 - drag.x0, drag.y1 - drag.y0); ctx.setLineDash([]); }
}
// The region's mask on frame k: the track job's when there is one, else its segmented prompt.
function maskOn(i, k) {
  if (job && job.result) {
    const f = job.result.regions[i] && job.result.regions[i].frames.find(f => f.index === k);
    if (f) return f.rle ? decodeRLE(f.rle) : null;
  }
  const r = regions[i];
  return r.frame === k && r.mask ? r.mask : null;
}

function chips() {
  const box = $("chips"); box.innerHTML = "";
  regions.forEach((r, i) => {
    const c = document.createElement("span"); c.className = "chip" + (i === selected ? " sel" : "");
    c.style.borderColor = r.color; c.textContent = `<Prompt${i}>`; c.dataset.testid = "chip";
    c.title = "click: insert into the question; double-click: delete";
    c.onclick = () => { selected = i; const q = $("question"); const at = q.selectionStart ?? q.value.length;
      q.value = q.value.slice(0, at) + `<Prompt${i}>` + q.value.slice(at); chips(); draw(); };
    c.ondblclick = () => { regions.splice(i, 1); selected = -1; job = null; chips(); draw(); };
    box.appendChild(c);
  });
}
async function segment(i) {
  const r = regions[i];
  try {
    const s = await api("POST", `/v1/videos/${video.id}/segment`, {frame: r.frame, prompt: r.prompt});
    r.mask = decodeRLE(s.mask); r.rle = s.mask; job = null;
    status(s.warnings.join(" "));
  } catch (e) { status(e.message); }
  draw();
}
function toVideo(ev) {
  const cv = $("overlay"), b = cv.getBoundingClientRect();
  return [Math.round((ev.clientX - b.left) / b.width * (video.width - 1)), Math.round((ev.clientY - b.top) / b.height * (video.height - 1)),
          (ev.clientX - b.left) * cv.width / b.width, (ev.clientY - b.top) * cv.height / b.height];
}
$("overlay").addEventListener("mousedown", ev => {
  if (!video) return;
  const [x, y, cx, cy] = toVideo(ev);
  if (document.querySelector("input[name=tool]:checked").value === "box") { drag = {x: x, y: y, x0: cx, y0: cy, x1: cx, y1: cy}; return; }
  let r = regions[selected];
  if (!r || !r.prompt.points || r.frame !== frame) {
    r = {frame, prompt: {points: []}, color: COLORS[regions.length % COLORS.length]}; regions.push(r); selected = regions.length - 1;
  }
  r.prompt.points.push([x, y, ev.shiftKey ? 0 : 1]); chips(); segment(selected);
});
$("overlay").addEventListener("mousemove", ev => { if (!drag) return; const [, , cx, cy] = toVideo(ev); drag.x1 = cx; drag.y1 = cy; draw(); });
window.addEventListener("mouseup", ev => {
  if (!drag) return;
  const [x, y] = toVideo(ev), d = drag; drag = null;
  const box = [Math.max(0, Math.min(d.x, x)), Math.max(0, Math.min(d.y, y)), Math.min(video.width - 1, Math.max(d.x, x)), Math.min(video.height - 1, Math.max(d.y, y))];
  if (box[2] - box[0] < 3 || box[3] - box[1] < 3) { draw(); return; }
  regions.push({frame, prompt: {box}, color: COLORS[regions.length % COLORS.length]}); selected = regions.length - 1;
  chips(); draw(); segment(selected);
});
$("newregion").onclick = () => { selected = -1; chips(); };
$("scrub").oninput = ev => showFrame(+ev.target.value).catch(e => status(e.message));

async function opened(v) {
  video = v; regions = []; selected = -1; job = null; lastAnswer = null;
  for (const k in frameCache) delete frameCache[k];
  $("facts").textContent = `${v.name}: ${v.width}×${v.height}, ${v.frame_count} frames` + (v.fps ? `, ${v.fps.toFixed(2)} fps` : "");
  $("scrub").max = v.frame_count - 1; $("film").innerHTML = ""; $("timeline").innerHTML = "";
  chips(); await showFrame(0);
}
$("open").onclick = () => api("POST", "/v1/videos", {path: $("media").value}).then(opened).catch(e => status(e.message));
$("upload").onchange = ev => {
  const f = ev.target.files[0]; if (!f) return;
  const fd = new FormData(); fd.append("file", f, f.name);
  status("uploading…"); api("POST", "/v1/videos", fd).then(v => { status(""); return opened(v); }).catch(e => status(e.message));
};
$("token").onchange = () => { localStorage.setItem("garToken", $("token").value); loadMedia(); };

async function loadMedia() {
  try {
    const m = await api("GET", "/v1/media");
    $("media").innerHTML = m.videos.map(p => `<option>${p.replace(/[<&"]/g, "")}</option>`).join("");
  } catch (e) { status(e.message); }
}

$("track").onclick = async () => {
  if (!video || !regions.length) { status("draw a region first"); return; }
  try {
    let j = await api("POST", `/v1/videos/${video.id}/tracks`, {regions: regions.map(r => ({frame: r.frame, prompt: r.prompt})), frames: +$("nframes").value});
    while (j.state === "queued" || j.state === "running") {
      $("prog").max = j.progress.total || 1; $("prog").value = j.progress.done; $("jobstate").textContent = j.state;
      await new Promise(r => setTimeout(r, 300));
      j = await api("GET", `/v1/jobs/${j.id}`);
    }
    $("prog").value = $("prog").max; $("jobstate").textContent = j.state + (j.error ? ": " + j.error : "");
    if (j.state !== "done") return;
    job = j; await filmstrip(); draw();
  } catch (e) { status(e.message); }
};
async function filmstrip() {
  const film = $("film"), frames = job.result.frames; film.innerHTML = "";
  const step = Math.max(1, Math.ceil(frames.length / 12));
  for (let t = 0; t < frames.length; t += step) {
    const k = frames[t].index, img = new Image(); img.src = await frameURL(k, 160); await img.decode().catch(() => {});
    const c = document.createElement("canvas"); c.width = img.naturalWidth; c.height = img.naturalHeight; c.title = "frame " + k;
    const ctx = c.getContext("2d"); ctx.drawImage(img, 0, 0);
    regions.forEach((r, i) => { const m = maskOn(i, k); if (m) paintMask(ctx, m, r.color, c.width, c.height); });
    c.onclick = () => showFrame(k); film.appendChild(c);
  }
  $("timeline").innerHTML = job.result.regions.map((reg, i) => `<tr><th>&lt;Prompt${i}&gt;</th>` +
    reg.frames.map(f => `<td title="frame ${f.index}" style="background:${f.visible ? regions[i].color : "#ddd"}"></td>`).join("") + "</tr>").join("");
}

$("ask").onclick = async () => {
  if (!video || !regions.length) { status("draw a region first"); return; }
  const body = {question: $("question").value, max_new_tokens: +$("maxtok").value, stream: true};
  if (job && job.result) body.track = job.id; else body.regions = regions.map(r => ({frame: r.frame, prompt: r.prompt}));
  $("answer").textContent = ""; $("answer").dataset.pieces = 0; $("done").hidden = true; $("download").disabled = true; status("");
  try {
    const r = await fetch(`/v1/videos/${video.id}/ask`, {method: "POST", headers: headers(true), body: JSON.stringify(body)});
    if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || "HTTP " + r.status);
    const reader = r.body.getReader(), dec = new TextDecoder(); let buf = "";
    for (;;) {
      const {value, done} = await reader.read(); if (done) break;
      buf += dec.decode(value, {stream: true});
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut); buf = buf.slice(cut + 2);
        const ev = (block.match(/^event: (.*)$/m) || [])[1], data = (block.match(/^data: (.*)$/m) || [])[1];
        if (!data) continue;
        const j = JSON.parse(data);
        if (ev === "token") { $("answer").textContent += j.text; $("answer").dataset.pieces = +($("answer").dataset.pieces || 0) + 1; }
        else if (ev === "answer") { lastAnswer = j; $("answer").textContent = j.text; $("done").hidden = false; $("done").textContent = "done"; $("download").disabled = false; }
        else if (ev === "error") status(j.error);
      }
    }
  } catch (e) { status(e.message); }
};
$("download").onclick = () => {
  const doc = {video, regions: regions.map(r => ({frame: r.frame, prompt: r.prompt, mask: r.rle || null})), track: job, answer: lastAnswer};
  const a = document.createElement("a"); a.href = URL.createObjectURL(new Blob([JSON.stringify(doc, null, 1)], {type: "application/json"}));
  a.download = "gar-answer.json"; a.click();
};
loadMedia();
</script>
</body></html>
"""#
}
