//! The thin painter: draws [`Shape`]s on a 2D canvas, sharp at any device pixel ratio.
//!
//! Everything about *where* things go is decided in `viz`; this file only turns shapes into
//! canvas calls.

use crate::viz::scene::{Align, Shape};
use std::f64::consts::{FRAC_PI_2, TAU};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

/// Gets the 2D context and sizes the backing store to `w`×`h` CSS pixels at `dpr`.
pub fn prepare(
    canvas: &HtmlCanvasElement,
    w: f64,
    h: f64,
    dpr: f64,
) -> Option<CanvasRenderingContext2d> {
    let (bw, bh) = (
        (w * dpr).round().max(1.0) as u32,
        (h * dpr).round().max(1.0) as u32,
    );
    if canvas.width() != bw {
        canvas.set_width(bw);
    }
    if canvas.height() != bh {
        canvas.set_height(bh);
    }
    let ctx = canvas
        .get_context("2d")
        .ok()??
        .dyn_into::<CanvasRenderingContext2d>()
        .ok()?;
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    ctx.clear_rect(0.0, 0.0, w, h);
    Some(ctx)
}

/// The style of the path being built: consecutive shapes with the same style share one path
/// and one `stroke()` / `fill()` call (thousands of arrows in the diagram stay cheap).
#[derive(Clone, Copy, PartialEq)]
enum Batch {
    None,
    Stroke {
        color: &'static str,
        width: f64,
        dash: bool,
    },
    Fill {
        color: &'static str,
    },
}

struct Painter<'a> {
    ctx: &'a CanvasRenderingContext2d,
    batch: Batch,
    dash_on: bool,
    solid: js_sys::Array,
    dashed: js_sys::Array,
    font: String,
}

impl Painter<'_> {
    /// Makes `b` the current batch, finishing the previous one if it differs.
    fn batch(&mut self, b: Batch) {
        if self.batch == b {
            return;
        }
        self.flush();
        match b {
            Batch::Stroke { dash, .. } => self.set_dash(dash),
            Batch::Fill { .. } | Batch::None => {}
        }
        if b != Batch::None {
            self.ctx.begin_path();
        }
        self.batch = b;
    }

    fn flush(&mut self) {
        match self.batch {
            Batch::None => {}
            Batch::Stroke { color, width, .. } => {
                self.ctx.set_stroke_style_str(color);
                self.ctx.set_line_width(width);
                self.ctx.stroke();
            }
            Batch::Fill { color } => {
                self.ctx.set_fill_style_str(color);
                self.ctx.fill();
            }
        }
        self.batch = Batch::None;
    }

    fn set_dash(&mut self, on: bool) {
        if on != self.dash_on {
            let _ = self
                .ctx
                .set_line_dash(if on { &self.dashed } else { &self.solid });
            self.dash_on = on;
        }
    }

    fn shape(&mut self, s: &Shape) {
        let ctx = self.ctx;
        match s {
            Shape::Line {
                a,
                b,
                color,
                width,
                dash,
            } => {
                self.batch(Batch::Stroke {
                    color,
                    width: *width,
                    dash: *dash,
                });
                ctx.move_to(a.x, a.y);
                ctx.line_to(b.x, b.y);
            }
            Shape::Arrow {
                a,
                b,
                color,
                width,
                head,
            } => {
                self.batch(Batch::Stroke {
                    color,
                    width: *width,
                    dash: false,
                });
                ctx.move_to(a.x, a.y);
                ctx.line_to(b.x, b.y);
                let ang = (b.y - a.y).atan2(b.x - a.x);
                // The head is two short strokes in the same path: no separate fill pass.
                ctx.move_to(
                    b.x - head * (ang - 0.45).cos(),
                    b.y - head * (ang - 0.45).sin(),
                );
                ctx.line_to(b.x, b.y);
                ctx.line_to(
                    b.x - head * (ang + 0.45).cos(),
                    b.y - head * (ang + 0.45).sin(),
                );
            }
            Shape::Cross { c, r, color, width } => {
                self.batch(Batch::Stroke {
                    color,
                    width: *width,
                    dash: false,
                });
                ctx.move_to(c.x - r, c.y - r);
                ctx.line_to(c.x + r, c.y + r);
                ctx.move_to(c.x + r, c.y - r);
                ctx.line_to(c.x - r, c.y + r);
            }
            Shape::Circle {
                c,
                r,
                fill: Some(f),
                stroke: None,
                ..
            } => {
                self.batch(Batch::Fill { color: f });
                ctx.move_to(c.x + r.max(0.0), c.y);
                let _ = ctx.arc(c.x, c.y, r.max(0.0), 0.0, TAU);
            }
            Shape::Circle {
                c,
                r,
                fill,
                stroke,
                width,
                dash,
            } => {
                self.flush();
                self.set_dash(*dash);
                ctx.begin_path();
                let _ = ctx.arc(c.x, c.y, r.max(0.0), 0.0, TAU);
                if let Some(f) = fill {
                    ctx.set_fill_style_str(f);
                    ctx.fill();
                }
                if let Some(sc) = stroke {
                    ctx.set_stroke_style_str(sc);
                    ctx.set_line_width(*width);
                    ctx.stroke();
                }
            }
            Shape::Arc {
                c,
                r,
                start,
                sweep,
                color,
                width,
            } => {
                self.batch(Batch::Stroke {
                    color,
                    width: *width,
                    dash: false,
                });
                let s0 = start - FRAC_PI_2;
                ctx.move_to(c.x + r * s0.cos(), c.y + r * s0.sin());
                let _ = ctx.arc(c.x, c.y, r.max(0.0), s0, s0 + sweep);
            }
            Shape::Rect {
                at,
                w,
                h,
                fill,
                stroke,
                width,
            } => {
                self.flush();
                self.set_dash(false);
                if let Some(f) = fill {
                    ctx.set_fill_style_str(f);
                    ctx.fill_rect(at.x, at.y, *w, *h);
                }
                if let Some(sc) = stroke {
                    ctx.set_stroke_style_str(sc);
                    ctx.set_line_width(*width);
                    ctx.stroke_rect(at.x, at.y, *w, *h);
                }
            }
            Shape::Text {
                at,
                text,
                color,
                size,
                align,
                bold,
            } => {
                self.flush();
                let f = format!(
                    "{}{:.1}px system-ui, -apple-system, 'Segoe UI', sans-serif",
                    if *bold { "600 " } else { "" },
                    size
                );
                if f != self.font {
                    ctx.set_font(&f);
                    self.font = f;
                }
                ctx.set_text_align(match align {
                    Align::Left => "left",
                    Align::Center => "center",
                    Align::Right => "right",
                });
                ctx.set_fill_style_str(color);
                let _ = ctx.fill_text(text, at.x, at.y);
            }
        }
    }
}

/// Draws the shapes in order (consecutive shapes of one style in one path).
pub fn draw(ctx: &CanvasRenderingContext2d, shapes: &[Shape]) {
    ctx.set_line_cap("butt");
    ctx.set_line_join("miter");
    ctx.set_text_baseline("middle");
    let mut p = Painter {
        ctx,
        batch: Batch::None,
        dash_on: false,
        solid: js_sys::Array::new(),
        dashed: js_sys::Array::of2(&JsValue::from_f64(6.0), &JsValue::from_f64(4.0)),
        font: String::new(),
    };
    let _ = ctx.set_line_dash(&p.solid);
    for s in shapes {
        p.shape(s);
    }
    p.flush();
    let _ = ctx.set_line_dash(&p.solid);
}

/// The paint worker's source, run from a blob URL (so there is no extra file to serve).
const WORKER_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/paint-worker.min.js"));

/// The animated canvases (topology, space-time diagram) change every frame while a run plays.
/// Rasterising them and handing them to the compositor is most of a frame's cost, so they are
/// painted by a worker on `OffscreenCanvas`es: the main thread only computes the shapes and
/// posts them, encoded by [`crate::viz::wire`], in one message per frame. Where the browser has
/// no `OffscreenCanvas` (or the worker cannot start), they are painted here as before.
#[derive(Default)]
pub struct Offthread {
    state: WorkerState,
    /// Canvases handed to the worker, by id.
    canvases: Vec<HtmlCanvasElement>,
    enc: crate::viz::wire::Encoded,
    /// The last frame sent for each id (a frame equal to it is not sent again).
    last: Vec<Option<(crate::viz::wire::Encoded, [f64; 3])>>,
    /// This frame's message, `[id, ops, strings or null, id, ...]`, and the buffers it hands
    /// over.
    batch: Option<(js_sys::Array, js_sys::Array)>,
}

#[derive(Default)]
enum WorkerState {
    #[default]
    Untried,
    Running(web_sys::Worker),
    /// Painting on the main thread.
    Unavailable,
}

impl Offthread {
    /// Paints `shapes` on `canvas` (`w`×`h` CSS pixels at `dpr`); with the worker, at the next
    /// [`Offthread::flush`].
    pub fn paint(
        &mut self,
        canvas: &HtmlCanvasElement,
        w: f64,
        h: f64,
        dpr: f64,
        shapes: &[crate::viz::scene::Shape],
    ) {
        if matches!(self.state, WorkerState::Untried) {
            self.state = start_worker();
        }
        let Some(id) = self.worker_id(canvas) else {
            if let Some(ctx) = prepare(canvas, w, h, dpr) {
                draw(&ctx, shapes);
            }
            return;
        };
        crate::viz::wire::encode(shapes, &mut self.enc);
        let size = [w, h, dpr];
        let same_strings = match &self.last[id] {
            Some((prev, psize)) if *psize == size && *prev == self.enc => return,
            Some((prev, _)) => prev.strings == self.enc.strings,
            None => false,
        };
        // The size leads the numbers: [w, h, dpr, shapes...].
        let ops = js_sys::Float64Array::new_with_length((self.enc.ops.len() + 3) as u32);
        ops.subarray(0, 3).copy_from(&size);
        ops.subarray(3, ops.length()).copy_from(&self.enc.ops);
        let (batch, transfer) = self
            .batch
            .get_or_insert_with(|| (js_sys::Array::new(), js_sys::Array::new()));
        transfer.push(&ops.buffer());
        batch.push(&(id as f64).into());
        batch.push(&ops);
        batch.push(&if same_strings {
            JsValue::NULL
        } else {
            JsValue::from_str(&self.enc.strings)
        });
        match &mut self.last[id] {
            Some((prev, psize)) => {
                std::mem::swap(prev, &mut self.enc);
                *psize = size;
            }
            slot => *slot = Some((std::mem::take(&mut self.enc), size)),
        }
    }

    /// Sends this frame's shapes to the worker (one message for both canvases).
    pub fn flush(&mut self) {
        let (Some((batch, transfer)), WorkerState::Running(worker)) =
            (self.batch.take(), &self.state)
        else {
            return;
        };
        let _ = worker.post_message_with_transfer(&batch, &transfer);
    }

    /// The worker's id for `canvas`, handing it over on first use; `None` to paint it here.
    fn worker_id(&mut self, canvas: &HtmlCanvasElement) -> Option<usize> {
        let WorkerState::Running(worker) = &self.state else {
            return None;
        };
        if let Some(id) = self.canvases.iter().position(|c| c == canvas) {
            return Some(id);
        }
        // A canvas that already has a context here (or cannot be handed over) stays here.
        let offscreen = transfer(canvas)?;
        let msg = js_sys::Object::new();
        set(&msg, "t", &"canvas".into());
        set(&msg, "id", &(self.canvases.len() as f64).into());
        set(&msg, "canvas", &offscreen);
        worker
            .post_message_with_transfer(&msg, &js_sys::Array::of1(&offscreen))
            .ok()?;
        self.canvases.push(canvas.clone());
        self.last.push(None);
        Some(self.canvases.len() - 1)
    }
}

impl Offthread {
    /// Where the animated canvases are painted and at what backing size (for tests):
    /// `{"offThread": bool, "backing": {"topology": [width, height], ...}}` by canvas class.
    pub fn report(&self) -> serde_json::Value {
        let backing: serde_json::Map<String, serde_json::Value> = self
            .canvases
            .iter()
            .zip(&self.last)
            .filter_map(|(c, l)| {
                let (_, [w, h, dpr]) = l.as_ref()?;
                let size = [(w * dpr).round().max(1.0), (h * dpr).round().max(1.0)];
                Some((c.class_name(), serde_json::json!(size)))
            })
            .collect();
        serde_json::json!({
            "offThread": matches!(self.state, WorkerState::Running(_)) && !self.canvases.is_empty(),
            "backing": backing,
        })
    }
}

fn set(o: &js_sys::Object, k: &str, v: &JsValue) {
    let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), v);
}

/// Starts the paint worker if this browser can paint canvases from one.
fn start_worker() -> WorkerState {
    let global = js_sys::global();
    let has = |name: &str| js_sys::Reflect::has(&global, &JsValue::from_str(name)).unwrap_or(false);
    if !has("OffscreenCanvas") || !has("Worker") {
        return WorkerState::Unavailable;
    }
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("text/javascript");
    let parts = js_sys::Array::of1(&JsValue::from_str(WORKER_JS));
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return WorkerState::Unavailable;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return WorkerState::Unavailable;
    };
    match web_sys::Worker::new(&url) {
        Ok(w) => {
            // A frame the worker could not paint is reported, not thrown.
            let on_msg = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                |e: web_sys::MessageEvent| {
                    let msg = js_sys::Reflect::get(&e.data(), &JsValue::from_str("message"))
                        .ok()
                        .and_then(|m| m.as_string())
                        .unwrap_or_default();
                    web_sys::console::warn_1(&format!("paint worker: {msg}").into());
                },
            );
            w.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
            // The worker lives as long as the page.
            on_msg.forget();
            WorkerState::Running(w)
        }
        Err(_) => WorkerState::Unavailable,
    }
}

/// Hands `canvas` over to an `OffscreenCanvas`, unless it already has a context here.
fn transfer(canvas: &HtmlCanvasElement) -> Option<web_sys::OffscreenCanvas> {
    let f = js_sys::Reflect::get(canvas, &JsValue::from_str("transferControlToOffscreen")).ok()?;
    if !f.is_function() {
        return None;
    }
    canvas.transfer_control_to_offscreen().ok()
}
