//! The share dialog: the run's link from the start or at this moment, copied or shown as a QR
//! code for phones, and the scenarios saved in this browser.

use super::dom::{el, El};
use super::Shell;
use crate::labs::{count_text, REPLAY_EVENT_BUDGET};
use crate::scenario::link;
use crate::viz::qr::Qr;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

fn window() -> web_sys::Window {
    web_sys::window().expect("the page has a window")
}

/// The page's address without its fragment: where a link opens.
fn base_url() -> String {
    let loc = window().location();
    format!(
        "{}{}",
        loc.origin().unwrap_or_default(),
        loc.pathname().unwrap_or_default()
    )
}

/// The run's link, from the start or at the cursor (refused when the moment lies further
/// into the run than a link may replay).
pub fn link_to_share(shell: Shell, at_moment: bool) -> Result<String, String> {
    let (link, events) = shell
        .with(|s| {
            let mut sc = s.scenario();
            sc.cursor_us = at_moment.then(|| s.now_us()).filter(|&t| t > 0);
            (link::encode(&sc), s.sim().counters().events)
        })
        .ok_or("the run is not open")?;
    if at_moment && events > REPLAY_EVENT_BUDGET {
        return Err(format!(
            "This moment is too far into the run to share: a link reopens at most {} events \
             of a run, and this one has made {} so far. Share the run from the start, or an \
             earlier moment.",
            count_text(REPLAY_EVENT_BUDGET),
            count_text(events),
        ));
    }
    Ok(format!("{}{link}", base_url()))
}

/// Copies `text` to the clipboard (without permission the page says where the link is).
fn copy(text: &str) {
    let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
    let _ = window()
        .navigator()
        .clipboard()
        .write_text(text)
        .catch(&ignore);
    ignore.forget();
}

/// The dialog, while it is open.
pub fn share_view(shell: Shell) -> Option<El> {
    if !shell.share.get() {
        return None;
    }
    let at_moment = shell.share_moment.get();
    let shared = link_to_share(shell, at_moment);
    let choice = |moment: bool, label: String| {
        el("label")
            .class("choice")
            .child(
                el("input")
                    .attr("type", "radio")
                    .attr("name", "share-when")
                    .flag("checked", moment == at_moment)
                    .on("change", move |_| shell.share_moment.set(moment)),
            )
            .text(&label)
    };
    let now = shell.with(|s| s.now_us()).unwrap_or(0);
    let body = el("div")
        .class("help share")
        .child(el("h2").text("Share this run"))
        .child(
            el("div")
                .class("choices")
                .attr("role", "radiogroup")
                .attr("aria-label", "Which moment the link opens at")
                .child(choice(false, "From the start".into()))
                .child(choice(
                    true,
                    format!("At this moment ({})", crate::sim::time::format_span(now)),
                )),
        )
        .child(link_row(&shared))
        .child(qr_view(&shared))
        .child(super::saved::section(shell));
    Some(super::app::dialog(
        "Share this run",
        "Close sharing",
        body,
        move || shell.share.set(false),
    ))
}

fn link_row(shared: &Result<String, String>) -> El {
    let Ok(url) = shared.clone() else {
        return el("p")
            .class("muted")
            .text(shared.as_ref().err().map_or("", |e| e));
    };
    let copied = url.clone();
    el("div")
        .class("share-link")
        .child(
            el("input")
                .attr("type", "text")
                .attr("readonly", "")
                .attr("aria-label", "The link")
                .attr("value", &url)
                .on("focus", |ev| {
                    if let Some(i) = ev
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                    {
                        i.select();
                    }
                }),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Copy the link")
                .on("click", move |ev| {
                    copy(&copied);
                    if let Some(b) = ev
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                    {
                        b.set_text_content(Some("Copied"));
                    }
                })
                .text("Copy"),
        )
}

/// The link as a QR code on a canvas, drawn at once (a phone's camera opens it).
fn qr_view(shared: &Result<String, String>) -> El {
    let Ok(url) = shared else {
        return el("span");
    };
    let qr = match Qr::encode(url) {
        Ok(q) => q,
        Err(e) => return el("p").class("muted").text(&format!("No QR code: {e}.")),
    };
    let module_px = 4.0_f64.max((260.0 / qr.side_modules() as f64).floor());
    let side = module_px * qr.side_modules() as f64;
    let canvas = el("canvas")
        .class("qr")
        .attr("role", "img")
        .attr("aria-label", "A QR code of the link")
        .attr("width", &(side as u32).to_string())
        .attr("height", &(side as u32).to_string());
    if let Some(ctx) = canvas
        .0
        .clone()
        .dyn_into::<web_sys::HtmlCanvasElement>()
        .ok()
        .and_then(|c| c.get_context("2d").ok().flatten())
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok())
    {
        ctx.set_fill_style_str("#ffffff");
        ctx.fill_rect(0.0, 0.0, side, side);
        ctx.set_fill_style_str("#000000");
        for (x, y, len) in qr.runs() {
            let (x, y) = (x as f64 * module_px, y as f64 * module_px);
            ctx.fill_rect(x, y, len as f64 * module_px, module_px);
        }
    }
    canvas
}

/// The Share button's dialog opens with the moment chosen when the run is paused.
pub fn open(shell: Shell) {
    let paused = shell
        .with(|s| !s.playing && s.now_us() > 0)
        .unwrap_or(false);
    shell.share_moment.set(paused);
    shell.share.set(true);
}
