//! Named properties a lab declares and the engine checks after every step.
//!
//! `Always` properties must hold after every step (safety). `Eventually` properties must become
//! true within a bound whenever their precondition holds (liveness in a finite run): "a leader
//! within 5 s whenever a majority is connected". A violation becomes a trace record with its
//! time and can pause the run.

use super::process::Protocol;
use super::time::Duration;
use super::world::World;
use serde::Serialize;

/// What a check says about the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Holds,
    /// For `Always`: violated. For `Eventually`: not yet.
    Pending,
    /// The precondition of an `Eventually` property does not hold (nothing is owed).
    NotApplicable,
}

impl From<bool> for Verdict {
    fn from(b: bool) -> Self {
        if b {
            Verdict::Holds
        } else {
            Verdict::Pending
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PropKind {
    Always,
    Eventually { within: Duration },
}

/// A property declaration.
pub struct Property<P: Protocol> {
    pub name: &'static str,
    pub description: &'static str,
    pub kind: PropKind,
    pub check: fn(&World<P>) -> Verdict,
}

impl<P: Protocol> Clone for Property<P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<P: Protocol> Copy for Property<P> {}
impl<P: Protocol> std::fmt::Debug for Property<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Property")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish()
    }
}

/// A property's record over the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PropState {
    pub name: &'static str,
    pub holds: bool,
    pub violations: u32,
    pub first_violation_us: Option<u64>,
    /// For `Eventually`: since when it has been owed and not yet true.
    #[serde(skip)]
    pending_since_us: Option<u64>,
    #[serde(skip)]
    reported: bool,
}

impl PropState {
    pub fn new(name: &'static str) -> Self {
        PropState {
            name,
            holds: true,
            violations: 0,
            first_violation_us: None,
            pending_since_us: None,
            reported: false,
        }
    }

    /// For `Eventually`: since when it has been owed and not yet true (`None`: nothing owed).
    pub fn pending_since_us(&self) -> Option<u64> {
        self.pending_since_us
    }

    fn violate(&mut self, now_us: u64) {
        self.holds = false;
        self.violations += 1;
        self.first_violation_us.get_or_insert(now_us);
    }

    /// Returns true when this observation is a new violation (an episode is reported once).
    pub fn observe_always(&mut self, v: Verdict, now_us: u64) -> bool {
        match v {
            Verdict::Pending if !self.reported => {
                self.reported = true;
                self.violate(now_us);
                true
            }
            Verdict::Pending => false,
            _ => {
                self.reported = false;
                false
            }
        }
    }

    pub fn observe_eventually(&mut self, v: Verdict, now_us: u64, within_us: u64) -> bool {
        match v {
            Verdict::Holds | Verdict::NotApplicable => {
                self.pending_since_us = None;
                self.reported = false;
                false
            }
            Verdict::Pending => {
                let since = *self.pending_since_us.get_or_insert(now_us);
                self.deadline_passed(since, now_us, within_us)
            }
        }
    }

    /// Checks the deadline when time moves on with no step (the clock set forward).
    pub fn observe_deadline(&mut self, now_us: u64, within_us: u64) -> bool {
        match self.pending_since_us {
            Some(since) => self.deadline_passed(since, now_us, within_us),
            None => false,
        }
    }

    fn deadline_passed(&mut self, since: u64, now_us: u64, within_us: u64) -> bool {
        if !self.reported && now_us.saturating_sub(since) > within_us {
            self.reported = true;
            self.violate(now_us);
            true
        } else {
            false
        }
    }
}
