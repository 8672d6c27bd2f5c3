// The heatmap page's picture: heatmap, liquidation map (profile) and colour legend on canvases.
//
// Python (ui/components/heatmap.py) sends one gzipped message per data or model change
// (core/charts/canvas.py: header JSON + USD per band per column for longs and shorts). Every
// restyle happens here, without a Streamlit rerun: side, highlight, zoom and pan, crosshair.
// Only the chosen side and highlight are reported back (debounced) so the link can keep them.
// All text goes through textContent; numbers are formatted like core/format.py.

const PAD = { right: 64, bottom: 22, top: 18 };   // axes: price at the right, time below; titles on top
const PROFILE_W = 200;                              // liquidation map width (side by side)
const NARROW = 640;                                 // below this width the two pictures stack
const CANDLE_MIN_PX = 5;                            // candles need this many pixels per column
const TAG_H = 15;                                   // height of a price tag at the right edge
const PINCH_MIN_PX = 10;                            // two fingers closer than this do not zoom
// The PNG export: drawn again (not copied) at EXPORT.scale x the CSS size, at a width between min and
// max (a phone exports the side-by-side picture too), with a title above and the legend below.
const EXPORT = { scale: 2, minW: 960, maxW: 1400, margin: 16, titleH: 48, legendH: 64, bg: "#0e1117" };
const SIDE_WORDS = { both: "longs + shorts", long: "longs", short: "shorts" };

// ---- numbers as core/format.py writes them ------------------------------------------------
export function fmtUsd(value) {
  const v = Math.abs(value), sign = value < 0 ? "-" : "";
  for (const [div, unit] of [[1e9, "B"], [1e6, "M"], [1e3, "K"]]) {
    if (v >= div) {
      const s = v / div;
      return `${sign}$${s < 10 ? s.toFixed(1) : s.toFixed(0)}${unit}`;
    }
  }
  return `${sign}$${v.toFixed(0)}`;
}

export function fmtPrice(v) {
  const opts = (d) => ({ minimumFractionDigits: d, maximumFractionDigits: d });
  if (v >= 1000) return v.toLocaleString("en-US", opts(0));
  if (v >= 10) return v.toLocaleString("en-US", opts(2));
  return v.toLocaleString("en-US", opts(4));
}

const MIN = 60e3, HOUR = 60 * MIN, DAY = 24 * HOUR;
const TIME_STEPS = [5 * MIN, 15 * MIN, 30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY,
  14 * DAY, 28 * DAY];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n) => String(n).padStart(2, "0");
function fmtTime(ms, withDay = true) {
  const d = new Date(ms);
  const hm = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
  return withDay ? `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${hm}` : hm;
}

// ---- the message from Python --------------------------------------------------------------
async function decode(data) {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const buf = await new Response(stream).arrayBuffer();
  const n = new DataView(buf).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 4, n)));
  const start = 4 + n + ((4 - ((4 + n) % 4)) % 4);
  const size = header.rows * header.cols;
  header.long = new Float32Array(buf, start, size);
  header.short = new Float32Array(buf, start + 4 * size, size);
  return header;
}

// A key for "same message": length plus a sample of bytes (a rerun resends identical data).
function fingerprint(data) {
  const b = data instanceof Uint8Array ? data : new Uint8Array(data);
  let h = b.length;
  for (let i = 0; i < b.length; i += Math.max(1, b.length >> 10)) h = (h * 31 + b[i]) | 0;
  return h;
}

// ---- small helpers ------------------------------------------------------------------------
const clamp = (x, lo, hi) => Math.min(Math.max(x, lo), hi);

// Round tick step for a span: 1, 2, 2.5 or 5 x 10^k giving about `count` ticks.
function tickStep(span, count) {
  const raw = span / Math.max(count, 1);
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

// Text in at most maxW pixels: the font shrinks down to 9 px, then the text is cut with an ellipsis.
function fitText(ctx, text, x, y, maxW, size, weight) {
  let px = size;
  const font = () => `${weight ? weight + " " : ""}${px}px sans-serif`;
  ctx.font = font();
  while (ctx.measureText(text).width > maxW && px > 9) { px -= 1; ctx.font = font(); }
  let out = text;
  while (out.length > 1 && ctx.measureText(out).width > maxW) out = out.slice(0, -2) + "…";
  ctx.fillText(out, x, y);
}

function setupCanvas(canvas, w, h) {
  const dpr = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return ctx;
}

// ---- the picture ----------------------------------------------------------------------------
class Picture {
  constructor(root, report) {
    this.root = root;
    this.report = report;                    // (side, highlight) -> sent to Python, debounced
    this.el = (cls) => root.querySelector(`.${cls}`);
    this.heat = this.el("lh-heat");
    this.prof = this.el("lh-prof");
    this.ramp = this.el("lh-ramp");
    this.tip = this.el("lh-tip");
    this.m = null;                           // the decoded message
    this.images = new Map();                 // "side|top" -> offscreen canvas (cols x rows)
    this.hover = null;                       // {x, y} in heatmap plot pixels, or null
    this.paints = 0;
    this.bindControls();
    this.bindPointer();
    new ResizeObserver(() => this.draw()).observe(root);
  }

  setMessage(m) {
    const first = this.m === null;
    this.m = m;
    this.images.clear();
    if (first) {
      this.side = m.side;
      this.highlight = m.highlight;
    }
    this.resetView();
    this.syncControls();
    this.draw();
  }

  resetView() {
    const m = this.m;
    this.view = { c0: 0, c1: m.cols, p0: m.view.low, p1: m.view.high };
  }

  get top() {
    return this.m.tops[this.side][Math.round(this.highlight)] || 1;
  }

  // -- controls: side buttons and the highlight range --
  bindControls() {
    for (const b of this.root.querySelectorAll("button[data-side]")) {
      b.addEventListener("click", () => { this.side = b.dataset.side; this.changed(); });
    }
    this.range = this.root.querySelector("input[type=range]");
    this.range.addEventListener("input", () => { this.highlight = Number(this.range.value); this.changed(); });
    this.el("lh-reset").addEventListener("click", () => { this.resetView(); this.draw(); });
    const png = this.el("lh-png");
    if (png) png.addEventListener("click", () => { if (this.m) this.downloadPng(); });
  }

  changed() {
    this.syncControls();
    this.draw();
    this.report(this.side, this.highlight);
  }

  syncControls() {
    for (const b of this.root.querySelectorAll("button[data-side]")) {
      b.setAttribute("aria-pressed", String(b.dataset.side === this.side));
    }
    this.range.value = String(this.highlight);
  }

  // -- zoom (wheel, pinch), pan (drag with a mouse or one finger), reset (double-click), crosshair --
  bindPointer() {
    const c = this.heat;
    c.addEventListener("wheel", (e) => {
      if (!this.m) return;
      e.preventDefault();
      const { x, y, w, h } = this.local(e);
      const f = Math.exp(clamp(e.deltaY, -300, 300) / 400);   // > 1 zooms out
      this.zoomAround(x, y, w, h, f, { time: x <= w, price: y <= h });   // over an axis: that axis only
      this.hover = { x, y };
      this.draw();
    }, { passive: false });
    const down = new Map();                  // pointerId -> {x, y} (client pixels) of each pressed pointer
    let drag = null, pinch = null;           // one pointer pans; two pinch
    const startDrag = () => {
      const [p] = down.values();
      drag = { x: p.x, y: p.y, v: { ...this.view } };
      pinch = null;
    };
    c.addEventListener("pointerdown", (e) => {
      down.set(e.pointerId, { x: e.clientX, y: e.clientY });
      try { c.setPointerCapture(e.pointerId); } catch { /* a pointer that is already gone */ }
      if (down.size === 1) startDrag();
      else { drag = null; pinch = this.pinchOf(down); this.hover = null; this.draw(); }
    });
    c.addEventListener("pointermove", (e) => {
      if (!this.m) return;
      const { x, y, w, h } = this.local(e);
      if (down.has(e.pointerId)) down.set(e.pointerId, { x: e.clientX, y: e.clientY });
      if (pinch && down.size >= 2) {
        const now = this.pinchOf(down);
        this.panBy(now.x - pinch.x, now.y - pinch.y, w, h);
        if (pinch.d >= PINCH_MIN_PX && now.d >= PINCH_MIN_PX) {
          const r = this.heat.getBoundingClientRect();
          this.zoomAround(now.x - r.left, now.y - r.top - PAD.top, w, h, pinch.d / now.d, { time: true, price: true });
        }
        pinch = now;
        this.hover = null;
      } else {
        if (drag) {
          this.view = { ...drag.v };
          this.panBy(e.clientX - drag.x, e.clientY - drag.y, w, h);
        }
        this.hover = { x, y };
      }
      this.draw();
    });
    const up = (e) => {
      down.delete(e.pointerId);
      if (down.size === 1) startDrag();        // a finger lifted from a pinch: the other one pans on
      else if (down.size === 0) { drag = null; pinch = null; }
    };
    c.addEventListener("pointerup", up);
    c.addEventListener("pointercancel", up);
    c.addEventListener("pointerleave", () => { if (!down.size) { this.hover = null; this.draw(); } });
    c.addEventListener("dblclick", () => { this.resetView(); this.draw(); });
  }

  // centre (client pixels) and distance of the first two pressed pointers
  pinchOf(down) {
    const [a, b] = down.values();
    return { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2, d: Math.hypot(a.x - b.x, a.y - b.y) };
  }

  // zoom by factor f (> 1 zooms out) around the plot point (x, y), on the axes asked for, within
  // the limits: at least 10 columns and 10 bands, at most the whole window and the whole grid
  zoomAround(x, y, w, h, f, axes) {
    const v = this.view;
    if (axes.time) {
      const c = v.c0 + (clamp(x, 0, w) / w) * (v.c1 - v.c0);
      const span = clamp((v.c1 - v.c0) * f, Math.min(10, this.m.cols), this.m.cols);
      v.c0 = c - (c - v.c0) * (span / (v.c1 - v.c0));
      v.c1 = v.c0 + span;
    }
    if (axes.price) {
      const p = v.p1 - (clamp(y, 0, h) / h) * (v.p1 - v.p0);
      const span = clamp((v.p1 - v.p0) * f, this.m.band * 10, this.maxPrice() - this.m.edge0);
      v.p0 = p - (p - v.p0) * (span / (v.p1 - v.p0));
      v.p1 = v.p0 + span;
    }
    this.clampView();
  }

  // move the view with the pointer: (dx, dy) CSS pixels on a plot of w x h
  panBy(dx, dy, w, h) {
    const v = this.view;
    const dc = (dx / w) * (v.c1 - v.c0), dp = (dy / h) * (v.p1 - v.p0);
    this.view = { c0: v.c0 - dc, c1: v.c1 - dc, p0: v.p0 + dp, p1: v.p1 + dp };
    this.clampView();
  }

  local(e) {
    const r = this.heat.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top - PAD.top, w: r.width - PAD.right,
             h: r.height - PAD.bottom - PAD.top };
  }

  maxPrice() { return this.m.edge0 + this.m.rows * this.m.band; }

  clampView() {
    const v = this.view, m = this.m;
    const sc = v.c1 - v.c0, sp = v.p1 - v.p0;
    v.c0 = clamp(v.c0, 0, m.cols - sc); v.c1 = v.c0 + sc;
    v.p0 = clamp(v.p0, m.edge0, this.maxPrice() - sp); v.p1 = v.p0 + sp;
  }

  // -- colours: the grid of the chosen side coloured into an offscreen image (cached) --
  image() {
    const m = this.m, top = this.top, key = `${this.side}|${top}`;
    if (this.images.has(key)) return this.images.get(key);
    const img = new OffscreenCanvas(m.cols, m.rows);
    const ctx = img.getContext("2d");
    const pixels = ctx.createImageData(m.cols, m.rows);
    const px = pixels.data, L = m.long, S = m.short, ramp = m.ramp;
    const useL = this.side !== "short", useS = this.side !== "long";
    for (let r = 0; r < m.rows; r++) {
      const y = m.rows - 1 - r;                    // row 0 is the lowest band: bottom of the image
      for (let c = 0; c < m.cols; c++) {
        const i = r * m.cols + c;
        const v = (useL ? L[i] : 0) + (useS ? S[i] : 0);
        if (!(v > 0)) continue;                    // empty: transparent (the dark background)
        const rgb = ramp[Math.min(255, Math.round((v / top) * 255))];
        const o = 4 * (y * m.cols + c);
        px[o] = rgb[0]; px[o + 1] = rgb[1]; px[o + 2] = rgb[2]; px[o + 3] = 255;
      }
    }
    ctx.putImageData(pixels, 0, 0);
    if (this.images.size > 8) this.images.clear();
    this.images.set(key, img);
    return img;
  }

  // -- layout: side by side, or stacked on a narrow screen --
  layout(width = this.root.clientWidth) {
    const narrow = width < NARROW;
    const heatW = narrow ? width : Math.max(width - PROFILE_W - 8, 200);
    const heatH = narrow ? 340 : clamp(Math.round(heatW * 0.52), 320, 470);
    return { heatW, heatH, profW: narrow ? width : PROFILE_W, profH: narrow ? 240 : heatH, narrow };
  }

  draw() {
    if (!this.m || !this.root.isConnected) return;
    const L = this.layout();
    this.root.classList.toggle("lh-narrow", L.narrow);
    this.root.dataset.priceStyle = this.paintHeat(setupCanvas(this.heat, L.heatW, L.heatH), L.heatW, L.heatH);
    this.paintProfile(setupCanvas(this.prof, L.profW, L.profH), L.profW, L.profH);
    this.drawLegend(L.heatW);
    this.drawTip(L);
    const v = this.view;                                // the visible range, for tests: c0,c1,p0,p1
    this.root.dataset.view = [v.c0, v.c1, v.p0, v.p1].map((x) => x.toPrecision(8)).join(",");
    this.root.dataset.paint = String(++this.paints);   // tests and the bench wait on this
  }

  // price <-> pixel for a panel of plot height h (both pictures share the price axis)
  yOf(p, h) { return PAD.top + ((this.view.p1 - p) / (this.view.p1 - this.view.p0)) * h; }

  // the heatmap on ctx (CSS pixels, origin at its top left) at W x H; returns the price style drawn
  paintHeat(ctx, W, H) {
    const m = this.m, v = this.view;
    const w = W - PAD.right, h = H - PAD.bottom - PAD.top;
    ctx.fillStyle = `rgb(${m.ramp[0].join(",")})`;
    ctx.fillRect(0, PAD.top, w, h);
    ctx.fillStyle = "#e6e8ef"; ctx.font = "bold 11px sans-serif"; ctx.textBaseline = "middle"; ctx.textAlign = "left";
    ctx.fillText("Where positions would be liquidated, over time", 0, PAD.top / 2);
    // the coloured grid: source rectangle = the visible columns and bands
    ctx.imageSmoothingEnabled = false;
    const sy = m.rows - (v.p1 - m.edge0) / m.band, sh = (v.p1 - v.p0) / m.band;
    ctx.drawImage(this.image(), v.c0, sy, v.c1 - v.c0, sh, 0, PAD.top, w, h);
    ctx.save();
    ctx.beginPath(); ctx.rect(0, PAD.top, w, h); ctx.clip();
    const style = this.drawPrice(ctx, w, h);
    this.drawCrosshair(ctx, w, h);
    ctx.restore();
    const tags = this.drawTags(ctx, w, h);
    this.drawAxes(ctx, w, h, tags);
    return style;
  }

  xOf(c, w) { return ((c - this.view.c0) / (this.view.c1 - this.view.c0)) * w; }

  // candles where each column has room for one, else the close as a line
  drawPrice(ctx, w, h) {
    const m = this.m, v = this.view;
    const pxPer = w / (v.c1 - v.c0);
    const first = Math.max(0, Math.floor(v.c0)), last = Math.min(m.cols - 1, Math.ceil(v.c1));
    if (pxPer >= CANDLE_MIN_PX) {
      const body = Math.max(1, Math.floor(pxPer * 0.6));
      for (let c = first; c <= last; c++) {
        const x = this.xOf(c + 0.5, w), up = m.close[c] >= m.open[c];
        ctx.strokeStyle = ctx.fillStyle = up ? "#f4f4f4" : "#8b93a7";
        ctx.beginPath(); ctx.moveTo(x, this.yOf(m.high[c], h)); ctx.lineTo(x, this.yOf(m.low[c], h)); ctx.stroke();
        const y0 = this.yOf(Math.max(m.open[c], m.close[c]), h), y1 = this.yOf(Math.min(m.open[c], m.close[c]), h);
        ctx.fillRect(x - body / 2, y0, body, Math.max(1, y1 - y0));
      }
      return "candles";
    }
    ctx.strokeStyle = m.colors.price; ctx.lineWidth = 1.3;
    ctx.beginPath();
    for (let c = first; c <= last; c++) {
      const x = this.xOf(c + 1, w), y = this.yOf(m.close[c], h);
      c === first ? ctx.moveTo(x, y) : ctx.lineTo(x, y);
    }
    ctx.stroke();
    return "line";
  }

  // the cell under the cursor: column, band, and the heatmap's USD there (both sides)
  cellAt(x, y, w, h) {
    const m = this.m, v = this.view;
    if (x < 0 || x > w || y < 0 || y > h) return null;
    const c = Math.floor(v.c0 + (x / w) * (v.c1 - v.c0));
    const p = v.p1 - (y / h) * (v.p1 - v.p0);
    const r = Math.floor((p - m.edge0) / m.band);
    if (c < 0 || c >= m.cols || r < 0 || r >= m.rows) return null;
    const i = r * m.cols + c;
    return { c, r, p, long: m.long[i], short: m.short[i] };
  }

  drawCrosshair(ctx, w, h) {
    if (!this.hover) return;
    const { x, y } = this.hover;
    if (x < 0 || x > w || y < 0 || y > h) return;
    ctx.strokeStyle = "rgba(255,255,255,0.55)"; ctx.lineWidth = 1; ctx.setLineDash([3, 3]);
    ctx.beginPath(); ctx.moveTo(x, PAD.top); ctx.lineTo(x, PAD.top + h);
    ctx.moveTo(0, y + PAD.top); ctx.lineTo(w, y + PAD.top); ctx.stroke();
    ctx.setLineDash([]);
  }

  // price ticks at the right (none under a price tag), time ticks below
  drawAxes(ctx, w, h, tags = []) {
    const m = this.m, v = this.view;
    ctx.font = "11px sans-serif"; ctx.fillStyle = "#c9ccd6"; ctx.textBaseline = "middle"; ctx.textAlign = "left";
    const step = tickStep(v.p1 - v.p0, Math.max(3, Math.floor(h / 45)));
    for (let p = Math.ceil(v.p0 / step) * step; p <= v.p1; p += step) {
      const y = this.yOf(p, h);
      if (tags.every((t) => Math.abs(t.at - y) >= TAG_H - 2)) ctx.fillText(fmtPrice(p), w + 4, y);
    }
    ctx.textBaseline = "top"; ctx.textAlign = "center";
    // time ticks on round UTC times: midnight shows the date; with no midnight in view, the first
    // tick carries the date (a zoomed picture, or its PNG, still says which day it shows)
    const first = clamp(Math.floor(v.c0), 0, m.cols - 1), last = clamp(Math.ceil(v.c1) - 1, 0, m.cols - 1);
    const t0 = m.starts[first], t1 = m.ends[last];
    const tStep = TIME_STEPS.find((s) => (t1 - t0) / s <= Math.max(2, Math.floor(w / 110))) || TIME_STEPS.at(-1);
    const ticks = [];
    for (let t = Math.ceil(t0 / tStep) * tStep; t < t1; t += tStep) {
      const x = this.xOf(this.columnOf(t), w);
      if (x >= 30 && x <= w - 30) ticks.push({ t, x, text: t % DAY === 0 ? fmtTime(t).slice(0, 6) : fmtTime(t, false) });
    }
    if (ticks.length && ticks.every((k) => k.t % DAY !== 0)) {
      ticks[0].text = fmtTime(ticks[0].t);
      ticks[0].x = Math.max(ticks[0].x, ctx.measureText(ticks[0].text).width / 2);
    }
    for (const k of ticks) ctx.fillText(k.text, k.x, PAD.top + h + 5);
  }

  // fractional column of time t (columns hold equal numbers of candles; gaps are possible)
  columnOf(t) {
    const m = this.m;
    let lo = 0, hi = m.cols - 1;
    while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (m.starts[mid] <= t) lo = mid; else hi = mid - 1; }
    return lo + clamp((t - m.starts[lo]) / (m.ends[lo] - m.starts[lo]), 0, 1);
  }

  // key levels of the sides shown and the price, as tags at the right edge that never overlap
  drawTags(ctx, w, h) {
    const m = this.m;
    const tags = m.levels
      .filter((l) => this.side === "both" || l.side === this.side)
      .map((l) => ({ y: this.yOf((l.low + l.high) / 2, h), text: fmtUsd(l.usd), color: m.colors[l.side] }))
      .concat([{ y: this.yOf(m.price, h), text: fmtPrice(m.price), color: m.colors.price, price: true }])
      .filter((t) => t.y >= PAD.top && t.y <= PAD.top + h)
      .sort((a, b) => a.y - b.y);
    // push tags apart: downwards first, then back up from the bottom edge
    for (let i = 0; i < tags.length; i++) tags[i].at = Math.max(tags[i].y, i ? tags[i - 1].at + TAG_H : PAD.top + TAG_H / 2);
    for (let i = tags.length - 1; i >= 0; i--) {
      const limit = i === tags.length - 1 ? PAD.top + h - TAG_H / 2 : tags[i + 1].at - TAG_H;
      tags[i].at = Math.min(tags[i].at, limit);
    }
    ctx.font = "bold 11px sans-serif"; ctx.textBaseline = "middle"; ctx.textAlign = "left";
    for (const t of tags) {
      ctx.strokeStyle = t.color; ctx.lineWidth = 1; ctx.setLineDash(t.price ? [] : [4, 3]);
      ctx.beginPath(); ctx.moveTo(w - 40, t.y); ctx.lineTo(w, t.y); ctx.lineTo(w + 4, t.at); ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = t.color;
      ctx.fillRect(w + 4, t.at - TAG_H / 2 + 1, PAD.right - 5, TAG_H - 2);
      ctx.fillStyle = t.price ? "#111" : "#fff";
      ctx.fillText(t.text, w + 7, t.at);
    }
    return tags;
  }

  // the liquidation map at the last candle: bars per band, one USD axis; cumulative as labelled lines
  paintProfile(ctx, W, H) {
    const m = this.m, v = this.view;
    const h = H - PAD.bottom - PAD.top, w = W - 8, c = m.cols - 1;
    const r0 = Math.max(0, Math.floor((v.p0 - m.edge0) / m.band));
    const r1 = Math.min(m.rows - 1, Math.floor((v.p1 - m.edge0) / m.band));
    const showL = this.side !== "short", showS = this.side !== "long";
    let maxBar = 0;
    for (let r = r0; r <= r1; r++) {
      const i = r * m.cols + c;
      maxBar = Math.max(maxBar, showL ? m.long[i] : 0, showS ? m.short[i] : 0);
    }
    maxBar = maxBar || 1;
    const ph = h;
    ctx.fillStyle = "#e6e8ef"; ctx.font = "bold 11px sans-serif"; ctx.textBaseline = "middle"; ctx.textAlign = "left";
    ctx.fillText("Liquidation map now", 0, PAD.top / 2);
    const yScale = (p) => PAD.top + ((v.p1 - p) / (v.p1 - v.p0)) * ph;
    ctx.save();
    ctx.beginPath(); ctx.rect(0, PAD.top, W, ph); ctx.clip();   // bands cut by the view stay inside
    for (let r = r0; r <= r1; r++) {
      const i = r * m.cols + c, lo = m.edge0 + r * m.band;
      const yTop = yScale(lo + m.band), hgt = Math.max(1, yScale(lo) - yTop - 0.5);
      for (const [on, arr, col] of [[showL, m.long, m.colors.long], [showS, m.short, m.colors.short]]) {
        if (!on || !(arr[i] > 0)) continue;
        ctx.fillStyle = col;
        ctx.fillRect(0, yTop, (arr[i] / maxBar) * w, hgt);
      }
    }
    this.highlightBand(ctx, w, yScale);
    // cumulative: what a move from the price to that band would liquidate, one line per side
    ctx.font = "10px sans-serif"; ctx.textBaseline = "middle";
    const cum = (arr, from, to, dir) => {
      const pts = []; let total = 0;
      for (let r = from; dir > 0 ? r <= to : r >= to; r += dir) { total += arr[r * m.cols + c]; pts.push([r, total]); }
      return pts;
    };
    const rp = Math.floor((m.price - m.edge0) / m.band);
    const lines = [];
    if (showL) lines.push([cum(m.long, rp, 0, -1), m.colors.long, "longs"]);
    if (showS) lines.push([cum(m.short, rp, m.rows - 1, 1), m.colors.short, "shorts"]);
    const inView = (pts) => pts.filter(([r]) => r >= r0 && r <= r1);
    const maxCum = Math.max(1, ...lines.map(([pts]) => Math.max(0, ...inView(pts).map(([, t]) => t))));
    for (const [pts, col, name] of lines) {
      const vis = inView(pts);
      if (!vis.length) continue;
      ctx.strokeStyle = col; ctx.lineWidth = 1.5; ctx.setLineDash([2, 2]);
      ctx.beginPath();
      vis.forEach(([r, t], k) => {
        const x = (t / maxCum) * w, y = yScale(m.edge0 + (r + 0.5) * m.band);
        k ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
      });
      ctx.stroke(); ctx.setLineDash([]);
      const [rEnd, tEnd] = vis[vis.length - 1];
      if (!(tEnd > 0)) continue;
      const yEnd = clamp(yScale(m.edge0 + (rEnd + 0.5) * m.band), PAD.top + 8, PAD.top + ph - 8);
      const text = `all ${name} to here: ${fmtUsd(tEnd)}`, yText = yEnd + (name === "longs" ? -10 : 10);
      ctx.fillStyle = "rgba(14,17,23,0.8)";               // a dark backing: readable over the bars
      ctx.fillRect(w - ctx.measureText(text).width - 4, yText - 7, ctx.measureText(text).width + 4, 14);
      ctx.fillStyle = col; ctx.textAlign = "right";
      ctx.fillText(text, w, yText);
    }
    // the price
    ctx.strokeStyle = m.colors.price; ctx.lineWidth = 1;
    const yp = yScale(m.price);
    ctx.beginPath(); ctx.moveTo(0, yp); ctx.lineTo(w, yp); ctx.stroke();
    ctx.restore();
    // one x-axis for the bars
    ctx.fillStyle = "#c9ccd6"; ctx.font = "11px sans-serif"; ctx.textBaseline = "top";
    ctx.textAlign = "left"; ctx.fillText("$0", 0, PAD.top + ph + 5);
    ctx.textAlign = "center"; ctx.fillText(`per ${m.bandLabel} band`, w / 2, PAD.top + ph + 5);
    ctx.textAlign = "right"; ctx.fillText(fmtUsd(maxBar), w, PAD.top + ph + 5);
    this.maxBar = maxBar;
  }

  // the band under the heatmap crosshair, outlined on the liquidation map
  highlightBand(ctx, w, yScale) {
    if (!this.hover) return;
    const L = this.layout(), hw = L.heatW - PAD.right, hh = L.heatH - PAD.bottom - PAD.top;
    const cell = this.cellAt(this.hover.x, this.hover.y, hw, hh);
    if (!cell) return;
    const lo = this.m.edge0 + cell.r * this.m.band;
    ctx.strokeStyle = "rgba(255,255,255,0.8)"; ctx.lineWidth = 1;
    ctx.strokeRect(0.5, yScale(lo + this.m.band), w - 1, Math.max(2, yScale(lo) - yScale(lo + this.m.band)));
  }

  // the colour legend under the heatmap: $0 .. top of the scale, and the unit in words
  drawLegend(W) {
    const m = this.m, lo = this.el("lh-legend-lo"), hi = this.el("lh-legend-hi");
    const sides = SIDE_WORDS[this.side];
    lo.textContent = "$0";
    hi.textContent = `${fmtUsd(this.top)} or more`;
    this.el("lh-legend-row").style.width = `${W}px`;
    const rw = Math.max(40, W - lo.offsetWidth - hi.offsetWidth - 12);
    this.paintRamp(setupCanvas(this.ramp, rw, 12), 0, 0, rw, 12);
    this.el("lh-legend-text").textContent =
      `Colour = estimated USD of ${sides} that would be liquidated in each ${m.bandLabel} price band ` +
      `(model estimate). The scale is fixed for this window, so colours compare across zooms.`;
  }

  paintRamp(ctx, x, y, w, h) {
    const ramp = this.m.ramp;
    for (let i = 0; i < 256; i++) {
      ctx.fillStyle = `rgb(${ramp[i].join(",")})`;
      ctx.fillRect(x + (i / 256) * w, y, w / 256 + 1, h);
    }
  }

  // ---- the PNG export: the picture as seen (side, highlight, zoom), titled, with its legend ----
  // Drawn again by the same painters at EXPORT.scale (sharp text and cells), not copied from screen.
  exportCanvas() {
    const m = this.m, E = EXPORT, M = E.margin;
    const L = this.layout(clamp(this.root.clientWidth, E.minW, E.maxW));
    const W = L.heatW + 8 + L.profW, H = E.titleH + L.heatH + E.legendH;
    const canvas = document.createElement("canvas");
    canvas.width = (W + 2 * M) * E.scale;
    canvas.height = (H + 2 * M) * E.scale;
    const ctx = canvas.getContext("2d");
    ctx.scale(E.scale, E.scale);
    ctx.fillStyle = E.bg;
    ctx.fillRect(0, 0, W + 2 * M, H + 2 * M);
    const labels = m.export || {};
    ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
    ctx.fillStyle = "#f2f3f7";
    fitText(ctx, labels.title || "Liquidation heatmap", M, M + 17, W, 18, "bold");
    ctx.fillStyle = "#b6bac6";
    const shown = `showing ${SIDE_WORDS[this.side]}, highlight ${Math.round(this.highlight)} of 100`;
    fitText(ctx, [labels.details, shown].filter(Boolean).join(" · "), M, M + 38, W, 13, "");
    const hover = this.hover;
    this.hover = null;                                  // no crosshair in the export
    try {
      const top = M + E.titleH;
      ctx.save(); ctx.translate(M, top); this.paintHeat(ctx, L.heatW, L.heatH); ctx.restore();
      ctx.save(); ctx.translate(M + L.heatW + 8, top); this.paintProfile(ctx, L.profW, L.profH); ctx.restore();
    } finally {
      this.hover = hover;
    }
    this.paintExportLegend(ctx, M, M + E.titleH + L.heatH + 8, L.heatW - PAD.right, W);
    return canvas;
  }

  // under the export: the colour ramp with its unit, then a key to the liquidation map's marks
  paintExportLegend(ctx, x, y, rampW, W) {
    const m = this.m;
    ctx.font = "12px sans-serif"; ctx.textBaseline = "middle"; ctx.textAlign = "left"; ctx.fillStyle = "#c9ccd6";
    const lo = "$0", hi = `${fmtUsd(this.top)} or more`;
    const loW = ctx.measureText(lo).width, hiW = ctx.measureText(hi).width;
    ctx.fillText(lo, x, y + 6);
    this.paintRamp(ctx, x + loW + 6, y, Math.max(40, rampW - loW - hiW - 12), 12);
    ctx.fillStyle = "#c9ccd6";
    ctx.fillText(hi, x + rampW - hiW, y + 6);
    fitText(ctx, `Colour = USD per ${m.bandLabel} band: estimated ${SIDE_WORDS[this.side]} that would be ` +
      "liquidated in each price band (model estimate). Scale fixed for this window.", x, y + 26, W, 12, "");
    // key: longs and shorts bars, the price line, the cumulative lines
    let at = x;
    const key = (draw, text) => {
      draw(at); at += 22;
      ctx.fillStyle = "#c9ccd6"; ctx.fillText(text, at, y + 46); at += ctx.measureText(text).width + 18;
    };
    const showL = this.side !== "short", showS = this.side !== "long";
    if (showL) key((a) => { ctx.fillStyle = m.colors.long; ctx.fillRect(a, y + 41, 16, 10); }, "Longs (liquidated if price falls)");
    if (showS) key((a) => { ctx.fillStyle = m.colors.short; ctx.fillRect(a, y + 41, 16, 10); }, "Shorts (if price rises)");
    key((a) => { ctx.strokeStyle = m.colors.price; ctx.lineWidth = 1.5; ctx.beginPath();
      ctx.moveTo(a, y + 46); ctx.lineTo(a + 16, y + 46); ctx.stroke(); }, "Price");
    key((a) => { ctx.strokeStyle = "#c9ccd6"; ctx.lineWidth = 1.5; ctx.setLineDash([2, 2]); ctx.beginPath();
      ctx.moveTo(a, y + 46); ctx.lineTo(a + 16, y + 46); ctx.stroke(); ctx.setLineDash([]); },
    "Map: dotted = all liquidated from the price to there");
  }

  // "BTCUSDT_binance_5m_2026-02-05_liquidation-heatmap.png" (plus the side when only one is shown)
  exportName() {
    const stem = (this.m.export && this.m.export.file_stem) || "liquidation-heatmap";
    const side = this.side === "both" ? "" : `_${this.side}s`;
    return `${stem}${side}`.replace(/[^A-Za-z0-9._-]+/g, "-") + ".png";
  }

  downloadPng() {
    this.exportCanvas().toBlob((blob) => {
      if (!blob) return;
      const a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = this.exportName();
      a.hidden = true;
      this.root.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60e3);   // after the browser has read it
    }, "image/png");
  }

  // crosshair read-out: time, price, long and short USD in the band at the cursor
  drawTip(L) {
    const tip = this.tip, m = this.m;
    const hw = L.heatW - PAD.right, hh = L.heatH - PAD.bottom - PAD.top;
    const cell = this.hover && this.cellAt(this.hover.x, this.hover.y, hw, hh);
    if (!cell) { tip.hidden = true; return; }
    const lo = m.edge0 + cell.r * m.band;
    const rows = [
      ["Time", `${fmtTime(m.starts[cell.c])} – ${fmtTime(m.ends[cell.c], false)} UTC`],
      ["Price", `${fmtPrice(cell.p)} (band ${fmtPrice(lo)} – ${fmtPrice(lo + m.band)})`],
      ["Longs", `${fmtUsd(cell.long)} per ${m.bandLabel} band`],
      ["Shorts", `${fmtUsd(cell.short)} per ${m.bandLabel} band`],
    ];
    tip.replaceChildren(...rows.map(([k, val]) => {
      const row = document.createElement("div");
      const key = document.createElement("b"); key.textContent = `${k} `;
      const span = document.createElement("span"); span.textContent = val;
      span.dataset.field = k.toLowerCase();
      row.append(key, span);
      return row;
    }));
    tip.hidden = false;
    const left = this.hover.x + 14 + 230 > hw ? this.hover.x - 244 : this.hover.x + 14;
    tip.style.left = `${Math.max(0, left)}px`;
    tip.style.top = `${clamp(this.hover.y + PAD.top + 14, 0, hh - 70)}px`;
  }
}

// ---- Streamlit entry point -------------------------------------------------------------------
// Called on mount and whenever Python sends new data. The Picture lives on the root element so a
// rerun with the same data keeps the user's zoom, side and highlight.
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector(".lh-root");
  if (!root.picture) {
    let timer = null;
    root.picture = new Picture(root, (side, highlight) => {
      clearTimeout(timer);
      timer = setTimeout(() => setStateValue("view", { side, highlight }), 600);
    });
  }
  if (!data) return;
  const key = fingerprint(data);
  if (root.dataset.message === String(key)) return;
  root.dataset.message = String(key);
  performance.mark("lh-message");                  // timings for bench/bench_ux.py
  decode(data).then((m) => { performance.mark("lh-decoded"); root.picture.setMessage(m); });
}
