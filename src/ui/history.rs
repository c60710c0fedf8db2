//! The client-history panel: is this run's history linearizable? Checks the running lab's
//! client history at the cursor, or a history pasted or opened from a file (Jepsen EDN,
//! Porcupine logs, our JSON), and draws the operation timeline: one lane per client, a box per
//! operation, the witness order on each, the operation that cannot be placed in the alert
//! colour. Clicking an operation of the running lab seeks the simulation to its call.
//!
//! A pasted or opened history is checked in the checker's worker ([`super::jobs`]), with its
//! progress and a Cancel button, so a history of tens of thousands of operations leaves the
//! page painting; the running lab's own history (a few hundred operations) is checked on the
//! page at once. The page still reads a pasted history itself before the check starts (its
//! errors show at once, and the result is drawn from it): for 60,000 operations that is a
//! pause of about a quarter of a second.
//!
//! Where the boxes go, and the shapes they are drawn with, are decided in
//! [`crate::viz::optimeline`]; the shared painter draws them.

use super::dom::{self, el, El, Var};
use super::{clock_text, paint, Shell};
use crate::check::{
    check_guarantees, check_with, parse_history, timeline, CheckOptions, CheckResult, Format,
    History, Model, ModelKind, Status, Timeline, Value, Verdict,
};
use crate::sim::time::format_us;
use crate::viz::optimeline::{self, OpLayout};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::MouseEvent;

/// Search steps one check may take in the page (a few hundred milliseconds at most); past it
/// the verdict is "unknown".
pub const CHECK_STEPS: u64 = 2_000_000;
/// Search steps a check in the checker's worker may take: it blocks nothing the learner sees
/// (and can be cancelled), so it may search ten times longer than the page.
pub const WORKER_CHECK_STEPS: u64 = 20_000_000;
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
    spectrum: Spectrum,
}

/// Where a history stands on the consistency spectrum (linearizable → sequentially consistent
/// → session guarantees → none): the strongest guarantee it keeps, and one line per weaker one
/// that fails, with the operation that first breaks it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spectrum {
    pub strongest: String,
    pub failures: Vec<String>,
}

/// The spectrum of a checked history: the weaker guarantees are searched only when
/// linearizability fails or is unknown, within the same budget (on the page, and in the
/// checker's worker).
pub(super) fn spectrum(
    history: &History,
    model: &Model,
    options: &CheckOptions<'_>,
    result: &CheckResult,
) -> Spectrum {
    let linearizable = result.is_linearizable();
    if linearizable == Some(true) {
        return Spectrum {
            strongest: "linearizable".into(),
            failures: Vec::new(),
        };
    }
    match check_guarantees(history, model, options, linearizable) {
        Ok(g) => Spectrum {
            strongest: g.strongest(linearizable),
            failures: g.failures(history),
        },
        Err(_) => Spectrum {
            strongest: "unknown".into(),
            failures: Vec::new(),
        },
    }
}

/// Reads a pasted or opened history (on the page, and in the checker's worker).
pub(super) fn read_history(text: &str, format: Format) -> Result<History, String> {
    parse_history(text, format)
        .map_err(|e| format!("This history could not be read as {format}: {e}"))
}

/// Checks `history` against `model` within `options` (on the page, and in the checker's
/// worker).
pub(super) fn checked(
    history: &History,
    model: &Model,
    options: &CheckOptions<'_>,
) -> Result<CheckResult, String> {
    check_with(history, model, options)
        .map_err(|e| format!("This history does not fit the {} model: {e}", model.kind))
}

/// Checks `history` on the page, within the page's budget, and lays out its timeline.
fn run_check(history: History, model: Model, live: bool, at_us: u64) -> Result<Checked, String> {
    let options = CheckOptions {
        max_steps: CHECK_STEPS,
        max_cache_bytes: CHECK_BYTES,
        cancel: None,
    };
    let result = checked(&history, &model, &options)?;
    let spectrum = spectrum(&history, &model, &options, &result);
    Ok(laid_out(
        history,
        (result, spectrum),
        model.kind,
        live,
        at_us,
    ))
}

/// A checked history with its timeline laid out.
fn laid_out(
    history: History,
    (result, spectrum): (CheckResult, Spectrum),
    model: ModelKind,
    live: bool,
    at_us: u64,
) -> Checked {
    let timeline = timeline(&history, Some(&result));
    Checked {
        history,
        result,
        timeline,
        live,
        at_us,
        model,
        spectrum,
    }
}

/// Where a check of a pasted or opened history stands.
#[derive(Clone, Copy, PartialEq)]
enum Checking {
    Idle,
    /// In the checker's worker: search steps done and the most it may take.
    Running(u64, u64),
    Cancelled,
}

/// A time in the running lab as its clock shows it (`12.345 s`); in an imported history, as
/// the history's own duration (`1.5s`).
fn time_text(live: bool, us: u64) -> String {
    if live {
        clock_text(us)
    } else {
        format_us(us)
    }
}

/// The panel's own state, shared by its parts. Handles: clones share the values.
#[derive(Clone)]
struct Panel {
    shell: Shell,
    checked: Rc<RefCell<Option<Checked>>>,
    /// Bumped when `checked` changes (the stored value is not reactive itself).
    version: Var<u64>,
    /// The operation clicked on the timeline.
    selected: Var<Option<usize>>,
    error: Var<Option<String>>,
    /// Whether the form for a pasted or opened history is shown.
    open: Var<bool>,
    /// The form's history text, format, model and initial value.
    text: Var<String>,
    format: Var<String>,
    model: Var<String>,
    initial: Var<String>,
    /// The check under way in the checker's worker, and the history it checks (read on the page
    /// too, for the timeline and the details when the result comes back).
    checking: Var<Checking>,
    pending: Rc<RefCell<Option<(History, Model)>>>,
    /// The timeline's layout and the presenter scale it was drawn at.
    layout: Rc<RefCell<Option<(OpLayout, f64)>>>,
    /// Bumped when the window is resized.
    resized: Var<u32>,
}

/// The panel.
pub fn history_panel(shell: Shell) -> El {
    let p = Panel::new(shell);
    // Removed when the panel is taken out of the page.
    {
        let resized = p.resized.clone();
        dom::listen_window("resize", move |_| {
            resized.update(|r| *r = r.wrapping_add(1))
        });
    }
    let canvas = timeline_canvas(&p);
    let (import, errors, verdict, hidden, details, status) = (
        p.clone(),
        p.clone(),
        p.clone(),
        p.clone(),
        p.clone(),
        p.clone(),
    );
    el("section")
        .class("card history")
        .attr("aria-label", "Client history")
        .child(el("h2").text("Client history — linearizable?"))
        .child(check_buttons(&p))
        .dynamic(move || import.open.get().then(|| import_view(&import)))
        .child(status.check_status())
        .dynamic(move || errors.error_view())
        .dynamic(move || verdict.verdict())
        .child(canvas)
        .text_with(move || hidden.hidden_note().unwrap_or_default())
        .dynamic(move || details.details())
}

impl Panel {
    /// A panel with nothing checked and the form closed.
    fn new(shell: Shell) -> Panel {
        Panel {
            shell,
            checked: Rc::new(RefCell::new(None)),
            version: Var::new(0u64),
            selected: Var::new(None::<usize>),
            error: Var::new(None::<String>),
            open: Var::new(false),
            text: Var::new(String::new()),
            format: Var::new(Format::JepsenEdn.name().to_string()),
            model: Var::new(ModelKind::Register.name().to_string()),
            initial: Var::new(String::new()),
            checking: Var::new(Checking::Idle),
            pending: Rc::new(RefCell::new(None)),
            layout: Rc::new(RefCell::new(None)),
            resized: Var::new(0u32),
        }
    }

    /// Shows a check's result (clearing the selection and the error), or why it failed.
    fn show(&self, c: Result<Checked, String>) {
        match c {
            Ok(c) => {
                *self.checked.borrow_mut() = Some(c);
                self.selected.set(None);
                self.error.set(None);
                self.version.update(|v| *v += 1);
            }
            Err(e) => self.error.set(Some(e)),
        }
    }

    /// Checks the running lab's client history up to the cursor. It stays on the page: a live
    /// history is a few hundred operations at most (older ones are dropped), checked at once.
    fn check_run(&self) {
        self.stop_check(Checking::Idle);
        let got = self
            .shell
            .with(|s| (s.sim().check_history(), s.now_us(), s.sim().clients()));
        match got {
            Some((Some((h, kind)), now, _)) => {
                self.show(run_check(h, Model::new(kind, None), true, now))
            }
            Some((None, _, _)) => self.error.set(Some(
                "This lab's clients do not use an object the checker knows, or the run is so long \
                 that its first operations were dropped."
                    .into(),
            )),
            None => {}
        }
    }

    /// Checks the history in the form, read in its format against its model.
    fn check_import(&self) {
        let error = &self.error;
        let Ok(fmt) = self.format.get_untracked().parse::<Format>() else {
            error.set(Some("Choose a format.".into()));
            return;
        };
        let Ok(kind) = self.model.get_untracked().parse::<ModelKind>() else {
            error.set(Some("Choose a model.".into()));
            return;
        };
        let src = self.text.get_untracked();
        if src.trim().is_empty() {
            error.set(Some("Paste a history or open a file first.".into()));
            return;
        }
        // Read on the page as well as in the worker: errors in the text show at once, and the
        // page needs the operations to draw the result.
        let history = match read_history(&src, fmt) {
            Ok(h) => h,
            Err(e) => return error.set(Some(e)),
        };
        let init = self.initial.get_untracked();
        let init = init.trim();
        let init =
            (kind != ModelKind::Kv && !init.is_empty() && init != "nil").then(|| Value::from(init));
        self.check_in_worker(&src, fmt, history, Model::new(kind, init));
    }

    /// Checks an imported history in the checker's worker (replacing a check under way), or on
    /// the page where no worker starts.
    fn check_in_worker(&self, src: &str, fmt: Format, history: History, model: Model) {
        self.stop_check(Checking::Running(0, WORKER_CHECK_STEPS));
        *self.checked.borrow_mut() = None;
        self.error.set(None);
        self.version.update(|v| *v += 1);
        let p = self.clone();
        let started =
            super::jobs::check_in_worker(src, fmt, &model, WORKER_CHECK_STEPS, move |e| p.heard(e));
        *self.pending.borrow_mut() = Some((history, model));
        if !started {
            self.check_on_page();
        }
    }

    /// Checks the pending history on the page, as before there was a worker.
    fn check_on_page(&self) {
        self.checking.set(Checking::Idle);
        let pending = self.pending.borrow_mut().take();
        if let Some((history, model)) = pending {
            self.show(run_check(history, model, false, 0));
        }
    }

    /// What the checker's worker says about the check under way.
    fn heard(&self, event: super::jobs::CheckEvent) {
        use super::jobs::CheckEvent;
        match event {
            CheckEvent::Progress(done, max) => self.checking.set(Checking::Running(done, max)),
            CheckEvent::Done(result, spectrum) => {
                self.checking.set(Checking::Idle);
                let pending = self.pending.borrow_mut().take();
                if let Some((history, model)) = pending {
                    let checked = (*result, spectrum);
                    self.show(Ok(laid_out(history, checked, model.kind, false, 0)));
                }
            }
            CheckEvent::Failed(why) => {
                self.stop_check(Checking::Idle);
                self.error.set(Some(why));
            }
            CheckEvent::NoWorker => self.check_on_page(),
        }
    }

    /// Stops the check under way, if one is, and says where checking now stands.
    fn stop_check(&self, now: Checking) {
        if matches!(self.checking.get_untracked(), Checking::Running(..)) {
            super::jobs::cancel_check();
        }
        self.pending.borrow_mut().take();
        self.checking.set(now);
    }

    /// The check's progress and its Cancel button while it runs; a note once it is cancelled.
    /// Built again only when that changes (a button rebuilt under the pointer loses its click).
    fn check_status(&self) -> El {
        let (state, p) = (self.checking.clone(), self.clone());
        el("div").dynamic_by(
            move || match state.get() {
                Checking::Running(..) => Checking::Running(0, 0),
                c => c,
            },
            move |c| match c {
                Checking::Idle => None,
                Checking::Running(..) => Some(progress_view(&p)),
                Checking::Cancelled => Some(
                    el("p")
                        .class("muted small")
                        .attr("role", "status")
                        .attr("data-testid", "history-cancelled")
                        .text("The check was cancelled: no verdict."),
                ),
            },
        )
    }

    /// Opens the file chosen in the form's file input: guesses its format from its name and
    /// reads it into the form's text (refusing files over [`MAX_FILE_BYTES`]).
    fn open_file(&self, ev: &web_sys::Event) {
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
            self.error.set(Some(format!(
                "{} is {} MB; the page reads files up to 32 MB (use `dsplay check` for larger ones).",
                file.name(),
                crate::sim::time::fixed(file.size() / 1_048_576.0, 0)
            )));
            return;
        }
        let name = file.name().to_ascii_lowercase();
        if name.ends_with(".json") {
            self.format.set(Format::Json.name().into());
        } else if name.ends_with(".log") {
            self.format.set(Format::PorcupineEtcd.name().into());
        }
        self.read_into_text(&file);
    }

    /// Reads `file` as text into the form's text, in the background.
    fn read_into_text(&self, file: &web_sys::File) {
        let (text, err) = (self.text.clone(), self.error.clone());
        super::dom::read_text(
            file,
            Box::new(move |read| match read {
                Some(t) => {
                    text.set(t);
                    err.set(None);
                }
                None => err.set(Some("The file could not be read as text.".into())),
            }),
        );
    }

    /// Puts [`EXAMPLE`] in the form, as Jepsen EDN against a register.
    fn load_example(&self) {
        self.text.set(EXAMPLE.into());
        self.format.set(Format::JepsenEdn.name().into());
        self.model.set(ModelKind::Register.name().into());
    }

    /// Whether a history has been checked (follows `version`).
    fn has_result(&self) -> bool {
        self.version.get();
        self.checked.borrow().is_some()
    }

    /// The verdict on the checked history, if there is one.
    fn verdict(&self) -> Option<El> {
        self.version.get();
        self.checked.borrow().as_ref().map(verdict_view)
    }

    /// The selected operation's details, if one is selected.
    fn details(&self) -> Option<El> {
        self.version.get();
        let op = self.selected.get()?;
        self.checked
            .borrow()
            .as_ref()
            .and_then(|ch| op_details(ch, op))
    }

    /// A note that the timeline leaves operations out, when it does.
    fn hidden_note(&self) -> Option<String> {
        self.version.get();
        let n = self.checked.borrow().as_ref()?.history.len();
        (n > MAX_DRAWN).then(|| {
            format!("The timeline shows {MAX_DRAWN} of {n} operations (the last ones, or those around the one that cannot be placed).")
        })
    }

    /// Why the last check or file could not be done, if it could not.
    fn error_view(&self) -> Option<El> {
        self.error.get().map(|e| {
            el("p")
                .class("history-error")
                .attr("role", "alert")
                .text(&e)
        })
    }

    /// Selects the operation under a click on the timeline; one of the running lab's also
    /// pauses the simulation and seeks it to the operation's call.
    fn select_clicked(&self, c: &web_sys::HtmlCanvasElement, ev: &web_sys::Event) {
        let Some(ev) = ev.dyn_ref::<MouseEvent>() else {
            return;
        };
        let r = c.get_bounding_client_rect();
        let (x, y) = (
            ev.client_x() as f64 - r.left(),
            ev.client_y() as f64 - r.top(),
        );
        // The layout is in the chart's own units (CSS px ÷ the presenter scale).
        let Some(op) = self
            .layout
            .borrow()
            .as_ref()
            .and_then(|(l, scale)| optimeline::hit(l, x / scale, y / scale))
        else {
            return;
        };
        self.selected.set(Some(op));
        let seek = self
            .checked
            .borrow()
            .as_ref()
            .filter(|ch| ch.live)
            .and_then(|ch| ch.history.operations.get(op).map(|o| o.call_us));
        if let Some(t) = seek {
            self.shell.update(|s| {
                s.play(false);
                s.seek(t)
            });
        }
    }
}

/// The two ways to a history: check the running lab's, or open the form for another.
fn check_buttons(p: &Panel) -> El {
    let run = p.clone();
    let (open_state, open_toggle) = (p.open.clone(), p.open.clone());
    el("div")
        .class("row wrap")
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Check this run")
                .attr(
                    "title",
                    "Check the running lab's client history up to the cursor",
                )
                .on("click", move |_| run.check_run())
                .text("Check this run"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Open a history")
                .attr_with("aria-expanded", move || Some(open_state.get().to_string()))
                .on("click", move |_| open_toggle.update(|o| *o = !*o))
                .text("Open a history…"),
        )
}

/// The operation timeline's canvas, painted whenever the result, the selection or the size
/// changes; clicking an operation selects it.
fn timeline_canvas(p: &Panel) -> El {
    let empty = p.clone();
    let canvas_el = el("canvas")
        .class("optimeline")
        .class_when("empty", move || !empty.has_result())
        .attr("role", "img");
    let canvas: web_sys::HtmlCanvasElement = canvas_el.0.clone().unchecked_into();
    follow_paint(p, canvas.clone());
    let clicked = p.clone();
    canvas_el
        .on("click", move |ev| clicked.select_clicked(&canvas, &ev))
        .attr("aria-label", "Operation timeline: one lane per client, a box per operation from call to return, numbered in the witness order; the operation that cannot be placed in vermillion. Click an operation for its details.")
}

/// Paints the timeline on `c` whenever the result, the selection or the size changes, and
/// keeps the layout it was drawn with (for clicks).
fn follow_paint(p: &Panel, c: web_sys::HtmlCanvasElement) {
    let p = p.clone();
    dom::effect(move || {
        p.version.get();
        p.resized.get();
        p.shell.presenter.get();
        p.shell.presenter_panels.get();
        let sel = p.selected.get();
        let scale = super::clock::style(&p.shell).scale;
        let l = p
            .checked
            .borrow()
            .as_ref()
            .map(|ch| paint_timeline(&c, ch, sel, scale));
        *p.layout.borrow_mut() = l.flatten().map(|l| (l, scale));
    });
}

/// The form for a pasted or opened history: its text, a file, its format, model and initial
/// value, and the button that checks it.
fn import_view(p: &Panel) -> El {
    let check = p.clone();
    el("div")
        .class("import")
        .child(history_text(p.text.clone()))
        .child(file_row(p))
        .child(labelled(
            "hist-format",
            "format",
            format_select(p.format.clone()),
        ))
        .child(labelled(
            "hist-model",
            "model",
            model_select(p.model.clone()),
        ))
        .child(labelled(
            "hist-initial",
            "initial value",
            initial_input(p.initial.clone(), p.model.clone()),
        ))
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Check the pasted history")
                .on("click", move |_| check.check_import())
                .text("Check"),
        )
}

/// A running check: a bar, the share of the step budget used, and a Cancel button. The share
/// is an upper bound on the work left: most histories are decided well before the budget.
fn progress_view(p: &Panel) -> El {
    let percent = {
        let checking = p.checking.clone();
        move || match checking.get() {
            Checking::Running(done, max) => (done.saturating_mul(100) / max.max(1)).min(99),
            _ => 0,
        }
    };
    let (bar, label, cancel) = (percent.clone(), percent, p.clone());
    el("div")
        .class("row check-progress")
        .attr("role", "status")
        .attr("data-testid", "history-progress")
        .child(
            el("progress")
                .class("exp-progress")
                .attr("aria-label", "Check progress")
                .attr("max", "100")
                .attr_with("value", move || Some(bar().to_string())),
        )
        .child(
            el("span")
                .class("small")
                .text_with(move || format!("Checking… {}%", label())),
        )
        .child(
            el("button")
                .class("btn small")
                .attr("aria-label", "Cancel the check")
                .on("click", move |_| cancel.stop_check(Checking::Cancelled))
                .text("Cancel"),
        )
}

/// A form row: the label for the control with `id`, then the control.
fn labelled(id: &str, label: &str, control: El) -> El {
    el("div")
        .class("slider")
        .child(el("label").attr("for", id).text(label))
        .child(control)
}

/// The longest text the text area shows: one holding megabytes makes every later change to the
/// page cost Chromium hundreds of milliseconds (a check's progress would freeze it), so a
/// longer history is kept and described instead of shown.
const SHOWN_TEXT_BYTES: usize = 256 * 1024;

/// The text area holding the history's text.
fn history_text(text: Var<String>) -> El {
    let (text_shown, text_typed, text_told) = (text.clone(), text.clone(), text);
    el("textarea")
        .class("history-text")
        .attr("aria-label", "History text")
        .attr("spellcheck", "false")
        .attr("rows", "6")
        .attr_with("placeholder", move || Some(placeholder(&text_told.get())))
        .prop_with("value", move || {
            let t = text_shown.get();
            if t.len() > SHOWN_TEXT_BYTES { "" } else { &t }.into()
        })
        .on("input", move |ev| text_typed.set(dom::event_value(&ev)))
}

/// What the empty text area says: how to fill it, or what it holds when that is too long to
/// show.
fn placeholder(text: &str) -> String {
    if text.len() <= SHOWN_TEXT_BYTES {
        return "Paste a history: Jepsen EDN, a Porcupine log, or JSON".into();
    }
    format!(
        "A history of {} lines ({} KB), too long to show here, is ready to check. Paste or type to replace it.",
        text.lines().count(),
        text.len() / 1024
    )
}

/// A file to open, and an example to load instead.
fn file_row(p: &Panel) -> El {
    let (opened, example) = (p.clone(), p.clone());
    el("div")
        .class("row wrap")
        .child(
            el("input")
                .attr("type", "file")
                .class("file")
                .attr("aria-label", "Open a history file")
                .attr("accept", ".edn,.json,.log,.txt,.clj")
                .on("change", move |ev| opened.open_file(&ev)),
        )
        .child(
            el("button")
                .class("btn small")
                .attr("aria-label", "Load an example history")
                .on("click", move |_| example.load_example())
                .text("Example"),
        )
}

/// The history's format, one of [`Format::ALL`].
fn format_select(format: Var<String>) -> El {
    let (format_shown, format_picked) = (format.clone(), format);
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
        .prop_with("value", move || format_shown.get().into())
}

/// The model to check against, one of [`ModelKind::ALL`].
fn model_select(model: Var<String>) -> El {
    let (model_shown, model_picked) = (model.clone(), model);
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
        .prop_with("value", move || model_shown.get().into())
}

/// The register's initial value (disabled for the key-value model, which takes none).
fn initial_input(initial: Var<String>, model: Var<String>) -> El {
    let (initial_shown, initial_typed) = (initial.clone(), initial);
    el("input")
        .attr("id", "hist-initial")
        .class("span2")
        .attr("type", "text")
        .attr("aria-label", "Initial register value")
        .attr("placeholder", "nil")
        .flag_with("disabled", move || model.get() == ModelKind::Kv.name())
        .prop_with("value", move || initial_shown.get().into())
        .on("change", move |ev| initial_typed.set(dom::event_value(&ev)))
}

/// The verdict on a checked history: its title, what was checked, and what it means.
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
    let explanation = verdict_explanation(ch);
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
        .child(spectrum_view(&ch.spectrum))
}

/// The strongest guarantee kept, and the operation that breaks each weaker one that fails.
fn spectrum_view(sp: &Spectrum) -> El {
    let list = el("ul")
        .class("small")
        .children(sp.failures.iter().map(|line| el("li").text(line)));
    el("div")
        .attr("data-testid", "history-spectrum")
        .child(
            el("p")
                .class("small")
                .text(&format!("Strongest guarantee kept: {}.", sp.strongest)),
        )
        .child(list)
}

/// What the verdict means for this history: the witness order, the operation that cannot be
/// placed after the longest linearizable prefix, or why the check stopped.
fn verdict_explanation(ch: &Checked) -> String {
    let r = &ch.result;
    match r.verdict {
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
    }
}

/// The selected operation's details: who did what, when it was called and returned, and its
/// place in the witness order.
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
    let _ = web_sys::HtmlElement::style(c).set_property(
        "height",
        &format!("{}px", crate::sim::time::shortest(h * scale)),
    );
    let dpr = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio().max(1.0));
    let ctx = paint::prepare(c, w * scale, h * scale, dpr)?;
    let _ = ctx.scale(scale, scale);
    paint::draw(&ctx, &optimeline::shapes(&l, selected));
    Some(l)
}
