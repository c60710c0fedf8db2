//! "Find a counterexample", for every lab: many runs of the scenario on show, each with faults
//! drawn from its seed, judged in a pool of Web Workers (one per core the browser reports, less
//! one for the page, at least one); the first run in seed order that breaks a property is
//! shrunk and opened at the moment it broke. The seeds' bookkeeping is [`crate::play::hunt`];
//! this is the pool and the card.

use super::dom::{self, el, El, Var};
use super::Shell;
use crate::play::hunt::{self, Answer, Broken, Hunt, Outcome};
use crate::play::sweep::{self, Faults};
use crate::scenario::{link, Scenario};
use std::cell::{Cell, RefCell};

/// How long each run lasts in virtual time (faults for the first two thirds), as on the
/// command line.
const UNTIL_US: u64 = 30_000_000;
/// Seeds each worker holds, so that none waits for the page between two.
const IN_FLIGHT: usize = 2;
/// The most workers a pool starts.
const MAX_WORKERS: u32 = 8;
/// Wall-clock milliseconds between two progress reports to the card.
const PROGRESS_MS: f64 = 100.0;
/// The seed counts offered.
const SEEDS: [&str; 3] = ["100", "1000", "10000"];
const PROFILES: [Faults; 3] = [Faults::Light, Faults::Default, Faults::Heavy];

/// What the card shows.
#[derive(Clone, Debug, PartialEq)]
enum Status {
    Idle,
    Running(Progress),
    /// A seed broke a property; its run is being shrunk.
    Shrinking(Broken),
    Found(Found),
    Clean(Progress),
    Stopped(String),
}

#[derive(Clone, Debug, PartialEq)]
struct Progress {
    done: u64,
    planned: u64,
    events: u64,
    broken: u64,
    elapsed_ms: f64,
}

/// The counterexample, shrunk, and the run as the hunt drew it.
#[derive(Clone, Debug, PartialEq)]
struct Found {
    broken: Broken,
    at_us: u64,
    before: usize,
    after: usize,
    link: String,
    original: String,
}

/// Where a seed is judged: a worker, or the page itself where no worker starts.
enum Lane {
    Worker(web_sys::Worker),
    Page,
}

impl Lane {
    fn send(&self, id: u64, line: String) {
        match self {
            Lane::Worker(w) => {
                let _ = w.post_message(&line.into());
            }
            // One request per turn of the page's event loop, so that it keeps painting.
            Lane::Page => dom::after_ms(0, move || {
                if running(id) {
                    if let Some(reply) = hunt::answer(&line) {
                        from_worker(&reply);
                    }
                }
            }),
        }
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        if let Lane::Worker(w) = self {
            w.terminate();
        }
    }
}

/// The hunt under way.
struct Pool {
    id: u64,
    hunt: Hunt,
    /// Each lane with the seeds it holds.
    lanes: Vec<(Lane, Vec<u64>)>,
    base: Scenario,
    link: String,
    faults: Faults,
    started_ms: f64,
    reported_ms: f64,
    /// The seed being shrunk, once the hunt is decided.
    shrinking: Option<Broken>,
    status: Var<Status>,
}

thread_local! {
    static POOL: RefCell<Option<Pool>> = const { RefCell::new(None) };
    static NEXT_ID: Cell<u64> = const { Cell::new(1) };
}

fn running(id: u64) -> bool {
    POOL.with(|p| p.borrow().as_ref().is_some_and(|p| p.id == id))
}

/// Workers for a pool: one per core the browser reports, less one for the page.
fn lanes() -> Vec<(Lane, Vec<u64>)> {
    let cores = web_sys::window().map_or(1.0, |w| w.navigator().hardware_concurrency());
    let wanted = (cores as u32).saturating_sub(1).clamp(1, MAX_WORKERS);
    let workers: Vec<_> = (0..wanted)
        .map_while(|_| super::jobs::start_worker(from_worker))
        .map(|w| (Lane::Worker(w), Vec::new()))
        .collect();
    if workers.is_empty() {
        vec![(Lane::Page, Vec::new())]
    } else {
        workers
    }
}

/// Starts a hunt of `base` in place of one under way; `status` hears how it goes.
fn start(base: Scenario, faults: Faults, planned: u64, status: Var<Status>) {
    stop();
    let id = NEXT_ID.with(|n| n.replace(n.get() + 1));
    let now = super::jobs::now_ms();
    let pool = Pool {
        id,
        hunt: Hunt::new(planned),
        lanes: lanes(),
        link: link::encode(&base),
        base,
        faults,
        started_ms: now,
        reported_ms: now,
        shrinking: None,
        status,
    };
    POOL.with(|p| *p.borrow_mut() = Some(pool));
    with_pool(fill);
}

/// Ends the hunt under way, if any: its workers are stopped.
fn stop() {
    let pool = POOL.with(|p| p.borrow_mut().take());
    drop(pool);
}

fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> Option<R> {
    POOL.with(|p| p.borrow_mut().as_mut().map(f))
}

/// Hands out seeds until every lane holds its share.
fn fill(p: &mut Pool) {
    for (lane, held) in &mut p.lanes {
        while held.len() < IN_FLIGHT {
            let Some(k) = p.hunt.next_seed() else { return };
            held.push(k);
            lane.send(
                p.id,
                hunt::judge_request(p.id, k, p.faults, UNTIL_US, &p.link),
            );
        }
    }
}

/// A line from a worker of the pool.
fn from_worker(line: &str) {
    let word = line.split(' ').next().unwrap_or_default();
    let status = match word {
        "ready" => return,
        "failed" => with_pool(on_page).flatten(),
        "crashed" => with_pool(|p| {
            let why = "A worker stopped, perhaps out of memory.".to_string();
            (p.status.clone(), Status::Stopped(why))
        }),
        _ => hunt::read_answer(line)
            .and_then(|(id, answer)| with_pool(|p| (p.id == id).then(|| heard(p, answer))))
            .flatten()
            .flatten(),
    };
    // The card hears the news once the pool is let go (its views may start another hunt).
    if let Some((var, status)) = status {
        if !busy(&status) {
            stop();
        }
        if let Status::Found(f) = &status {
            open(Shell::current(), &f.link);
        }
        var.set(status);
    }
}

/// The workers did not load: their seeds are judged on the page instead.
fn on_page(p: &mut Pool) -> Option<(Var<Status>, Status)> {
    if p.lanes.iter().all(|(lane, _)| matches!(lane, Lane::Page)) {
        return None;
    }
    web_sys::console::warn_1(&"hunt: the workers did not load; seeds run on the page".into());
    let held: Vec<u64> = p.lanes.drain(..).flat_map(|(_, held)| held).collect();
    for &k in &held {
        let line = hunt::judge_request(p.id, k, p.faults, UNTIL_US, &p.link);
        Lane::Page.send(p.id, line);
    }
    p.lanes.push((Lane::Page, held));
    None
}

/// What an answer changes, and what the card should show now (if anything new).
fn heard(p: &mut Pool, answer: Answer) -> Option<(Var<Status>, Status)> {
    let status = match answer {
        Answer::Judged { .. } if p.shrinking.is_some() => return None,
        Answer::Judged { k, events, broke } => {
            for (_, held) in &mut p.lanes {
                held.retain(|&x| x != k);
            }
            p.hunt.judged(k, events, broke);
            decided(p)?
        }
        Answer::Shrunk {
            at_us,
            before,
            after,
            link,
        } => {
            let broken = p.shrinking.take()?;
            let run = sweep::faulty_run(&p.base, broken.k, p.faults, UNTIL_US);
            Status::Found(Found {
                broken,
                at_us,
                before,
                after,
                link,
                original: link::encode(&run),
            })
        }
        Answer::Error(why) => Status::Stopped(why),
    };
    Some((p.status.clone(), status))
}

/// After a seed came back: the hunt's end, the next seeds handed out, or progress.
fn decided(p: &mut Pool) -> Option<Status> {
    let now = super::jobs::now_ms();
    match p.hunt.outcome() {
        Some(Outcome::Clean) => Some(Status::Clean(progress(p, now))),
        Some(Outcome::Broken(b)) => {
            // One worker shrinks the run; the others are let go.
            p.lanes.truncate(1);
            let (lane, held) = &mut p.lanes[0];
            held.clear();
            let line = hunt::shrink_request(p.id, b.k, p.faults, UNTIL_US, &b.property, &p.link);
            lane.send(p.id, line);
            p.shrinking = Some(b.clone());
            Some(Status::Shrinking(b))
        }
        None => {
            fill(p);
            (now - p.reported_ms >= PROGRESS_MS).then(|| {
                p.reported_ms = now;
                Status::Running(progress(p, now))
            })
        }
    }
}

fn progress(p: &Pool, now_ms: f64) -> Progress {
    Progress {
        done: p.hunt.done,
        planned: p.hunt.planned,
        events: p.hunt.events,
        broken: p.hunt.broken,
        elapsed_ms: now_ms - p.started_ms,
    }
}

// ---------------------------------------------------------------------------------------------
// The card.

/// The choices on the card.
#[derive(Clone)]
struct Choices {
    /// The variant to hunt in: `None` follows the run on show.
    variant: Var<Option<String>>,
    faults: Var<usize>,
    seeds: Var<usize>,
    status: Var<Status>,
}

/// Stops a hunt whose card went away (another lab was opened).
struct StopOnDrop;

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        stop();
    }
}

/// The card for the lab on show.
pub fn hunt_panel(shell: Shell, variants: &'static [crate::labs::Variant]) -> El {
    let c = Choices {
        variant: Var::new(None),
        faults: Var::new(1),
        seeds: Var::new(1),
        status: Var::new(Status::Idle),
    };
    dom::own(Box::new(StopOnDrop));
    let status = c.status.clone();
    el("section")
        .class("card hunt")
        .attr("aria-label", "Find a counterexample")
        .child(el("h2").text("Find a counterexample"))
        .child(el("p").class("muted small").text(
            "Runs this scenario many times, each with its own random faults for 20 s and \
             10 s to heal, checks every property, and opens the smallest run that breaks one.",
        ))
        .child(variant_picker(shell, &c, variants))
        .child(choices_row(&c))
        .child(buttons(shell, &c))
        .dynamic(move || status_view(shell, status.get()))
}

/// The protocol to hunt in: the real one or one of the lab's deliberately broken variants.
fn variant_picker(
    shell: Shell,
    c: &Choices,
    variants: &'static [crate::labs::Variant],
) -> Option<El> {
    if variants.is_empty() {
        return None;
    }
    let (chosen, set) = (c.variant.clone(), c.variant.clone());
    let options = std::iter::once(el("option").attr("value", "none").text("the real protocol"))
        .chain(variants.iter().map(|v| {
            let label = format!("{}: {}", v.id, v.mistake);
            el("option").attr("value", v.id).text(&label)
        }));
    Some(
        el("select")
            .attr("aria-label", "Protocol to hunt in")
            .attr("data-testid", "hunt-variant")
            .on("change", move |ev| set.set(Some(dom::event_value(&ev))))
            .children(options)
            .prop_with("value", move || {
                shell.edits.get();
                let run = shell.with(|s| s.base().param("variant").map(str::to_string));
                let v = chosen.get().or(run.flatten());
                v.unwrap_or_else(|| "none".into()).into()
            }),
    )
}

/// The fault profile and the number of seeds.
fn choices_row(c: &Choices) -> El {
    let names = PROFILES.iter().map(|&f| hunt::faults_name(f));
    el("div")
        .class("row")
        .child(select_of(
            "Faults",
            "hunt-faults",
            names.map(|n| format!("{n} faults")).collect(),
            c.faults.clone(),
        ))
        .child(select_of(
            "Seeds",
            "hunt-seeds",
            SEEDS
                .iter()
                .map(|n| format!("{} runs", thousands(n)))
                .collect(),
            c.seeds.clone(),
        ))
}

fn select_of(label: &str, id: &str, options: Vec<String>, chosen: Var<usize>) -> El {
    let set = chosen.clone();
    el("select")
        .attr("aria-label", label)
        .attr("data-testid", id)
        .on("change", move |ev| {
            if let Ok(i) = dom::event_value(&ev).parse() {
                set.set(i);
            }
        })
        .children(
            options
                .iter()
                .enumerate()
                .map(|(i, o)| el("option").attr("value", &i.to_string()).text(o)),
        )
        .prop_with("value", move || chosen.get().to_string().into())
}

/// `10,000` from `10000`.
fn thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn busy(status: &Status) -> bool {
    matches!(status, Status::Running(_) | Status::Shrinking(_))
}

/// Find and Cancel.
fn buttons(shell: Shell, c: &Choices) -> El {
    let (s1, s2) = (c.status.clone(), c.status.clone());
    let (go, cancel) = (c.clone(), c.status.clone());
    el("div")
        .class("row")
        .child(
            el("button")
                .class("btn")
                .attr("data-testid", "hunt-find")
                .flag_with("disabled", move || busy(&s1.get()))
                .on("click", move |_| find(shell, &go))
                .text("Find"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Cancel the hunt")
                .flag_with("disabled", move || !busy(&s2.get()))
                .on("click", move |_| {
                    stop();
                    cancel.set(Status::Stopped("Cancelled.".into()));
                })
                .text("Cancel"),
        )
}

/// Starts the hunt the card asks for, on the scenario on show.
fn find(shell: Shell, c: &Choices) {
    let Some(mut base) = shell.with(|s| s.scenario()) else {
        return;
    };
    base.cursor_us = None;
    // "none" is the real protocol (a link leaves it out).
    if let Some(v) = c.variant.get_untracked() {
        base.params.insert("variant".into(), v);
    }
    let faults = PROFILES[c.faults.get_untracked().min(PROFILES.len() - 1)];
    let planned = SEEDS[c.seeds.get_untracked().min(SEEDS.len() - 1)]
        .parse()
        .unwrap_or(100);
    c.status.set(Status::Running(Progress {
        done: 0,
        planned,
        events: 0,
        broken: 0,
        elapsed_ms: 0.0,
    }));
    start(base, faults, planned, c.status.clone());
}

/// The line under the buttons: progress, the counterexample, or how the hunt ended. A
/// counterexample is opened as soon as it is shrunk.
fn status_view(shell: Shell, status: Status) -> Option<El> {
    let line = |text: String| {
        el("p")
            .class("muted small")
            .attr("role", "status")
            .attr("data-testid", "hunt-status")
            .text(&text)
    };
    Some(match status {
        Status::Idle => return None,
        Status::Running(p) => el("div").child(progress_bar(&p)).child(line(rate(&p))),
        Status::Shrinking(b) => line(format!(
            "{} broke on run {} at {}: shrinking it…",
            b.property,
            b.k + 1,
            super::clock_text(b.at_us)
        )),
        Status::Found(f) => found_view(shell, &f),
        Status::Clean(p) => line(format!(
            "No property broke in {} runs with faults: {} events, at {} events/s.",
            thousands(&p.done.to_string()),
            thousands(&p.events.to_string()),
            millions(per_second(&p))
        )),
        Status::Stopped(why) => line(why),
    })
}

fn progress_bar(p: &Progress) -> El {
    el("progress")
        .class("exp-progress")
        .attr("aria-label", "Runs done")
        .attr("max", &p.planned.to_string())
        .attr("value", &p.done.to_string())
}

/// Runs done, the engine's speed and what broke so far.
fn rate(p: &Progress) -> String {
    format!(
        "{} of {} runs · {} events/s · {} broke a property",
        p.done,
        p.planned,
        millions(per_second(p)),
        p.broken
    )
}

fn per_second(p: &Progress) -> u64 {
    (p.events as f64 * 1000.0 / p.elapsed_ms.max(1.0)) as u64
}

/// `1.2 million` or `340,000`: a rate in words a projector's back row reads.
fn millions(x: u64) -> String {
    if x >= 1_000_000 {
        format!("{}.{} million", x / 1_000_000, x / 100_000 % 10)
    } else {
        thousands(&(x / 1000 * 1000).to_string())
    }
}

/// The counterexample: what broke, when, how small, and links to it and to the run as drawn.
fn found_view(shell: Shell, f: &Found) -> El {
    let (again, link) = (f.link.clone(), f.link.clone());
    el("div")
        .class("hunt-found")
        .attr("data-testid", "hunt-found")
        .attr("data-property", &f.broken.property)
        .child(el("p").attr("role", "status").text(&format!(
            "{} broke on run {} at {}. Opened here at that moment, shrunk from {} \
             interventions to {}.",
            f.broken.property,
            f.broken.k + 1,
            super::clock_text(f.at_us),
            f.before,
            f.after
        )))
        .child(
            el("p")
                .class("small")
                .child(
                    el("a")
                        .attr("href", &link)
                        .on("click", move |ev| {
                            ev.prevent_default();
                            open(shell, &again);
                        })
                        .text("Open it again"),
                )
                .child(el("span").text(" · "))
                .child(
                    el("a")
                        .attr("href", &f.original)
                        .attr("title", "The run as the hunt drew it, before shrinking")
                        .text("the run unshrunk"),
                ),
        )
}

/// Opens a link in the playground.
fn open(shell: Shell, text: &str) {
    match link::decode(text) {
        Ok(s) => shell.try_update(|x| x.load(&s)),
        Err(e) => shell
            .notice
            .set(Some(format!("The counterexample did not open: {e}"))),
    }
}
