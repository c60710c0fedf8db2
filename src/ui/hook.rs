//! `window.dsplay`: a small hook for end-to-end tests and benchmarks. It reads the session
//! (records, positions, hash, link) and can drive the transport the way the buttons do; it
//! never bypasses the script, so anything it does is still in the link.

use super::clock::Canvases;
use super::Shell;
use crate::labs;
use crate::scenario::link;
use crate::sim::time::Instant;
use serde_json::json;
use wasm_bindgen::prelude::*;

fn window() -> web_sys::Window {
    web_sys::window().expect("the page has a window")
}

fn to_js(v: serde_json::Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL)
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
            .unwrap_or_default();
        let frames = shell.frame.get_untracked();
        to_js(
            shell
                .with(|s| {
                    let sim = s.sim();
                    json!({
                        "lab": s.lab().id,
                        "nowUs": s.now_us(),
                        "horizonUs": s.horizon_us(),
                        "traceHash": format!("{:016x}", sim.trace_hash()),
                        "playing": s.playing,
                        "speed": s.speed(),
                        "n": sim.n(),
                        "clients": sim.clients(),
                        "inFlight": sim.in_flight().len(),
                        "cutLinks": sim.cut_links(),
                        "script": sim.script().iter().map(|c| c.to_text()).collect::<Vec<_>>(),
                        "link": s.link(),
                        "opening": s.opening.as_ref().map(|o| {
                            let (done, target, events) = o.progress();
                            json!({ "doneUs": done, "targetUs": target, "events": events })
                        }),
                        "stall": s.stall(),
                        "frames": frames,
                        "painter": painter,
                    })
                })
                .unwrap_or_default(),
        )
    });
    set(&obj, "state", state.into_js_value());

    let records = Closure::<dyn Fn() -> JsValue>::new(move || {
        to_js(
            shell
                .with(|s| serde_json::to_value(s.records()).unwrap_or_default())
                .unwrap_or_default(),
        )
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
        let pts = |v: &[crate::viz::scene::Pt]| {
            v.iter()
                .map(|p| json!({"x": p.x + r.left(), "y": p.y + r.top()}))
                .collect::<Vec<_>>()
        };
        to_js(
            json!({ "nodes": pts(&l.nodes), "clients": pts(&l.clients), "center": {"x": l.center.x + r.left(), "y": l.center.y + r.top()}, "radius": l.radius }),
        )
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

    let speed = Closure::<dyn Fn(f64)>::new(move |v: f64| {
        let ix = crate::viz::session::SPEEDS
            .iter()
            .position(|s| *s >= v)
            .unwrap_or(crate::viz::session::SPEEDS.len() - 1);
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
    to_js(json!({
        "events": events,
        "ms": ms,
        "eventsPerSec": if ms > 0.0 { events as f64 / ms * 1_000.0 } else { 0.0 },
        "virtualUs": sim.now().0,
        "traceHash": format!("{:016x}", sim.trace_hash()),
    }))
}
