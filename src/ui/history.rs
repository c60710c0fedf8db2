//! The client-history panel: is this run's history linearizable? Checks the running lab's
//! client history at the cursor, or a history pasted or opened from a file (Jepsen EDN,
//! Porcupine logs, our JSON), and draws the operation timeline: one lane per client, a box per
//! operation, the witness order on each, the operation that cannot be placed in the alert
//! colour. Clicking an operation of the running lab seeks the simulation to its call.
//!
//! Where the boxes go is decided in [`crate::viz::optimeline`]; this file only paints them.

use super::{clock_text, paint, Shell};
use crate::check::{
    check_with, parse_history, timeline, CheckOptions, CheckResult, Format, History, Model,
    ModelKind, Status, Timeline, Value, Verdict,
};
use crate::sim::time::format_us;
use crate::viz::colors::{ALERT, NEUTRAL, PALETTE};
use crate::viz::optimeline::{self, OpLayout};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, MouseEvent};

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
#[component]
pub fn HistoryPanel() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let checked = StoredValue::new_local(None::<Checked>);
    // Bumped when `checked` changes (the stored value is not reactive itself).
    let version = RwSignal::new(0u64);
    let selected = RwSignal::new(None::<usize>);
    let error = RwSignal::new(None::<String>);
    let open = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let format = RwSignal::new(Format::JepsenEdn.name().to_string());
    let model = RwSignal::new(ModelKind::Register.name().to_string());
    let initial = RwSignal::new(String::new());
    let canvas = NodeRef::<Canvas>::new();
    // The timeline's layout and the presenter scale it was drawn at.
    let layout = StoredValue::new_local(None::<(OpLayout, f64)>);
    let resized = RwSignal::new(0u32);
    let handle = window_event_listener(leptos::ev::resize, move |_| {
        resized.update(|r| *r = r.wrapping_add(1))
    });
    on_cleanup(move || handle.remove());

    let show = move |c: Result<Checked, String>| match c {
        Ok(c) => {
            checked.set_value(Some(c));
            selected.set(None);
            error.set(None);
            version.update(|v| *v += 1);
        }
        Err(e) => error.set(Some(e)),
    };
    let check_run = move |_| {
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
    };
    let check_import = move |_| {
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
        let init =
            (kind != ModelKind::Kv && !init.is_empty() && init != "nil").then(|| Value::from(init));
        show(run_check(history, Model::new(kind, init), false, 0));
    };
    let on_file = move |ev: leptos::ev::Event| {
        let input = event_target::<web_sys::HtmlInputElement>(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        if file.size() > MAX_FILE_BYTES {
            error.set(Some(format!(
                "{} is {:.0} MB; the page reads files up to 32 MB (use `dsplay check` for larger ones).",
                file.name(),
                file.size() / 1_048_576.0
            )));
            return;
        }
        let name = file.name().to_lowercase();
        if name.ends_with(".json") {
            format.set(Format::Json.name().into());
        } else if name.ends_with(".log") {
            format.set(Format::PorcupineEtcd.name().into());
        }
        let Ok(reader) = web_sys::FileReader::new() else {
            return;
        };
        let r = reader.clone();
        let onload =
            Closure::once_into_js(move || match r.result().ok().and_then(|v| v.as_string()) {
                Some(t) => {
                    text.try_set(t);
                    error.try_set(None);
                }
                None => {
                    error.try_set(Some("The file could not be read as text.".into()));
                }
            });
        reader.set_onload(Some(onload.unchecked_ref()));
        if reader.read_as_text(&file).is_err() {
            error.set(Some("The file could not be read.".into()));
        }
    };

    // Paint whenever the result, the selection or the size changes.
    Effect::new(move |_| {
        version.track();
        resized.track();
        shell.presenter.track();
        let sel = selected.get();
        let Some(c) = canvas.get() else {
            return;
        };
        let scale = super::clock::style(&shell).scale;
        let l = checked.with_value(|ch| ch.as_ref().map(|ch| paint_timeline(&c, ch, sel, scale)));
        layout.set_value(l.flatten().map(|l| (l, scale)));
    });

    let click = move |ev: MouseEvent| {
        let Some(c) = canvas.get_untracked() else {
            return;
        };
        let r = c.get_bounding_client_rect();
        let (x, y) = (
            ev.client_x() as f64 - r.left(),
            ev.client_y() as f64 - r.top(),
        );
        // The layout is in the chart's own units (CSS px ÷ the presenter scale).
        let Some(op) = layout.with_value(|l| {
            l.as_ref()
                .and_then(|(l, scale)| optimeline::hit(l, x / scale, y / scale))
        }) else {
            return;
        };
        selected.set(Some(op));
        let seek = checked.with_value(|ch| {
            ch.as_ref()
                .filter(|ch| ch.live)
                .and_then(|ch| ch.history.operations.get(op).map(|o| o.call_us))
        });
        if let Some(t) = seek {
            shell.update(|s| {
                s.play(false);
                s.seek(t)
            });
        }
    };

    let verdict = move || {
        version.get();
        checked.with_value(|ch| ch.as_ref().map(verdict_view))
    };
    let details = move || {
        version.get();
        let op = selected.get()?;
        checked.with_value(|ch| ch.as_ref().and_then(|ch| op_details(ch, op)))
    };
    let has_result = move || {
        version.get();
        checked.with_value(|c| c.is_some())
    };
    let hidden_note = move || {
        version.get();
        checked.with_value(|ch| {
            let n = ch.as_ref()?.history.len();
            (n > MAX_DRAWN).then(|| {
                format!("The timeline shows {MAX_DRAWN} of {n} operations (the last ones, or those around the one that cannot be placed).")
            })
        })
    };

    view! {
        <section class="card history" aria-label="Client history">
            <h2>"Client history — linearizable?"</h2>
            <div class="row wrap">
                <button class="btn" aria-label="Check this run" title="Check the running lab's client history up to the cursor" on:click=check_run>"Check this run"</button>
                <button class="btn" aria-label="Open a history" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>"Open a history…"</button>
            </div>
            {move || open.get().then(|| view! {
                <div class="import">
                    <textarea class="history-text" aria-label="History text" spellcheck="false" rows="6"
                        placeholder="Paste a history: Jepsen EDN, a Porcupine log, or JSON"
                        prop:value=move || text.get()
                        on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    <div class="row wrap">
                        <input type="file" class="file" aria-label="Open a history file" accept=".edn,.json,.log,.txt,.clj" on:change=on_file/>
                        <button class="btn small" aria-label="Load an example history" on:click=move |_| {
                            text.set(EXAMPLE.into());
                            format.set(Format::JepsenEdn.name().into());
                            model.set(ModelKind::Register.name().into());
                        }>"Example"</button>
                    </div>
                    <div class="slider">
                        <label for="hist-format">"format"</label>
                        <select id="hist-format" class="span2" aria-label="History format" prop:value=move || format.get()
                            on:change=move |ev| format.set(event_target_value(&ev))>
                            {Format::ALL.iter().map(|f| view! { <option value=f.name()>{f.name()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="slider">
                        <label for="hist-model">"model"</label>
                        <select id="hist-model" class="span2" aria-label="Model" prop:value=move || model.get()
                            on:change=move |ev| model.set(event_target_value(&ev))>
                            {ModelKind::ALL.iter().map(|m| view! { <option value=m.name()>{m.name()}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="slider">
                        <label for="hist-initial">"initial value"</label>
                        <input id="hist-initial" class="span2" type="text" aria-label="Initial register value" placeholder="nil"
                            disabled=move || model.get() == ModelKind::Kv.name()
                            prop:value=move || initial.get() on:change=move |ev| initial.set(event_target_value(&ev))/>
                    </div>
                    <button class="btn" aria-label="Check the pasted history" on:click=check_import>"Check"</button>
                </div>
            })}
            {move || error.get().map(|e| view! { <p class="history-error" role="alert">{e}</p> })}
            {verdict}
            <canvas node_ref=canvas class="optimeline" class:empty=move || !has_result() role="img" on:click=click
                aria-label="Operation timeline: one lane per client, a box per operation from call to return, numbered in the witness order; the operation that cannot be placed in vermillion. Click an operation for its details."></canvas>
            {hidden_note}
            {details}
        </section>
    }
}

fn verdict_view(ch: &Checked) -> AnyView {
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
    view! {
        <div class="verdict-box">
            <p class=class data-testid="history-verdict">{title}</p>
            <p class="small">{summary}</p>
            <p class="muted small">{explanation}</p>
        </div>
    }
    .into_any()
}

fn op_details(ch: &Checked, op: usize) -> Option<AnyView> {
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
        view! {
            <div class="op-details" data-testid="history-op">
                <h3>{format!("C{} · {}", o.client, o.describe())}</h3>
                <ul class="lines">
                    <li>{times}</li>
                    <li>{order}</li>
                    {seek.map(|s| view! { <li class="muted">{s}</li> })}
                </ul>
            </div>
        }
        .into_any(),
    )
}

/// Paints the timeline and returns its layout (for clicks), in units of `scale` CSS px (the
/// presenter scale: in presenter mode, type, lines and lanes are all larger).
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
    let dpr = window().device_pixel_ratio().max(1.0);
    let ctx = paint::prepare(c, w * scale, h * scale, dpr)?;
    let _ = ctx.scale(scale, scale);
    ctx.set_font("10px system-ui, sans-serif");
    // Time ticks and grid.
    ctx.set_line_width(1.0);
    ctx.begin_path();
    for (x, _) in &l.ticks {
        ctx.move_to(x.round() + 0.5, optimeline::TOP - 2.0);
        ctx.line_to(x.round() + 0.5, h);
    }
    ctx.set_stroke_style_str("#e6e8ec");
    ctx.stroke();
    ctx.set_fill_style_str("#5b6472");
    ctx.set_text_baseline("alphabetic");
    for (i, (x, label)) in l.ticks.iter().enumerate() {
        let align = if i == 0 && *x < optimeline::LEFT + 12.0 {
            "left"
        } else if *x > w - 20.0 {
            "right"
        } else {
            "center"
        };
        ctx.set_text_align(align);
        let _ = ctx.fill_text(label, *x, optimeline::TOP - 5.0);
    }
    // Lanes.
    ctx.set_text_align("left");
    ctx.set_text_baseline("middle");
    ctx.set_font("600 11px system-ui, sans-serif");
    for lane in &l.lanes {
        ctx.set_fill_style_str("#1f2328");
        let _ = ctx.fill_text(&lane.label, 4.0, lane.y + optimeline::ROW / 2.0);
        ctx.begin_path();
        ctx.move_to(optimeline::LEFT, lane.y + lane.h + 1.5);
        ctx.line_to(w - optimeline::RIGHT, lane.y + lane.h + 1.5);
        ctx.set_stroke_style_str("#eef0f3");
        ctx.stroke();
    }
    // Operations.
    ctx.set_font("600 10px system-ui, sans-serif");
    ctx.set_text_align("center");
    for b in &l.boxes {
        let (x, y, bw, bh) = (b.x0, b.y, b.x1 - b.x0, b.h);
        let (fill, stroke) = if b.offending {
            (ALERT, "#6b2a00")
        } else if b.failed {
            ("#e3e5e9", NEUTRAL)
        } else if b.pending {
            ("#dfe9f2", PALETTE[0])
        } else {
            (PALETTE[0], "#004a75")
        };
        ctx.set_fill_style_str(fill);
        ctx.fill_rect(x, y, bw, bh);
        if b.pending && !b.offending {
            hatch(&ctx, x, y, bw, bh);
        }
        ctx.set_line_width(if b.offending { 2.0 } else { 1.0 });
        ctx.set_stroke_style_str(stroke);
        if b.pending {
            let _ = ctx.set_line_dash(&js_sys::Array::of2(&3.0.into(), &2.0.into()));
        }
        ctx.stroke_rect(x + 0.5, y + 0.5, (bw - 1.0).max(0.5), (bh - 1.0).max(0.5));
        let _ = ctx.set_line_dash(&js_sys::Array::new());
        if selected == Some(b.op) {
            ctx.set_line_width(2.0);
            ctx.set_stroke_style_str("#1f2328");
            ctx.stroke_rect(x - 1.5, y - 1.5, bw + 3.0, bh + 3.0);
        }
        if let (true, Some(o)) = (b.show_order, b.order) {
            let on_dark = !(b.pending || b.failed) || b.offending;
            ctx.set_fill_style_str(if on_dark { "#ffffff" } else { "#1f2328" });
            let _ = ctx.fill_text(&o.to_string(), x + bw / 2.0, y + bh / 2.0 + 0.5);
        }
    }
    Some(l)
}

/// Diagonal stripes over a pending operation's box.
fn hatch(ctx: &CanvasRenderingContext2d, x: f64, y: f64, w: f64, h: f64) {
    ctx.save();
    ctx.begin_path();
    ctx.rect(x, y, w, h);
    ctx.clip();
    ctx.begin_path();
    let mut s = x - h;
    while s < x + w {
        ctx.move_to(s, y + h);
        ctx.line_to(s + h, y);
        s += 6.0;
    }
    ctx.set_stroke_style_str("rgba(0, 114, 178, 0.35)");
    ctx.set_line_width(1.0);
    ctx.stroke();
    ctx.restore();
}
