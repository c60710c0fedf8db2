//! The display clock: one loop, called once per animation frame, that advances virtual time by
//! wall time × speed, runs the engine up to it, paints both canvases and keeps the address bar
//! equal to the run. It works outside the reactive graph and only bumps the shell's coarse
//! signals.
//!
//! While the paint worker holds the canvases, its animation frames call the loop (each is
//! posted to the page as a pulse) and the page asks the browser for no frames of its own; the
//! page's `requestAnimationFrame` drives it before that, without a worker, and whenever the
//! worker's pulses stop.

use super::dom::{self, Slot};
use super::paint::Mode;
use super::{Shell, SPANS_US};
use crate::play::frame::{diagram_frame, replica_message, stage_frame, FrameView};
use crate::viz::scene::{Layout, Style};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// How often the slower parts of the page (side panel, clock text, URL) refresh while playing,
/// in ms. Text that changes faster cannot be read, and each refresh costs the main thread a
/// style, layout and paint pass; paused, they show the exact cursor at once.
const TICK_MS: f64 = 250.0;

/// The frame callback, shared with itself so it can ask for the next frame.
type FrameSlot = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

/// A pulse from the paint worker older than this (ms), while the page is visible, means it
/// stopped: the page's own animation frames take over again.
const PULSE_TIMEOUT_MS: f64 = 1_000.0;

/// The two canvases the loop paints, kept by the views that build them.
#[derive(Clone, Copy)]
pub struct Canvases {
    pub topo: &'static Slot,
    pub diagram: &'static Slot,
}

impl Default for Canvases {
    /// Two empty slots for the page's lifetime.
    fn default() -> Canvases {
        Canvases {
            topo: Box::leak(Box::default()),
            diagram: Box::leak(Box::default()),
        }
    }
}

fn window() -> web_sys::Window {
    web_sys::window().expect("the page has a window")
}

fn document() -> web_sys::Document {
    window().document().expect("the page has a document")
}

/// Stops the loop when the view that started it is taken down.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The presenter-mode scale for canvas shapes.
pub fn style(shell: &Shell) -> Style {
    Style {
        scale: if shell.presenter.get_untracked() {
            1.6
        } else {
            1.0
        },
    }
}

/// Who calls the loop each frame.
#[derive(Clone, Copy, PartialEq)]
enum Driver {
    /// The page's `requestAnimationFrame`.
    Page,
    /// The page's, and the paint worker was asked for pulses (none came yet).
    Asked,
    /// The paint worker's animation frames, posted to the page: the page then asks the
    /// browser for no frames of its own, which spares the main thread the frame machinery
    /// (style, layout and paint checks, about 40 ms a second here) while the canvases animate.
    Worker,
}

/// The loop's state between frames.
struct Loop {
    shell: Shell,
    canvases: Canvases,
    stopped: Arc<AtomicBool>,
    driver: Cell<Driver>,
    /// The page's `requestAnimationFrame` callback.
    raf: FrameSlot,
    /// Timestamp of the last frame (`performance.now()` of the page, pulses included): while
    /// the worker drives, that of its last pulse.
    last: Cell<f64>,
    last_tick: Cell<f64>,
    last_url: RefCell<(String, String)>,
}

impl Loop {
    fn live(&self) -> bool {
        !self.stopped.load(Ordering::Relaxed) && self.shell.alive()
    }

    /// One frame at timestamp `ts`.
    fn step(&self, ts: f64) {
        let dt = if self.last.get().is_nan() {
            0.0
        } else {
            // A pulse and a page frame may arrive out of order while the driver changes.
            (ts - self.last.get()).max(0.0)
        };
        self.last.set(self.last.get().max(ts));
        frame(
            self.shell,
            self.canvases,
            dt,
            ts,
            &self.last_tick,
            &self.last_url,
        );
    }

    fn request_page_frame(&self) {
        if let Some(f) = self.raf.borrow().as_ref() {
            let _ = window().request_animation_frame(f.as_ref().unchecked_ref());
        }
    }

    fn set_driver(&self, d: Driver) {
        self.driver.set(d);
        self.shell
            .view
            .update_value(|v| v.painter.clock_in_worker = d == Driver::Worker);
    }
}

/// Starts the loop; it stops when the owner that started it is cleaned up.
pub fn start(shell: Shell, canvases: Canvases) {
    let stopped = Arc::new(AtomicBool::new(false));
    dom::own(Box::new(StopOnDrop(stopped.clone())));

    let lp = Rc::new(Loop {
        shell,
        canvases,
        stopped,
        driver: Cell::new(Driver::Page),
        raf: Rc::new(RefCell::new(None)),
        last: Cell::new(f64::NAN),
        last_tick: Cell::new(0.0),
        last_url: RefCell::new((String::new(), String::new())),
    });

    let on_pulse = pulse_handler(&lp);
    let weak = Rc::downgrade(&lp);
    *lp.raf.borrow_mut() = Some(Closure::new(move |ts: f64| {
        let Some(lp) = weak.upgrade() else {
            return;
        };
        if !lp.live() {
            lp.raf.borrow_mut().take();
            return;
        }
        if lp.driver.get() == Driver::Worker {
            // The worker's pulses drive the loop now.
            return;
        }
        lp.step(ts);
        if lp.driver.get() == Driver::Page {
            ask_for_pulses(&lp, &on_pulse);
        }
        lp.request_page_frame();
    }));
    lp.request_page_frame();
    watch_pulses(lp);
    pause_when_hidden(shell);
}

/// What a pulse from the worker does: the worker drives from then on, and the loop runs.
fn pulse_handler(lp: &Rc<Loop>) -> Rc<dyn Fn(f64)> {
    let weak = Rc::downgrade(lp);
    Rc::new(move |ts: f64| {
        let Some(lp) = weak.upgrade() else {
            return;
        };
        if !lp.live() {
            return;
        }
        if lp.driver.get() != Driver::Worker {
            lp.set_driver(Driver::Worker);
        }
        lp.step(ts);
    })
}

/// Once the paint worker holds the canvases, asks it to drive the loop with its animation
/// frames (each is posted to the page as a pulse).
fn ask_for_pulses(lp: &Loop, on_pulse: &Rc<dyn Fn(f64)>) {
    let asked = lp
        .shell
        .view
        .try_update_value(|v| v.painter.drive(on_pulse.clone()))
        .unwrap_or(false);
    if asked {
        lp.set_driver(Driver::Asked);
    }
}

/// Checks once a second that the worker's pulses still come while the page is visible; if
/// they stopped, the page's own animation frames drive the loop again (a later pulse takes
/// over once more).
fn watch_pulses(lp: Rc<Loop>) {
    let cb = Closure::<dyn FnMut()>::new(move || {
        if lp.driver.get() == Driver::Worker
            && lp.live()
            && !document().hidden()
            && now_ms() - lp.last.get() > PULSE_TIMEOUT_MS
        {
            web_sys::console::warn_1(
                &"paint worker: its frames stopped; the page's own frames drive the clock".into(),
            );
            lp.set_driver(Driver::Page);
            lp.request_page_frame();
        }
    });
    let _ = window().set_interval_with_callback_and_timeout_and_arguments_0(
        cb.as_ref().unchecked_ref(),
        PULSE_TIMEOUT_MS as i32,
    );
    // The watch lives as long as the page (one per mount).
    cb.forget();
}

fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

fn frame(
    shell: Shell,
    canvases: Canvases,
    dt: f64,
    ts: f64,
    last_tick: &Cell<f64>,
    last_url: &RefCell<(String, String)>,
) {
    let Some((violated, playing, repaint)) = shell.session.try_update_value(|s| {
        let v = s.advance(dt);
        (v, s.playing, std::mem::take(&mut s.repaint))
    }) else {
        return;
    };
    work_on_opening(shell);
    if let Some(why) = shell
        .session
        .try_update_value(|s| s.take_stall_notice())
        .flatten()
    {
        shell.notice.set(Some(format!("Paused: {why}.")));
        shell.tick.update(|t| *t += 1);
    }
    let dirty = shell
        .view
        .try_update_value(|v| std::mem::take(&mut v.dirty) || v.painter.needs_repaint())
        .unwrap_or(false);
    if repaint || dirty {
        // The pixel ratio changes only when the page is zoomed or moved to another screen,
        // which also resizes the canvases (a dirty frame): no need to ask every frame.
        if dirty || ts - last_tick.get() >= TICK_MS {
            let dpr = window().device_pixel_ratio().max(1.0);
            shell.view.update_value(|v| v.dpr = dpr);
        }
        paint(shell, canvases);
        shell.frame.update(|f| *f += 1);
    }
    if violated {
        let what = shell
            .with(|s| {
                let r = s.records().iter().rev().find(|r| r.what == "violation")?;
                let props = s.sim().properties();
                let cause = props
                    .into_iter()
                    .find(|p| p.name == r.text)
                    .and_then(|p| p.cause);
                Some((r.text.clone(), r.at_us, cause))
            })
            .flatten();
        let text = match what {
            Some((p, at, cause)) => format!(
                "Paused: the property '{p}' was violated at {}.{}",
                super::clock_text(at),
                cause.map_or(String::new(), |c| format!(" {c}"))
            ),
            None => "Paused: a property was violated.".to_string(),
        };
        shell.notice.set(Some(text));
    }
    let ticked = violated || (playing && ts - last_tick.get() >= TICK_MS);
    if ticked {
        last_tick.set(ts);
        shell.tick.update(|t| *t += 1);
        if violated || shell.tick.get_untracked() % 2 == 0 {
            shell.slow_tick.update(|t| *t += 1);
        }
        // Passing a scripted change (a network setting at some instant) is an edit for the
        // form controls, which otherwise stay untouched while the run plays.
        let passed = shell
            .with(|s| {
                let now = s.now_us();
                s.sim().script().iter().filter(|c| c.at_us <= now).count()
            })
            .unwrap_or(0);
        let changed = shell
            .view
            .try_update_value(|v| std::mem::replace(&mut v.passed_commands, passed) != passed)
            .unwrap_or(false);
        if changed {
            shell.edits.update(|e| *e += 1);
        }
    }
    if ticked || (!playing && (repaint || dirty)) {
        sync_url(&shell, last_url);
    }
}

/// The page's share of a frame spent replaying a link being opened, in ms: the page stays
/// responsive (about 30 frames a second) while the replay gets most of the main thread.
const OPENING_SLICE_MS: f64 = 20.0;

/// Replays more of a link being opened; when it is ready it replaces the run (paused at its
/// instant), and when it cannot be opened the reason is shown and the run on screen stays.
fn work_on_opening(shell: Shell) {
    let start = now_ms();
    let status = shell.session.try_update_value(|s| {
        let mut status = s.work_on_opening(2_000)?;
        while matches!(status, Ok(false)) && now_ms() - start < OPENING_SLICE_MS {
            status = s.work_on_opening(5_000)?;
        }
        // The worker's copy replays in step: it hears from the page every frame meanwhile.
        s.repaint = true;
        Some(status)
    });
    let Some(Some(status)) = status else {
        if shell.opening.get_untracked().is_some() {
            shell.opening.set(None);
        }
        return;
    };
    match status {
        Ok(false) => {
            let progress = shell
                .with(|s| s.opening.as_ref().map(|o| o.progress()))
                .flatten();
            shell.opening.set(progress);
        }
        Ok(true) => {
            shell.opening.set(None);
            shell.try_update(|s| {
                s.apply(crate::play::session::Change::Opened)?;
                s.play(false);
                Ok(())
            });
            let why = shell.with(|s| s.stall()).flatten();
            match why {
                Some(why) => shell
                    .notice
                    .set(Some(format!("Opened, and paused: {why}."))),
                None => shell.inform("The link is open, paused at its moment.".into()),
            }
        }
        Err(e) => {
            shell.opening.set(None);
            let _ = shell.update(|s| {
                s.apply(crate::play::session::Change::CancelOpen)
                    .map(|_| ())
            });
            shell
                .notice
                .set(Some(format!("This link could not be opened: {e}.")));
        }
    }
}

/// Keeps the address bar equal to the run. Writes only when they differ (browsers throttle
/// `replaceState`); a refused link typed into the address bar is replaced by the run's.
/// `last` is the link last written and how the browser reads it back (it may normalise it).
fn sync_url(shell: &Shell, last: &RefCell<(String, String)>) {
    let Some((link, playing)) = shell.with(|s| (address(s), s.playing)) else {
        return;
    };
    let location = window().location();
    let current = location.hash().unwrap_or_default();
    {
        let (written, read_back) = &*last.borrow();
        if current == link || (*written == link && current == *read_back) {
            return;
        }
    }
    // While playing the cursor moves on every tick: write it about once a second.
    let due = LAST_URL_MS.with(|t| {
        let now = now_ms();
        let due = !playing || now - t.get() >= URL_EVERY_MS;
        if due {
            t.set(now);
        }
        due
    });
    if !due {
        return;
    }
    if let Ok(h) = window().history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&link));
    }
    *last.borrow_mut() = (link, location.hash().unwrap_or_default());
}

/// How often a playing run's cursor is written to the address bar, in ms.
const URL_EVERY_MS: f64 = 1000.0;

thread_local! {
    static LAST_URL_MS: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::NEG_INFINITY) };
}

/// What the address bar shows: the run's link, with the cursor while it plays too (reloading
/// then opens the moment it was at), unless the run has gone further than a link replays.
fn address(s: &crate::play::session::Session) -> String {
    if !s.playing
        || s.opening.is_some()
        || s.sim().counters().events > crate::labs::REPLAY_EVENT_BUDGET
    {
        return s.link();
    }
    let mut sc = s.scenario();
    sc.cursor_us = Some(s.now_us()).filter(|&t| t > 0);
    crate::scenario::link::encode(&sc)
}

/// What the page decides about the next frame of the canvases.
pub fn frame_view(shell: &Shell) -> Option<FrameView> {
    let (selection, hover, speed, stage) =
        shell.with(|s| (s.selection, s.hover, s.speed(), s.stage_ix()))?;
    let (topo, diagram, drag, dpr) = shell
        .view
        .try_with_value(|v| (v.topo_size, v.diagram_size, v.drag, v.dpr))?;
    let span_ix = shell.span_ix.get_untracked();
    Some(FrameView {
        topo,
        diagram,
        dpr: if dpr >= 1.0 {
            dpr
        } else {
            window().device_pixel_ratio().max(1.0)
        },
        style: style(shell),
        span_us: SPANS_US[span_ix.min(SPANS_US.len() - 1)],
        speed,
        selection,
        hover,
        drag,
        stage,
    })
}

/// Where the topology's nodes and clients are on screen now (for hit tests).
pub fn layout(shell: &Shell) -> Option<Layout> {
    let view = frame_view(shell)?;
    shell
        .with(|s| crate::play::frame::layout(s, &view))
        .flatten()
}

/// Paints both canvases at the cursor: through the worker's replica when it has one, else
/// from shapes built here.
fn paint(shell: Shell, canvases: Canvases) {
    let (Some(topo), Some(diag), Some(view)) = (
        canvases.topo.get::<web_sys::HtmlCanvasElement>(),
        canvases.diagram.get::<web_sys::HtmlCanvasElement>(),
        frame_view(&shell),
    ) else {
        return;
    };
    let mode = shell
        .view
        .try_update_value(|v| v.painter.mode(&topo, &diag))
        .unwrap_or(Mode::Shapes);
    if let Mode::Replica { fresh } = mode {
        // The worker builds the shapes: send it what changed.
        let new_view = shell
            .view
            .try_update_value(|v| v.painter.replica_view(&view))
            .unwrap_or(false);
        let sent = shell.session.try_update_value(|s| {
            let mut ops = Vec::new();
            if fresh {
                ops.extend(s.start_journal());
            }
            ops.extend(s.drain_journal());
            (new_view || !ops.is_empty() || s.opening.is_some())
                .then(|| replica_message(s, new_view.then_some(&view), &ops))
        });
        if let Some(Some(msg)) = sent {
            shell.view.update_value(|v| v.painter.post_replica(&msg));
        }
        return;
    }
    let frames = shell.session.try_update_value(|s| {
        // No replica follows this session (or it was given up): keep no journal.
        s.journal = None;
        let nodes = s.sim().nodes();
        (
            stage_frame(s, &nodes, &view),
            diagram_frame(s, &nodes, &view),
        )
    });
    let Some((topo_frame, diagram_frame)) = frames else {
        return;
    };
    shell.view.update_value(|v| {
        if let Some(shapes) = topo_frame {
            v.painter
                .paint(&topo, view.topo.0, view.topo.1, view.dpr, &shapes);
        }
        if let Some((shapes, _)) = diagram_frame {
            v.painter
                .paint(&diag, view.diagram.0, view.diagram.1, view.dpr, &shapes);
        }
        v.painter.flush();
    });
}

/// The tab is hidden: pause (the clock must not leap when it comes back).
fn pause_when_hidden(shell: Shell) {
    let doc = document();
    let d2 = doc.clone();
    let cb = Closure::<dyn FnMut()>::new(move || {
        if d2.hidden() && shell.alive() {
            shell.update(|s| s.play(false));
        }
    });
    let _ = doc.add_event_listener_with_callback("visibilitychange", cb.as_ref().unchecked_ref());
    // The listener lives as long as the page (one per mount).
    cb.forget();
}
