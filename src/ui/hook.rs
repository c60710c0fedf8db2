//! `window.dsplay`: a small hook for end-to-end tests and benchmarks. It reads the session
//! (records, positions, hash, link) and can drive the transport the way the buttons do; it
//! never bypasses the script, so anything it does is still in the link.

use super::clock::Canvases;
use super::Shell;
use crate::labs;
use crate::scenario::link;
use crate::sim::time::Instant;
use wasm_bindgen::prelude::*;

fn window() -> web_sys::Window {
    web_sys::window().expect("the page has a window")
}

/// A JavaScript object built field by field (the hook hands tests plain objects; building
/// them directly spares the page a JSON serialiser).
#[derive(Default)]
pub struct Obj(js_sys::Object);

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }
    pub fn val(self, k: &str, v: JsValue) -> Obj {
        let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(k), &v);
        self
    }
    pub fn num(self, k: &str, v: f64) -> Obj {
        self.val(k, JsValue::from_f64(v))
    }
    pub fn str(self, k: &str, v: &str) -> Obj {
        self.val(k, JsValue::from_str(v))
    }
    pub fn bool(self, k: &str, v: bool) -> Obj {
        self.val(k, JsValue::from_bool(v))
    }
    pub fn done(self) -> JsValue {
        self.0.into()
    }
}

/// A JavaScript array of `items`.
pub fn array(items: impl IntoIterator<Item = JsValue>) -> JsValue {
    items.into_iter().collect::<js_sys::Array>().into()
}

/// A number, or null.
fn opt(v: Option<u64>) -> JsValue {
    v.map_or(JsValue::NULL, |v| JsValue::from_f64(v as f64))
}

fn record(r: &crate::labs::RecordView) -> JsValue {
    Obj::new()
        .num("seq", r.seq as f64)
        .num("at_us", r.at_us as f64)
        .str("what", r.what)
        .val("msg", opt(r.msg))
        .val("from", opt(r.from.map(u64::from)))
        .val("to", opt(r.to.map(u64::from)))
        .val("node", opt(r.node.map(u64::from)))
        .val("arrive_us", opt(r.arrive_us))
        .bool("lost", r.lost)
        .str("text", &r.text)
        .done()
}

/// The page's state for tests and benchmarks.
fn state(s: &crate::play::session::Session, frames: u64, painter: JsValue) -> JsValue {
    let sim = s.sim();
    let pair = |(a, b): (u32, u32)| array([JsValue::from(a), JsValue::from(b)]);
    let opening = s.opening.as_ref().map_or(JsValue::NULL, |o| {
        let (done, target, events) = o.progress();
        Obj::new()
            .num("doneUs", done as f64)
            .num("targetUs", target as f64)
            .num("events", events as f64)
            .done()
    });
    Obj::new()
        .str("lab", s.lab().id)
        .num("nowUs", s.now_us() as f64)
        .num("horizonUs", s.horizon_us() as f64)
        .str("traceHash", &format!("{:016x}", sim.trace_hash()))
        .bool("playing", s.playing)
        .num("speed", s.speed())
        .num("n", sim.n() as f64)
        .num("clients", sim.clients() as f64)
        .num("inFlight", sim.in_flight().len() as f64)
        .val("cutLinks", array(sim.cut_links().into_iter().map(pair)))
        .val(
            "script",
            array(sim.script().iter().map(|c| JsValue::from(c.to_text()))),
        )
        .str("link", &s.link())
        .val("opening", opening)
        .val("stall", s.stall().map_or(JsValue::NULL, JsValue::from))
        .num("frames", frames as f64)
        .str("jobs", super::jobs::runner_kind())
        .val("painter", painter)
        .done()
}

fn set(obj: &js_sys::Object, name: &str, f: JsValue) {
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str(name), &f);
}

/// Installs `window.dsplay` (replacing any earlier one).
pub fn install(shell: Shell, canvases: Canvases) {
    let obj = js_sys::Object::new();
    let state = Closure::<dyn Fn() -> JsValue>::new(move || {
        let painter = shell
            .view
            .try_with_value(|v| v.painter.report())
            .unwrap_or(JsValue::NULL);
        let frames = shell.frame.get_untracked();
        shell
            .with(|s| state(s, frames, painter))
            .unwrap_or(JsValue::NULL)
    });
    set(&obj, "state", state.into_js_value());

    let records = Closure::<dyn Fn() -> JsValue>::new(move || {
        shell
            .with(|s| array(s.records().iter().map(record)))
            .unwrap_or(JsValue::NULL)
    });
    set(&obj, "records", records.into_js_value());

    let positions = Closure::<dyn Fn() -> JsValue>::new(move || {
        let Some(canvas) = canvases.topo.get::<web_sys::HtmlCanvasElement>() else {
            return JsValue::NULL;
        };
        let r = canvas.get_bounding_client_rect();
        let Some(l) = super::clock::layout(&shell) else {
            return JsValue::NULL;
        };
        let pt = |p: &crate::viz::scene::Pt| {
            Obj::new()
                .num("x", p.x + r.left())
                .num("y", p.y + r.top())
                .done()
        };
        Obj::new()
            .val("nodes", array(l.nodes.iter().map(pt)))
            .val("clients", array(l.clients.iter().map(pt)))
            .val("center", pt(&l.center))
            .num("radius", l.radius)
            .done()
    });
    set(&obj, "positions", positions.into_js_value());

    let play = Closure::<dyn Fn(bool)>::new(move |on: bool| {
        shell.update(|s| s.play(on));
    });
    set(&obj, "play", play.into_js_value());

    // Scrubs to an instant (µs), as the scrub bar does.
    let seek = Closure::<dyn Fn(f64)>::new(move |t_us: f64| {
        shell.update(|s| {
            s.play(false);
            s.seek(t_us.max(0.0) as u64);
        });
    });
    set(&obj, "seek", seek.into_js_value());

    // Selects a lab's item on its stage by id, as a click on it does.
    let select = Closure::<dyn Fn(f64)>::new(move |id: f64| {
        shell.update(|s| s.selection = crate::viz::scene::Selection::Item(id as u64));
    });
    set(&obj, "selectItem", select.into_js_value());

    let speed = Closure::<dyn Fn(f64)>::new(move |v: f64| {
        let ix = crate::play::session::SPEEDS
            .iter()
            .position(|s| *s >= v)
            .unwrap_or(crate::play::session::SPEEDS.len() - 1);
        shell.update(|s| s.set_speed(ix));
    });
    set(&obj, "setSpeed", speed.into_js_value());

    let bench = Closure::<dyn Fn(String, f64) -> JsValue>::new(bench_engine);
    set(&obj, "benchEngine", bench.into_js_value());

    let memory = Closure::<dyn Fn() -> JsValue>::new(|| {
        let bytes = wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .ok()
            .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
            .map_or(0.0, |b| b.byte_length() as f64);
        JsValue::from_f64(bytes)
    });
    set(&obj, "wasmMemoryBytes", memory.into_js_value());

    let _ = js_sys::Reflect::set(&window(), &JsValue::from_str("dsplay"), &obj);
}

/// Runs the scenario of `link` for `virtual_s` seconds of virtual time (60 like the native bench)
/// and reports events per second of wall time.
fn bench_engine(link_text: String, virtual_s: f64) -> JsValue {
    let virtual_s = if virtual_s.is_finite() && virtual_s > 0.0 {
        virtual_s.min(3_600.0)
    } else {
        60.0
    };
    let Ok(s) = link::decode(&link_text) else {
        return JsValue::NULL;
    };
    let Ok(mut sim) = labs::build(&s) else {
        return JsValue::NULL;
    };
    let perf = window().performance();
    let t0 = perf.as_ref().map_or(0.0, |p| p.now());
    sim.run_until(Instant((virtual_s * 1e6) as u64));
    let ms = perf.as_ref().map_or(0.0, |p| p.now()) - t0;
    let events = sim.counters().events;
    Obj::new()
        .num("events", events as f64)
        .num("ms", ms)
        .num(
            "eventsPerSec",
            if ms > 0.0 {
                events as f64 / ms * 1_000.0
            } else {
                0.0
            },
        )
        .num("virtualUs", sim.now().0 as f64)
        .str("traceHash", &format!("{:016x}", sim.trace_hash()))
        .done()
}
