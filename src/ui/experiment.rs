//! The Raft election experiment panel (the paper's §9.3, Figure 16): runs
//! [`ElectionExperiment`] in short chunks between frames, with a progress bar and a Cancel
//! button, then draws the cumulative distribution of our trials beside the paper's quantiles
//! and tabulates both.
//!
//! Where things go on the chart is decided in [`crate::viz::cdf`]; this file only strokes it.

use super::{paint, Shell};
use crate::labs::raft::experiment::{ElectionExperiment, ElectionParams, ElectionResult};
use crate::labs::raft::paper::{self, PaperRange, FIG16};
use crate::viz::cdf::{self, fmt_ms, CdfChart, Scale};
use crate::viz::colors::{NEUTRAL, PALETTE};
use leptos::html::Canvas;
use leptos::prelude::*;
use std::f64::consts::TAU;
use std::time::Duration;
use web_sys::CanvasRenderingContext2d;

/// The most trials a browser run may ask for.
pub const MAX_TRIALS: u32 = 10_000;
/// Wall-clock milliseconds of trials per chunk, so the page keeps drawing between chunks.
const CHUNK_MS: f64 = 12.0;
/// The chart's height in CSS pixels.
const CHART_H: f64 = 200.0;
/// Our samples' colour (Okabe–Ito blue) and the paper's (orange).
const OURS: &str = PALETTE[0];
const PAPER: &str = PALETTE[1];

/// A finished run: what was asked and what came out.
#[derive(Clone, PartialEq)]
struct Finished {
    range: &'static PaperRange,
    seed: u64,
    result: ElectionResult,
    cdf: Vec<(f64, f64)>,
}

/// Every handle the chunk loop needs (all `Copy`).
#[derive(Clone, Copy)]
struct Run {
    experiment: StoredValue<Option<ElectionExperiment>, LocalStorage>,
    /// Bumped by Run and Cancel; a chunk of an older run stops.
    run_id: StoredValue<u64>,
    /// Trials done and planned, while running.
    progress: RwSignal<Option<(u32, u32)>>,
    finished: RwSignal<Option<Finished>>,
    range: RwSignal<usize>,
    seed: RwSignal<u64>,
    /// The range and seed of the run in progress (the controls may change meanwhile).
    started: StoredValue<(usize, u64)>,
}

fn now_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

fn range_text(r: &PaperRange) -> String {
    format!("{}–{} ms", r.timeout_min_ms, r.timeout_max_ms)
}

/// Runs trials for about [`CHUNK_MS`], then yields to the page and continues.
fn chunk(run: Run, id: u64) {
    if run.run_id.try_get_value() != Some(id) {
        return;
    }
    let start = now_ms();
    let step = run
        .experiment
        .try_update_value(|e| {
            let e = e.as_mut()?;
            loop {
                e.run_trials(1);
                if e.is_finished() || now_ms() - start >= CHUNK_MS {
                    break;
                }
            }
            Some((e.progress(), e.is_finished().then(|| e.result())))
        })
        .flatten();
    let Some((progress, result)) = step else {
        return;
    };
    match result {
        None => {
            run.progress.try_set(Some(progress));
            set_timeout(move || chunk(run, id), Duration::ZERO);
        }
        Some(result) => {
            let (range, seed) = run.started.try_get_value().unwrap_or_default();
            let cdf = paper::cdf(&result.samples_ms);
            run.experiment.try_set_value(None);
            run.progress.try_set(None);
            run.finished.try_set(Some(Finished {
                range: &FIG16[range.min(FIG16.len() - 1)],
                seed,
                result,
                cdf,
            }));
        }
    }
}

/// The panel.
#[component]
pub fn ElectionPanel() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let default_range = FIG16
        .iter()
        .position(|r| (r.timeout_min_ms, r.timeout_max_ms) == (150, 300))
        .unwrap_or(0);
    let run = Run {
        experiment: StoredValue::new_local(None),
        run_id: StoredValue::new(0),
        progress: RwSignal::new(None),
        finished: RwSignal::new(None),
        range: RwSignal::new(default_range),
        seed: RwSignal::new(1),
        started: StoredValue::new((default_range, 1)),
    };
    let trials = RwSignal::new(1_000u32);
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
        let range = run.range.get_untracked().min(FIG16.len() - 1);
        let r = &FIG16[range];
        let p = ElectionParams {
            nodes: 5,
            timeout_min_ms: r.timeout_min_ms,
            timeout_max_ms: r.timeout_max_ms,
            trials: trials.get_untracked(),
            seed: run.seed.get_untracked(),
        };
        if let Err(e) = p.validate() {
            error.set(Some(e));
            return;
        }
        error.set(None);
        let id = run.run_id.get_value() + 1;
        run.run_id.set_value(id);
        run.started.set_value((range, p.seed));
        run.progress.set(Some((0, p.trials)));
        run.experiment
            .set_value(Some(ElectionExperiment::new(p.clone())));
        set_timeout(move || chunk(run, id), Duration::ZERO);
    };
    let cancel = move |_| {
        run.run_id.update_value(|i| *i += 1);
        let done = run
            .experiment
            .with_value(|e| e.as_ref().map(|e| e.progress().0));
        run.experiment.set_value(None);
        run.progress.set(None);
        error.set(Some(format!(
            "Cancelled after {} trials.",
            done.unwrap_or(0)
        )));
    };
    let set_trials =
        move |ev: leptos::ev::Event| match event_target_value(&ev).trim().parse::<u32>() {
            Ok(n) if (1..=MAX_TRIALS).contains(&n) => {
                trials.set(n);
                error.set(None);
            }
            _ => error.set(Some(format!(
                "Trials must be a whole number from 1 to {MAX_TRIALS}."
            ))),
        };
    let set_seed = move |ev: leptos::ev::Event| match event_target_value(&ev).trim().parse::<u64>()
    {
        Ok(s) => {
            run.seed.set(s);
            error.set(None);
        }
        Err(_) => error.set(Some(
            "The seed must be a whole number from 0 to 18446744073709551615.".into(),
        )),
    };
    let running = move || run.progress.get().is_some();

    // Draw whenever the result, the chosen range or the size changes.
    Effect::new(move |_| {
        resized.track();
        shell.presenter.track();
        let range = run.range.get().min(FIG16.len() - 1);
        let Some(c) = canvas.get() else {
            return;
        };
        run.finished.with(|f| {
            let r = &FIG16[range];
            let f = f.as_ref().filter(|f| {
                (f.range.timeout_min_ms, f.range.timeout_max_ms)
                    == (r.timeout_min_ms, r.timeout_max_ms)
            });
            draw(&c, &FIG16[range], f, super::clock::style(&shell).scale);
        });
    });

    let table = move || {
        run.finished.get().map(|f| {
            let r = &f.result;
            let p = f.range;
            let rows = [
                ("median", r.p50_ms, p.quantiles[3].1),
                ("p90", r.p90_ms, p.quantiles[5].1),
                ("mean", r.mean_ms, p.mean_ms),
                ("max", r.max_ms, p.quantiles[8].1),
            ];
            view! {
                <div class="table-wrap">
                    <table class="exp-table" aria-label="Time without a leader, ms: dsplay and the paper">
                        <thead><tr><th>"ms"</th><th>"dsplay"</th><th>"paper"</th></tr></thead>
                        <tbody>
                            {rows.into_iter().map(|(name, ours, paper)| view! {
                                <tr>
                                    <th scope="row">{name}</th>
                                    <td class="num" data-testid=format!("exp-{name}-ours")>{fmt_ms(ours)}</td>
                                    <td class="num" data-testid=format!("exp-{name}-paper")>{fmt_ms(paper)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <p class="muted small">
                    {format!(
                        "{} trials of {}, seed {}; the paper measured {} trials.",
                        r.trials, range_text(p), f.seed, p.trials
                    )}
                </p>
            }
        })
    };

    view! {
        <section class="card experiment" aria-label="Election experiment">
            <h2>"Election experiment (Raft paper §9.3, Figure 16)"</h2>
            <p class="muted small">"Five servers; the leader crashes, and we time until a new one is heard by all. Each trial is a real run of this Raft."</p>
            <div class="slider">
                <label for="exp-range">"timeouts"</label>
                <select id="exp-range" class="span2" aria-label="Election timeout range"
                    prop:value=move || run.range.get().to_string()
                    on:change=move |ev| {
                        if let Ok(i) = event_target_value(&ev).parse::<usize>() {
                            run.range.set(i.min(FIG16.len() - 1));
                        }
                    }>
                    {FIG16.iter().enumerate().map(|(i, r)| view! {
                        <option value=i.to_string() selected=i == default_range>{range_text(r)}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="slider">
                <label for="exp-trials">"trials"</label>
                <input id="exp-trials" class="span2" type="number" min="1" max=MAX_TRIALS.to_string() step="1" aria-label="Trials"
                    prop:value=move || trials.get().to_string() on:change=set_trials/>
            </div>
            <div class="slider">
                <label for="exp-seed">"seed"</label>
                <input id="exp-seed" class="span2" type="number" min="0" aria-label="Experiment seed"
                    prop:value=move || run.seed.get().to_string() on:change=set_seed/>
            </div>
            <div class="row">
                <button class="btn" aria-label="Run the election experiment" disabled=running on:click=start>"Run"</button>
                <button class="btn" aria-label="Cancel the election experiment" disabled=move || !running() on:click=cancel>"Cancel"</button>
                {move || run.progress.get().map(|(done, total)| view! {
                    <progress class="exp-progress" aria-label="Trials done" max=total.to_string() value=done.to_string()></progress>
                    <span class="muted small mono">{format!("{done}/{total}")}</span>
                })}
            </div>
            {move || error.get().map(|e| view! { <p class="muted small" role="status">{e}</p> })}
            <canvas node_ref=canvas class="chart" height="200" role="img"
                aria-label="Cumulative distribution of the time without a leader: dsplay's trials as a line, the paper's quantiles as dots"></canvas>
            {table}
        </section>
    }
}

/// Draws the chart: the paper's quantiles for `range` and, when finished, our CDF. In
/// presenter mode (`scale` > 1) everything is larger: the chart is laid out `scale` times
/// narrower and drawn `scale` times bigger.
fn draw(c: &web_sys::HtmlCanvasElement, range: &PaperRange, f: Option<&Finished>, scale: f64) {
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
    // The eight points the paper's figure reports (p99.9 is left out).
    let reference: Vec<(f64, f64)> = range
        .quantiles
        .iter()
        .copied()
        .filter(|(q, _)| (*q - 0.999).abs() > 1e-9)
        .collect();
    let ours = f.map_or(&[][..], |f| &f.cdf[..]);
    let chart = cdf::chart(ours, &reference, w, CHART_H);
    axes(&ctx, &chart, w);
    // Our CDF.
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
    // The paper's quantiles.
    for m in &chart.markers {
        ctx.begin_path();
        let _ = ctx.arc(m.x, m.y, 4.0, 0.0, TAU);
        ctx.set_fill_style_str(PAPER);
        ctx.fill();
        ctx.set_stroke_style_str("#5a3d00");
        ctx.set_line_width(1.0);
        ctx.stroke();
    }
    legend(&ctx, &chart, f.is_some());
}

fn axes(ctx: &CanvasRenderingContext2d, chart: &CdfChart, w: f64) {
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
        "time without a leader (ms, log scale)"
    } else {
        "time without a leader (ms)"
    };
    let _ = ctx.fill_text(title, (left + right) / 2.0, bottom + 18.0);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    for t in &chart.y_ticks {
        let _ = ctx.fill_text(&t.label, left - 4.0, t.px);
    }
    ctx.set_text_align("left");
    ctx.set_text_baseline("alphabetic");
    let _ = ctx.fill_text("fraction of trials", 4.0, 12.0);
    let _ = w;
}

fn legend(ctx: &CanvasRenderingContext2d, chart: &CdfChart, ours: bool) {
    let (_, _, right, _) = chart.area;
    ctx.set_font("11px system-ui, sans-serif");
    ctx.set_text_baseline("middle");
    ctx.set_text_align("left");
    let y = 10.0;
    let mut x = right - 110.0;
    if ours {
        ctx.begin_path();
        ctx.move_to(x, y);
        ctx.line_to(x + 16.0, y);
        ctx.set_stroke_style_str(OURS);
        ctx.set_line_width(2.0);
        ctx.stroke();
        ctx.set_fill_style_str("#1f2328");
        let _ = ctx.fill_text("dsplay", x + 20.0, y);
    }
    x += 62.0;
    ctx.begin_path();
    let _ = ctx.arc(x + 4.0, y, 4.0, 0.0, TAU);
    ctx.set_fill_style_str(PAPER);
    ctx.fill();
    ctx.set_fill_style_str("#1f2328");
    let _ = ctx.fill_text("paper", x + 12.0, y);
}
