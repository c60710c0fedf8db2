//! dsplay, the Distributed Systems Playground.
//!
//! The crate map, in the order a newcomer should read it:
//!
//! - [`sim`]: the deterministic engine. Virtual time, the seeded random streams, the network
//!   model, the [`sim::Protocol`] trait every lab implements, the world that runs them, the
//!   trace and its hash, interventions (commands) and keyframes for scrubbing. No browser, no
//!   wall clock, no OS randomness.
//! - [`scenario`]: what a run *is* (lab, parameters, seed, script, cursor) and its URL form.
//!   Decoding a link is total and bounded.
//! - [`labs`]: one folder per lab and the registry that lists them; each lab is a protocol,
//!   its properties, a pure view, a legend of its colours, its figures and its experiments
//!   ([`labs::experiment`]). The registry also holds the rules every run keeps: the pace rule
//!   for clients and the replay budget.
//! - [`check`]: client histories and the linearizability checker.
//! - [`viz`]: the pure drawing model (layouts, shapes, colours, charts as data and the one
//!   function that lays a chart out as shapes) that the browser painter draws.
//! - [`play`]: the run on show: a [`play::session::Session`] (the simulation, its cursor and
//!   speed, the selection, the journal a paint worker's replica follows) and the frames of its
//!   two canvases ([`play::frame`]), built from the session and the drawing model.
//! - `ui` (feature `web` only): the browser shell, built on its own small DOM layer
//!   (`ui::dom`): the page, canvas painter, timeline and controls.

pub mod check;
pub mod labs;
pub mod play;
pub mod scenario;
pub mod sim;
pub mod viz;

#[cfg(feature = "web")]
pub mod ui;
