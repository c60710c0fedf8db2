//! The paint worker's half of the replica (see [`super::paint::Offthread`]): this module,
//! loaded a second time inside the paint worker, keeps a copy of the page's session, makes the
//! same changes to it as the page reports, and paints both canvases from it.
//!
//! Messages from the page are strings (forwarded by the worker script as
//! `dsplayReplica(msg)`), made by [`crate::play::frame::replica_message`] and followed by
//! [`crate::play::frame::Replica`]. A replica that does not then stand where the page's session
//! does has missed something: it says so (`{ t: 'replica-failed', message }`) and stops, and
//! the page builds the shapes itself from then on. Frames go to the worker script's
//! `dsplayFrame(id, numbers, strings)`, the same format the page would post.

use super::paint::Frames;
use crate::play::frame::{diagram_frame, stage_frame, Replica};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The worker's share of a frame spent replaying a link the page is opening, in ms: as much
/// as the page gives, so that the two replays keep pace and the page's `opened` finds this one
/// ready (the worker paints nothing new meanwhile).
const OPENING_SLICE_MS: f64 = 20.0;

fn now_ms() -> f64 {
    js_sys::Reflect::get(&js_sys::global(), &"performance".into())
        .ok()
        .and_then(|p| p.dyn_into::<web_sys::Performance>().ok())
        .map_or(0.0, |p| p.now())
}

struct Painter {
    replica: Replica,
    frames: Frames,
    /// The worker script's `dsplayFrame`, which paints a frame.
    paint: js_sys::Function,
    /// Gave up (after telling the page).
    stopped: bool,
}

/// Installs `dsplayReplica` on the worker's global scope.
pub fn install() {
    let Some(paint) = js_sys::Reflect::get(&js_sys::global(), &"dsplayFrame".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        // Not in the paint worker: the worker script sees no replica and says so.
        return;
    };
    let replica = RefCell::new(Painter {
        replica: Replica::default(),
        frames: Frames::default(),
        paint,
        stopped: false,
    });
    let on_msg = Closure::<dyn Fn(JsValue)>::new(move |msg: JsValue| {
        let mut r = replica.borrow_mut();
        if r.stopped {
            return;
        }
        if let Err(why) = r.follow(&msg) {
            r.stopped = true;
            let out = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&out, &"t".into(), &"replica-failed".into());
            let _ = js_sys::Reflect::set(&out, &"message".into(), &why.into());
            if let Ok(scope) = js_sys::global().dyn_into::<web_sys::DedicatedWorkerGlobalScope>() {
                let _ = scope.post_message(&out);
            }
        }
    });
    let _ = js_sys::Reflect::set(&js_sys::global(), &"dsplayReplica".into(), on_msg.as_ref());
    // Lives as long as the worker.
    on_msg.forget();
}

impl Painter {
    fn follow(&mut self, msg: &JsValue) -> Result<(), String> {
        let msg = msg
            .as_string()
            .ok_or("a replica message that is not text")?;
        self.replica.follow(&msg)?;
        // Keep up with a link the page is opening, leaving most of the frame to painting.
        let start = now_ms();
        self.replica
            .work_on_opening(5_000, || now_ms() - start < OPENING_SLICE_MS);
        let (Some(s), Some(view)) = (&self.replica.session, &self.replica.view) else {
            return Ok(());
        };
        let nodes = s.sim().nodes();
        let frames = [
            stage_frame(s, &nodes, view).map(|shapes| (view.topo, shapes)),
            diagram_frame(s, &nodes, view).map(|(shapes, _)| (view.diagram, shapes)),
        ];
        for (id, frame) in frames.into_iter().enumerate() {
            let Some(((w, h), shapes)) = frame else {
                continue;
            };
            if let Some((numbers, strings)) = self.frames.next(id, [w, h, view.dpr], &shapes) {
                let strings = strings.map_or(JsValue::NULL, JsValue::from);
                let _ = self
                    .paint
                    .call3(&JsValue::NULL, &(id as f64).into(), &numbers, &strings);
            }
        }
        Ok(())
    }
}
