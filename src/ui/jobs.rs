//! One runner for long work in the browser: a Web Worker that loads this same module and runs
//! experiments there (long checks and seed sweeps are to follow), so the page keeps painting
//! while thousands of trials run. Where no worker can start, the same work runs on the page in
//! short slices instead.
//!
//! The page and the worker speak in lines of text:
//!
//! ```text
//! page → worker   run <job> <experiment id>\n<values>
//!                 cancel <job>
//!                 check <job> <format> <model> <max steps>\n<=initial or ->\n<history text>
//! worker → page   ready | failed <why>                     (the worker's module loaded, or not)
//!                 progress <job> <done> <planned>
//!                 report <job> <report>
//!                 checked <job> <result>   (after spectrum <job> <strongest>\n<failures>)
//!                 error <job> <why>
//! ```
//!
//! Values and reports travel in the wire form of `labs::experiment::wire`, a check's result in
//! that of `check::wire`. Checks run in a worker of their own (see "Long checks" below).

use crate::check::{CheckResult, Format, Model, ModelKind};
use crate::labs::experiment::{wire, Report, Trials, Values};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The worker's script, embedded (see `build.rs`; the readable source is static/job-worker.js).
const WORKER_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/job-worker.min.js"));

/// Wall-clock milliseconds of work between two looks at the message queue (a cancel, say):
/// in the worker a slice blocks nothing the learner sees; on the page it must leave room to
/// paint.
const WORKER_SLICE_MS: f64 = 50.0;
const PAGE_SLICE_MS: f64 = 12.0;

/// What a job tells the page.
pub enum JobEvent {
    /// Trials done and planned.
    Progress(u32, u32),
    Done(Box<Report>),
    Failed(String),
}

/// A job, for cancelling it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct JobId(u64);

type Listener = Box<dyn FnMut(JobEvent)>;

enum Runner {
    /// The worker is loading the module; requests wait.
    Starting(web_sys::Worker, Vec<String>),
    Ready(web_sys::Worker),
    /// No worker: jobs run on the page.
    Page,
}

/// A few entries by job (a handful at most: a list is smaller than a map in the download).
struct ByJob<T>(Vec<(u64, T)>);

impl<T> ByJob<T> {
    fn insert(&mut self, job: u64, v: T) {
        self.remove(job);
        self.0.push((job, v));
    }
    fn remove(&mut self, job: u64) -> Option<T> {
        let i = self.0.iter().position(|(j, _)| *j == job)?;
        Some(self.0.swap_remove(i).1)
    }
    fn get_mut(&mut self, job: u64) -> Option<&mut T> {
        self.0.iter_mut().find(|(j, _)| *j == job).map(|(_, v)| v)
    }
}

struct Jobs {
    runner: Runner,
    listeners: ByJob<Listener>,
    /// What each job asked for, to run it on the page if the worker fails to load.
    requests: ByJob<(&'static str, Values)>,
    next: u64,
}

thread_local! {
    static JOBS: RefCell<Option<Jobs>> = const { RefCell::new(None) };
    /// Jobs running on the page (no worker): their trials.
    static ON_PAGE: RefCell<ByJob<Box<dyn Trials>>> = const { RefCell::new(ByJob(Vec::new())) };
}

fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |p| p.now())
}

/// Runs trials for about `budget_ms`: their progress, or the report once all are done.
fn work(trials: &mut dyn Trials, budget_ms: f64) -> JobEvent {
    let start = now_ms();
    while trials.run(1) > 0 && now_ms() - start < budget_ms {}
    let (done, total) = trials.progress();
    if done >= total {
        JobEvent::Done(Box::new(trials.report()))
    } else {
        JobEvent::Progress(done, total)
    }
}

/// Starts experiment `id` with `values`; `on` hears its progress and its report (or why it
/// failed). Refused at once if the experiment does not start.
pub fn run_experiment(
    id: &'static str,
    values: Values,
    on: impl FnMut(JobEvent) + 'static,
) -> JobId {
    let job = with_jobs(|j| {
        let job = j.next;
        j.next += 1;
        j.listeners.insert(job, Box::new(on));
        j.requests.insert(job, (id, values.clone()));
        let line = format!("run {job} {id}\n{}", wire::values(&values));
        match &mut j.runner {
            Runner::Starting(_, queue) => queue.push(line),
            Runner::Ready(w) => {
                let _ = w.post_message(&line.into());
            }
            Runner::Page => {}
        }
        (job, matches!(j.runner, Runner::Page))
    });
    if let Some((job, on_page)) = job {
        if on_page {
            start_on_page(job);
        }
        return JobId(job);
    }
    JobId(u64::MAX)
}

/// Stops a job; it reports nothing more.
pub fn cancel(id: JobId) {
    with_jobs(|j| {
        j.listeners.remove(id.0);
        j.requests.remove(id.0);
        if let Runner::Ready(w) | Runner::Starting(w, _) = &j.runner {
            let _ = w.post_message(&format!("cancel {}", id.0).into());
        }
    });
    ON_PAGE.with(|p| p.borrow_mut().remove(id.0));
}

/// Where jobs run now: `worker`, `starting` (the worker is loading), `page` (no worker), or
/// `none` before the first job (for the test hook).
pub fn runner_kind() -> &'static str {
    JOBS.with(|cell| match cell.try_borrow().ok().as_deref() {
        Some(Some(j)) => match j.runner {
            Runner::Starting(..) => "starting",
            Runner::Ready(_) => "worker",
            Runner::Page => "page",
        },
        _ => "none",
    })
}

/// Runs `f` on the page's runner, starting the worker the first time.
fn with_jobs<R>(f: impl FnOnce(&mut Jobs) -> R) -> Option<R> {
    JOBS.with(|cell| {
        let mut jobs = cell.try_borrow_mut().ok()?;
        let j = jobs.get_or_insert_with(|| Jobs {
            runner: start_worker(from_worker)
                .map_or(Runner::Page, |w| Runner::Starting(w, Vec::new())),
            listeners: ByJob(Vec::new()),
            requests: ByJob(Vec::new()),
            next: 1,
        });
        Some(f(j))
    })
}

/// Tells job `job`'s listener; it hears nothing more after its report or failure.
fn tell(job: u64, event: JobEvent) {
    let last = !matches!(event, JobEvent::Progress(..));
    let listener = with_jobs(|j| {
        if last {
            j.requests.remove(job);
        }
        j.listeners.remove(job)
    })
    .flatten();
    let Some(mut listener) = listener else { return };
    listener(event);
    if !last {
        with_jobs(|j| j.listeners.insert(job, listener));
    }
}

/// Starts a job worker whose lines go to `on_line`.
fn start_worker(on_line: fn(&str)) -> Option<web_sys::Worker> {
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type("text/javascript");
    let parts = js_sys::Array::of1(&JsValue::from_str(WORKER_JS));
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts).ok()?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
    let glue = super::paint::glue_url()?;
    let worker = web_sys::Worker::new(&url).ok()?;
    let on_msg =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
            if let Some(line) = e.data().as_string() {
                on_line(&line);
            }
        });
    worker.set_onmessage(Some(on_msg.as_ref().unchecked_ref()));
    // An error the module did not catch (a panic, memory it could not grow) ends the job.
    let on_error = Closure::<dyn FnMut(JsValue)>::new(move |_: JsValue| on_line("crashed"));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    // A small closure per worker: the experiments' worker lives as long as the page, and the
    // checker's is replaced only when a check is cancelled.
    on_msg.forget();
    let msg = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&msg, &k.into(), v).is_ok();
    let sent = set("t", &"load".into())
        && set("glue", &glue.into())
        && set("module", &wasm_bindgen::module())
        && worker.post_message(&msg).is_ok();
    sent.then_some(worker)
}

/// A line from the worker.
fn from_worker(line: &str) {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    match word {
        "ready" => {
            with_jobs(|j| {
                if let Runner::Starting(w, queue) = std::mem::replace(&mut j.runner, Runner::Page) {
                    for q in queue {
                        let _ = w.post_message(&q.into());
                    }
                    j.runner = Runner::Ready(w);
                }
            });
        }
        "failed" => {
            web_sys::console::warn_1(&format!("job worker: {rest}; jobs run on the page").into());
            let waiting: Vec<u64> = with_jobs(|j| {
                if let Runner::Starting(w, _) | Runner::Ready(w) = &j.runner {
                    w.terminate();
                }
                j.runner = Runner::Page;
                j.requests.0.iter().map(|(job, _)| *job).collect()
            })
            .unwrap_or_default();
            for job in waiting {
                start_on_page(job);
            }
        }
        "progress" | "report" | "error" => {
            let (job, body) = rest.split_once(' ').unwrap_or((rest, ""));
            let Ok(job) = job.parse::<u64>() else { return };
            let event = match word {
                "progress" => {
                    let mut n = body.split(' ').map(|x| x.parse::<u32>().unwrap_or(0));
                    JobEvent::Progress(n.next().unwrap_or(0), n.next().unwrap_or(0))
                }
                "report" => match wire::read_report(body) {
                    Ok(r) => JobEvent::Done(Box::new(r)),
                    Err(e) => JobEvent::Failed(format!("the worker's report did not read: {e}")),
                },
                _ => JobEvent::Failed(body.to_string()),
            };
            tell(job, event);
        }
        _ => {}
    }
}

/// Runs job `job` on the page, a slice at a time.
fn start_on_page(job: u64) {
    let Some(Some((id, values))) = with_jobs(|j| j.requests.get_mut(job).cloned()) else {
        return;
    };
    match start(id, &values) {
        Ok(trials) => {
            ON_PAGE.with(|p| p.borrow_mut().insert(job, trials));
            super::dom::after_ms(0, move || page_slice(job));
        }
        Err(e) => tell(job, JobEvent::Failed(e)),
    }
}

fn page_slice(job: u64) {
    let event = ON_PAGE.with(|p| {
        let mut p = p.borrow_mut();
        let event = work(p.get_mut(job)?.as_mut(), PAGE_SLICE_MS);
        if !matches!(event, JobEvent::Progress(..)) {
            p.remove(job);
        }
        Some(event)
    });
    let Some(event) = event else { return };
    let more = matches!(event, JobEvent::Progress(..));
    tell(job, event);
    if more {
        super::dom::after_ms(0, move || page_slice(job));
    }
}

/// The trials of experiment `id` with `values`.
fn start(id: &str, values: &Values) -> Result<Box<dyn Trials>, String> {
    let spec = crate::labs::find_experiment(id).ok_or(format!("no experiment '{id}'"))?;
    (spec.start)(values)
}

// ---------------------------------------------------------------------------------------------
// Long checks: a pasted or opened history is read and checked in a worker of its own.
//
// A check is one synchronous search, so a worker running one cannot read a message until it
// ends: a cancelled check (or one replaced by a newer check) is stopped by terminating its
// worker, and the next check starts a fresh one. That is why checks do not share the
// experiments' worker: cancelling a check must not stop an experiment.

/// What a check tells the page.
pub enum CheckEvent {
    /// Search steps done, and the most the check may take.
    Progress(u64, u64),
    /// The result, and the history's place on the consistency spectrum.
    Done(Box<CheckResult>, super::history::Spectrum),
    Failed(String),
    /// The checker's worker did not load: the caller checks on the page instead.
    NoWorker,
}

type CheckListener = Box<dyn FnMut(CheckEvent)>;

struct Checker {
    worker: web_sys::Worker,
    /// Requests wait here until the worker's module has loaded.
    queue: Option<Vec<String>>,
    /// The check under way and its listener.
    job: u64,
    listener: Option<CheckListener>,
}

thread_local! {
    static CHECKER: RefCell<Option<Checker>> = const { RefCell::new(None) };
    /// Set once a checker's worker failed to load: checks then run on the page.
    static NO_CHECK_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static NEXT_CHECK: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
    /// The spectrum line of the check under way, which the worker sends just before its result.
    static SPECTRUM: RefCell<super::history::Spectrum> = RefCell::default();
}

/// Checks `text`, read in `format`, against `model` in the checker's worker, searching at most
/// `max_steps`; `on` hears its progress and its result. Replaces a check under way. Returns
/// false, and starts nothing, where no worker can start.
pub fn check_in_worker(
    text: &str,
    format: Format,
    model: &Model,
    max_steps: u64,
    on: impl FnMut(CheckEvent) + 'static,
) -> bool {
    cancel_check();
    let job = NEXT_CHECK.with(|n| n.replace(n.get() + 1));
    let initial = model
        .initial
        .as_ref()
        .map_or("-".into(), |v| format!("={v}"));
    let line = format!(
        "check {job} {} {} {max_steps}\n{initial}\n{text}",
        format.name(),
        model.kind.name()
    );
    CHECKER.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() && !NO_CHECK_WORKER.with(|n| n.get()) {
            *c = start_worker(from_checker).map(|worker| Checker {
                worker,
                queue: Some(Vec::new()),
                job: 0,
                listener: None,
            });
        }
        let Some(k) = c.as_mut() else { return false };
        k.job = job;
        k.listener = Some(Box::new(on));
        match &mut k.queue {
            Some(queue) => queue.push(line),
            None => {
                let _ = k.worker.post_message(&line.into());
            }
        }
        true
    })
}

/// Stops the check under way, if one is: its worker is terminated (it cannot hear a message
/// mid-search) and it reports nothing more. An idle worker is kept for the next check.
pub fn cancel_check() {
    CHECKER.with(|c| {
        let mut c = c.borrow_mut();
        if c.as_ref().is_some_and(|k| k.listener.is_some()) {
            if let Some(k) = c.take() {
                k.worker.terminate();
            }
        }
    });
}

/// A line from the checker's worker.
fn from_checker(line: &str) {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let (job, body) = rest.split_once(' ').unwrap_or((rest, ""));
    let event = match word {
        "ready" => return checker_ready(),
        "crashed" => {
            let k = CHECKER.with(|c| c.borrow_mut().take());
            let Some(k) = k else { return };
            k.worker.terminate();
            if let Some(mut on) = k.listener {
                on(CheckEvent::Failed(
                    "The check stopped: the checker failed, perhaps out of memory.".into(),
                ));
            }
            return;
        }
        "failed" => {
            web_sys::console::warn_1(
                &format!("check worker: {rest}; checks run on the page").into(),
            );
            NO_CHECK_WORKER.with(|n| n.set(true));
            let k = CHECKER.with(|c| c.borrow_mut().take());
            let Some(k) = k else { return };
            k.worker.terminate();
            if let Some(mut on) = k.listener {
                on(CheckEvent::NoWorker);
            }
            return;
        }
        "progress" => {
            let mut n = body.split(' ').map(|x| x.parse::<u64>().unwrap_or(0));
            CheckEvent::Progress(n.next().unwrap_or(0), n.next().unwrap_or(0))
        }
        "spectrum" => {
            let mut lines = body.split('\n').map(str::to_string);
            let strongest = lines.next().unwrap_or_default();
            let failures = lines.collect();
            SPECTRUM.with(|s| {
                s.replace(super::history::Spectrum {
                    strongest,
                    failures,
                })
            });
            return;
        }
        "checked" => match crate::check::read_result(body) {
            Ok(r) => CheckEvent::Done(Box::new(r), SPECTRUM.with(|s| s.take())),
            Err(e) => CheckEvent::Failed(format!("the worker's result did not read: {e}")),
        },
        "error" => CheckEvent::Failed(body.to_string()),
        _ => return,
    };
    let Ok(job) = job.parse::<u64>() else { return };
    tell_check(job, event);
}

/// The checker's worker has loaded: the waiting request goes to it.
fn checker_ready() {
    CHECKER.with(|c| {
        if let Some(k) = c.borrow_mut().as_mut() {
            for line in k.queue.take().unwrap_or_default() {
                let _ = k.worker.post_message(&line.into());
            }
        }
    });
}

/// Tells check `job`'s listener (if it is still the check under way); it hears nothing more
/// after its result or failure.
fn tell_check(job: u64, event: CheckEvent) {
    let last = !matches!(event, CheckEvent::Progress(..));
    let listener = CHECKER.with(|c| {
        let mut c = c.borrow_mut();
        let k = c.as_mut().filter(|k| k.job == job)?;
        k.listener.take()
    });
    let Some(mut on) = listener else { return };
    on(event);
    if !last {
        CHECKER.with(|c| {
            if let Some(k) = c.borrow_mut().as_mut().filter(|k| k.job == job) {
                k.listener.get_or_insert(on);
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// The worker's half.

thread_local! {
    /// The job the worker runs now.
    static CURRENT: RefCell<Option<(u64, Box<dyn Trials>)>> = const { RefCell::new(None) };
}

fn post(line: String) {
    if let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() {
        let _ = scope.post_message(&line.into());
    }
}

/// Installs `dsplayJob` in the job worker (the worker script marks itself with `dsplayJobs`);
/// elsewhere it does nothing.
pub fn install() {
    let global = js_sys::global();
    let marked = js_sys::Reflect::get(&global, &"dsplayJobs".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false);
    if !marked {
        return;
    }
    let on_msg = Closure::<dyn Fn(JsValue)>::new(|msg: JsValue| {
        if let Some(line) = msg.as_string() {
            request(&line);
        }
    });
    let _ = js_sys::Reflect::set(&global, &"dsplayJob".into(), on_msg.as_ref());
    on_msg.forget();
}

/// A request from the page.
fn request(line: &str) {
    let (head, body) = line.split_once('\n').unwrap_or((line, ""));
    let mut words = head.split(' ');
    let (word, job) = (
        words.next(),
        words.next().and_then(|j| j.parse::<u64>().ok()),
    );
    let Some(job) = job else { return };
    match word {
        Some("run") => {
            let id = words.next().unwrap_or_default();
            let started = wire::read_values(body).and_then(|values| start(id, &values));
            match started {
                Ok(trials) => {
                    CURRENT.with(|c| *c.borrow_mut() = Some((job, trials)));
                    worker_slice(job);
                }
                Err(e) => post(format!("error {job} {e}")),
            }
        }
        Some("check") => check_here(job, words.next(), words.next(), words.next(), body),
        Some("cancel") => CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if c.as_ref().is_some_and(|(j, _)| *j == job) {
                *c = None;
            }
        }),
        _ => {}
    }
}

/// Runs a slice of the current job, tells the page, and lets messages in before the next one.
fn worker_slice(job: u64) {
    let event = CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        let (j, trials) = c.as_mut()?;
        if *j != job {
            return None;
        }
        let event = work(trials.as_mut(), WORKER_SLICE_MS);
        if !matches!(event, JobEvent::Progress(..)) {
            *c = None;
        }
        Some(event)
    });
    match event {
        Some(JobEvent::Progress(done, total)) => {
            post(format!("progress {job} {done} {total}"));
            let next = Closure::once_into_js(move || worker_slice(job));
            if let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() {
                let _ = scope
                    .set_timeout_with_callback_and_timeout_and_arguments_0(next.unchecked_ref(), 0);
            }
        }
        Some(JobEvent::Done(report)) => post(format!("report {job} {}", wire::report(&report))),
        Some(JobEvent::Failed(e)) => post(format!("error {job} {e}")),
        None => {}
    }
}

/// Wall-clock milliseconds between two progress lines of a check.
const CHECK_PROGRESS_MS: f64 = 150.0;

/// Reads and checks a history for the page, posting progress while the search runs (from the
/// checker's cancel callback, which the search polls every few thousand steps; it never asks to
/// stop: the page stops a check by terminating this worker).
fn check_here(job: u64, format: Option<&str>, kind: Option<&str>, steps: Option<&str>, body: &str) {
    let answer = (|| {
        let format: Format = format
            .unwrap_or_default()
            .parse()
            .map_err(|_| "no such format")?;
        let kind: ModelKind = kind
            .unwrap_or_default()
            .parse()
            .map_err(|_| "no such model")?;
        let max_steps: u64 = steps
            .unwrap_or_default()
            .parse()
            .map_err(|_| "no step budget")?;
        let (initial, text) = body.split_once('\n').unwrap_or((body, ""));
        let initial = initial.strip_prefix('=').map(crate::check::Value::from);
        let history = super::history::read_history(text, format)?;
        let polls = std::cell::Cell::new(0u64);
        let last_ms = std::cell::Cell::new(now_ms());
        let progress = || {
            polls.set(polls.get() + 1);
            if now_ms() - last_ms.get() >= CHECK_PROGRESS_MS {
                last_ms.set(now_ms());
                let done = polls.get() * crate::check::CANCEL_POLL_STEPS;
                post(format!("progress {job} {done} {max_steps}"));
            }
            false
        };
        let options = crate::check::CheckOptions {
            max_steps,
            max_cache_bytes: super::history::CHECK_BYTES,
            cancel: Some(&progress),
        };
        let model = Model::new(kind, initial);
        let r = super::history::checked(&history, &model, &options)?;
        let sp = super::history::spectrum(&history, &model, &options, &r);
        let failures: String = sp.failures.iter().map(|f| format!("\n{f}")).collect();
        post(format!("spectrum {job} {}{failures}", sp.strongest));
        Ok::<_, String>(r)
    })();
    post(match answer {
        Ok(r) => format!("checked {job} {}", crate::check::result_text(&r)),
        Err(e) => format!("error {job} {e}"),
    });
}
