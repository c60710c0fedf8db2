//! The browser shell (feature `web`): the page around one [`Session`], built with the small
//! DOM layer in [`dom`].
//!
//! The session (simulation, scenario, display clock) lives in a single owned container,
//! [`Shell::session`]; components read it through coarse signals — [`Shell::tick`] is bumped a
//! few times a second while playing and on every discrete change — never a signal per field.
//! Nothing in the DOM follows the animation frame ([`Shell::frame`] only counts them): text
//! that changes sixty times a second cannot be read and costs layout and paint every frame.
//! The display clock ([`clock`]), called at every animation frame (the paint worker's while it
//! holds the canvases), advances the run outside the reactive graph and has the two canvases
//! painted; effects only sync the outside world (the URL, the canvases'
//! sizes). The canvases are painted by a worker that keeps its own copy of the session, fed
//! the session's changes ([`paint`], [`replica`]).
//!
//! Files: [`app`] lays the page out; [`stage`] is the topology canvas (click, hover, drag to
//! partition), [`diagram`] the space-time diagram, [`timeline`] the transport and scrub bar,
//! [`side`] the inspector, controls, properties and lab panels, [`paint`] the thin canvas
//! painter and the paint worker's page half, [`replica`] its worker half, [`keys`] the
//! keyboard, [`hook`] the read-only `window.dsplay` hook for tests and benchmarks, [`history`]
//! the client-history linearizability panel and [`experiment`] the experiment panel of every
//! lab (both mounted by [`side`]), [`jobs`] the job runner (a worker for long work), [`dom`]
//! the small DOM layer everything is built with.

pub mod app;
pub mod clock;
pub mod diagram;
pub mod dom;
pub mod experiment;
pub mod gallery;
pub mod history;
pub mod hook;
pub mod jobs;
pub mod keys;
pub mod lesson;
pub mod narration;
pub mod paint;
pub mod replica;
pub mod saved;
pub mod share;
pub mod side;
pub mod stage;
pub mod timeline;

pub use app::app;

use crate::play::session::Session;
use crate::sim::command::Action;
use crate::viz::scene::Pt;
use dom::{Store, Var};
use std::cell::Cell;

/// What the canvases remember between frames: sizes, the pixel ratio, the partition line
/// being dragged.
#[derive(Default)]
pub struct ViewState {
    pub topo_size: (f64, f64),
    pub diagram_size: (f64, f64),
    pub drag: Option<(Pt, Pt)>,
    /// The device pixel ratio, read at most a few times a second.
    pub dpr: f64,
    /// Repaint even if the session did not change (resize, hover, presenter mode).
    pub dirty: bool,
    /// Paints the two animated canvases (off the main thread where the browser can).
    pub painter: paint::Offthread,
    /// How many scripted commands the cursor had passed at the last tick.
    pub passed_commands: usize,
}

/// The visible spans of the space-time diagram.
pub const SPANS_US: [u64; 9] = [
    100_000, 250_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
];

/// Everything the views share. A handle (`Copy`) to the page's one [`ShellState`].
#[derive(Clone, Copy)]
pub struct Shell(&'static ShellState);

impl std::ops::Deref for Shell {
    type Target = ShellState;
    fn deref(&self) -> &ShellState {
        self.0
    }
}

/// The session and the coarse values the views follow.
pub struct ShellState {
    pub session: Store<Session>,
    pub view: Store<ViewState>,
    /// Counts the frames that repainted the canvases (no view follows it).
    pub frame: Var<u64>,
    /// Bumped a few times a second while playing and on every discrete change.
    pub tick: Var<u64>,
    /// Bumped on every other tick while playing and on every discrete change: what the side
    /// panel shows (counters, properties, the lab's tables) follows it. Numbers changing
    /// faster cannot be read, and re-laying-out tables is the costliest thing the page does.
    pub slow_tick: Var<u64>,
    /// Bumped on every discrete change, and when a playing run passes a scripted change (the
    /// network settings at the cursor may differ). Form controls follow it rather than the
    /// tick: they are left alone while a run plays, and a refused entry is put back.
    pub edits: Var<u64>,
    /// A message for the user (a bad link, a refused intervention, a violation).
    pub notice: Var<Option<String>>,
    /// A link being opened in the background: (virtual µs replayed, its instant, events).
    pub opening: Var<Option<(u64, u64, u64)>>,
    /// The gallery of lessons and presets is shown over the playground.
    pub gallery: Var<bool>,
    pub presenter: Var<bool>,
    /// In presenter mode, the side panels shown over the stage's right edge.
    pub presenter_panels: Var<bool>,
    /// The narration line along the foot of the stage is shown (`n`).
    pub narration: Var<bool>,
    pub help: Var<bool>,
    /// The share dialog is open; its link opens at the cursor (else from the start).
    pub share: Var<bool>,
    pub share_moment: Var<bool>,
    /// Bumped when the saved scenarios change (the dialog lists them again).
    pub saved: Var<u64>,
    /// Index into [`SPANS_US`].
    pub span_ix: Var<usize>,
    /// Hover text, where to show it (CSS px within the stage) and the session generation it
    /// describes (it goes when the run is replaced under a resting pointer).
    pub tooltip: Var<Option<(f64, f64, String, u64)>>,
    /// A node's menu (x, y, node).
    pub menu: Var<Option<(f64, f64, u32)>>,
    /// False once the page's view is taken down: the clock stops.
    alive: Cell<bool>,
}

thread_local! {
    static CURRENT: Cell<Option<Shell>> = const { Cell::new(None) };
}

impl Shell {
    /// The shell of the page's one session (kept for the page's lifetime), and the current one
    /// from now on.
    pub fn new(session: Session) -> Shell {
        let state = Box::leak(Box::new(ShellState {
            session: Store::new(session),
            view: Store::new(ViewState {
                dirty: true,
                ..Default::default()
            }),
            frame: Var::new(0),
            tick: Var::new(0),
            slow_tick: Var::new(0),
            edits: Var::new(0),
            notice: Var::new(None),
            opening: Var::new(None),
            gallery: Var::new(false),
            presenter: Var::new(false),
            presenter_panels: Var::new(false),
            narration: Var::new(true),
            help: Var::new(false),
            share: Var::new(false),
            share_moment: Var::new(false),
            saved: Var::new(0),
            span_ix: Var::new(3),
            tooltip: Var::new(None),
            menu: Var::new(None),
            alive: Cell::new(true),
        }));
        let shell = Shell(state);
        CURRENT.with(|c| c.set(Some(shell)));
        shell
    }

    /// The page's shell (views are built after [`Shell::new`]).
    pub fn current() -> Shell {
        CURRENT
            .with(|c| c.get())
            .expect("views are built after the shell")
    }

    /// Whether the page's view is still up (the clock stops when it is not).
    pub fn alive(&self) -> bool {
        self.alive.get()
    }

    /// Takes the shell down: every read gives nothing, the clock stops.
    pub fn retire(&self) {
        self.alive.set(false);
    }

    /// Reads the session.
    pub fn with<R>(&self, f: impl FnOnce(&Session) -> R) -> Option<R> {
        if !self.alive() {
            return None;
        }
        self.session.try_with_value(f)
    }

    /// Changes the session and tells every view.
    pub fn update<R>(&self, f: impl FnOnce(&mut Session) -> R) -> Option<R> {
        if !self.alive() {
            return None;
        }
        let r = self.session.try_update_value(f);
        self.changed();
        r
    }

    /// Something discrete changed: refresh the DOM and repaint.
    pub fn changed(&self) {
        self.view.update_value(|v| v.dirty = true);
        self.frame.update(|f| *f += 1);
        self.tick.update(|t| *t += 1);
        self.slow_tick.update(|t| *t += 1);
        self.edits.update(|e| *e += 1);
    }

    /// Records an intervention at the cursor; a refusal becomes a notice. An intervention in
    /// the past starts a new branch of the run there: if that drops interventions recorded
    /// later in the old one, a notice says so (nothing is lost without a word).
    pub fn act(&self, action: Action) {
        let done = self.update(|s| {
            let now = s.now_us();
            // An intervention cuts off the script after its instant (a branch).
            let dropped = s.sim().script().iter().filter(|c| c.at_us > now).count();
            s.act(action).map(|()| (now, dropped))
        });
        match done {
            Some(Err(e)) => self.notice.set(Some(e)),
            Some(Ok((now, dropped))) if dropped > 0 => self.inform(format!(
                "A new branch of the run starts at {}: the {} recorded after it {} dropped.",
                clock_text(now),
                if dropped == 1 {
                    "intervention".to_string()
                } else {
                    format!("{dropped} interventions")
                },
                if dropped == 1 { "was" } else { "were" }
            )),
            _ => {}
        }
    }

    /// Cuts every link of `node` both ways (it keeps its clients).
    pub fn isolate(&self, node: u32) {
        let Some(n) = self.with(|s| s.sim().n()) else {
            return;
        };
        let rest: Vec<u32> = (0..n).filter(|&i| i != node).collect();
        if rest.is_empty() {
            self.notice.set(Some(
                "There is only one node: nothing to isolate it from.".into(),
            ));
            return;
        }
        self.act(Action::Partition {
            groups: vec![vec![node], rest],
        });
    }

    /// Shows a message that needs no answer (a link copied, a branch started) and takes it
    /// away after a few seconds, unless another has replaced it. Problems stay until closed.
    pub fn inform(&self, text: String) {
        self.notice.set(Some(text.clone()));
        let shell = *self;
        dom::after_ms(6000, move || {
            if shell.notice.get_untracked().as_deref() == Some(text.as_str()) {
                shell.notice.set(None);
            }
        });
    }

    /// Does one of the lab's own actions: at `node` when it is done to one node (the selected
    /// one from the keyboard), else at every node.
    pub fn lab_verb(&self, verb: &'static crate::labs::Verb, node: Option<u32>) {
        let node = if verb.on_node {
            let picked = node.or_else(|| {
                self.with(|s| match s.selection {
                    crate::viz::scene::Selection::Node(n) if n < s.sim().n() => Some(n),
                    // A lab's item that belongs to a node (a server on a ring) stands for it.
                    crate::viz::scene::Selection::Item(i) => s.sim().item_view(i)?.node,
                    _ => None,
                })
                .flatten()
            });
            match picked {
                Some(n) => Some(n),
                None => {
                    self.notice.set(Some(format!(
                        "{}: select a server first (click it).",
                        verb.label
                    )));
                    return;
                }
            }
        } else {
            None
        };
        self.act(Action::Lab {
            verb: verb.name.to_string(),
            node,
        });
    }

    /// Sends the lab's sample request from client 0 to `node` ("send a request to this
    /// server").
    pub fn request_at(&self, node: u32) {
        let Some((Some(op), clients)) = self.with(|s| (s.lab().sample_request, s.sim().clients()))
        else {
            return;
        };
        if clients == 0 {
            self.notice.set(Some(
                "There are no clients in this run: add one in the lab's parameters.".into(),
            ));
            return;
        }
        self.act(Action::ClientOp {
            client: 0,
            node,
            op: op.to_string(),
        });
    }

    /// Applies a change that may be refused, showing the reason if it is.
    pub fn try_update(&self, f: impl FnOnce(&mut Session) -> Result<(), String>) {
        if let Some(Err(e)) = self.update(f) {
            self.notice.set(Some(e));
        }
    }
}

/// Starts the module where it was loaded: the app on a page, the paint replica in the paint
/// worker. Called by `main`.
pub fn start() {
    if let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    {
        std::mem::forget(dom::mount(&body, app));
    } else {
        // A worker: the paint worker's replica, or the job runner (each checks which it is).
        replica::install();
        jobs::install();
    }
}

/// `12.345 s` from microseconds.
pub fn clock_text(us: u64) -> String {
    format!("{}.{:03} s", us / 1_000_000, (us / 1_000) % 1_000)
}
