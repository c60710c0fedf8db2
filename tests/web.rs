//! Browser tests (wasm-bindgen-test in headless Chromium): the app mounts, play moves the
//! virtual clock, a bad link shows its reason and the default lab, and the engine computes the
//! same trace hash in wasm as natively.
//!
//! Run with `scripts/test-web.sh` (it sets the runner and the driver).

#![cfg(all(target_arch = "wasm32", feature = "web"))]

use dsplay::labs;
use dsplay::scenario::link;
use dsplay::sim::time::Instant;
use dsplay::ui::{app, dom};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The scenario and hash pinned by the native test `tests/determinism.rs`.
const FIXED: &str = "#/flows?n=3&seed=7&lat=20..80ms&loss=2%&dup=0%";
const FIXED_HASH_10S: &str = "5c0c5bea343c7cfc";

/// Waits `ms` of wall time (a timer-backed future; no extra crates).
struct Sleep(Rc<RefCell<(bool, Option<Waker>)>>);

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut st = self.0.borrow_mut();
        if st.0 {
            Poll::Ready(())
        } else {
            st.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

fn sleep(ms: i32) -> Sleep {
    let state = Rc::new(RefCell::new((false, None::<Waker>)));
    let s2 = state.clone();
    let cb = Closure::once_into_js(move || {
        let mut st = s2.borrow_mut();
        st.0 = true;
        if let Some(w) = st.1.take() {
            w.wake();
        }
    });
    web_sys::window()
        .unwrap()
        .set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), ms)
        .unwrap();
    Sleep(state)
}

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Puts `hash` in the address bar and mounts a fresh app in its own container.
fn mount(hash: &str) -> (impl Sized, web_sys::HtmlElement) {
    let win = web_sys::window().unwrap();
    win.history()
        .unwrap()
        .replace_state_with_url(&JsValue::NULL, "", Some(hash))
        .unwrap();
    let doc = document();
    let div: web_sys::HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&div).unwrap();
    let handle = dom::mount(&div, app);
    (handle, div)
}

fn root(container: &web_sys::HtmlElement) -> web_sys::Element {
    container
        .query_selector("#dsplay")
        .unwrap()
        .expect("the app's root element")
}

fn now_us(container: &web_sys::HtmlElement) -> u64 {
    root(container)
        .get_attribute("data-now-us")
        .unwrap_or_default()
        .parse()
        .unwrap_or(0)
}

// The determinism principle across targets: the wasm engine gives the native pinned hash.
#[wasm_bindgen_test]
fn fixed_scenario_trace_hash_in_wasm_equals_the_native_value() {
    let s = link::decode(FIXED).unwrap();
    let mut sim = labs::build(&s).unwrap();
    sim.run_until(Instant(10_000_000));
    assert_eq!(format!("{:016x}", sim.trace_hash()), FIXED_HASH_10S);
}

// The app mounts: root, both canvases, the transport and the lab picker are there.
#[wasm_bindgen_test]
async fn the_app_mounts_with_its_views_and_controls() {
    let (handle, c) = mount("#/flows?n=3&seed=7");
    sleep(0).await;
    let r = root(&c);
    assert_eq!(r.get_attribute("data-lab").as_deref(), Some("flows"));
    assert!(c.query_selector("canvas.topology").unwrap().is_some());
    assert!(c.query_selector("canvas.diagram").unwrap().is_some());
    assert!(c
        .query_selector("[aria-label='Time cursor']")
        .unwrap()
        .is_some());
    assert!(c
        .query_selector("select[aria-label='Lab']")
        .unwrap()
        .is_some());
    assert_eq!(
        r.get_attribute("data-trace-hash").map(|h| h.len()),
        Some(16)
    );
    drop(handle);
    c.remove();
}

// Play advances the virtual clock (driven by requestAnimationFrame).
#[wasm_bindgen_test]
async fn play_advances_the_virtual_clock() {
    let (handle, c) = mount("#/flows?n=3&seed=7&t=0.5s");
    sleep(0).await;
    sleep(100).await;
    let start = now_us(&c);
    assert_eq!(start, 500_000, "a link with a cursor opens paused there");
    assert_eq!(
        root(&c).get_attribute("data-playing").as_deref(),
        Some("false")
    );
    let play: web_sys::HtmlElement = c
        .query_selector("button[aria-label='Play']")
        .unwrap()
        .expect("a Play button")
        .unchecked_into();
    play.click();
    sleep(0).await;
    sleep(600).await;
    let later = now_us(&c);
    assert!(
        later > start + 100_000,
        "virtual time moved from {start} to {later}"
    );
    drop(handle);
    c.remove();
}

// A bad link shows the decoder's reason and falls back to the lab's default scenario.
#[wasm_bindgen_test]
async fn a_bad_link_shows_the_reason_and_the_default_lab() {
    let (handle, c) = mount("#/flows?n=999&seed=7");
    sleep(0).await;
    sleep(100).await;
    let alert = c
        .query_selector("[role='alert']")
        .unwrap()
        .expect("a notice");
    let text = alert.text_content().unwrap_or_default();
    assert!(
        text.contains("could not be opened") && text.contains("999"),
        "{text}"
    );
    assert_eq!(root(&c).get_attribute("data-lab").as_deref(), Some("flows"));
    // The address bar now holds the default scenario's link.
    let hash = web_sys::window().unwrap().location().hash().unwrap();
    let s = link::decode(&hash).expect("the fallback link decodes");
    assert_eq!(s.n, labs::find("flows").unwrap().nodes_default);
    drop(handle);
    c.remove();
}
