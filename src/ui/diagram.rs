//! The space-time diagram's panel: the canvas (painted by the display clock), zoom, and a
//! click that selects the message under the pointer everywhere.

use super::clock::frame_view;
use super::dom::{el, El, Slot};
use super::stage::observe_size;
use super::{Shell, SPANS_US};
use crate::play::frame::diagram_frame;
use crate::sim::time::format_us;
use crate::viz::scene::{Pt, Selection};
use crate::viz::spacetime::hit_segment;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, MouseEvent};

/// The space-time (Lamport) diagram: one line per node and client, an arrow per message.
/// `canvas` keeps the canvas the display clock paints the diagram on.
pub fn diagram(shell: Shell, canvas: &'static Slot) -> El {
    let zoom = move |d: i32| {
        shell
            .span_ix
            .update(|i| *i = (*i as i32 + d).clamp(0, SPANS_US.len() as i32 - 1) as usize);
        shell.changed();
    };
    let click = move |ev: web_sys::Event| {
        let Some(ev) = ev.dyn_ref::<MouseEvent>() else {
            return;
        };
        let Some(c) = canvas.get::<HtmlCanvasElement>() else {
            return;
        };
        let r = c.get_bounding_client_rect();
        let p = Pt::new(
            ev.client_x() as f64 - r.left(),
            ev.client_y() as f64 - r.top(),
        );
        // The segments of the frame on screen, built again here (the worker drew them).
        let Some(view) = frame_view(&shell) else {
            return;
        };
        let hit = shell
            .with(|s| {
                let nodes = s.sim().nodes();
                diagram_frame(s, &nodes, &view).and_then(|(_, segs)| hit_segment(&segs, p))
            })
            .flatten();
        shell.update(|s| s.selection = hit.map_or(Selection::None, Selection::Msg));
    };
    let span = move || format_us(SPANS_US[shell.span_ix.get().min(SPANS_US.len() - 1)]);
    let spacetime = el("canvas")
        .class("diagram")
        .attr("role", "img")
        .attr(
            "aria-label",
            "Space-time diagram: one line per node and client, time to the right, an arrow per message, a cross per drop. Click an arrow to select its message.",
        )
        .on("click", click)
        .keep(canvas);
    observe_size(&spacetime.0, shell, false);
    el("section")
        .class("spacetime")
        .attr("aria-label", "Space-time diagram")
        .child(
            el("div")
                .class("panel-head")
                .child(el("h2").text("Space-time diagram"))
                .child(el("span").class("muted").text("window ").text_with(span))
                .child(
                    el("button")
                        .class("btn small")
                        .attr("aria-label", "Zoom in (shorter time window)")
                        .on("click", move |_| zoom(-1))
                        .text("+"),
                )
                .child(
                    el("button")
                        .class("btn small")
                        .attr("aria-label", "Zoom out (longer time window)")
                        .on("click", move |_| zoom(1))
                        .text("−"),
                ),
        )
        .child(spacetime)
}
