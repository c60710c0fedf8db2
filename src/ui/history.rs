//! The client-history panel: is this run's history linearizable? Checks the running lab's
//! client history at the cursor, or a history pasted or opened from a file (Jepsen EDN,
//! Porcupine logs, our JSON), and draws the operation timeline: one lane per client, a box per
//! operation, the witness order on each, the operation that cannot be placed in the alert
//! colour. Clicking an operation of the running lab seeks the simulation to its call.
//!
//! Where the boxes go, and the shapes they are drawn with, are decided in
//! [`crate::viz::optimeline`]; the shared painter draws them.

use super::dom::{self, el, El, Var};
use super::{clock_text, paint, Shell};
use crate::check::{
    check_with, parse_history, timeline, CheckOptions, CheckResult, Format, History, Model,
    ModelKind, Status, Timeline, Value, Verdict,
};
use crate::sim::time::format_us;
use crate::viz::optimeline::{self, OpLayout};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::MouseEvent;

/// Search steps one check may take in the page (a few hundred milliseconds at most); past it
/// the verdict is "unknown".
pub const CHECK_STEPS: u64 = 2_000_000;
/// Memory the checker's caches may use in the page.
pub const CHECK_BYTES: usize = 128 << 20;
/// The most operations the timeline draws.
pub const MAX_DRAWN: usize = 500;
/// The largest file the page reads.
pub const MAX_FILE_BYTES: f64 = 32.0 * 1024.0 * 1024.0;

/// A small history a learner can load: a read returns 1 after a write of 2 completed.
const EXAMPLE: &str = "{:process 0, :type :invoke, :f :write, :value 1}
{:process 0, :type :ok, :f :write, :value 1}
{:process 1, :type :invoke, :f :write, :value 2}
{:process 2, :type :invoke, :f :read, :value nil}
{:process 1, :type :ok, :f :write, :value 2}
{:process 2, :type :ok, :f :read, :value 1}
{:process 0, :type :invoke, :f :read, :value nil}
{:process 0, :type :ok, :f :read, :value 1}
";

/// A checked history and everything the panel shows about it.
struct Checked {
    history: History,
    result: CheckResult,
    timeline: Timeline,
    /// From the running lab (clicks seek), or imported (clicks only show details).
    live: bool,
    /// The cursor when a live history was checked.
    at_us: u64,
    model: ModelKind,
}

/// Checks `history` within the page's budget and lays out its timeline.
fn run_check(history: History, model: Model, live: bool, at_us: u64) -> Result<Checked, String> {
    let options = CheckOptions {
        max_steps: CHECK_STEPS,
        max_cache_bytes: CHECK_BYTES,
        cancel: None,
    };
    let result = check_with(&history, &model, &options)
        .map_err(|e| format!("This history does not fit the {} model: {e}", model.kind))?;
    let timeline = timeline(&history, Some(&result));
    Ok(Checked {
        history,
        result,
        timeline,
        live,
        at_us,
        model: model.kind,
    })
}

fn time_text(live: bool, us: u64) -> String {
    if live {
        clock_text(us)
    } else {
        format_us(us)
    }
}

/// The panel.
pub fn history_panel(shell: Shell) -> El {
    let checked: Rc<RefCell<Option<Checked>>> = Rc::new(RefCell::new(None));
    // Bumped when `checked` changes (the stored value is not reactive itself).
    let version = Var::new(0u64);
    let selected = Var::new(None::<usize>);
    let error = Var::new(None::<String>);
    let open = Var::new(false);
    let text = Var::new(String::new());
    let format = Var::new(Format::JepsenEdn.name().to_string());
    let model = Var::new(ModelKind::Register.name().to_string());
    let initial = Var::new(String::new());
    // The timeline's layout and the presenter scale it was drawn at.
    let layout: Rc<RefCell<Option<(OpLayout, f64)>>> = Rc::new(RefCell::new(None));
    let resized = Var::new(0u32);
    // Removed when the panel is taken out of the page.
    {
        let resized = resized.clone();
        dom::listen_window("resize", move |_| {
            resized.update(|r| *r = r.wrapping_add(1))
        });
    }

    let show = {
        let (checked, selected, error, version) = (
            checked.clone(),
            selected.clone(),
            error.clone(),
            version.clone(),
        );
        move |c: Result<Checked, String>| match c {
            Ok(c) => {
                *checked.borrow_mut() = Some(c);
                selected.set(None);
                error.set(None);
                version.update(|v| *v += 1);
            }
            Err(e) => error.set(Some(e)),
        }
    };
    let check_run = {
        let (show, error) = (show.clone(), error.clone());
        move |_: web_sys::Event| {
            let got = shell.with(|s| (s.sim().check_history(), s.now_us(), s.sim().clients()));
            match got {
                Some((Some((h, kind)), now, _)) => {
                    show(run_check(h, Model::new(kind, None), true, now))
                }
                Some((None, _, _)) => error.set(Some(
                    "This lab's clients do not use an object the checker knows, or the run is so long \
                     that its first operations were dropped."
                        .into(),
                )),
                None => {}
            }
        }
    };
    let check_import = {
        let (show, error, format, model, text, initial) = (
            show.clone(),
            error.clone(),
            format.clone(),
            model.clone(),
            text.clone(),
            initial.clone(),
        );
        move |_: web_sys::Event| {
            let Ok(fmt) = format.get_untracked().parse::<Format>() else {
                error.set(Some("Choose a format.".into()));
                return;
            };
            let Ok(kind) = model.get_untracked().parse::<ModelKind>() else {
                error.set(Some("Choose a model.".into()));
                return;
            };
            let src = text.get_untracked();
            if src.trim().is_empty() {
                error.set(Some("Paste a history or open a file first.".into()));
                return;
            }
            let history = match parse_history(&src, fmt) {
                Ok(h) => h,
                Err(e) => {
                    error.set(Some(format!(
                        "This history could not be read as {fmt}: {e}"
                    )));
                    return;
                }
            };
            let init = initial.get_untracked();
            let init = init.trim();
            let init = (kind != ModelKind::Kv && !init.is_empty() && init != "nil")
                .then(|| Value::from(init));
            show(run_check(history, Model::new(kind, init), false, 0));
        }
    };
    let on_file = {
        let (error, format, text) = (error.clone(), format.clone(), text.clone());
        move |ev: web_sys::Event| {
            let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            else {
                return;
            };
            let Some(file) = input.files().and_then(|f| f.get(0)) else {
                return;
            };
            if file.size() > MAX_FILE_BYTES {
                error.set(Some(format!(
                    "{} is {} MB; the page reads files up to 32 MB (use `dsplay check` for larger ones).",
                    file.name(),
                    crate::sim::time::fixed(file.size() / 1_048_576.0, 0)
                )));
                return;
            }
            let name = file.name().to_ascii_lowercase();
            if name.ends_with(".json") {
                format.set(Format::Json.name().into());
            } else if name.ends_with(".log") {
                format.set(Format::PorcupineEtcd.name().into());
            }
            let Ok(reader) = web_sys::FileReader::new() else {
                return;
            };
            let r = reader.clone();
            let (text, err) = (text.clone(), error.clone());
            let onload =
                Closure::once_into_js(move || match r.result().ok().and_then(|v| v.as_string()) {
                    Some(t) => {
                        text.set(t);
                        err.set(None);
                    }
                    None => {
                        err.set(Some("The file could not be read as text.".into()));
                    }
                });
            reader.set_onload(Some(onload.unchecked_ref()));
            if reader.read_as_text(&file).is_err() {
                error.set(Some("The file could not be read.".into()));
            }
        }
    };

    let has_result = {
        let (checked, version) = (checked.clone(), version.clone());
        move || {
            version.get();
            checked.borrow().is_some()
        }
    };
    let canvas_el = el("canvas")
        .class("optimeline")
        .class_when("empty", move || !has_result())
        .attr("role", "img");
    let canvas: web_sys::HtmlCanvasElement = canvas_el.0.clone().unchecked_into();

    // Paint whenever the result, the selection or the size changes.
    {
        let (version, resized, selected, checked, layout, c) = (
            version.clone(),
            resized.clone(),
            selected.clone(),
            checked.clone(),
            layout.clone(),
            canvas.clone(),
        );
        dom::effect(move || {
            version.get();
            resized.get();
            shell.presenter.get();
            let sel = selected.get();
            let scale = super::clock::style(&shell).scale;
            let l = checked
                .borrow()
                .as_ref()
                .map(|ch| paint_timeline(&c, ch, sel, scale));
            *layout.borrow_mut() = l.flatten().map(|l| (l, scale));
        });
    }

    let click = {
        let (checked, layout, selected, c) = (
            checked.clone(),
            layout.clone(),
            selected.clone(),
            canvas.clone(),
        );
        move |ev: web_sys::Event| {
            let Some(ev) = ev.dyn_ref::<MouseEvent>() else {
                return;
            };
            let r = c.get_bounding_client_rect();
            let (x, y) = (
                ev.client_x() as f64 - r.left(),
                ev.client_y() as f64 - r.top(),
            );
            // The layout is in the chart's own units (CSS px ÷ the presenter scale).
            let Some(op) = layout
                .borrow()
                .as_ref()
                .and_then(|(l, scale)| optimeline::hit(l, x / scale, y / scale))
            else {
                return;
            };
            selected.set(Some(op));
            let seek = checked
                .borrow()
                .as_ref()
                .filter(|ch| ch.live)
                .and_then(|ch| ch.history.operations.get(op).map(|o| o.call_us));
            if let Some(t) = seek {
                shell.update(|s| {
                    s.play(false);
                    s.seek(t)
                });
            }
        }
    };

    let verdict = {
        let (checked, version) = (checked.clone(), version.clone());
        move || {
            version.get();
            checked.borrow().as_ref().map(verdict_view)
        }
    };
    let details = {
        let (checked, version, selected) = (checked.clone(), version.clone(), selected.clone());
        move || {
            version.get();
            let op = selected.get()?;
            checked.borrow().as_ref().and_then(|ch| op_details(ch, op))
        }
    };
    let hidden_note = {
        let (checked, version) = (checked.clone(), version.clone());
        move || {
            version.get();
            let n = checked.borrow().as_ref()?.history.len();
            (n > MAX_DRAWN).then(|| {
                format!("The timeline shows {MAX_DRAWN} of {n} operations (the last ones, or those around the one that cannot be placed).")
            })
        }
    };

    let import = {
        let open = open.clone();
        move || {
            open.get().then(|| {
                import_view(
                    text.clone(),
                    format.clone(),
                    model.clone(),
                    initial.clone(),
                    on_file.clone(),
                    check_import.clone(),
                )
            })
        }
    };
    let errors = move || {
        error.get().map(|e| {
            el("p")
                .class("history-error")
                .attr("role", "alert")
                .text(&e)
        })
    };
    let (open_state, open_toggle) = (open.clone(), open);

    el("section")
        .class("card history")
        .attr("aria-label", "Client history")
        .child(el("h2").text("Client history — linearizable?"))
        .child(
            el("div")
                .class("row wrap")
                .child(
                    el("button")
                        .class("btn")
                        .attr("aria-label", "Check this run")
                        .attr("title", "Check the running lab's client history up to the cursor")
                        .on("click", check_run)
                        .text("Check this run"),
                )
                .child(
                    el("button")
                        .class("btn")
                        .attr("aria-label", "Open a history")
                        .attr_with("aria-expanded", move || Some(open_state.get().to_string()))
                        .on("click", move |_| open_toggle.update(|o| *o = !*o))
                        .text("Open a history…"),
                ),
        )
        .dynamic(import)
        .dynamic(errors)
        .dynamic(verdict)
        .child(
            canvas_el
                .on("click", click)
                .attr("aria-label", "Operation timeline: one lane per client, a box per operation from call to return, numbered in the witness order; the operation that cannot be placed in vermillion. Click an operation for its details."),
        )
        .text_with(move || hidden_note().unwrap_or_default())
        .dynamic(details)
}

/// The form for a pasted or opened history: its text, a file, its format, model and initial
/// value, and the button that checks it.
fn import_view(
    text: Var<String>,
    format: Var<String>,
    model: Var<String>,
    initial: Var<String>,
    on_file: impl FnMut(web_sys::Event) + 'static,
    check_import: impl FnMut(web_sys::Event) + 'static,
) -> El {
    let load_example = {
        let (text, format, model) = (text.clone(), format.clone(), model.clone());
        move |_| {
            text.set(EXAMPLE.into());
            format.set(Format::JepsenEdn.name().into());
            model.set(ModelKind::Register.name().into());
        }
    };
    let (text_shown, text_typed) = (text.clone(), text);
    let (format_shown, format_picked) = (format.clone(), format);
    let (model_shown, model_picked, model_kv) = (model.clone(), model.clone(), model);
    let (initial_shown, initial_typed) = (initial.clone(), initial);
    el("div")
        .class("import")
        .child(
            el("textarea")
                .class("history-text")
                .attr("aria-label", "History text")
                .attr("spellcheck", "false")
                .attr("rows", "6")
                .attr(
                    "placeholder",
                    "Paste a history: Jepsen EDN, a Porcupine log, or JSON",
                )
                .prop_with("value", move || text_shown.get().into())
                .on("input", move |ev| text_typed.set(dom::event_value(&ev))),
        )
        .child(
            el("div")
                .class("row wrap")
                .child(
                    el("input")
                        .attr("type", "file")
                        .class("file")
                        .attr("aria-label", "Open a history file")
                        .attr("accept", ".edn,.json,.log,.txt,.clj")
                        .on("change", on_file),
                )
                .child(
                    el("button")
                        .class("btn small")
                        .attr("aria-label", "Load an example history")
                        .on("click", load_example)
                        .text("Example"),
                ),
        )
        .child(
            el("div")
                .class("slider")
                .child(el("label").attr("for", "hist-format").text("format"))
                .child(
                    el("select")
                        .attr("id", "hist-format")
                        .class("span2")
                        .attr("aria-label", "History format")
                        .on("change", move |ev| format_picked.set(dom::event_value(&ev)))
                        .children(
                            Format::ALL
                                .iter()
                                .map(|f| el("option").attr("value", f.name()).text(f.name())),
                        )
                        // After the options: a select takes only a value one of them has.
                        .prop_with("value", move || format_shown.get().into()),
                ),
        )
        .child(
            el("div")
                .class("slider")
                .child(el("label").attr("for", "hist-model").text("model"))
                .child(
                    el("select")
                        .attr("id", "hist-model")
                        .class("span2")
                        .attr("aria-label", "Model")
                        .on("change", move |ev| model_picked.set(dom::event_value(&ev)))
                        .children(
                            ModelKind::ALL
                                .iter()
                                .map(|m| el("option").attr("value", m.name()).text(m.name())),
                        )
                        .prop_with("value", move || model_shown.get().into()),
                ),
        )
        .child(
            el("div")
                .class("slider")
                .child(
                    el("label")
                        .attr("for", "hist-initial")
                        .text("initial value"),
                )
                .child(
                    el("input")
                        .attr("id", "hist-initial")
                        .class("span2")
                        .attr("type", "text")
                        .attr("aria-label", "Initial register value")
                        .attr("placeholder", "nil")
                        .flag_with("disabled", move || model_kv.get() == ModelKind::Kv.name())
                        .prop_with("value", move || initial_shown.get().into())
                        .on("change", move |ev| initial_typed.set(dom::event_value(&ev))),
                ),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Check the pasted history")
                .on("click", check_import)
                .text("Check"),
        )
}

fn verdict_view(ch: &Checked) -> El {
    let r = &ch.result;
    let (class, title) = match r.verdict {
        Verdict::Linearizable => ("verdict ok", "Linearizable".to_string()),
        Verdict::NotLinearizable => ("verdict bad", "NOT linearizable".to_string()),
        Verdict::Unknown => ("verdict unknown", "Unknown (budget)".to_string()),
    };
    let source = if ch.live {
        format!("this run at {}", clock_text(ch.at_us))
    } else {
        "the opened history".to_string()
    };
    let keys = if ch.model == ModelKind::Kv {
        format!(", {} key(s)", r.partitions)
    } else {
        String::new()
    };
    let summary = format!(
        "{} operations of {source} against a {} model{keys}.",
        r.operations, ch.model
    );
    let explanation = match r.verdict {
        Verdict::Linearizable if r.operations == 0 => {
            "No client operations yet: play the run for a few seconds, then check again."
                .to_string()
        }
        Verdict::Linearizable => format!(
            "Every operation can be given one instant between its call and its return so that, taken in that order, the object gives exactly the answers the clients saw. The numbers on the timeline are that order{}.",
            if ch.model == ModelKind::Kv { " (counted per key: keys are independent)" } else { "" }
        ),
        Verdict::NotLinearizable => match &r.counterexample {
            Some(c) => {
                let key = c.key.as_ref().map(|k| format!(" on key {k}")).unwrap_or_default();
                let value = c.state_after_prefix.clone().unwrap_or_else(|| "nil".into());
                let off = ch.history.operations.get(c.offending_op);
                let what = off.map_or_else(
                    || format!("operation {}", c.offending_op),
                    |o| format!("{} by C{}", o.describe(), o.client),
                );
                format!(
                    "The longest linearizable prefix{key} has {} operation(s) (numbered on the timeline), after which the value is {value}. Then {what} cannot be placed: it returned before any instant at which the object could have given that answer.",
                    c.longest_prefix.len()
                )
            }
            None => "No explanation was recorded.".to_string(),
        },
        Verdict::Unknown => format!(
            "The check stopped before a verdict: {} after {} search steps. Histories with many timed-out operations are expensive to refute; `dsplay check` has a larger budget.",
            r.stopped.map_or("it was stopped", |s| s.describe()),
            r.steps
        ),
    };
    el("div")
        .class("verdict-box")
        .child(
            el("p")
                .class(class)
                .attr("data-testid", "history-verdict")
                .text(&title),
        )
        .child(el("p").class("small").text(&summary))
        .child(el("p").class("muted small").text(&explanation))
}

fn op_details(ch: &Checked, op: usize) -> Option<El> {
    let o = ch.history.operations.get(op)?;
    let bar = ch
        .timeline
        .lanes
        .iter()
        .flat_map(|l| &l.bars)
        .find(|b| b.op == op)?;
    let times = match (o.status, o.return_us) {
        (Status::Unknown, _) | (_, None) => format!(
            "called at {}; no answer (it may take effect at any later time, or never)",
            time_text(ch.live, o.call_us)
        ),
        (_, Some(r)) => format!(
            "called at {}, returned at {}",
            time_text(ch.live, o.call_us),
            time_text(ch.live, r)
        ),
    };
    let order = match (bar.order, bar.offending) {
        (_, true) => "This is the operation that cannot be placed.".to_string(),
        (Some(i), _) => format!("Number {} in the witness order.", i + 1),
        (None, _) if o.status == Status::Fail => "It failed, so it never took effect.".into(),
        (None, _) => "Not used by the witness order.".to_string(),
    };
    let seek = ch
        .live
        .then(|| "The simulation moved to its call.".to_string());
    Some(
        el("div")
            .class("op-details")
            .attr("data-testid", "history-op")
            .child(el("h3").text(&format!("C{} · {}", o.client, o.describe())))
            .child(
                el("ul")
                    .class("lines")
                    .child(el("li").text(&times))
                    .child(el("li").text(&order))
                    .child(seek.map(|s| el("li").class("muted").text(&s))),
            ),
    )
}

/// Paints the timeline through the shared painter and returns its layout (for clicks), in
/// units of `scale` CSS px (the presenter scale: in presenter mode, type, lines and lanes are
/// all larger).
fn paint_timeline(
    c: &web_sys::HtmlCanvasElement,
    ch: &Checked,
    selected: Option<usize>,
    scale: f64,
) -> Option<OpLayout> {
    let w = c.client_width() as f64 / scale;
    if w < 10.0 {
        return None;
    }
    let l = optimeline::layout(&ch.timeline, w, MAX_DRAWN);
    let h = l.height.max(40.0);
    let _ = web_sys::HtmlElement::style(c).set_property("height", &format!("{}px", h * scale));
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio().max(1.0));
    let ctx = paint::prepare(c, w * scale, h * scale, dpr)?;
    let _ = ctx.scale(scale, scale);
    paint::draw(&ctx, &optimeline::shapes(&l, selected));
    Some(l)
}
