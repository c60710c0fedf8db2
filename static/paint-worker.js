// The paint worker: draws the animated canvases (topology and space-time diagram) off the main
// thread, on OffscreenCanvases handed over by the page. Everything about where things go is
// computed in Rust (src/viz); this only turns the encoded shapes into canvas calls. The layout
// of a frame is documented in src/viz/packed.rs and mirrors src/ui/paint.rs.
//
// Messages from the page:
//   { t: 'canvas', id, canvas, bg } an OffscreenCanvas to paint on, opaque, on colour `bg`
//                                   (an opaque canvas is cheaper for the compositor to show)
//   [id, ops, strs, id, ops, strs]  a frame of one or more canvases: `ops` is a Float64Array
//                                   [cssWidth, cssHeight, pixelRatio, shapes...], `strs` the
//                                   string table, or null when it equals the canvas's last one
//   { t: 'replica', glue, module }  load the page's own wasm module here (its JS glue at URL
//                                   `glue`, the compiled `module`): it keeps a replica of the
//                                   session and calls dsplayFrame with frames in the format above
//   a string                        changes for the replica (see src/ui/replica.rs)
//   { t: 'pulse', origin }          drive the page's display clock: at each animation frame,
//                                   post its timestamp (a number, on the page's clock whose
//                                   performance.timeOrigin is `origin`), then paint
// Only the newest frame of each canvas is painted (at the worker's animation frame). If the
// replica cannot start, the page is told ({ t: 'replica-failed' }) and sends frames instead;
// once it has started, the page is told that too ({ t: 'replica-ready' }).
'use strict';

const SEP = '\u001f';
const canvases = new Map(); // id -> { canvas, ctx, font, strs }
const pending = new Map(); // id -> newest frame not yet painted
let scheduled = false;
const hasRaf = typeof self.requestAnimationFrame === 'function';
const raf = hasRaf ? (f) => self.requestAnimationFrame(f) : (f) => setTimeout(f, 0);
let pulsing = false;
let pulseOffset = 0;
// Timestamps of the animation frames that painted a canvas, newest last (for the frame-rate
// benchmark, which reads them from the worker).
self.dsplayPaints = [];

let replica = null; // null: none; an array: messages waiting while it loads; else the function
const frame = (id, ops, strs) => {
  const c = canvases.get(id);
  if (!c) return;
  // The string table is kept per canvas: a frame may reuse the previous one.
  if (typeof strs === 'string') {
    // Texts that change (counters) would fill the canvas's strings: start again, painting
    // everything anew.
    if (c.strs.length > 20000) [c.strs, c.ids, c.prev] = [[], new Map(), null];
    c.map = (strs.length ? strs.split(SEP) : []).map((t) => intern(c, t));
  }
  own(c, ops);
  pending.set(id, ops);
  if (!scheduled && !pulsing) {
    scheduled = true;
    raf(flush);
  }
};
self.dsplayFrame = frame;

self.onmessage = (e) => {
  const m = e.data;
  if (typeof m === 'string') {
    if (Array.isArray(replica)) replica.push(m);
    else if (replica) replica(m);
  } else if (m.t === 'canvas') {
    const bg = m.bg || '';
    const ctx = m.canvas.getContext('2d', { alpha: bg === '' });
    canvases.set(m.id, { canvas: m.canvas, ctx, bg, font: '', strs: [], ids: new Map(), map: [], widths: new Map(), prev: null });
  } else if (m.t === 'replica') {
    replica = [];
    import(m.glue)
      .then((glue) => glue.default({ module_or_path: m.module }))
      .then((wasm) => {
        // Kept for the memory benchmark (scripts/bench-longplay.mjs reads it from here).
        self.dsplayWasm = wasm;
        const f = self.dsplayReplica;
        if (typeof f !== 'function') throw new Error('the module did not start a replica');
        const waiting = replica;
        replica = f;
        for (const w of waiting) f(w);
        self.postMessage({ t: 'replica-ready' });
      })
      .catch((err) => {
        replica = null;
        self.postMessage({ t: 'replica-failed', message: `the replica did not load: ${err}` });
      });
  } else if (m.t === 'pulse') {
    if (!hasRaf) {
      self.postMessage({ t: 'pulse-off', message: 'no animation frames in the worker: the page keeps its own' });
    } else if (!pulsing) {
      pulsing = true;
      pulseOffset = performance.timeOrigin - m.origin;
      raf(pulse);
    }
  } else if (Array.isArray(m)) {
    for (let i = 0; i + 2 < m.length; i += 3) frame(m[i], m[i + 1], m[i + 2]);
  }
};

// One of the worker's animation frames while it drives the page's clock: the page gets the
// timestamp (it advances the run and sends this worker the changes, painted at the next one).
function pulse(ts) {
  self.postMessage(ts + pulseOffset);
  flush(ts);
  raf(pulse);
}

function flush(ts) {
  scheduled = false;
  if (pending.size) {
    const p = self.dsplayPaints;
    p.push(typeof ts === 'number' ? ts : performance.now());
    if (p.length > 4000) p.splice(0, 2000);
  }
  for (const [id, ops] of pending) {
    const c = canvases.get(id);
    if (c) {
      try {
        paint(c, ops);
      } catch (err) {
        // A bad frame is dropped; the next one repaints the canvas from scratch.
        self.postMessage({ t: 'error', id, message: String(err) });
      }
    }
  }
  pending.clear();
}

const DASH = [6, 4];
const SOLID = [];

// Only what changed is painted again: each shape (a record of the frame) that is in this frame
// and the last one, in the same order, is kept; the tiles (of TILE device pixels) that a shape
// added, moved or removed covers are cleared and every shape that touches them is painted
// again, clipped to them. Messages move every frame; the nodes, links, rings and the older part
// of the diagram, and the rasterising and compositing of their pixels, cost nothing meanwhile.
const TILE = 16;

// A record's length in numbers (a Cross is shorter).
const len = (o, i) => (o[i] === 6 ? 6 : 8);

// Where each record of an op keeps its strings (colours, texts): indices into the frame's table.
const STRS = { 1: [5], 2: [5], 3: [4, 5], 4: [6], 5: [5, 6], 6: [4], 7: [3, 4] };

// The canvas's own number for string `t`, the same in every frame, so that a shape drawn in
// two frames has the same numbers whatever the frames' tables.
function intern(c, t) {
  let k = c.ids.get(t);
  if (k === undefined) {
    k = c.strs.push(t) - 1;
    c.ids.set(t, k);
  }
  return k;
}

// Turns frame `o`'s string indices into the canvas's own numbers.
function own(c, o) {
  for (let i = 3; i < o.length; i += len(o, i)) {
    for (const f of STRS[o[i]] || []) if (o[i + f] >= 0) o[i + f] = c.map[o[i + f]];
  }
}

// Each record's offset, hash and bounding box in CSS px (x0 y0 x1 y1, wide enough for its
// line width, joins and antialiasing) in frame `o` of canvas `c`.
function records(c, o) {
  const u = new Int32Array(o.buffer, o.byteOffset, o.length * 2);
  const at = [], hs = [], bb = [];
  for (let i = 3; i < o.length; i += len(o, i)) {
    let h = 0;
    for (let j = 2 * i; j < 2 * (i + len(o, i)); j++) h = Math.imul(h ^ u[j], 0x9e3779b1) + 1;
    at.push(i);
    hs.push(h);
    const k = o[i], x = o[i + 1], y = o[i + 2], a = o[i + 3], b = o[i + 4];
    // Lines and arrows span their ends; rects their corners; texts their measured width; the
    // rest (circles, arcs, crosses) a square around their centre.
    let [x0, y0, x1, y1, p] = [x, y, x, y, 2];
    if (k < 3) [x0, y0, x1, y1, p] = [a, b, x, y, 2 + 3 * o[i + 6] + (k === 2 ? o[i + 7] : 0)];
    else if (k === 5) [x1, y1, p] = [x + a, y + b, 2 + o[i + 7]];
    else if (k === 7) {
      const w = textWidth(c, fontOf(o, i), c.strs[a]) + 4;
      x0 = o[i + 6] === 0 ? x : o[i + 6] === 2 ? x - w : x - w / 2;
      [x1, p] = [x0 + w, o[i + 5] + 2];
    } else p += Math.max(0, a) + o[i + (k === 6 ? 5 : k === 3 ? 6 : 7)];
    bb.push(Math.min(x0, x1) - p, Math.min(y0, y1) - p, Math.max(x0, x1) + p, Math.max(y0, y1) + p);
  }
  return { o, at, hs, bb };
}

const fontOf = (o, i) => `${o[i + 7] !== 0 ? '600 ' : ''}${o[i + 5].toFixed(1)}px system-ui, -apple-system, 'Segoe UI', sans-serif`;

function textWidth(c, font, text) {
  const key = font + SEP + text;
  let w = c.widths.get(key);
  if (w === undefined) {
    if (c.widths.size > 4000) c.widths.clear();
    c.ctx.font = font;
    c.font = font;
    w = c.ctx.measureText(text).width;
    c.widths.set(key, w);
  }
  return w;
}

// Whether record r of frame n equals record q of frame p, number for number.
function same(p, q, n, r) {
  const [a, b] = [p.at[q], n.at[r]];
  for (let j = len(p.o, a) - 1; j >= 0; j--) if (p.o[a + j] !== n.o[b + j]) return false;
  return true;
}

// The tiles to paint again, from the last frame `p` to this one `n`, as a Uint8Array of
// cols x rows; null to paint the whole canvas.
function dirtyTiles(c, p, n, cols, rows, dpr) {
  const tiles = new Uint8Array(cols * rows);
  const mark = (bb, r) => each(bb, r, cols, rows, dpr, (t) => { tiles[t] = 1; });
  const heads = new Map(); // hash -> the old records with it, in order, and a cursor k
  for (let q = 0; q < p.hs.length; q++) {
    const l = heads.get(p.hs[q]);
    if (l) l.push(q);
    else heads.set(p.hs[q], Object.assign([q], { k: 0 }));
  }
  const kept = new Uint8Array(p.hs.length);
  let last = -1;
  for (let r = 0; r < n.hs.length; r++) {
    const l = heads.get(n.hs[r]);
    if (l) while (l.k < l.length && l[l.k] <= last) l.k++;
    if (l && l.k < l.length && same(p, l[l.k], n, r)) {
      last = l[l.k++];
      kept[last] = 1;
    } else mark(n.bb, r);
  }
  for (let q = 0; q < kept.length; q++) if (!kept[q]) mark(p.bb, q);
  let count = 0;
  for (const t of tiles) count += t;
  return count > 0.6 * tiles.length ? null : tiles;
}

// Calls f with each tile index that box r of `bb` covers (stops when f returns true).
function each(bb, r, cols, rows, dpr, f) {
  const s = dpr / TILE;
  const x0 = Math.max(0, Math.floor(bb[4 * r] * s)), x1 = Math.min(cols - 1, Math.floor(bb[4 * r + 2] * s));
  const y0 = Math.max(0, Math.floor(bb[4 * r + 1] * s)), y1 = Math.min(rows - 1, Math.floor(bb[4 * r + 3] * s));
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (f(y * cols + x)) return true;
  return false;
}

function paint(c, o) {
  const { canvas, ctx } = c;
  const [w, h, dpr] = [o[0], o[1], o[2]];
  const bw = Math.max(1, Math.round(w * dpr));
  const bh = Math.max(1, Math.round(h * dpr));
  const resized = canvas.width !== bw || canvas.height !== bh;
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  const [cols, rows] = [Math.ceil(bw / TILE), Math.ceil(bh / TILE)];
  const n = records(c, o);
  const p = c.prev;
  c.prev = null; // until this frame is painted
  const tiles = p && !resized && p.o[2] === dpr ? dirtyTiles(c, p, n, cols, rows, dpr) : null;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.save();
  if (tiles) {
    ctx.beginPath();
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < cols; x++) {
        if (!tiles[y * cols + x]) continue;
        let e = x;
        while (e + 1 < cols && tiles[y * cols + e + 1]) e++;
        ctx.rect(x * TILE, y * TILE, (e + 1 - x) * TILE, TILE);
        x = e;
      }
    }
    ctx.clip();
  }
  if (c.bg) {
    ctx.fillStyle = c.bg;
    ctx.fillRect(0, 0, bw, bh);
  } else {
    ctx.clearRect(0, 0, bw, bh);
  }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  const wanted = tiles ? (r) => each(n.bb, r, cols, rows, dpr, (t) => tiles[t] === 1) : () => true;
  try {
    draw(c, o, wanted);
  } finally {
    ctx.restore();
  }
  c.prev = n;
}

// Draws the records of frame `o` for which `wanted(record number)` holds.
function draw(c, o, wanted) {
  const { ctx } = c;
  ctx.lineCap = 'butt';
  ctx.lineJoin = 'miter';
  ctx.textBaseline = 'middle';
  ctx.setLineDash(SOLID);
  c.font = ''; // resizing resets the context's state
  const s = c.strs;
  // Consecutive shapes of one style share a path (as in src/ui/paint.rs).
  let batch = ''; // '' none, 's|color|width|dash' stroke, 'f|color' fill
  let bColor = '';
  let bWidth = 1;
  let bFill = false;
  let dashOn = false;
  const setDash = (on) => {
    if (on !== dashOn) {
      ctx.setLineDash(on ? DASH : SOLID);
      dashOn = on;
    }
  };
  const finish = () => {
    if (batch === '') return;
    if (bFill) {
      ctx.fillStyle = bColor;
      ctx.fill();
    } else {
      ctx.strokeStyle = bColor;
      ctx.lineWidth = bWidth;
      ctx.stroke();
    }
    batch = '';
  };
  const stroke = (color, width, dash) => {
    const key = `s|${color}|${width}|${dash ? 1 : 0}`;
    if (key === batch) return;
    finish();
    setDash(dash);
    ctx.beginPath();
    batch = key;
    bColor = color;
    bWidth = width;
    bFill = false;
  };
  const fill = (color) => {
    const key = `f|${color}`;
    if (key === batch) return;
    finish();
    ctx.beginPath();
    batch = key;
    bColor = color;
    bFill = true;
  };
  let i = 3;
  for (let r = 0; i < o.length; r++) {
    if (!wanted(r)) {
      i += len(o, i);
      continue;
    }
    switch (o[i]) {
      case 1: { // Line ax ay bx by color width dash
        stroke(s[o[i + 5]], o[i + 6], o[i + 7] !== 0);
        ctx.moveTo(o[i + 1], o[i + 2]);
        ctx.lineTo(o[i + 3], o[i + 4]);
        i += 8;
        break;
      }
      case 2: { // Arrow ax ay bx by color width head
        const [ax, ay, bx, by, head] = [o[i + 1], o[i + 2], o[i + 3], o[i + 4], o[i + 7]];
        stroke(s[o[i + 5]], o[i + 6], false);
        ctx.moveTo(ax, ay);
        ctx.lineTo(bx, by);
        const ang = Math.atan2(by - ay, bx - ax);
        ctx.moveTo(bx - head * Math.cos(ang - 0.45), by - head * Math.sin(ang - 0.45));
        ctx.lineTo(bx, by);
        ctx.lineTo(bx - head * Math.cos(ang + 0.45), by - head * Math.sin(ang + 0.45));
        i += 8;
        break;
      }
      case 3: { // Circle cx cy r fill stroke width dash
        const [cx, cy, r, f, st, w, dash] = [o[i + 1], o[i + 2], Math.max(0, o[i + 3]), o[i + 4], o[i + 5], o[i + 6], o[i + 7] !== 0];
        if (f >= 0 && st < 0) {
          fill(s[f]);
          ctx.moveTo(cx + r, cy);
          ctx.arc(cx, cy, r, 0, 2 * Math.PI);
        } else {
          finish();
          setDash(dash);
          ctx.beginPath();
          ctx.arc(cx, cy, r, 0, 2 * Math.PI);
          if (f >= 0) {
            ctx.fillStyle = s[f];
            ctx.fill();
          }
          if (st >= 0) {
            ctx.strokeStyle = s[st];
            ctx.lineWidth = w;
            ctx.stroke();
          }
        }
        i += 8;
        break;
      }
      case 4: { // Arc cx cy r start sweep color width (0 = twelve o'clock, clockwise)
        const [cx, cy, r, start, sweep] = [o[i + 1], o[i + 2], Math.max(0, o[i + 3]), o[i + 4], o[i + 5]];
        stroke(s[o[i + 6]], o[i + 7], false);
        const s0 = start - Math.PI / 2;
        ctx.moveTo(cx + r * Math.cos(s0), cy + r * Math.sin(s0));
        ctx.arc(cx, cy, r, s0, s0 + sweep);
        i += 8;
        break;
      }
      case 5: { // Rect x y w h fill stroke width
        finish();
        setDash(false);
        const [x, y, w, h, f, st] = [o[i + 1], o[i + 2], o[i + 3], o[i + 4], o[i + 5], o[i + 6]];
        if (f >= 0) {
          ctx.fillStyle = s[f];
          ctx.fillRect(x, y, w, h);
        }
        if (st >= 0) {
          ctx.strokeStyle = s[st];
          ctx.lineWidth = o[i + 7];
          ctx.strokeRect(x, y, w, h);
        }
        i += 8;
        break;
      }
      case 6: { // Cross cx cy r color width
        const [cx, cy, r] = [o[i + 1], o[i + 2], o[i + 3]];
        stroke(s[o[i + 4]], o[i + 5], false);
        ctx.moveTo(cx - r, cy - r);
        ctx.lineTo(cx + r, cy + r);
        ctx.moveTo(cx + r, cy - r);
        ctx.lineTo(cx - r, cy + r);
        i += 6;
        break;
      }
      case 7: { // Text x y text color size align bold
        finish();
        const font = fontOf(o, i);
        if (font !== c.font) {
          ctx.font = font;
          c.font = font;
        }
        ctx.textAlign = o[i + 6] === 0 ? 'left' : o[i + 6] === 2 ? 'right' : 'center';
        ctx.fillStyle = s[o[i + 4]];
        ctx.fillText(s[o[i + 3]], o[i + 1], o[i + 2]);
        i += 8;
        break;
      }
      default:
        throw new Error(`unknown shape ${o[i]} at ${i}`);
    }
  }
  finish();
  setDash(false);
}
