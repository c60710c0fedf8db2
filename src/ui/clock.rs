//! The display clock: one `requestAnimationFrame` loop that advances virtual time by wall time
//! × speed, runs the engine up to it, paints both canvases and keeps the address bar equal to
//! the run. It works outside the reactive graph and only bumps the shell's coarse signals.

use super::{Shell, SPANS_US};
use crate::viz::scene::{drop_marks, topology, Layout, Style, TopologyInput};
use crate::viz::spacetime::{diagram, DiagramInput};
use crate::viz::NodeView;
use leptos::html::Canvas;
use leptos::prelude::*;
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
/// How long a drop stays marked on the topology, in wall-clock ms (scaled by the speed).
const DROP_FADE_MS: f64 = 700.0;

/// The frame callback, shared with itself so it can ask for the next frame.
type FrameSlot = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

/// The two canvases the loop paints.
#[derive(Clone, Copy)]
pub struct Canvases {
    pub topo: NodeRef<Canvas>,
    pub diagram: NodeRef<Canvas>,
}

/// The presenter-mode scale for canvas shapes.
pub fn style(shell: &Shell) -> Style {
    Style {
        scale: if shell.presenter.try_get_untracked().unwrap_or(false) {
            1.6
        } else {
            1.0
        },
    }
}

/// Starts the loop; it stops when the owner that started it is cleaned up.
pub fn start(shell: Shell, canvases: Canvases) {
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = stopped.clone();
    on_cleanup(move || flag.store(true, Ordering::Relaxed));

    let cb: FrameSlot = Rc::new(RefCell::new(None));
    let again = cb.clone();
    let last = Cell::new(f64::NAN);
    let last_tick = Cell::new(0.0);
    let last_url = RefCell::new((String::new(), String::new()));
    *cb.borrow_mut() = Some(Closure::new(move |ts: f64| {
        if stopped.load(Ordering::Relaxed) || shell.frame.try_get_untracked().is_none() {
            again.borrow_mut().take();
            return;
        }
        let dt = if last.get().is_nan() {
            0.0
        } else {
            ts - last.get()
        };
        last.set(ts);
        frame(shell, canvases, dt, ts, &last_tick, &last_url);
        if let Some(f) = again.borrow().as_ref() {
            let _ = window().request_animation_frame(f.as_ref().unchecked_ref());
        }
    }));
    if let Some(f) = cb.borrow().as_ref() {
        let _ = window().request_animation_frame(f.as_ref().unchecked_ref());
    }
    pause_when_hidden(shell);
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
    let dirty = shell
        .view
        .try_update_value(|v| std::mem::take(&mut v.dirty))
        .unwrap_or(false);
    if repaint || dirty {
        let nodes = shell.with(|s| s.sim().nodes()).unwrap_or_default();
        let shared = Shared {
            nodes: &nodes,
            style: style(&shell),
            dpr: window().device_pixel_ratio().max(1.0),
        };
        if let Some(c) = canvases.topo.get_untracked() {
            paint_topology(&shell, &c, &shared);
        }
        if let Some(c) = canvases.diagram.get_untracked() {
            paint_diagram(&shell, &c, &shared);
        }
        shell.view.update_value(|v| v.painter.flush());
        shell.frame.update(|f| *f += 1);
    }
    if violated {
        let what = shell
            .with(|s| {
                s.records()
                    .iter()
                    .rev()
                    .find(|r| r.what == "violation")
                    .map(|r| (r.text.clone(), r.at_us))
            })
            .flatten();
        let text = match what {
            Some((p, at)) => format!(
                "Paused: the property '{p}' was violated at {}.",
                super::clock_text(at)
            ),
            None => "Paused: a property was violated.".to_string(),
        };
        shell.notice.set(Some(text));
    }
    let ticked = violated || (playing && ts - last_tick.get() >= TICK_MS);
    if ticked {
        last_tick.set(ts);
        shell.tick.update(|t| *t += 1);
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

/// Keeps the address bar equal to the run. Writes only when they differ (browsers throttle
/// `replaceState`); a refused link typed into the address bar is replaced by the run's.
/// `last` is the link last written and how the browser reads it back (it may normalise it).
fn sync_url(shell: &Shell, last: &RefCell<(String, String)>) {
    let Some(link) = shell.with(|s| s.link()) else {
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
    if let Ok(h) = window().history() {
        let _ = h.replace_state_with_url(&JsValue::NULL, "", Some(&link));
    }
    *last.borrow_mut() = (link, location.hash().unwrap_or_default());
}

/// Draws the topology view at the cursor.
/// What both canvases of one frame use, read once per frame.
pub struct Shared<'a> {
    pub nodes: &'a [NodeView],
    pub style: Style,
    pub dpr: f64,
}

pub fn paint_topology(shell: &Shell, canvas: &web_sys::HtmlCanvasElement, shared: &Shared) {
    let Some((w, h, drag)) = shell
        .view
        .try_with_value(|v| (v.topo_size.0, v.topo_size.1, v.drag))
    else {
        return;
    };
    if w < 2.0 || h < 2.0 {
        return;
    }
    let Shared { nodes, style, dpr } = *shared;
    let layout = shell.with(|s| {
        let sim = s.sim();
        let (msgs, cuts) = (sim.in_flight(), sim.cut_links());
        let now = s.now_us();
        let fade_us = (DROP_FADE_MS * 1_000.0 * s.speed()) as u64;
        let drops = drop_marks(s.records(), now, fade_us);
        let layout = Layout::circle(sim.n(), sim.clients(), w, h, style);
        let input = TopologyInput {
            nodes,
            clients: sim.clients(),
            msgs: &msgs,
            cuts: &cuts,
            drops: &drops,
            now_us: now,
            selected: s.selection,
            hover: s.hover,
            drag,
        };
        (topology(&layout, &input, style), layout)
    });
    if let Some((shapes, layout)) = layout {
        shell.view.update_value(|v| {
            v.painter.paint(canvas, w, h, dpr, &shapes);
            v.layout = Some(layout);
        });
    }
}

/// Draws the space-time diagram around the cursor.
pub fn paint_diagram(shell: &Shell, canvas: &web_sys::HtmlCanvasElement, shared: &Shared) {
    let Some((w, h)) = shell.view.try_with_value(|v| v.diagram_size) else {
        return;
    };
    if w < 2.0 || h < 2.0 {
        return;
    }
    let Shared { nodes, style, dpr } = *shared;
    let span_us = SPANS_US[shell
        .span_ix
        .try_get_untracked()
        .unwrap_or(4)
        .min(SPANS_US.len() - 1)];
    let segs = shell.with(|s| {
        let sim = s.sim();
        let labels: Vec<String> = nodes.iter().map(|n| n.label.clone()).collect();
        let selected_msg = match s.selection {
            crate::viz::scene::Selection::Msg(m) => Some(m),
            _ => None,
        };
        let input = DiagramInput {
            records: s.records(),
            node_labels: &labels,
            clients: sim.clients(),
            now_us: s.now_us(),
            span_us,
            selected_msg,
        };
        diagram(&input, w, h, style)
    });
    if let Some((shapes, segs)) = segs {
        shell.view.update_value(|v| {
            v.painter.paint(canvas, w, h, dpr, &shapes);
            v.segments = segs;
        });
    }
}

/// The tab is hidden: pause (the clock must not leap when it comes back).
fn pause_when_hidden(shell: Shell) {
    let doc = document();
    let d2 = doc.clone();
    let cb = Closure::<dyn FnMut()>::new(move || {
        if d2.hidden() && shell.frame.try_get_untracked().is_some() {
            shell.update(|s| s.play(false));
        }
    });
    let _ = doc.add_event_listener_with_callback("visibilitychange", cb.as_ref().unchecked_ref());
    // The listener lives as long as the page (one per mount).
    cb.forget();
}
