//! The space-time diagram's panel: the canvas (painted by the display clock), zoom, and a
//! click that selects the message under the pointer everywhere.

use super::clock::frame_view;
use super::stage::observe_size;
use super::{Shell, SPANS_US};
use crate::sim::time::format_us;
use crate::viz::frame::diagram_frame;
use crate::viz::scene::{Pt, Selection};
use crate::viz::spacetime::hit_segment;
use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::MouseEvent;

/// The space-time (Lamport) diagram: one line per node and client, an arrow per message.
#[component]
pub fn Diagram(
    /// The canvas the display clock paints the diagram on.
    canvas: NodeRef<Canvas>,
) -> impl IntoView {
    let shell = expect_context::<Shell>();
    observe_size(canvas, shell, false);
    let zoom = move |d: i32| {
        shell
            .span_ix
            .update(|i| *i = (*i as i32 + d).clamp(0, SPANS_US.len() as i32 - 1) as usize);
        shell.changed();
    };
    let click = move |ev: MouseEvent| {
        let Some(c) = canvas.get_untracked() else {
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
    view! {
        <section class="spacetime" aria-label="Space-time diagram">
            <div class="panel-head">
                <h2>"Space-time diagram"</h2>
                <span class="muted">"window " {span}</span>
                <button class="btn small" aria-label="Zoom in (shorter time window)" on:click=move |_| zoom(-1)>"+"</button>
                <button class="btn small" aria-label="Zoom out (longer time window)" on:click=move |_| zoom(1)>"−"</button>
            </div>
            <canvas
                node_ref=canvas
                class="diagram"
                role="img"
                aria-label="Space-time diagram: one line per node and client, time to the right, an arrow per message, a cross per drop. Click an arrow to select its message."
                on:click=click
            ></canvas>
        </section>
    }
}
