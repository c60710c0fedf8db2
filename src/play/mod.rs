//! The run on show, between the labs and the page: the session (the simulation, its cursor,
//! speed and selection, the journal that a paint worker's replica follows) and the frames of its
//! canvases. No browser here: the page (`ui`) and its paint worker both hold sessions, and the
//! tests drive them natively.

pub mod frame;
pub mod hunt;
pub mod narrate;
pub mod saved;
pub mod session;
pub mod sweep;
pub mod tracefile;
