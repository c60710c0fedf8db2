//! The gallery: every lab's lessons and presets, each a link with one line and a small picture
//! of its own run, drawn by the app from the simulation at a moment of that run. It is the page
//! a newcomer lands on without a link, and the header's Gallery button opens it again.

use super::dom::{after_ms, el, El};
use super::{paint, Shell};
use crate::labs::{Lab, REGISTRY};
use crate::play::frame::{stage_frame, FrameView};
use crate::play::session::Session;
use crate::scenario::link;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

/// A thumbnail's size in CSS pixels.
const THUMB: (f64, f64) = (176.0, 112.0);
/// The moment a thumbnail shows, for a link without its own cursor.
const THUMB_AT_US: u64 = 2_500_000;

/// The gallery's page, over the playground until a card is chosen.
pub fn gallery(shell: Shell) -> El {
    let mut thumbs = Vec::new();
    let labs = REGISTRY.iter().map(|lab| lab_section(lab, &mut thumbs));
    let page = el("div")
        .class("gallery")
        .attr("role", "region")
        .attr("aria-label", "Gallery of lessons and presets")
        .child(
            el("div")
                .class("gallery-head")
                .child(el("h2").text("Watch real protocols run, then break them"))
                .child(el("p").class("muted").text(
                    "Every card is a real, deterministic run: open it, take over any control, \
                     and share the exact run as a link.",
                ))
                .child(
                    el("button")
                        .class("btn")
                        .on("click", move |_| shell.gallery.set(false))
                        .text("Go to the playground"),
                ),
        )
        .children(labs.collect::<Vec<_>>());
    after_ms(30, move || draw_thumbs(thumbs));
    page
}

fn lab_section(lab: &'static Lab, thumbs: &mut Vec<(El, String)>) -> El {
    let lessons = lab.lessons.iter().map(|l| {
        let link = format!("{}&lesson={}&step=1", l.link, l.id);
        (format!("Lesson: {}", l.title), l.description, link)
    });
    let presets = lab
        .presets
        .iter()
        .map(|p| (p.name.to_string(), p.description, p.link.to_string()));
    let cards = lessons
        .chain(presets)
        .map(|(name, line, link)| card(&name, line, link, thumbs))
        .collect::<Vec<_>>();
    el("section")
        .class("gallery-lab")
        .attr("aria-label", lab.title)
        .child(el("h3").text(lab.title))
        .child(el("p").class("muted small").text(lab.summary))
        .child(el("div").class("cards").children(cards))
}

fn card(name: &str, line: &str, link: String, thumbs: &mut Vec<(El, String)>) -> El {
    let canvas = el("canvas")
        .class("thumb")
        .attr("aria-hidden", "true")
        .attr("width", "176")
        .attr("height", "112");
    thumbs.push((El(canvas.0.clone()), link.clone()));
    // Following the link closes the gallery (the page loads a changed address's run).
    el("a")
        .class("gallery-card")
        .attr("href", &link)
        .child(canvas)
        .child(el("strong").text(name))
        .child(el("span").class("small muted").text(line))
}

/// Draws the thumbnails one at a time, a few milliseconds apart, so the page stays responsive.
fn draw_thumbs(mut thumbs: Vec<(El, String)>) {
    if thumbs.is_empty() {
        return;
    }
    let (canvas, link) = thumbs.remove(0);
    if let Ok(canvas) = canvas.0.dyn_into::<HtmlCanvasElement>() {
        draw_thumb(&canvas, &link);
    }
    after_ms(4, move || draw_thumbs(thumbs));
}

/// The run of `link` at its cursor (or a moment in), as its main view draws it.
fn draw_thumb(canvas: &HtmlCanvasElement, link: &str) {
    let Ok(mut s) = link::decode(link) else {
        return;
    };
    s.cursor_us = Some(s.cursor_us.unwrap_or(THUMB_AT_US));
    let Ok(session) = Session::from_scenario(&s) else {
        return;
    };
    let mut view = FrameView::sized(THUMB, (0.0, 0.0));
    view.style.scale = 0.7;
    view.stage = s
        .view
        .as_deref()
        .and_then(|v| session.lab().stage_index(v).ok())
        .unwrap_or(0);
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio());
    let Some(ctx) = paint::prepare(canvas, THUMB.0, THUMB.1, dpr) else {
        return;
    };
    if let Some(shapes) = stage_frame(&session, &session.sim().nodes(), &view) {
        paint::draw(&ctx, &shapes);
    }
}
