//! The experiment panel, one for every lab: pick one of the lab's experiments (from the
//! registry), set its parameters, run its trials in short chunks between frames with a
//! progress bar and a Cancel button, then see its report: charts beside their reference data,
//! tables and a summary.
//!
//! Where things go on a chart is decided in [`crate::viz::cdf`]; this file only strokes it.

use super::{paint, Shell};
use crate::labs::experiment::{Chart, ExperimentSpec, Report, SeriesStyle, Trials};
use crate::labs::{ParamKind, ParamSpec};
use crate::viz::cdf::{self, CdfChart, Scale};
use crate::viz::colors::{NEUTRAL, PALETTE};
use leptos::html::Canvas;
use leptos::prelude::*;
use std::f64::consts::TAU;
use std::time::Duration;
use web_sys::CanvasRenderingContext2d;

/// Wall-clock milliseconds of trials per chunk, so the page keeps drawing between chunks.
const CHUNK_MS: f64 = 12.0;
/// The chart's height in CSS pixels.
const CHART_H: f64 = 200.0;
/// Our samples' colour (Okabe–Ito blue) and the reference data's (orange).
const OURS: &str = PALETTE[0];
const PAPER: &str = PALETTE[1];

/// Every handle the chunk loop needs (all `Copy`).
#[derive(Clone, Copy)]
struct Run {
    trials: StoredValue<Option<Box<dyn Trials>>, LocalStorage>,
    /// Bumped by Run and Cancel; a chunk of an older run stops.
    run_id: StoredValue<u64>,
    /// Trials done and planned, while running.
    progress: RwSignal<Option<(u32, u32)>>,
    report: RwSignal<Option<Report>, LocalStorage>,
}

fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// Runs trials for about [`CHUNK_MS`], then yields to the page and continues.
fn chunk(run: Run, id: u64) {
    if run.run_id.try_get_value() != Some(id) {
        return;
    }
    let start = now_ms();
    let step = run
        .trials
        .try_update_value(|t| {
            let t = t.as_mut()?;
            while t.run(1) > 0 && now_ms() - start < CHUNK_MS {}
            let (done, total) = t.progress();
            Some(((done, total), (done >= total).then(|| t.report())))
        })
        .flatten();
    let Some((progress, report)) = step else {
        return;
    };
    match report {
        None => {
            run.progress.try_set(Some(progress));
            set_timeout(move || chunk(run, id), Duration::ZERO);
        }
        Some(report) => {
            run.trials.try_set_value(None);
            run.progress.try_set(None);
            run.report.try_set(Some(report));
        }
    }
}

/// The panel for the lab on show; nothing when it has no experiments.
#[component]
pub fn ExperimentPanel(
    /// The lab's experiments, from the registry.
    experiments: &'static [&'static ExperimentSpec],
) -> impl IntoView {
    let shell = expect_context::<Shell>();
    let chosen = RwSignal::new(0usize);
    let spec = move || experiments[chosen.get().min(experiments.len() - 1)];
    // What was typed, by key; the spec's defaults fill the rest.
    let given = RwSignal::new(Vec::<(String, String)>::new());
    let run = Run {
        trials: StoredValue::new_local(None),
        run_id: StoredValue::new(0),
        progress: RwSignal::new(None),
        report: RwSignal::new_local(None),
    };
    let error = RwSignal::new(None::<String>);
    let canvas = NodeRef::<Canvas>::new();
    let resized = RwSignal::new(0u32);
    let handle = window_event_listener(leptos::ev::resize, move |_| {
        resized.update(|r| *r = r.wrapping_add(1))
    });
    on_cleanup(move || {
        handle.remove();
        // Stop a run whose panel went away (another lab was opened).
        run.run_id.try_update_value(|i| *i += 1);
    });

    let start = move |_| {
        let spec = experiments[chosen.get_untracked().min(experiments.len() - 1)];
        let values = match spec.values(&given.get_untracked()) {
            Ok(v) => v,
            Err(e) => return error.set(Some(e)),
        };
        let trials = match (spec.start)(&values) {
            Ok(t) => t,
            Err(e) => return error.set(Some(e)),
        };
        error.set(None);
        let id = run.run_id.get_value() + 1;
        run.run_id.set_value(id);
        run.progress.set(Some(trials.progress()));
        run.trials.set_value(Some(trials));
        set_timeout(move || chunk(run, id), Duration::ZERO);
    };
    let cancel = move |_| {
        run.run_id.update_value(|i| *i += 1);
        let done = run
            .trials
            .with_value(|t| t.as_ref().map(|t| t.progress().0));
        run.trials.set_value(None);
        run.progress.set(None);
        error.set(Some(format!(
            "Cancelled after {} trials.",
            done.unwrap_or(0)
        )));
    };
    let running = move || run.progress.get().is_some();

    // Draw whenever the report or the size changes.
    Effect::new(move |_| {
        resized.track();
        shell.presenter.track();
        let Some(c) = canvas.get() else {
            return;
        };
        run.report.with(|r| {
            let chart = r.as_ref().and_then(|r| r.charts.first());
            draw(&c, chart, super::clock::style(&shell).scale);
        });
    });

    let pick = move |ev: leptos::ev::Event| {
        if let Ok(i) = event_target_value(&ev).parse::<usize>() {
            chosen.set(i.min(experiments.len() - 1));
            given.set(Vec::new());
            run.report.set(None);
        }
    };
    let set_param = move |key: &'static str, value: String| {
        given.update(|g| {
            g.retain(|(k, _)| k != key);
            g.push((key.to_string(), value));
        });
    };
    view! {
        <section class="card experiment" aria-label="Experiment">
            <h2>{move || spec().title}</h2>
            {(experiments.len() > 1).then(|| view! {
                <select aria-label="Experiment" on:change=pick>
                    {experiments.iter().enumerate().map(|(i, e)| view! { <option value=i.to_string()>{e.title}</option> }).collect_view()}
                </select>
            })}
            <p class="muted small">{move || spec().summary}</p>
            {move || spec().params.iter().map(|p| param_control(p, given, set_param)).collect_view()}
            <div class="row">
                <button class="btn" aria-label="Run the experiment" disabled=running on:click=start>"Run"</button>
                <button class="btn" aria-label="Cancel the experiment" disabled=move || !running() on:click=cancel>"Cancel"</button>
                {move || run.progress.get().map(|(done, total)| view! {
                    <progress class="exp-progress" aria-label="Trials done" max=total.to_string() value=done.to_string()></progress>
                    <span class="muted small mono">{format!("{done}/{total}")}</span>
                })}
            </div>
            {move || error.get().map(|e| view! { <p class="muted small" role="status">{e}</p> })}
            <canvas node_ref=canvas class="chart" height="200" role="img"
                aria-label="The experiment's chart: the trials as a line, the reference data as dots"></canvas>
            {move || run.report.with(|r| r.as_ref().map(report_tables))}
        </section>
    }
}

/// One parameter's control, showing what was typed or the default.
fn param_control(
    spec: &'static ParamSpec,
    given: RwSignal<Vec<(String, String)>>,
    set: impl Fn(&'static str, String) + Copy + 'static,
) -> impl IntoView {
    let value = move || {
        given.with(|g| {
            g.iter()
                .find(|(k, _)| k == spec.key)
                .map_or(spec.default.to_string(), |(_, v)| v.clone())
        })
    };
    let id = format!("exp-{}", spec.key);
    let kind = match spec.kind {
        ParamKind::Int { .. } => "number",
        ParamKind::Bool => "checkbox",
        _ => "text",
    };
    view! {
        <div class="slider" title=spec.help>
            <label for=id.clone()>{spec.label.to_lowercase()}</label>
            <input id=id class="span2 text" type=kind aria-label=spec.label spellcheck="false"
                prop:value=value on:change=move |ev| set(spec.key, event_target_value(&ev))/>
        </div>
    }
}

/// The report's tables, with a test id per cell (`exp-<row>-<column>`), and their captions.
fn report_tables(r: &Report) -> impl IntoView {
    r.tables
        .iter()
        .map(|t| {
            let head = t.columns.clone();
            view! {
                <div class="table-wrap">
                    <table class="exp-table" aria-label=t.title.clone()>
                        <thead><tr>{head.iter().map(|c| view! { <th>{c.clone()}</th> }).collect_view()}</tr></thead>
                        <tbody>
                            {t.rows.iter().map(|row| {
                                let name = row.first().map(|c| c.text.clone()).unwrap_or_default();
                                view! {
                                    <tr>
                                        <th scope="row">{name.clone()}</th>
                                        {row.iter().zip(&head).skip(1).map(|(c, col)| view! {
                                            <td class="num" data-testid=format!("exp-{name}-{col}")>{c.text.clone()}</td>
                                        }).collect_view()}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <p class="muted small">{t.caption.clone()}</p>
            }
        })
        .collect_view()
}

/// Draws a report's chart: its measured series as a staircase, its reference data as dots. In
/// presenter mode (`scale` > 1) everything is larger: the chart is laid out `scale` times
/// narrower and drawn `scale` times bigger.
fn draw(c: &web_sys::HtmlCanvasElement, chart_data: Option<&Chart>, scale: f64) {
    let w = c.client_width() as f64 / scale;
    if w < 10.0 {
        return;
    }
    let _ =
        web_sys::HtmlElement::style(c).set_property("height", &format!("{}px", CHART_H * scale));
    let dpr = window().device_pixel_ratio().max(1.0);
    let Some(ctx) = paint::prepare(c, w * scale, CHART_H * scale, dpr) else {
        return;
    };
    let _ = ctx.scale(scale, scale);
    let Some(data) = chart_data else {
        return;
    };
    let series = |reference: bool| {
        data.series
            .iter()
            .find(|s| s.reference == reference && s.style != SeriesStyle::Bars)
    };
    let ours = series(false).map_or(&[][..], |s| &s.points[..]);
    // Reference points are (value, quantile); the layout takes (quantile, value).
    let reference: Vec<(f64, f64)> = series(true)
        .map(|s| s.points.iter().map(|(x, q)| (*q, *x)).collect())
        .unwrap_or_default();
    let chart = cdf::chart(ours, &reference, w, CHART_H);
    axes(&ctx, &chart, data);
    if chart.line.len() > 1 {
        ctx.begin_path();
        for (i, (x, y)) in chart.line.iter().enumerate() {
            if i == 0 {
                ctx.move_to(*x, *y);
            } else {
                ctx.line_to(*x, *y);
            }
        }
        ctx.set_stroke_style_str(OURS);
        ctx.set_line_width(2.0);
        ctx.stroke();
    }
    for m in &chart.markers {
        ctx.begin_path();
        let _ = ctx.arc(m.x, m.y, 4.0, 0.0, TAU);
        ctx.set_fill_style_str(PAPER);
        ctx.fill();
        ctx.set_stroke_style_str("#5a3d00");
        ctx.set_line_width(1.0);
        ctx.stroke();
    }
    let names = (
        series(false).map(|s| s.name.as_str()),
        series(true).map(|s| s.name.as_str()),
    );
    legend(&ctx, &chart, names);
}

fn axes(ctx: &CanvasRenderingContext2d, chart: &CdfChart, data: &Chart) {
    let (left, top, right, bottom) = chart.area;
    ctx.set_font("11px system-ui, sans-serif");
    ctx.set_line_width(1.0);
    // Grid.
    ctx.begin_path();
    for t in &chart.x_ticks {
        ctx.move_to(t.px.round() + 0.5, top);
        ctx.line_to(t.px.round() + 0.5, bottom);
    }
    for t in &chart.y_ticks {
        ctx.move_to(left, t.px.round() + 0.5);
        ctx.line_to(right, t.px.round() + 0.5);
    }
    ctx.set_stroke_style_str("#e6e8ec");
    ctx.stroke();
    // Axis lines.
    ctx.begin_path();
    ctx.move_to(left + 0.5, top);
    ctx.line_to(left + 0.5, bottom + 0.5);
    ctx.line_to(right, bottom + 0.5);
    ctx.set_stroke_style_str(NEUTRAL);
    ctx.stroke();
    ctx.set_fill_style_str("#5b6472");
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    for t in &chart.x_ticks {
        let _ = ctx.fill_text(&t.label, t.px, bottom + 4.0);
    }
    let title = if chart.x.scale == Scale::Log {
        format!("{} (log scale)", data.x_label)
    } else {
        data.x_label.clone()
    };
    let _ = ctx.fill_text(&title, (left + right) / 2.0, bottom + 18.0);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    for t in &chart.y_ticks {
        let _ = ctx.fill_text(&t.label, left - 4.0, t.px);
    }
    ctx.set_text_align("left");
    ctx.set_text_baseline("alphabetic");
    let _ = ctx.fill_text(&data.y_label, 4.0, 12.0);
}

fn legend(ctx: &CanvasRenderingContext2d, chart: &CdfChart, names: (Option<&str>, Option<&str>)) {
    let (_, _, right, _) = chart.area;
    ctx.set_font("11px system-ui, sans-serif");
    ctx.set_text_baseline("middle");
    ctx.set_text_align("left");
    let y = 10.0;
    let mut x = right - 150.0;
    if let Some(name) = names.0 {
        ctx.begin_path();
        ctx.move_to(x, y);
        ctx.line_to(x + 16.0, y);
        ctx.set_stroke_style_str(OURS);
        ctx.set_line_width(2.0);
        ctx.stroke();
        ctx.set_fill_style_str("#1f2328");
        let _ = ctx.fill_text(name, x + 20.0, y);
    }
    x += 62.0;
    if let Some(name) = names.1 {
        ctx.begin_path();
        let _ = ctx.arc(x + 4.0, y, 4.0, 0.0, TAU);
        ctx.set_fill_style_str(PAPER);
        ctx.fill();
        ctx.set_fill_style_str("#1f2328");
        let short = name.split(' ').take(2).collect::<Vec<_>>().join(" ");
        let _ = ctx.fill_text(&short, x + 12.0, y);
    }
}
