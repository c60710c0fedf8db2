//! The experiment panel, one for every lab: pick one of the lab's experiments (from the
//! registry), set its parameters, run its trials off the main thread (the job runner,
//! [`super::jobs`]) with a progress bar and a Cancel button, then see its report: charts beside
//! their reference data, tables and a summary.
//!
//! Where things go on a chart is decided in [`crate::viz::chart`]; the shared painter draws it.

use super::dom::{self, el, El, Var};
use super::jobs::{self, JobEvent, JobId};
use super::{paint, Shell};
use crate::labs::experiment::{ExperimentSpec, Report};
use crate::labs::{ParamKind, ParamSpec};
use std::cell::Cell;
use std::rc::Rc;

/// The chart's height in CSS pixels.
const CHART_H: f64 = 200.0;

/// The run under way, shared by the panel's handlers.
#[derive(Clone)]
struct Run {
    /// The job running now, if any.
    job: Rc<Cell<Option<JobId>>>,
    /// Trials done and planned, while running.
    progress: Var<Option<(u32, u32)>>,
    report: Var<Option<Report>>,
}

/// Stops a run whose panel went away (another lab was opened): dropped with the panel.
struct CancelOnDrop(Rc<Cell<Option<JobId>>>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(job) = self.0.take() {
            jobs::cancel(job);
        }
    }
}

/// The experiment bench, the panel's state: the experiment chosen, what was typed, the run
/// and the last error. Shared by the panel's parts and handlers (clones share it).
#[derive(Clone)]
struct Bench {
    /// The lab's experiments, from the registry.
    experiments: &'static [&'static ExperimentSpec],
    /// Which of them is chosen.
    chosen: Var<usize>,
    /// What was typed, by key; the spec's defaults fill the rest.
    given: Var<Vec<(String, String)>>,
    run: Run,
    error: Var<Option<String>>,
}

impl Bench {
    /// The experiment chosen (inside an effect, followed).
    fn spec(&self) -> &'static ExperimentSpec {
        self.experiments[self.chosen.get().min(self.experiments.len() - 1)]
    }
}

/// The panel for the lab on show; nothing when it has no experiments.
pub fn experiment_panel(
    shell: Shell,
    // The lab's experiments, from the registry.
    experiments: &'static [&'static ExperimentSpec],
) -> El {
    let bench = Bench {
        experiments,
        chosen: Var::new(0usize),
        given: Var::new(Vec::new()),
        run: Run {
            job: Rc::new(Cell::new(None)),
            progress: Var::new(None),
            report: Var::new(None),
        },
        error: Var::new(None),
    };
    // A run is stopped when the panel is taken out of the page.
    dom::own(Box::new(CancelOnDrop(bench.run.job.clone())));
    let canvas_el = report_chart(shell, bench.run.report.clone());

    let (title, summary, params) = (bench.clone(), bench.clone(), bench.clone());
    let (error, report) = (bench.error.clone(), bench.run.report.clone());
    el("section")
        .class("card experiment")
        .attr("aria-label", "Experiment")
        .child(el("h2").text_with(move || title.spec().title.to_string()))
        .child(experiment_picker(&bench))
        .child(
            el("p")
                .class("muted small")
                .text_with(move || summary.spec().summary.to_string()),
        )
        .dynamic(move || {
            params
                .spec()
                .params
                .iter()
                .map(|p| param_control(p, &params))
                .collect::<Vec<El>>()
        })
        .child(run_controls(&bench))
        .dynamic(move || {
            error
                .get()
                .map(|e| el("p").class("muted small").attr("role", "status").text(&e))
        })
        .child(canvas_el)
        .dynamic({
            // What the trials show, in the experiment's own sentence.
            let report = report.clone();
            move || {
                report.get().as_ref().map(|r| {
                    el("p")
                        .class("exp-summary")
                        .attr("role", "status")
                        .text(&r.summary)
                })
            }
        })
        .dynamic({
            let report = report.clone();
            move || report.get().as_ref().map(report_tables).unwrap_or_default()
        })
        .dynamic(move || report.get().as_ref().and_then(|r| trial_links(shell, r)))
}

/// The trials worth watching, as links that open the lab's run of each and play it, with a
/// caption saying which trial it is (the link can also be copied or opened in a new tab).
fn trial_links(shell: Shell, r: &Report) -> Option<El> {
    if r.links.is_empty() {
        return None;
    }
    let items = r.links.iter().map(|l| {
        let (link, label) = (l.link.clone(), l.label.clone());
        el("li").child(
            el("a")
                .attr("href", &l.link)
                .attr("title", "Open this trial in the lab")
                .on("click", move |ev| {
                    ev.prevent_default();
                    open_trial(shell, &link, &label);
                })
                .text(&l.label),
        )
    });
    Some(
        el("div")
            .class("trial-links")
            .child(
                el("p")
                    .class("muted small")
                    .text("Open a trial in the lab:"),
            )
            .child(el("ul").children(items)),
    )
}

/// Loads a trial's link and plays it.
fn open_trial(shell: Shell, link: &str, label: &str) {
    match crate::scenario::link::decode(link) {
        Ok(s) => {
            shell.try_update(|x| {
                x.load(&s)?;
                x.play(true);
                Ok(())
            });
            let upper = label
                .get(..1)
                .map(str::to_ascii_uppercase)
                .unwrap_or_default();
            let rest = label.get(1..).unwrap_or_default();
            shell.inform(format!(
                "{upper}{rest} of the experiment, as a run of the lab."
            ));
        }
        Err(e) => shell.notice.set(Some(e.0)),
    }
}

/// The canvas with the report's first chart (drawn again as the report, the page's size or
/// presenter mode changes).
fn report_chart(shell: Shell, report: Var<Option<Report>>) -> El {
    let label = "The experiment's chart: the trials as a line, the reference data as dots";
    paint::chart_canvas(shell, label, CHART_H, move || {
        report.get().and_then(|r| r.charts.into_iter().next())
    })
    .attr("height", "200")
}

/// The experiment picker, when the lab has more than one: picking one forgets what was typed
/// and the last report.
fn experiment_picker(bench: &Bench) -> Option<El> {
    let experiments = bench.experiments;
    let bench = bench.clone();
    let pick = move |ev: web_sys::Event| {
        if let Ok(i) = dom::event_value(&ev).parse::<usize>() {
            bench.chosen.set(i.min(experiments.len() - 1));
            bench.given.set(Vec::new());
            bench.run.report.set(None);
        }
    };
    (experiments.len() > 1).then(|| {
        el("select")
            .attr("aria-label", "Experiment")
            .on("change", pick)
            .children(
                experiments
                    .iter()
                    .enumerate()
                    .map(|(i, e)| el("option").attr("value", &i.to_string()).text(e.title)),
            )
    })
}

/// The Run and Cancel buttons, and while a run is under way its progress bar.
fn run_controls(bench: &Bench) -> El {
    let running = {
        let progress = bench.run.progress.clone();
        move || progress.get().is_some()
    };
    let not_running = {
        let running = running.clone();
        move || !running()
    };
    let (start, cancel) = (bench.clone(), bench.clone());
    let progress = bench.run.progress.clone();
    el("div")
        .class("row")
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Run the experiment")
                .flag_with("disabled", running)
                .on("click", move |_| start_run(&start))
                .text("Run"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Cancel the experiment")
                .flag_with("disabled", not_running)
                .on("click", move |_| cancel_run(&cancel))
                .text("Cancel"),
        )
        .dynamic(move || progress.get().map(progress_bar).unwrap_or_default())
}

/// A run's progress: a bar and the trials done of those planned.
fn progress_bar((done, total): (u32, u32)) -> Vec<El> {
    vec![
        el("progress")
            .class("exp-progress")
            .attr("aria-label", "Trials done")
            .attr("max", &total.to_string())
            .attr("value", &done.to_string()),
        el("span")
            .class("muted small mono")
            .text(&format!("{done}/{total}")),
    ]
}

/// Runs the chosen experiment with the parameters given, in place of a run under way; or says
/// why the parameters will not do.
fn start_run(bench: &Bench) {
    let experiments = bench.experiments;
    let spec = experiments[bench.chosen.get_untracked().min(experiments.len() - 1)];
    let values = match spec.values(&bench.given.get_untracked()) {
        Ok(v) => v,
        Err(e) => return bench.error.set(Some(e)),
    };
    bench.error.set(None);
    let run = &bench.run;
    if let Some(old) = run.job.take() {
        jobs::cancel(old);
    }
    let planned = values
        .get("trials")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    run.progress.set(Some((0, planned)));
    // The trials run in the job worker; the panel hears their progress and report.
    let (r, error) = (run.clone(), bench.error.clone());
    let job = jobs::run_experiment(spec.id, values, move |event| match event {
        JobEvent::Progress(done, total) => r.progress.set(Some((done, total))),
        JobEvent::Done(report) => {
            r.job.set(None);
            r.progress.set(None);
            r.report.set(Some(*report));
        }
        JobEvent::Failed(why) => {
            r.job.set(None);
            r.progress.set(None);
            error.set(Some(why));
        }
    });
    run.job.set(Some(job));
}

/// Stops the run under way and says how far it got.
fn cancel_run(bench: &Bench) {
    let run = &bench.run;
    if let Some(job) = run.job.take() {
        jobs::cancel(job);
    }
    let done = run.progress.get_untracked().map(|p| p.0);
    run.progress.set(None);
    bench.error.set(Some(format!(
        "Cancelled after {} trials.",
        done.unwrap_or(0)
    )));
}

/// One parameter's control, showing what was typed or the default.
fn param_control(spec: &'static ParamSpec, bench: &Bench) -> El {
    let value = {
        let given = bench.given.clone();
        move || {
            given
                .get()
                .iter()
                .find(|(k, _)| k == spec.key)
                .map_or(spec.default.to_string(), |(_, v)| v.clone())
        }
    };
    let given = bench.given.clone();
    let set = move |value: String| {
        given.update(|g| {
            g.retain(|(k, _)| k != spec.key);
            g.push((spec.key.to_string(), value));
        });
    };
    let id = format!("exp-{}", spec.key);
    let kind = match spec.kind {
        ParamKind::Int { .. } => "number",
        ParamKind::Bool => "checkbox",
        _ => "text",
    };
    let control = match spec.kind {
        // A choice is a select of its options (an algorithm's name cannot be mistyped).
        ParamKind::Choice { options } => el("select")
            .attr("id", &id)
            .class("span2")
            .attr("aria-label", spec.label)
            .on("change", move |ev| set(dom::event_value(&ev)))
            .children(
                options
                    .iter()
                    .map(|o| el("option").attr("value", o).text(o)),
            )
            .prop_with("value", move || value().into()),
        _ => el("input")
            .attr("id", &id)
            .class("span2 text")
            .attr("type", kind)
            .attr("aria-label", spec.label)
            .attr("spellcheck", "false")
            .prop_with("value", move || value().into())
            .on("change", move |ev| set(dom::event_value(&ev))),
    };
    el("div")
        .class("slider")
        .attr("title", spec.help)
        .child(
            el("label")
                .attr("for", &id)
                .text(&spec.label.to_ascii_lowercase()),
        )
        .child(control)
}

/// The report's tables, with a test id per cell (`exp-<row>-<column>`), and their captions.
fn report_tables(r: &Report) -> Vec<El> {
    r.tables
        .iter()
        .flat_map(|t| {
            let head = t.columns.clone();
            let rows = t.rows.iter().map(|row| {
                let name = row.first().map(|c| c.text.clone()).unwrap_or_default();
                el("tr")
                    .child(el("th").attr("scope", "row").text(&name))
                    .children(row.iter().zip(&head).skip(1).map(|(c, col)| {
                        el("td")
                            .class("num")
                            .attr("data-testid", &format!("exp-{name}-{col}"))
                            .text(&c.text)
                    }))
            });
            [
                el("div").class("table-wrap").child(
                    el("table")
                        .class("exp-table")
                        .attr("aria-label", &t.title)
                        .child(
                            el("thead")
                                .child(el("tr").children(head.iter().map(|c| el("th").text(c)))),
                        )
                        .child(el("tbody").children(rows)),
                ),
                el("p").class("muted small").text(&t.caption),
            ]
        })
        .collect()
}
