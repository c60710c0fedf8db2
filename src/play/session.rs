//! The playground's session: the running simulation, the scenario it came from, the display
//! clock and a cache of recent trace records — everything the browser shell shows, with no
//! browser in it.
//!
//! The UI owns exactly one [`Session`]. Every intervention goes through [`Session::act`] (a
//! command in the script, so the link stays true); parameters that are not commands (node
//! count, seed, lab parameters) rebuild the simulation and replay to the same instant.
//! [`Session::scenario`] is the scenario as it stands — base parameters, the script so far and,
//! when paused, the cursor — which is what the address bar shows.

use crate::labs::{self, Lab, RecordView, Sim};
use crate::scenario::{link, Scenario};
use crate::sim::command::Action;
use crate::sim::net::LinkParams;
use crate::sim::small_map::SmallSet;
use crate::sim::time::Instant;
use crate::sim::NetSetting;
use crate::viz::scene::Selection;
use crate::viz::Within;

pub use crate::scenario::{DEFAULT_SPEED, SPEEDS};
/// The longest wall-clock step one frame may take (a slow or backgrounded frame must not leap).
pub const MAX_FRAME_MS: f64 = 100.0;
/// The most engine events one frame may process; past it the clock waits for the engine.
pub const FRAME_EVENT_BUDGET: u32 = 40_000;
pub use crate::labs::REPLAY_EVENT_BUDGET;
/// Events a load replays at once, before it goes on in the background (about a tenth of a
/// second in a browser): presets and short links open at once, long ones show their progress.
pub const QUICK_OPEN_EVENTS: u64 = 100_000;
/// Records kept for the space-time diagram and drop marks.
const RECORD_CACHE: usize = 6_000;

/// A change to the simulation, as a replica must make it too.
///
/// The browser paints the animated canvases in a worker that keeps its own copy of the session
/// (a replica). The engine is deterministic, so the replica stays equal to the page's session
/// by making the same changes in the same order: every method below that moves or changes the
/// simulation goes through [`Session::apply`], which also appends the change to
/// [`Session::journal`] when one is kept. What only the page shows (play state, speed,
/// selection) is not an `Change`.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Replace the whole session by this scenario, at its cursor (`Session::from_scenario`).
    Load(Scenario),
    /// Run the engine to this instant (within the frame budget; stops at a violation).
    RunTo(u64),
    /// Move the cursor to this instant.
    Seek(u64),
    /// Process the next event or command.
    Step,
    /// An intervention at the cursor.
    Act(Action),
    /// Rebuild with these base parameters, keeping the script that fits and the cursor.
    Rebuild(Scenario),
    /// Start opening this scenario at its cursor in the background ([`Opening`]); the run on
    /// screen stays until it is ready.
    Open(Scenario),
    /// The scenario being opened is ready: it replaces the session (a replica finishes its
    /// own replay of it first).
    Opened,
    /// Stop opening: the run on screen stays.
    CancelOpen,
}

impl Change {
    /// One line of text: `load <link>`, `run <us>`, `seek <us>`, `step`, `act <action>`,
    /// `rebuild <link>`.
    pub fn to_text(&self) -> String {
        match self {
            Change::Load(s) => format!("load {}", link::encode(s)),
            Change::RunTo(t) => format!("run {t}"),
            Change::Seek(t) => format!("seek {t}"),
            Change::Step => "step".to_string(),
            Change::Act(a) => format!("act {}", a.to_text()),
            Change::Rebuild(s) => format!("rebuild {}", link::encode(s)),
            Change::Open(s) => format!("open {}", link::encode(s)),
            Change::Opened => "opened".to_string(),
            Change::CancelOpen => "cancel-open".to_string(),
        }
    }

    pub fn parse(text: &str) -> Result<Change, String> {
        let (word, rest) = text.split_once(' ').unwrap_or((text, ""));
        let us = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| format!("'{v}' is not a time in microseconds"))
        };
        let scenario = |v: &str| link::decode(v).map_err(|e| e.0);
        Ok(match word {
            "load" => Change::Load(scenario(rest)?),
            "run" => Change::RunTo(us(rest)?),
            "seek" => Change::Seek(us(rest)?),
            "step" if rest.is_empty() => Change::Step,
            "act" => Change::Act(Action::parse(rest)?),
            "rebuild" => Change::Rebuild(scenario(rest)?),
            "open" => Change::Open(scenario(rest)?),
            "opened" if rest.is_empty() => Change::Opened,
            "cancel-open" if rest.is_empty() => Change::CancelOpen,
            _ => return Err(format!("unknown session change '{text}'")),
        })
    }
}

/// A scenario being opened: its run replayed to the cursor a slice at a time, so that a page
/// stays responsive, shows progress and can cancel. The replay stops with a message past
/// [`REPLAY_EVENT_BUDGET`] events.
pub struct Opening {
    scenario: Scenario,
    sim: Box<dyn Sim>,
    target_us: u64,
    budget_events: u64,
    refused: Option<String>,
}

impl Opening {
    pub fn new(s: &Scenario) -> Result<Opening, String> {
        Opening::within(s, REPLAY_EVENT_BUDGET)
    }

    /// An opening with another event budget than [`REPLAY_EVENT_BUDGET`].
    pub fn within(s: &Scenario, budget_events: u64) -> Result<Opening, String> {
        Ok(Opening {
            sim: labs::build(s)?,
            target_us: s
                .cursor_us
                .unwrap_or(0)
                .min(crate::sim::time::MAX_DURATION_US),
            scenario: s.clone(),
            budget_events,
            refused: None,
        })
    }

    /// Replays at most `max_events` more events. `Ok(true)` once at the cursor (or stalled
    /// before it: the run then opens there and says why); an error past the budget.
    pub fn work(&mut self, max_events: u64) -> Result<bool, String> {
        if let Some(why) = &self.refused {
            return Err(why.clone());
        }
        let room = self
            .budget_events
            .saturating_sub(self.sim.counters().events);
        let (reached, _) = self
            .sim
            .run_until_within(Instant(self.target_us), max_events.min(room));
        if !reached && self.sim.counters().events >= self.budget_events {
            let why = labs::too_far_to_replay(self.target_us, self.sim.now().0, self.budget_events);
            self.refused = Some(why.clone());
            return Err(why);
        }
        Ok(reached)
    }

    /// Replays all that is left.
    pub fn finish(&mut self) -> Result<(), String> {
        while !self.work(1_000_000)? {}
        Ok(())
    }

    /// How far the replay has come, from 0 to 1.
    pub fn fraction(&self) -> f64 {
        if self.target_us == 0 {
            1.0
        } else {
            (self.sim.now().0 as f64 / self.target_us as f64).min(1.0)
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Where the replay stands: (virtual µs, cursor µs, events).
    pub fn progress(&self) -> (u64, u64, u64) {
        (self.sim.now().0, self.target_us, self.sim.counters().events)
    }

    /// The session of the replayed run, paused at its cursor.
    fn into_session(self) -> Session {
        let mut base = self.scenario;
        base.script.clear();
        base.cursor_us = None;
        let speed_ix = base.speed_ix();
        let mut session = Session {
            base,
            sim: self.sim,
            playing: false,
            speed_ix,
            skip_idle: false,
            carry_us: 0.0,
            records: Vec::new(),
            next_seq: 0,
            violations: SmallSet::new(),
            selection: Selection::None,
            hover: Selection::None,
            repaint: true,
            generation: 0,
            journal: None,
            opening: None,
            stall_notice: None,
        };
        session.reload_records();
        session
    }
}

/// One playground session.
pub struct Session {
    /// Lab, n, seed, network and lab parameters (no script, no cursor).
    base: Scenario,
    sim: Box<dyn Sim>,
    pub playing: bool,
    pub speed_ix: usize,
    pub skip_idle: bool,
    /// Fractional microseconds left over from the last frame.
    carry_us: f64,
    records: Vec<RecordView>,
    next_seq: u64,
    violations: SmallSet<u64>,
    pub selection: Selection,
    pub hover: Selection,
    /// Something visible changed since the last paint.
    pub repaint: bool,
    /// Bumped whenever the simulation is rebuilt (controls re-read their values).
    pub generation: u64,
    /// The changes made since the journal was last drained, while one is kept (a replica
    /// follows this session); see [`Change`].
    pub journal: Option<Vec<Change>>,
    /// A scenario being opened in the background, which replaces this run when ready.
    pub opening: Option<Opening>,
    /// Why play stopped by itself at an instant it could not get past, until the page shows it.
    stall_notice: Option<String>,
}

impl Session {
    /// Builds a session from a valid scenario, at its cursor (paused there) or at time zero,
    /// replaying within [`REPLAY_EVENT_BUDGET`] events.
    pub fn from_scenario(s: &Scenario) -> Result<Session, String> {
        let mut opening = Opening::new(s)?;
        opening.finish()?;
        Ok(opening.into_session())
    }

    /// Opens a link the way a page does: at once if it replays quickly, else the same run shows
    /// from its start while the link opens in the background ([`Session::opening`]). A bad link gives its
    /// lab's default scenario (or the first lab's) and the reason.
    pub fn open_in_background(link_text: &str) -> (Session, Option<String>) {
        let mut opening = match link::decode(link_text)
            .map_err(|e| e.0)
            .and_then(|s| Opening::new(&s))
        {
            Ok(o) => o,
            Err(e) => return (Session::default_for(lab_named_in(link_text)), Some(e)),
        };
        match opening.work(QUICK_OPEN_EVENTS) {
            Ok(true) => (opening.into_session(), None),
            Ok(false) => {
                // Meanwhile the same run shows from its start (it builds: the opening did).
                let mut start = opening.scenario().clone();
                start.cursor_us = None;
                let mut session = Session::from_scenario(&start)
                    .unwrap_or_else(|_| Session::default_for(opening.sim.lab()));
                session.opening = Some(opening);
                (session, None)
            }
            Err(e) => (Session::default_for(opening.sim.lab()), Some(e)),
        }
    }

    /// Opens a link. A bad link gives its lab's default scenario (or the first lab's) and the
    /// reason, for the page to show.
    pub fn open(link_text: &str) -> (Session, Option<String>) {
        let err = match link::decode(link_text) {
            Ok(s) => match Session::from_scenario(&s) {
                Ok(session) => return (session, None),
                Err(e) => e,
            },
            Err(e) => e.0,
        };
        (Session::default_for(lab_named_in(link_text)), Some(err))
    }

    /// A lab's default scenario at time zero.
    pub fn default_for(lab: &'static Lab) -> Session {
        let s = Scenario::default_for(lab);
        match Session::from_scenario(&s) {
            Ok(session) => session,
            // Every lab's default builds (a native test runs them all); fall back to the first.
            Err(_) => Session::from_scenario(&Scenario::default_for(labs::REGISTRY[0]))
                .unwrap_or_else(|e| panic!("the default scenario of every lab must build: {e}")),
        }
    }

    pub fn sim(&self) -> &dyn Sim {
        &*self.sim
    }
    pub fn lab(&self) -> &'static Lab {
        self.sim.lab()
    }
    pub fn base(&self) -> &Scenario {
        &self.base
    }
    pub fn now_us(&self) -> u64 {
        self.sim.now().0
    }
    pub fn horizon_us(&self) -> u64 {
        self.sim.horizon().0
    }
    pub fn speed(&self) -> f64 {
        SPEEDS[self.speed_ix.min(SPEEDS.len() - 1)]
    }
    /// Recent trace records, oldest first.
    pub fn records(&self) -> &[RecordView] {
        &self.records
    }
    /// When properties were violated (as far as this session has seen).
    pub fn violation_times(&self) -> impl Iterator<Item = u64> + '_ {
        self.violations.iter().copied()
    }

    /// The scenario as it stands: the link of this exact run (with the cursor when paused).
    /// Whether the run is shown embedded in another page (`embed=1`).
    pub fn base_embed(&self) -> bool {
        self.base.embed
    }

    pub fn scenario(&self) -> Scenario {
        let mut s = self.base.clone();
        s.script = self.sim.script().to_vec();
        let now = self.now_us();
        s.cursor_us = (!self.playing && now > 0).then_some(now);
        let lab_speed = self.lab().speed;
        let speed = crate::scenario::SPEED_TEXTS[self.speed_ix.min(SPEEDS.len() - 1)];
        s.speed = (speed != lab_speed).then(|| speed.to_string());
        s
    }

    /// `S1` for a node (its label), `C0` for a client.
    pub fn endpoint_name(&self, e: u32) -> String {
        let n = self.sim().n();
        if e < n {
            self.sim()
                .nodes()
                .into_iter()
                .nth(e as usize)
                .map_or_else(|| format!("node {e}"), |nv| nv.label)
        } else {
            format!("C{}", e - n)
        }
    }

    /// The main canvas the link names: 0 for the topology, k for the lab's stage k - 1.
    pub fn stage_ix(&self) -> u8 {
        let lab = self.sim.lab();
        self.base
            .view
            .as_deref()
            .and_then(|v| lab.stage_index(v).ok())
            .unwrap_or(0)
    }

    /// Shows another main canvas (it changes the link, never the run).
    pub fn set_stage(&mut self, ix: u8) {
        let lab = self.sim.lab();
        self.base.view = ix
            .checked_sub(1)
            .and_then(|i| lab.stages.get(i as usize))
            .map(|s| s.id.to_string());
        if !matches!(self.selection, Selection::Node(_)) {
            self.selection = Selection::None;
        }
        self.hover = Selection::None;
        self.repaint = true;
    }

    /// The link of this run, or of the scenario being opened while one is (so that reloading
    /// the page opens it again).
    pub fn link(&self) -> String {
        match &self.opening {
            Some(o) => link::encode(o.scenario()),
            None => link::encode(&self.scenario()),
        }
    }

    /// Why the run stopped at one instant, if it did ([`crate::sim::world::Stall`]).
    pub fn stall(&self) -> Option<String> {
        self.sim.stall()
    }

    /// The reason play stopped by itself at an instant it could not get past, once.
    pub fn take_stall_notice(&mut self) -> Option<String> {
        self.stall_notice.take()
    }

    /// The network settings in force now: the scenario's, changed by earlier `set` commands.
    pub fn net_now(&self) -> LinkParams {
        let now = self.now_us();
        let mut net = self.base.net.clone();
        for c in self.sim.script().iter().filter(|c| c.at_us <= now) {
            if let Action::Set {
                link: None,
                setting,
            } = &c.action
            {
                net.apply(setting);
            }
        }
        net
    }

    /// Advances the display clock by `wall_ms` of wall time at the current speed. Returns true
    /// if a property was violated (the session then pauses at that instant).
    pub fn advance(&mut self, wall_ms: f64) -> bool {
        if !self.playing {
            return false;
        }
        let now = self.now_us();
        let exact = wall_ms.within(0.0, MAX_FRAME_MS) * 1_000.0 * self.speed() + self.carry_us;
        let whole = exact.floor();
        self.carry_us = exact - whole;
        let mut target = now
            .saturating_add(whole as u64)
            .min(crate::sim::time::MAX_DURATION_US);
        if self.skip_idle && self.sim.in_flight().is_empty() {
            if let Some(due) = self.sim.next_due() {
                target = target.max(due.0);
            }
        }
        let violated = self.apply(Change::RunTo(target)).unwrap_or(false);
        if violated {
            self.playing = false;
            self.carry_us = 0.0;
        }
        if let Some(why) = self.stall() {
            self.playing = false;
            self.stall_notice = Some(why);
        }
        violated
    }

    /// Makes one change to the simulation (journalled when a journal is kept). Returns whether
    /// a property was violated on the way (`RunTo`, `Step`). On error the session is unchanged.
    pub fn apply(&mut self, op: Change) -> Result<bool, String> {
        let mut violated = false;
        match &op {
            Change::Load(s) => self.replace_with(Session::from_scenario(s)?),
            Change::Open(s) => self.opening = Some(Opening::new(s)?),
            Change::Opened => {
                let mut o = self.opening.take().ok_or("nothing is being opened")?;
                o.finish()?;
                self.replace_with(o.into_session());
            }
            Change::CancelOpen => self.opening = None,
            Change::RunTo(target) => {
                violated = self.run_to(*target);
                self.sync_records();
                self.repaint = true;
            }
            Change::Seek(t) => {
                self.sim
                    .seek(Instant((*t).min(crate::sim::time::MAX_DURATION_US)));
                self.carry_us = 0.0;
                self.reload_records();
            }
            Change::Step => {
                if let Some(info) = self.sim.step() {
                    if info.violation {
                        violated = true;
                        self.violations.insert(info.at.0);
                    }
                }
                self.sync_records();
                self.repaint = true;
            }
            Change::Act(action) => {
                let now = self.now_us();
                self.sim.act(action.clone())?;
                // The future after `now` was cut off: forget what we saw of it.
                self.violations.retain(|t| *t <= now);
                self.records.retain(|r| r.at_us <= now);
                self.next_seq = self.records.last().map_or(0, |r| r.seq + 1);
                self.sync_records();
                self.repaint = true;
            }
            Change::Rebuild(base) => self.rebuild_now(base.clone())?,
        }
        self.record(op);
        Ok(violated)
    }

    /// Replaces this session by `next` (a loaded or opened scenario, at its own speed),
    /// keeping what belongs to the page: skip idle, the journal.
    fn replace_with(&mut self, next: Session) {
        let (skip_idle, generation) = (self.skip_idle, self.generation);
        let journal = self.journal.take();
        *self = next;
        self.skip_idle = skip_idle;
        self.generation = generation + 1;
        self.journal = journal;
    }

    /// Starts keeping a journal for a replica and returns the changes that make a fresh
    /// replica equal to this session now: its scenario with the cursor at the exact instant,
    /// and the scenario being opened, if one is.
    pub fn start_journal(&mut self) -> Vec<Change> {
        self.journal = Some(Vec::new());
        let mut s = self.scenario();
        s.cursor_us = Some(self.now_us());
        let mut ops = vec![Change::Load(s)];
        if let Some(o) = &self.opening {
            ops.push(Change::Open(o.scenario().clone()));
        }
        ops
    }

    /// Replays up to `max_events` more of the scenario being opened (not an [`Change`]: what is
    /// on screen does not change). `None` when nothing is being opened; `Some(Ok(true))` when
    /// it is ready for [`Change::Opened`]; an error when it cannot be opened (then
    /// [`Change::CancelOpen`]).
    pub fn work_on_opening(&mut self, max_events: u64) -> Option<Result<bool, String>> {
        self.opening.as_mut().map(|o| o.work(max_events))
    }

    /// The changes since the last call, oldest first (empty when no journal is kept).
    pub fn drain_journal(&mut self) -> Vec<Change> {
        self.journal
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Runs the engine to `target` within the per-frame event budget.
    fn run_to(&mut self, target: u64) -> bool {
        let mut steps = 0;
        while let Some(due) = self.sim.next_due() {
            if due.0 > target {
                break;
            }
            if steps >= FRAME_EVENT_BUDGET {
                // The engine cannot keep up at this speed: the clock waits for it.
                self.carry_us = 0.0;
                return false;
            }
            steps += 1;
            match self.sim.step() {
                Some(info) if info.violation => return true,
                Some(_) => {}
                None => break,
            }
        }
        self.sim.run_until(Instant(target))
    }

    pub fn play(&mut self, on: bool) {
        self.playing = on;
        self.carry_us = 0.0;
        self.repaint = true;
    }

    pub fn set_speed(&mut self, ix: usize) {
        self.speed_ix = ix.min(SPEEDS.len() - 1);
    }

    /// Moves the cursor to `t_us` (exactly the state of a fresh run to that instant).
    pub fn seek(&mut self, t_us: u64) {
        let _ = self.apply(Change::Seek(t_us));
    }

    /// Processes the next event (or command), pausing first.
    pub fn step_forward(&mut self) {
        self.play(false);
        let _ = self.apply(Change::Step);
    }

    /// Goes back to the previous instant at which something happened.
    pub fn step_back(&mut self) {
        self.play(false);
        let now = self.now_us();
        let prev = self
            .records
            .iter()
            .rev()
            .find(|r| r.at_us < now)
            .map_or(0, |r| r.at_us);
        self.seek(prev);
    }

    /// Records an intervention at the current instant (a branch if the cursor is in the past).
    pub fn act(&mut self, action: Action) -> Result<(), String> {
        self.apply(Change::Act(action)).map(|_| ())
    }

    /// Changes a network setting for every link, as a command at the cursor.
    pub fn set_net(&mut self, setting: NetSetting) -> Result<(), String> {
        self.act(Action::Set {
            link: None,
            setting,
        })
    }

    /// Rebuilds with new base parameters, keeping the script (where it still fits) and the
    /// cursor. On failure the session is unchanged.
    pub fn rebuild(&mut self, base: Scenario) -> Result<(), String> {
        self.apply(Change::Rebuild(base)).map(|_| ())
    }

    fn rebuild_now(&mut self, mut base: Scenario) -> Result<(), String> {
        base.cursor_us = None;
        let nodes = labs::find(&base.lab).map_or(base.n, |l| (l.world_nodes)(&base));
        base.script = self
            .sim
            .script()
            .iter()
            .filter(|c| c.action.endpoints().iter().all(|e| *e < nodes))
            .cloned()
            .collect();
        let sim = match labs::build_unpaced(&base) {
            Ok(sim) => sim,
            Err(e) if !base.script.is_empty() => {
                // The script may name something the new parameters lack (a client): drop it.
                base.script.clear();
                labs::build_unpaced(&base).map_err(|_| e)?
            }
            Err(e) => return Err(e),
        };
        // Checked with the script kept: a latency it sets counts.
        sim.check_pace()?;
        let now = self.now_us();
        base.script.clear();
        self.base = base;
        self.sim = sim;
        self.violations.clear();
        self.generation += 1;
        self.sim
            .seek(Instant(now.min(crate::sim::time::MAX_DURATION_US)));
        self.carry_us = 0.0;
        self.reload_records();
        Ok(())
    }

    pub fn set_n(&mut self, n: u32) -> Result<(), String> {
        let mut b = self.base.clone();
        b.n = n;
        self.rebuild(b)
    }

    pub fn set_seed(&mut self, seed: u64) -> Result<(), String> {
        let mut b = self.base.clone();
        b.seed = seed;
        self.rebuild(b)
    }

    /// Sets a client setting (`retry`, `backoff`, ...) from its link text.
    pub fn set_client(&mut self, key: &str, value: &str) -> Result<(), String> {
        let mut b = self.base.clone();
        b.client_policy.set(key, value)?;
        self.rebuild(b)
    }

    /// Sets a lab parameter from its text (checked and made canonical by the lab's spec).
    pub fn set_param(&mut self, key: &str, value: &str) -> Result<(), String> {
        let spec = self
            .lab()
            .param(key)
            .ok_or_else(|| format!("the {} lab has no parameter '{key}'", self.lab().id))?;
        let v = spec.canonical(value)?;
        let mut b = self.base.clone();
        b.params.insert(key.to_string(), v);
        self.rebuild(b)
    }

    /// Replaces the whole session by another scenario (a preset, a pasted link): at once when
    /// it replays within [`QUICK_OPEN_EVENTS`], else in the background ([`Change::Open`]).
    pub fn load(&mut self, s: &Scenario) -> Result<(), String> {
        let mut opening = Opening::new(s)?;
        if opening.work(QUICK_OPEN_EVENTS)? {
            self.replace_with(opening.into_session());
            self.record(Change::Load(s.clone()));
        } else {
            self.opening = Some(opening);
            self.record(Change::Open(s.clone()));
        }
        Ok(())
    }

    /// Appends a change made to the journal, when one is kept.
    fn record(&mut self, op: Change) {
        if let Some(j) = &mut self.journal {
            j.push(op);
        }
    }

    fn reload_records(&mut self) {
        self.records = self.sim.records();
        self.trim_records();
        self.next_seq = self.records.last().map_or(0, |r| r.seq + 1);
        self.violations.extend(
            self.records
                .iter()
                .filter(|r| r.what == "violation")
                .map(|r| r.at_us),
        );
        self.repaint = true;
    }

    fn sync_records(&mut self) {
        let fresh = self.sim.records_since(self.next_seq);
        if let Some(last) = fresh.last() {
            self.next_seq = last.seq + 1;
        }
        self.violations.extend(
            fresh
                .iter()
                .filter(|r| r.what == "violation")
                .map(|r| r.at_us),
        );
        self.records.extend(fresh);
        self.trim_records();
    }

    fn trim_records(&mut self) {
        if self.records.len() > RECORD_CACHE {
            let cut = self.records.len() - RECORD_CACHE * 3 / 4;
            self.records.drain(..cut);
        }
    }
}

/// The lab a link names, if it names one we have; else the first lab.
fn lab_named_in(link_text: &str) -> &'static Lab {
    let frag = link_text.rsplit_once('#').map_or(link_text, |(_, f)| f);
    let id = frag.trim_start_matches('/').split('?').next().unwrap_or("");
    labs::find(id).unwrap_or(labs::REGISTRY[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "#/flows?n=3&seed=7&lat=20..80ms&loss=2%&dup=0%";

    #[test]
    fn playing_advances_virtual_time_by_wall_time_times_speed() {
        let (mut s, err) = Session::open(LINK);
        assert!(err.is_none());
        s.play(true);
        s.set_speed(SPEEDS.iter().position(|v| *v == 10.0).unwrap());
        s.advance(16.0);
        assert_eq!(s.now_us(), 160_000);
        s.advance(1_000.0);
        assert_eq!(
            s.now_us(),
            160_000 + 1_000_000,
            "a long frame is capped at 100 ms"
        );
        s.play(false);
        s.advance(16.0);
        assert_eq!(s.now_us(), 1_160_000, "paused: no movement");
    }

    #[test]
    fn a_session_opens_at_its_links_speed_or_its_labs_and_its_link_keeps_a_change() {
        let lab_speed = |s: &Session| crate::scenario::speed_index(s.lab().speed).unwrap();
        let (mut s, _) = Session::open("#/raft?n=3&seed=1");
        assert_eq!(
            s.speed_ix,
            lab_speed(&s),
            "a link without a speed: the lab's"
        );
        assert!(!s.link().contains("speed="));
        s.set_speed(DEFAULT_SPEED);
        assert!(s.link().contains("&speed=1"), "{}", s.link());
        let (t, _) = Session::open(&s.link());
        assert_eq!(
            t.speed_ix, DEFAULT_SPEED,
            "the shared link opens at the sharer's speed"
        );
        // Loading another scenario takes its speed, not the one the page had.
        s.load(&link::decode("#/ring?n=4&seed=1").unwrap()).unwrap();
        assert_eq!(s.speed_ix, lab_speed(&s));
    }

    #[test]
    fn a_paused_session_links_to_its_cursor_and_reopens_identically() {
        let (mut s, _) = Session::open(LINK);
        s.seek(2_500_000);
        s.act(Action::Crash { node: 1 }).unwrap();
        s.seek(4_000_000);
        let link = s.link();
        let back = link::decode(&link).unwrap();
        assert_eq!(back.cursor_us, Some(4_000_000), "{link}");
        assert_eq!(
            back.script,
            vec![crate::sim::Command::new(
                2_500_000,
                Action::Crash { node: 1 }
            )]
        );
        let (t, err) = Session::open(&link);
        assert!(err.is_none());
        assert_eq!(t.now_us(), 4_000_000);
        assert_eq!(t.sim().trace_hash(), s.sim().trace_hash());
    }

    #[test]
    fn a_bad_link_falls_back_to_the_lab_default_with_a_reason() {
        let (s, err) = Session::open("#/flows?n=999");
        assert!(err.unwrap().contains("nodes"));
        assert_eq!(s.lab().id, "flows");
        assert_eq!(s.base().n, s.lab().nodes_default);
        let (s, err) = Session::open("#/nope?x=%zz");
        assert!(err.is_some());
        assert_eq!(s.lab().id, labs::REGISTRY[0].id);
    }

    #[test]
    fn a_link_too_far_into_its_run_is_refused_in_bounded_time() {
        // A busy run: 24 impatient clients on 9 nodes make thousands of events a second. The
        // budget is smaller here than the page's so that the test stays quick.
        let busy = "#/flows?n=9&seed=1&lat=1..5ms&clients=24&think=0ms&timeout=40ms";
        let far = link::decode(&format!("{busy}&t=99999s")).unwrap();
        let mut o = Opening::within(&far, 300_000).unwrap();
        let err = o.finish().expect_err("refused");
        assert!(err.contains("too far into its run"), "{err}");
        assert!(err.contains("300,000 events"), "{err}");
        assert!(o.progress().2 <= 300_000, "stopped at the budget");
        // A link within reach opens at its instant, exactly.
        let (s, err) = Session::open(&format!("{busy}&t=2s"));
        assert_eq!(err, None);
        assert_eq!(s.now_us(), 2_000_000);
        let direct = {
            let sc = link::decode(&format!("{busy}&t=2s")).unwrap();
            let mut sim = labs::build(&sc).unwrap();
            sim.seek(Instant(2_000_000));
            sim.trace_hash()
        };
        assert_eq!(
            s.sim().trace_hash(),
            direct,
            "replayed in steps, the same run"
        );
    }

    #[test]
    fn rebuilding_keeps_the_cursor_and_the_script_that_still_fits() {
        let (mut s, _) = Session::open(LINK);
        s.seek(1_000_000);
        s.act(Action::Crash { node: 2 }).unwrap();
        s.act(Action::Crash { node: 0 }).unwrap();
        s.seek(3_000_000);
        s.set_n(2).unwrap();
        assert_eq!(s.now_us(), 3_000_000);
        assert_eq!(
            s.sim().script().len(),
            1,
            "the crash of node 2 no longer fits"
        );
        assert!(s.set_n(999).is_err());
        assert_eq!(
            s.base().n,
            2,
            "a refused change leaves the session as it was"
        );
        s.set_param("clients", "5").unwrap();
        assert_eq!(s.sim().clients(), 5);
        assert!(s.set_param("clients", "x").is_err());
    }

    #[test]
    fn net_settings_are_commands_and_follow_the_cursor() {
        let (mut s, _) = Session::open(LINK);
        s.seek(1_000_000);
        s.set_net(NetSetting::LossPpm(100_000)).unwrap();
        assert_eq!(s.net_now().loss_ppm, 100_000);
        assert_eq!(s.scenario().script[0].to_text(), "1s:set:loss=10%");
        assert_eq!(link::decode(&s.link()).unwrap().script, s.scenario().script);
        s.seek(500_000);
        assert_eq!(
            s.net_now().loss_ppm,
            20_000,
            "before the command the old loss applies"
        );
    }

    #[test]
    fn stepping_back_returns_to_the_previous_instant() {
        let (mut s, _) = Session::open(LINK);
        s.seek(1_000_000);
        let before = s.now_us();
        s.step_forward();
        let after = s.now_us();
        assert!(after >= before);
        s.step_back();
        assert!(s.now_us() < after);
    }

    #[test]
    fn skip_idle_jumps_to_the_next_event_when_nothing_is_in_flight() {
        let (mut s, _) = Session::open("#/flows?n=1&seed=1&clients=1&think=10s");
        s.skip_idle = true;
        s.play(true);
        for _ in 0..50 {
            s.advance(16.0);
        }
        assert!(
            s.now_us() > 10_000_000,
            "skipped the think time: {}",
            s.now_us()
        );
    }

    /// What a replica must agree on to paint the same frame.
    fn fingerprint(s: &Session) -> (u64, u64, u64, usize, Vec<RecordView>) {
        let sim = s.sim();
        (
            s.now_us(),
            sim.trace_hash(),
            sim.counters().events,
            sim.in_flight().len(),
            s.records().to_vec(),
        )
    }

    /// Applies `main`'s journal to `replica` through its text form, as the paint worker does.
    fn follow(replica: &mut Option<Session>, main: &mut Session, skip_acts: bool) {
        for op in main.drain_journal() {
            let op = Change::parse(&op.to_text()).unwrap_or_else(|e| panic!("{e}: {op:?}"));
            if skip_acts && matches!(op, Change::Act(_)) {
                continue;
            }
            match (replica.as_mut(), op) {
                (Some(r), op) => {
                    r.apply(op).unwrap();
                }
                (None, Change::Load(s)) => *replica = Some(Session::from_scenario(&s).unwrap()),
                (None, op) => panic!("a replica starts with a load, not {op:?}"),
            }
        }
    }

    /// Drives a session the way a class does (play at several speeds, skip idle, step, scrub
    /// back, intervene in the past, change parameters, load a preset) and returns how often the
    /// replica disagreed with it after a frame.
    fn replica_disagreements(skip_acts: bool) -> usize {
        let (mut main, _) =
            Session::open("#/raft?n=5&seed=4&lat=20..80ms&loss=5%&dup=2%&clients=2");
        main.seek(300_000);
        let mut replica = None;
        let first = main.start_journal();
        main.journal.as_mut().unwrap().splice(0..0, first);
        let mut bad = 0;
        let mut rng = 12345u64;
        let mut frame = |main: &mut Session, replica: &mut Option<Session>| {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            main.advance(4.0 + (rng >> 59) as f64 * 3.0);
            follow(replica, main, skip_acts);
            let r = replica.as_ref().unwrap();
            (fingerprint(r) != fingerprint(main)) as usize
        };
        main.play(true);
        for i in 0..400 {
            if i == 60 {
                main.set_speed(SPEEDS.len() - 1);
            }
            if i == 90 {
                main.set_speed(DEFAULT_SPEED);
                main.skip_idle = true;
            }
            if i == 120 {
                main.step_forward();
                main.step_forward();
                main.act(Action::Crash { node: 1 }).unwrap();
                main.play(true);
            }
            if i == 160 {
                main.step_back();
                main.seek(main.now_us() / 2);
                main.act(Action::Restart { node: 1 }).unwrap_or(());
                main.set_net(NetSetting::LossPpm(200_000)).unwrap();
                main.play(true);
            }
            if i == 200 {
                main.set_param("prevote", "1").unwrap();
                main.set_n(7).unwrap();
                assert!(
                    main.set_n(99).is_err(),
                    "refused changes are not journalled either"
                );
            }
            if i == 260 {
                let preset = link::decode("#/raft?n=3&seed=9&lat=5..10ms&clients=1").unwrap();
                main.load(&preset).unwrap();
                main.play(true);
                main.set_speed(SPEEDS.len() - 2);
            }
            bad += frame(&mut main, &mut replica);
        }
        assert!(main.now_us() > 1_000_000, "the run went somewhere");
        bad
    }

    #[test]
    fn a_replica_applying_the_journal_stays_equal_to_the_session() {
        assert_eq!(replica_disagreements(false), 0);
    }

    #[test]
    fn a_replica_that_misses_a_change_is_told_apart() {
        // The fingerprint the worker's check compares is sharp enough to notice one lost
        // intervention.
        assert!(replica_disagreements(true) > 0);
    }

    #[test]
    fn session_changes_read_back_from_their_text() {
        let s = link::decode("#/raft?n=5&seed=1&lat=20..80ms&clients=1").unwrap();
        for op in [
            Change::Load(s.clone()),
            Change::RunTo(1_234_567),
            Change::Seek(0),
            Change::Step,
            Change::Act(Action::Crash { node: 3 }),
            Change::Rebuild(s),
        ] {
            assert_eq!(Change::parse(&op.to_text()), Ok(op));
        }
        for bad in [
            "",
            "run",
            "run -1",
            "seek x",
            "step 3",
            "act explode",
            "load #/nope",
            "jump 5",
        ] {
            assert!(Change::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
