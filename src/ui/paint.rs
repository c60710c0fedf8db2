//! The thin painter: draws [`Shape`]s on a 2D canvas, sharp at any device pixel ratio.
//!
//! Everything about *where* things go is decided in `viz`; this file only turns shapes into
//! canvas calls.

use crate::play::frame::FrameView;
use crate::viz::scene::{Align, Pt, Shape, ShapeSink};
use crate::viz::trig;
use std::cell::RefCell;
use std::f64::consts::{FRAC_PI_2, TAU};
use std::rc::Rc;
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
    // Opaque on the colour behind it, as the worker paints it (found once, kept on the element).
    let bg = match canvas.get_attribute("data-bg") {
        Some(bg) => bg,
        None => {
            let bg = opaque_background(canvas).unwrap_or_default();
            let _ = canvas.set_attribute("data-bg", &bg);
            bg
        }
    };
    let opts = js_sys::Object::new();
    set(&opts, "alpha", &JsValue::from_bool(bg.is_empty()));
    let ctx = canvas
        .get_context_with_context_options("2d", &opts)
        .ok()??
        .dyn_into::<CanvasRenderingContext2d>()
        .ok()?;
    let _ = ctx.set_transform(dpr, 0.0, 0.0, dpr, 0.0, 0.0);
    if bg.is_empty() {
        ctx.clear_rect(0.0, 0.0, w, h);
    } else {
        ctx.set_fill_style_str(&bg);
        ctx.fill_rect(0.0, 0.0, w, h);
    }
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

    /// Starts (or goes on with) a solid or dashed stroked path.
    fn stroke_batch(&mut self, color: &'static str, width: f64, dash: bool) {
        self.batch(Batch::Stroke { color, width, dash });
    }

    /// A filled circle without an outline, in the batch of its colour.
    fn dot(&mut self, c: Pt, r: f64, color: &'static str) {
        self.batch(Batch::Fill { color });
        self.ctx.move_to(c.x + r.max(0.0), c.y);
        let _ = self.ctx.arc(c.x, c.y, r.max(0.0), 0.0, TAU);
    }

    /// A circle with an outline (or with neither fill nor outline), drawn on its own.
    fn lone_circle(
        &mut self,
        c: Pt,
        r: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
        dash: bool,
    ) {
        let ctx = self.ctx;
        self.flush();
        self.set_dash(dash);
        ctx.begin_path();
        let _ = ctx.arc(c.x, c.y, r.max(0.0), 0.0, TAU);
        if let Some(f) = fill {
            ctx.set_fill_style_str(f);
            ctx.fill();
        }
        if let Some(sc) = stroke {
            ctx.set_stroke_style_str(sc);
            ctx.set_line_width(width);
            ctx.stroke();
        }
    }
}

impl ShapeSink for Painter<'_> {
    fn line(&mut self, a: Pt, b: Pt, color: &'static str, width: f64, dash: bool) {
        self.stroke_batch(color, width, dash);
        self.ctx.move_to(a.x, a.y);
        self.ctx.line_to(b.x, b.y);
    }

    fn arrow(&mut self, a: Pt, b: Pt, color: &'static str, width: f64, head: f64) {
        let ctx = self.ctx;
        self.stroke_batch(color, width, false);
        ctx.move_to(a.x, a.y);
        ctx.line_to(b.x, b.y);
        // The head is two short strokes in the same path: no separate fill pass. Each is the
        // shaft's direction turned by ±0.45 rad, done as a rotation (no trigonometry).
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let len = (dx * dx + dy * dy).sqrt();
        let (ux, uy) = if len > 0.0 {
            (dx / len, dy / len)
        } else {
            (1.0, 0.0)
        };
        const COS: f64 = 0.900_447_102_352_677_2; // cos 0.45
        const SIN: f64 = 0.434_965_534_111_230_2; // sin 0.45
        ctx.move_to(
            b.x - head * (ux * COS + uy * SIN),
            b.y - head * (uy * COS - ux * SIN),
        );
        ctx.line_to(b.x, b.y);
        ctx.line_to(
            b.x - head * (ux * COS - uy * SIN),
            b.y - head * (uy * COS + ux * SIN),
        );
    }

    /// A filled dot without an outline joins the batch of its colour; other circles are drawn
    /// on their own.
    fn circle(
        &mut self,
        c: Pt,
        r: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
        dash: bool,
    ) {
        match (fill, stroke) {
            (Some(f), None) => self.dot(c, r, f),
            _ => self.lone_circle(c, r, fill, stroke, width, dash),
        }
    }

    fn arc(&mut self, c: Pt, r: f64, start: f64, sweep: f64, color: &'static str, width: f64) {
        self.stroke_batch(color, width, false);
        let s0 = start - FRAC_PI_2;
        self.ctx
            .move_to(c.x + r * trig::cos(s0), c.y + r * trig::sin(s0));
        let _ = self.ctx.arc(c.x, c.y, r.max(0.0), s0, s0 + sweep);
    }

    fn rect(
        &mut self,
        at: Pt,
        w: f64,
        h: f64,
        fill: Option<&'static str>,
        stroke: Option<&'static str>,
        width: f64,
    ) {
        let ctx = self.ctx;
        self.flush();
        self.set_dash(false);
        if let Some(f) = fill {
            ctx.set_fill_style_str(f);
            ctx.fill_rect(at.x, at.y, w, h);
        }
        if let Some(sc) = stroke {
            ctx.set_stroke_style_str(sc);
            ctx.set_line_width(width);
            ctx.stroke_rect(at.x, at.y, w, h);
        }
    }

    fn cross(&mut self, c: Pt, r: f64, color: &'static str, width: f64) {
        let ctx = self.ctx;
        self.stroke_batch(color, width, false);
        ctx.move_to(c.x - r, c.y - r);
        ctx.line_to(c.x + r, c.y + r);
        ctx.move_to(c.x + r, c.y - r);
        ctx.line_to(c.x - r, c.y + r);
    }

    fn text(
        &mut self,
        at: Pt,
        text: &str,
        color: &'static str,
        size: f64,
        align: Align,
        bold: bool,
    ) {
        let ctx = self.ctx;
        self.flush();
        let f = format!(
            "{}{}px system-ui, -apple-system, 'Segoe UI', sans-serif",
            if bold { "600 " } else { "" },
            crate::sim::time::fixed(size, 1)
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

/// Draws `chart` on `canvas` through the shared chart layout, `height_px` tall; false while
/// the canvas has no width yet (not laid out). In presenter
/// mode (`scale` > 1) everything is larger: the chart is laid out `scale` times narrower and
/// drawn `scale` times bigger.
pub fn draw_chart(
    canvas: &HtmlCanvasElement,
    chart: Option<&crate::viz::chart::Chart>,
    height_px: f64,
    scale: f64,
) -> bool {
    let w = canvas.client_width() as f64 / scale;
    if w < 10.0 {
        return false;
    }
    let style = web_sys::HtmlElement::style(canvas);
    let _ = style.set_property(
        "height",
        &format!("{}px", crate::sim::time::shortest(height_px * scale)),
    );
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio().max(1.0));
    let Some(ctx) = prepare(canvas, w * scale, height_px * scale, dpr) else {
        return false;
    };
    let _ = ctx.scale(scale, scale);
    if let Some(chart) = chart {
        let plot = crate::viz::chart::plot(chart, w, height_px, Default::default());
        draw(&ctx, &plot.shapes);
    }
    true
}

/// A canvas showing the chart `chart` gives, `height_px` tall, drawn again whenever what
/// `chart` reads changes, the page is resized or presenter mode is switched; retried a few
/// times until the canvas is laid out (when made, it is not in the page yet).
pub fn chart_canvas(
    shell: super::Shell,
    label: &str,
    height_px: f64,
    chart: impl Fn() -> Option<crate::viz::chart::Chart> + 'static,
) -> super::dom::El {
    // Boxed at once: one compiled copy of what follows, whatever the chart.
    follow_chart(shell, label, height_px, Box::new(chart))
}

fn follow_chart(
    shell: super::Shell,
    label: &str,
    height_px: f64,
    chart: Box<dyn Fn() -> Option<crate::viz::chart::Chart>>,
) -> super::dom::El {
    use super::dom::{self, Var};
    let canvas_el = dom::el("canvas")
        .class("chart")
        .attr("role", "img")
        .attr("aria-label", label);
    let canvas: HtmlCanvasElement = canvas_el.0.clone().unchecked_into();
    let redraw = Var::new(0u32);
    {
        let redraw = redraw.clone();
        dom::listen_window("resize", move |_| redraw.update(|r| *r = r.wrapping_add(1)));
    }
    dom::effect(move || {
        let tries = redraw.get();
        shell.presenter.get();
        shell.presenter_panels.get();
        let scale = super::clock::style(&shell).scale;
        if !draw_chart(&canvas, chart().as_ref(), height_px, scale) && tries < 20 {
            let redraw = redraw.clone();
            dom::after_ms(50, move || redraw.update(|r| *r += 1));
        }
    });
    canvas_el
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
        s.draw_into(&mut p);
    }
    p.flush();
    let _ = ctx.set_line_dash(&p.solid);
}

/// The paint worker's source, run from a blob URL (so there is no extra file to serve).
const WORKER_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/paint-worker.min.js"));

/// The animated canvases (topology, space-time diagram) change every frame while a run plays.
/// Building their shapes and rasterising them is most of a frame's cost, so both happen in a
/// worker that paints on `OffscreenCanvas`es:
///
/// - **Replica** (the usual case): the worker loads this same wasm module and keeps its own
///   copy of the session. The page sends it the session's changes
///   ([`crate::play::session::Change`]s, a few bytes a frame) and what the page decides about the
///   view ([`FrameView`]); the worker builds the shapes and paints them. The engine is deterministic, so the copy stays equal to the page's
///   session; the worker checks it every frame and, should it ever differ, says so and the page
///   falls back to the next mode.
/// - **Shapes**: the page builds the shapes and posts them, encoded by [`crate::viz::packed`].
/// - **Here**: without `OffscreenCanvas` (or a worker), the page paints the canvases itself.
#[derive(Default)]
pub struct Offthread {
    state: WorkerState,
    /// Canvases handed to the worker, by id.
    canvases: Vec<HtmlCanvasElement>,
    frames: Frames,
    /// This frame's message, `[id, ops, strings or null, id, ...]`, and the buffers it hands
    /// over.
    batch: Option<(js_sys::Array, js_sys::Array)>,
    replica: ReplicaState,
    /// What the worker said about its replica, set by its message handler.
    news: Rc<RefCell<News>>,
    /// The worker's animation frames drive the display clock (set by [`super::clock`]).
    pub clock_in_worker: bool,
}

/// What the worker reported about its replica.
#[derive(Default)]
struct News {
    /// It loaded and caught up (it paints from now on).
    ready: bool,
    /// It gave up, and why.
    failure: Option<String>,
    /// Called with the timestamp of each of the worker's animation frames, once asked for
    /// ([`Offthread::drive`]).
    pulse: Option<Rc<dyn Fn(f64)>>,
}

#[derive(Default)]
enum WorkerState {
    #[default]
    Untried,
    Running(web_sys::Worker),
    /// Painting on the main thread.
    Unavailable,
}

#[derive(Default)]
enum ReplicaState {
    #[default]
    Untried,
    /// The worker paints from its replica; the view it was last sent.
    On(Option<FrameView>),
    /// Not possible here, or given up (the reason).
    Off(String),
}

/// How this frame is painted.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mode {
    /// By the worker from its replica; `fresh`: it was just started and needs the whole
    /// session ([`crate::play::session::Session::start_journal`]).
    Replica { fresh: bool },
    /// From shapes built here ([`Offthread::paint`]).
    Shapes,
}

/// Encodes frames for the worker and remembers the last one of each canvas, so that an
/// unchanged frame is not sent again.
#[derive(Default)]
pub struct Frames {
    enc: crate::viz::packed::Encoded,
    last: Vec<Option<(crate::viz::packed::Encoded, [f64; 3])>>,
}

impl Frames {
    /// The message parts for `shapes` on canvas `id` at `w`×`h` CSS px and `dpr`: the numbers
    /// `[w, h, dpr, shapes...]` and the string table (`None` when it equals the last one);
    /// nothing when the frame equals the last one.
    pub fn next(
        &mut self,
        id: usize,
        size: [f64; 3],
        shapes: &[crate::viz::scene::Shape],
    ) -> Option<(js_sys::Float64Array, Option<String>)> {
        if self.last.len() <= id {
            self.last.resize_with(id + 1, || None);
        }
        crate::viz::packed::encode(shapes, &mut self.enc);
        let same_strings = match &self.last[id] {
            Some((prev, psize)) if *psize == size && *prev == self.enc => return None,
            Some((prev, _)) => prev.strings == self.enc.strings,
            None => false,
        };
        let ops = js_sys::Float64Array::new_with_length((self.enc.ops.len() + 3) as u32);
        ops.subarray(0, 3).copy_from(&size);
        ops.subarray(3, ops.length()).copy_from(&self.enc.ops);
        let strings = (!same_strings).then(|| self.enc.strings.clone());
        match &mut self.last[id] {
            Some((prev, psize)) => {
                std::mem::swap(prev, &mut self.enc);
                *psize = size;
            }
            slot => *slot = Some((std::mem::take(&mut self.enc), size)),
        }
        Some((ops, strings))
    }

    /// The size `[w, h, dpr]` of the last frame of canvas `id`.
    fn size(&self, id: usize) -> Option<[f64; 3]> {
        self.last.get(id)?.as_ref().map(|(_, s)| *s)
    }
}

impl Offthread {
    /// How to paint this frame, starting the worker and its replica on first use.
    pub fn mode(&mut self, topo: &HtmlCanvasElement, diagram: &HtmlCanvasElement) -> Mode {
        if matches!(self.state, WorkerState::Untried) {
            self.state = start_worker(self.news.clone());
        }
        if let Some(why) = self.news.borrow_mut().failure.take() {
            web_sys::console::warn_1(&format!("paint worker: {why}").into());
            if matches!(self.replica, ReplicaState::On(_)) {
                self.replica = ReplicaState::Off(why);
            }
        }
        match &self.replica {
            ReplicaState::On(..) => Mode::Replica { fresh: false },
            ReplicaState::Off(_) => Mode::Shapes,
            ReplicaState::Untried => match self.start_replica(topo, diagram) {
                Ok(()) => {
                    self.replica = ReplicaState::On(None);
                    Mode::Replica { fresh: true }
                }
                Err(why) => {
                    self.replica = ReplicaState::Off(why);
                    Mode::Shapes
                }
            },
        }
    }

    /// Hands both canvases to the worker (ids 0 and 1) and asks it to load this module.
    fn start_replica(
        &mut self,
        topo: &HtmlCanvasElement,
        diagram: &HtmlCanvasElement,
    ) -> Result<(), String> {
        if !matches!(self.state, WorkerState::Running(_)) {
            return Err("no OffscreenCanvas worker in this browser".into());
        }
        if self.worker_id(topo) != Some(0) || self.worker_id(diagram) != Some(1) {
            return Err("the canvases could not be handed to the worker".into());
        }
        let glue = glue_url().ok_or("the page does not name its module")?;
        let WorkerState::Running(worker) = &self.state else {
            return Err("no worker".into());
        };
        let msg = js_sys::Object::new();
        set(&msg, "t", &"replica".into());
        set(&msg, "glue", &glue.into());
        set(&msg, "module", &wasm_bindgen::module());
        worker
            .post_message(&msg)
            .map_err(|_| "the module could not be sent to the worker".to_string())
    }

    /// Whether the worker's replica needs `view` (it differs from the last one sent); it is
    /// then taken as sent.
    pub fn replica_view(&mut self, view: &FrameView) -> bool {
        match &mut self.replica {
            ReplicaState::On(last) if last.as_ref() != Some(view) => {
                *last = Some(*view);
                true
            }
            _ => false,
        }
    }

    /// The worker gave up its replica since the last frame: the canvases must be painted
    /// from shapes (even while paused).
    pub fn needs_repaint(&self) -> bool {
        self.news.borrow().failure.is_some()
    }

    /// Sends the worker's replica a message ([`crate::play::frame::replica_message`]).
    pub fn post_replica(&mut self, msg: &str) {
        if let (WorkerState::Running(worker), ReplicaState::On(..)) = (&self.state, &self.replica) {
            let _ = worker.post_message(&JsValue::from_str(msg));
        }
    }

    /// Asks the worker to call `on_pulse` at each of its animation frames (with the frame's
    /// timestamp on the page's clock) and to paint at them. False if there is no worker
    /// holding the canvases to ask.
    pub fn drive(&mut self, on_pulse: Rc<dyn Fn(f64)>) -> bool {
        let WorkerState::Running(worker) = &self.state else {
            return false;
        };
        if self.canvases.is_empty() {
            return false;
        }
        let origin = web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.time_origin());
        let msg = js_sys::Object::new();
        set(&msg, "t", &"pulse".into());
        set(&msg, "origin", &origin.into());
        if worker.post_message(&msg).is_err() {
            return false;
        }
        self.news.borrow_mut().pulse = Some(on_pulse);
        true
    }

    /// Paints `shapes` on `canvas` (`w`×`h` CSS pixels at `dpr`); with the worker (which
    /// [`Offthread::mode`] starts), at the next [`Offthread::flush`].
    pub fn paint(
        &mut self,
        canvas: &HtmlCanvasElement,
        w: f64,
        h: f64,
        dpr: f64,
        shapes: &[crate::viz::scene::Shape],
    ) {
        let Some(id) = self.worker_id(canvas) else {
            if let Some(ctx) = prepare(canvas, w, h, dpr) {
                draw(&ctx, shapes);
            }
            return;
        };
        let Some((ops, strings)) = self.frames.next(id, [w, h, dpr], shapes) else {
            return;
        };
        let (batch, transfer) = self
            .batch
            .get_or_insert_with(|| (js_sys::Array::new(), js_sys::Array::new()));
        transfer.push(&ops.buffer());
        batch.push(&(id as f64).into());
        batch.push(&ops);
        batch.push(&strings.map_or(JsValue::NULL, |s| JsValue::from_str(&s)));
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
        if let Some(bg) = opaque_background(canvas) {
            set(&msg, "bg", &bg.into());
        }
        worker
            .post_message_with_transfer(&msg, &js_sys::Array::of1(&offscreen))
            .ok()?;
        self.canvases.push(canvas.clone());
        Some(self.canvases.len() - 1)
    }
}

impl Offthread {
    /// Where the animated canvases are painted and at what backing size (for tests):
    /// `{"offThread": bool, "backing": {"topology": [width, height], ...}}` by canvas class.
    pub fn report(&self) -> JsValue {
        use super::hook::{array, Obj};
        let mut backing = Obj::new();
        for (id, c) in self.canvases.iter().enumerate() {
            let entry = (|| {
                let [w, h, dpr] = match &self.replica {
                    ReplicaState::On(Some(v)) => {
                        let (w, h) = if id == 0 { v.topo } else { v.diagram };
                        [w, h, v.dpr]
                    }
                    _ => self.frames.size(id)?,
                };
                let size = [(w * dpr).round().max(1.0), (h * dpr).round().max(1.0)];
                Some((c.class_name(), array(size.map(JsValue::from_f64))))
            })();
            if let Some((k, v)) = entry {
                backing = backing.val(&k, v);
            }
        }
        Obj::new()
            .bool(
                "offThread",
                matches!(self.state, WorkerState::Running(_)) && !self.canvases.is_empty(),
            )
            // "starting" until the worker's copy of the session has loaded, then "on"; "off"
            // when there is none (see `replicaOff` for why).
            .str(
                "replica",
                match &self.replica {
                    ReplicaState::On(_) if self.news.borrow().ready => "on",
                    ReplicaState::On(_) | ReplicaState::Untried => "starting",
                    ReplicaState::Off(_) => "off",
                },
            )
            .val(
                "replicaOff",
                match &self.replica {
                    ReplicaState::Off(why) => JsValue::from_str(why),
                    _ => JsValue::NULL,
                },
            )
            // What calls the display clock each frame: the worker's animation frames or the
            // page's.
            .str(
                "clock",
                if self.clock_in_worker {
                    "worker"
                } else {
                    "page"
                },
            )
            .val("backing", backing.done())
            .done()
    }
}

fn set(o: &js_sys::Object, k: &str, v: &JsValue) {
    let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), v);
}

/// Starts the paint worker if this browser can paint canvases from one.
fn start_worker(news: Rc<RefCell<News>>) -> WorkerState {
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
            // A frame the worker could not paint is reported, not thrown; a replica it gave
            // up is painted from shapes from the next frame on.
            let on_msg = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |e: web_sys::MessageEvent| {
                    // A number is a pulse: the timestamp of the worker's animation frame.
                    if let Some(ts) = e.data().as_f64() {
                        let pulse = news.borrow().pulse.clone();
                        if let Some(f) = pulse {
                            f(ts);
                        }
                        return;
                    }
                    let get = |k: &str| {
                        js_sys::Reflect::get(&e.data(), &JsValue::from_str(k))
                            .ok()
                            .and_then(|m| m.as_string())
                            .unwrap_or_default()
                    };
                    let msg = get("message");
                    match get("t").as_str() {
                        "replica-failed" => news.borrow_mut().failure = Some(msg),
                        "replica-ready" => news.borrow_mut().ready = true,
                        _ => web_sys::console::warn_1(&format!("paint worker: {msg}").into()),
                    }
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

/// The URL of this module's JavaScript glue, which the page's loader names in a
/// `modulepreload` link (the worker imports it to load the same module).
pub(super) fn glue_url() -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let links = doc.query_selector_all("link[rel=modulepreload]").ok()?;
    (0..links.length())
        .filter_map(|i| links.item(i)?.dyn_into::<web_sys::HtmlLinkElement>().ok())
        .map(|l| l.href())
        .find(|h| h.ends_with(".js"))
}

/// The colour behind `canvas` if it is opaque (the canvas is then painted opaque on it, which
/// spares the compositor blending it every frame); `None` if it is not, or is not known.
fn opaque_background(canvas: &HtmlCanvasElement) -> Option<String> {
    let win = web_sys::window()?;
    let mut el: Option<web_sys::Element> = Some(canvas.clone().into());
    while let Some(e) = el {
        let bg = win
            .get_computed_style(&e)
            .ok()??
            .get_property_value("background-color")
            .ok()?;
        // Solid colours read back as rgb(...); transparent ones as rgba(..., 0) or with alpha.
        if bg.starts_with("rgb(") {
            return Some(bg);
        }
        if bg != "rgba(0, 0, 0, 0)" && bg != "transparent" {
            return None;
        }
        el = e.parent_element();
    }
    None
}
