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
  // The string table is kept per canvas: a frame may reuse the previous one.
  if (c && typeof strs === 'string') c.strs = strs.length ? strs.split(SEP) : [];
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
    canvases.set(m.id, { canvas: m.canvas, ctx, bg, font: '', strs: [] });
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

function paint(c, o) {
  const { canvas, ctx } = c;
  const [w, h, dpr] = [o[0], o[1], o[2]];
  const bw = Math.max(1, Math.round(w * dpr));
  const bh = Math.max(1, Math.round(h * dpr));
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  if (c.bg) {
    ctx.fillStyle = c.bg;
    ctx.fillRect(0, 0, w, h);
  } else {
    ctx.clearRect(0, 0, w, h);
  }
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
  while (i < o.length) {
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
        const font = `${o[i + 7] !== 0 ? '600 ' : ''}${o[i + 5].toFixed(1)}px system-ui, -apple-system, 'Segoe UI', sans-serif`;
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
