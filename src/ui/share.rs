//! The share dialog: the run's link from the start or at this moment, copied or shown as a QR
//! code for phones; the stage as PNG, the space-time diagram as SVG, the trace as JSON, and a
//! trace file opened again.

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
        .child(exports(shell))
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

fn exports(shell: Shell) -> El {
    let button = |label: &str, aria: &str, f: fn(Shell) -> Result<(), String>| {
        el("button")
            .class("btn")
            .attr("aria-label", aria)
            .on("click", move |_| {
                if let Err(e) = f(shell) {
                    shell.inform(e);
                }
            })
            .text(label)
    };
    el("div")
        .class("exports")
        .child(el("h3").text("Export"))
        .child(button(
            "Stage as PNG",
            "Stage as PNG: download the stage as an image",
            export_png,
        ))
        .child(button(
            "Diagram as SVG",
            "Diagram as SVG: download the space-time diagram",
            export_svg,
        ))
        .child(button(
            "Trace as JSON",
            "Trace as JSON: download the run's trace",
            export_trace,
        ))
        .child(
            el("label").class("field").text("Open a trace file ").child(
                el("input")
                    .attr("type", "file")
                    .attr("accept", ".json,application/json")
                    .attr("aria-label", "Open a trace file")
                    .on("change", move |ev| import_trace(shell, &ev)),
            ),
        )
}

/// A file name for this run: `dsplay-raft-seed3-2.500s.svg`.
fn file_name(shell: Shell, ext: &str) -> String {
    shell
        .with(|s| {
            format!(
                "dsplay-{}-seed{}-{}.{ext}",
                s.lab().id,
                s.scenario().seed,
                crate::sim::time::format_span(s.now_us()).replace(' ', "")
            )
        })
        .unwrap_or_else(|| format!("dsplay.{ext}"))
}

/// Has the browser download `href` as `name`.
fn download(href: &str, name: &str) -> Result<(), String> {
    let a: web_sys::HtmlElement = super::dom::el("a")
        .attr("href", href)
        .attr("download", name)
        .0
        .dyn_into()
        .map_err(|_| "the download could not be started")?;
    a.click();
    Ok(())
}

/// Has the browser download `text` as a file of this type.
fn download_text(text: &str, mime: &str, name: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let props = web_sys::BlobPropertyBag::new();
    props.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &props)
        .map_err(|_| "the file could not be made")?;
    let url = web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| "the file could not be made")?;
    download(&url, name)?;
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

fn export_svg(shell: Shell) -> Result<(), String> {
    let view = super::clock::frame_view(&shell).ok_or("the diagram has no size yet")?;
    let (shapes, _) = shell
        .with(|s| crate::play::frame::diagram_frame(s, &s.sim().nodes(), &view))
        .flatten()
        .ok_or("the diagram has no size yet")?;
    let (w, h) = view.diagram;
    let svg = crate::viz::svg::document(&shapes, w, h);
    download_text(&svg, "image/svg+xml", &file_name(shell, "svg"))
}

/// The stage drawn again on a canvas of its own, at the screen's pixel ratio (the page's
/// canvas belongs to the paint worker).
fn export_png(shell: Shell) -> Result<(), String> {
    let view = super::clock::frame_view(&shell).ok_or("the stage has no size yet")?;
    let shapes = shell
        .with(|s| crate::play::frame::stage_frame(s, &s.sim().nodes(), &view))
        .flatten()
        .ok_or("the stage has no size yet")?;
    let (w, h) = view.topo;
    let dpr = view.dpr.clamp(1.0, 3.0);
    let canvas: web_sys::HtmlCanvasElement = el("canvas")
        .attr("width", &((w * dpr).round() as u32).to_string())
        .attr("height", &((h * dpr).round() as u32).to_string())
        .0
        .dyn_into()
        .map_err(|_| "no canvas")?;
    let ctx: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into().ok())
        .ok_or("no canvas")?;
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, w * dpr, h * dpr);
    let _ = ctx.scale(dpr, dpr);
    super::paint::draw(&ctx, &shapes);
    let url = canvas
        .to_data_url_with_type("image/png")
        .map_err(|_| "the image could not be made")?;
    download(&url, &file_name(shell, "png"))
}

/// The trace file of the run at this moment ([`crate::play::tracefile`]).
pub fn trace_json(shell: Shell) -> Option<String> {
    shell.with(|s| {
        let mut sc = s.scenario();
        sc.cursor_us = Some(s.now_us()).filter(|&t| t > 0);
        let link = link::encode(&sc);
        crate::play::tracefile::write(&link, s.sim().trace_hash(), s.now_us(), &s.sim().records())
    })
}

fn export_trace(shell: Shell) -> Result<(), String> {
    let json = trace_json(shell).ok_or("the run is not open")?;
    download_text(&json, "application/json", &file_name(shell, "json"))
}

/// Reads a chosen trace file and reopens its run.
fn import_trace(shell: Shell, ev: &web_sys::Event) {
    let file = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|i| i.files())
        .and_then(|f| f.get(0));
    let Some(file) = file else {
        return;
    };
    super::dom::read_text(
        &file,
        Box::new(move |read| {
            let said = match read {
                Some(text) => open_trace(shell, &text).unwrap_or_else(|e| e),
                None => "The file could not be read.".into(),
            };
            shell.share.set(false);
            shell.inform(said);
        }),
    );
}

/// Reopens the run a trace file names and says whether it is the same run (the same hash).
pub fn open_trace(shell: Shell, text: &str) -> Result<String, String> {
    let head = crate::play::tracefile::read(text)
        .map_err(|why| format!("This is not a dsplay trace file: {why}."))?;
    let (link_text, hash) = (head.link.as_str(), head.trace_hash.as_str());
    let scenario = link::decode(link_text)
        .map_err(|e| format!("The trace file's link could not be opened: {}.", e.0))?;
    shell
        .update(|s| s.load(&scenario))
        .ok_or("the run is not open")??;
    let (opening, now_hash) = shell
        .with(|s| {
            (
                s.opening.is_some(),
                format!("{:016x}", s.sim().trace_hash()),
            )
        })
        .unwrap_or_default();
    Ok(match (opening, now_hash == hash) {
        (true, _) => format!("Reopening the run of the trace file (its trace hash is {hash})."),
        (false, true) => format!("Reopened the run of the trace file: the same trace hash, {hash}."),
        (false, false) => format!(
            "Reopened the trace file's link, but this run's trace hash is {now_hash}, not the file's {hash}: it was made by another version of dsplay."
        ),
    })
}

/// The Share button's dialog opens with the moment chosen when the run is paused.
pub fn open(shell: Shell) {
    let paused = shell
        .with(|s| !s.playing && s.now_us() > 0)
        .unwrap_or(false);
    shell.share_moment.set(paused);
    shell.share.set(true);
}
