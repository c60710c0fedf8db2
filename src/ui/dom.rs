//! The page's own small DOM layer: elements built by plain calls, values that views follow
//! ([`Var`]), effects that run again when a value they read changes, and owners that drop an
//! effect, a listener or a nested view with the part of the page it belongs to.
//!
//! Why not a view framework: the shell's views are few and coarse (a handful of counters bumped
//! a few times a second drive everything, see [`super::Shell`]), and a framework's generic view
//! types cost more of the download than the whole simulation core. Here every element, text
//! and effect goes through the same few non-generic functions; a call site compiles to a call.
//!
//! Semantics, as the shell relies on them:
//! - [`Var::get`] inside an effect subscribes the effect; [`Var::set`] with a different value
//!   (or [`Var::update`]) schedules its subscribers, which run together in a microtask, in the
//!   order they were scheduled, never inside the code that changed the value.
//! - An effect runs once when it is made, and owns what it makes while running (nested effects,
//!   listeners, a view's parts); running again drops them first.
//! - Texts and attributes that follow a value touch the DOM only when their text changes.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, Event, Node};

// ---------------------------------------------------------------------------------------------
// Owners and effects.

/// What a part of the page owns: effects, listeners, nested owners. Dropped together.
type Owned = Vec<Box<dyn Any>>;

/// The microtask that runs scheduled effects (made once).
type FlushCallback = Closure<dyn FnMut(JsValue)>;

thread_local! {
    /// The owners being filled, innermost last (an effect's run, a mount).
    static OWNERS: RefCell<Vec<Rc<RefCell<Owned>>>> = const { RefCell::new(Vec::new()) };
    /// The effect running now: the one that [`Var::get`] subscribes.
    static OBSERVER: RefCell<Option<Weak<Effect>>> = const { RefCell::new(None) };
    /// Effects scheduled to run in the next microtask.
    static PENDING: RefCell<Vec<Weak<Effect>>> = const { RefCell::new(Vec::new()) };
    static FLUSH_QUEUED: Cell<bool> = const { Cell::new(false) };
    static FLUSH: RefCell<Option<FlushCallback>> = const { RefCell::new(None) };
}

/// Gives `thing` to the innermost owner; without one (the page's lifetime) it is kept forever.
pub fn own(thing: Box<dyn Any>) {
    let owner = OWNERS.with(|o| o.borrow().last().cloned());
    match owner {
        Some(o) => o.borrow_mut().push(thing),
        None => std::mem::forget(thing),
    }
}

/// Runs `f` with `owner` as the innermost owner.
fn owned_by<R>(owner: &Rc<RefCell<Owned>>, f: impl FnOnce() -> R) -> R {
    OWNERS.with(|o| o.borrow_mut().push(owner.clone()));
    let r = f();
    OWNERS.with(|o| o.borrow_mut().pop());
    r
}

/// A function that runs again whenever a [`Var`] it read changes.
pub struct Effect {
    run: Box<dyn Fn()>,
    owned: Rc<RefCell<Owned>>,
}

/// Makes an effect owned by the innermost owner and runs it once.
pub fn effect(f: impl Fn() + 'static) {
    make_effect(Box::new(f));
}

fn make_effect(run: Box<dyn Fn()>) {
    let e = Rc::new(Effect {
        run,
        owned: Rc::new(RefCell::new(Vec::new())),
    });
    run_effect(&e);
    own(Box::new(e));
}

fn run_effect(e: &Rc<Effect>) {
    // What the last run made goes first (taken out, so its drops borrow nothing of ours).
    let old = std::mem::take(&mut *e.owned.borrow_mut());
    drop(old);
    let before = OBSERVER.with(|o| o.replace(Some(Rc::downgrade(e))));
    owned_by(&e.owned, || (e.run)());
    OBSERVER.with(|o| *o.borrow_mut() = before);
}

/// Subscribes the running effect (if any) to a value's subscriber list.
fn track(subs: &RefCell<Vec<Weak<Effect>>>) {
    let Some(me) = OBSERVER.with(|o| o.borrow().clone()) else {
        return;
    };
    let mut subs = subs.borrow_mut();
    subs.retain(|w| w.strong_count() > 0);
    if !subs.iter().any(|w| w.ptr_eq(&me)) {
        subs.push(me);
    }
}

/// Schedules a value's subscribers for the next microtask.
fn notify(subs: &RefCell<Vec<Weak<Effect>>>) {
    let live: Vec<Weak<Effect>> = {
        let mut s = subs.borrow_mut();
        s.retain(|w| w.strong_count() > 0);
        s.clone()
    };
    if live.is_empty() {
        return;
    }
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        for w in live {
            if !p.iter().any(|q| q.ptr_eq(&w)) {
                p.push(w);
            }
        }
    });
    if !FLUSH_QUEUED.with(|q| q.replace(true)) {
        FLUSH.with(|f| {
            let mut f = f.borrow_mut();
            let cb = f.get_or_insert_with(|| Closure::new(|_: JsValue| flush()));
            let _ = js_sys::Promise::resolve(&JsValue::UNDEFINED).then(cb);
        });
    }
}

/// Runs every scheduled effect, and those they schedule in turn (a bounded number of rounds:
/// effects that keep changing each other's values stop rather than hang the page).
fn flush() {
    FLUSH_QUEUED.with(|q| q.set(false));
    for _ in 0..64 {
        let batch = PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()));
        if batch.is_empty() {
            return;
        }
        for w in batch {
            if let Some(e) = w.upgrade() {
                run_effect(&e);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Values.

struct VarInner<T> {
    value: RefCell<T>,
    subs: RefCell<Vec<Weak<Effect>>>,
}

/// A value that effects follow. A handle: clones share the value.
pub struct Var<T>(Rc<VarInner<T>>);

impl<T> Clone for Var<T> {
    fn clone(&self) -> Self {
        Var(self.0.clone())
    }
}

impl<T: Clone + PartialEq + 'static> Var<T> {
    pub fn new(value: T) -> Var<T> {
        Var(Rc::new(VarInner {
            value: RefCell::new(value),
            subs: RefCell::new(Vec::new()),
        }))
    }

    /// The value; inside an effect, the effect runs again when it changes.
    pub fn get(&self) -> T {
        track(&self.0.subs);
        self.get_untracked()
    }

    /// The value, without subscribing.
    pub fn get_untracked(&self) -> T {
        self.0.value.borrow().clone()
    }

    /// Replaces the value; its followers run if it differs.
    pub fn set(&self, value: T) {
        let changed = *self.0.value.borrow() != value;
        if changed {
            *self.0.value.borrow_mut() = value;
            notify(&self.0.subs);
        }
    }

    /// Changes the value in place; its followers run.
    pub fn update(&self, f: impl FnOnce(&mut T)) {
        f(&mut self.0.value.borrow_mut());
        notify(&self.0.subs);
    }
}

/// A value computed from others, whose followers run only when the result differs.
pub fn memo<T: Clone + PartialEq + 'static>(f: impl Fn() -> T + 'static) -> Var<T> {
    let var = Var::new(untracked(&f));
    let out = var.clone();
    effect(move || var.set(f()));
    out
}

/// Runs `f` subscribing nothing.
pub fn untracked<R>(f: impl FnOnce() -> R) -> R {
    let before = OBSERVER.with(|o| o.replace(None));
    let r = f();
    OBSERVER.with(|o| *o.borrow_mut() = before);
    r
}

/// Owned data behind a handle, read and changed in place; reads while a change is under way
/// give `None` (never a panic).
pub struct Store<T>(RefCell<T>);

impl<T> Store<T> {
    pub fn new(value: T) -> Store<T> {
        Store(RefCell::new(value))
    }
    pub fn try_with_value<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.0.try_borrow().ok().map(|v| f(&v))
    }
    pub fn try_update_value<R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.0.try_borrow_mut().ok().map(|mut v| f(&mut v))
    }
    pub fn update_value(&self, f: impl FnOnce(&mut T)) {
        self.try_update_value(f);
    }
}

// ---------------------------------------------------------------------------------------------
// Elements.

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("the page has a document")
}

/// An element being built.
pub struct El(pub Element);

/// A new element of `tag`.
pub fn el(tag: &str) -> El {
    El(document()
        .create_element(tag)
        .expect("a valid element name"))
}

/// A text node.
fn text_node(text: &str) -> Node {
    document().create_text_node(text).into()
}

/// What a part of a view gives: nothing, one element or several.
pub struct Nodes(pub Vec<Node>);

impl From<El> for Nodes {
    fn from(e: El) -> Nodes {
        Nodes(vec![e.0.into()])
    }
}
impl From<Option<El>> for Nodes {
    fn from(e: Option<El>) -> Nodes {
        Nodes(e.map(|e| e.0.into()).into_iter().collect())
    }
}
impl From<Vec<El>> for Nodes {
    fn from(v: Vec<El>) -> Nodes {
        Nodes(v.into_iter().map(|e| e.0.into()).collect())
    }
}

impl El {
    pub fn class(self, class: &str) -> El {
        self.attr("class", class)
    }

    pub fn attr(self, name: &str, value: &str) -> El {
        let _ = self.0.set_attribute(name, value);
        self
    }

    /// A boolean attribute (`disabled`, `checked`, ...), present when `on`.
    pub fn flag(self, name: &str, on: bool) -> El {
        if on {
            self.attr(name, "")
        } else {
            self
        }
    }

    /// Appends text.
    pub fn text(self, text: &str) -> El {
        let _ = self.0.append_child(&text_node(text));
        self
    }

    pub fn child(self, child: impl Into<Nodes>) -> El {
        for n in child.into().0 {
            let _ = self.0.append_child(&n);
        }
        self
    }

    pub fn children(self, kids: impl IntoIterator<Item = El>) -> El {
        for k in kids {
            let _ = self.0.append_child(&k.0);
        }
        self
    }

    /// Calls `f` on each `event` at this element, for as long as its owner lives.
    pub fn on(self, event: &str, f: impl FnMut(Event) + 'static) -> El {
        listen(self.0.as_ref(), event, Box::new(f));
        self
    }

    /// Appends text that follows `f`.
    pub fn text_with(self, f: impl Fn() -> String + 'static) -> El {
        let node = text_node("");
        let _ = self.0.append_child(&node);
        follow_text(node, Box::new(f));
        self
    }

    /// An attribute that follows `f` (`None` removes it).
    pub fn attr_with(self, name: &'static str, f: impl Fn() -> Option<String> + 'static) -> El {
        follow_attr(self.0.clone(), name, Box::new(f));
        self
    }

    /// A boolean attribute that follows `f`.
    pub fn flag_with(self, name: &'static str, f: impl Fn() -> bool + 'static) -> El {
        self.attr_with(name, move || f().then(String::new))
    }

    /// A class present while `f` says so.
    pub fn class_when(self, class: &'static str, f: impl Fn() -> bool + 'static) -> El {
        follow_class(self.0.clone(), class, Box::new(f));
        self
    }

    /// A DOM property (`value`, `checked`, `max`) that follows `f`; set only when it differs
    /// from what the control holds (setting a form control forces a layout).
    pub fn prop_with(self, name: &'static str, f: impl Fn() -> JsValue + 'static) -> El {
        follow_prop(self.0.clone(), name, Box::new(f));
        self
    }

    /// Nodes that `f` builds, built again whenever what it read changes.
    pub fn dynamic<N: Into<Nodes>>(self, f: impl Fn() -> N + 'static) -> El {
        region(&self.0, Box::new(move || f().into()));
        self
    }

    /// Nodes that `build` makes from `key`, built again only when the key changes: what
    /// `build` reads is not followed (its own dynamic parts follow what they read). For parts
    /// with controls in them: a button rebuilt under the pointer loses its click.
    pub fn dynamic_by<K: Clone + PartialEq + 'static, N: Into<Nodes>>(
        self,
        key: impl Fn() -> K + 'static,
        build: impl Fn(K) -> N + 'static,
    ) -> El {
        let key = memo(key);
        self.dynamic(move || {
            let k = key.get();
            untracked(|| build(k).into())
        })
    }

    /// Keeps this element in `slot` (a canvas the clock paints, say).
    pub fn keep(self, slot: &Slot) -> El {
        slot.0.replace(Some(self.0.clone()));
        self
    }
}

/// An element kept for code outside the view (the canvases).
#[derive(Default)]
pub struct Slot(RefCell<Option<Element>>);

impl Slot {
    pub fn get<T: JsCast>(&self) -> Option<T> {
        self.0.borrow().clone().and_then(|e| e.dyn_into().ok())
    }
}

/// A listener removed when its owner drops.
struct Listener {
    target: web_sys::EventTarget,
    event: String,
    closure: Closure<dyn FnMut(Event)>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.target.remove_event_listener_with_callback(
            &self.event,
            self.closure.as_ref().unchecked_ref(),
        );
    }
}

/// Listens for `event` at `target` while the innermost owner lives.
pub fn listen(target: &web_sys::EventTarget, event: &str, f: Box<dyn FnMut(Event)>) {
    let closure = Closure::wrap(f);
    let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
    own(Box::new(Listener {
        target: target.clone(),
        event: event.to_string(),
        closure,
    }));
}

/// Listens for `event` on the window while the innermost owner lives.
pub fn listen_window(event: &str, f: impl FnMut(Event) + 'static) {
    if let Some(w) = web_sys::window() {
        listen(w.as_ref(), event, Box::new(f));
    }
}

fn follow_text(node: Node, f: Box<dyn Fn() -> String>) {
    let last = RefCell::new(None::<String>);
    effect(move || {
        let t = f();
        if last.borrow().as_deref() != Some(t.as_str()) {
            node.set_text_content(Some(&t));
            *last.borrow_mut() = Some(t);
        }
    });
}

fn follow_attr(el: Element, name: &'static str, f: Box<dyn Fn() -> Option<String>>) {
    let last = RefCell::new(None::<Option<String>>);
    effect(move || {
        let v = f();
        if last.borrow().as_ref() == Some(&v) {
            return;
        }
        let _ = match &v {
            Some(v) => el.set_attribute(name, v),
            None => el.remove_attribute(name),
        };
        *last.borrow_mut() = Some(v);
    });
}

fn follow_class(el: Element, class: &'static str, f: Box<dyn Fn() -> bool>) {
    effect(move || {
        let _ = el.class_list().toggle_with_force(class, f());
    });
}

fn follow_prop(el: Element, name: &'static str, f: Box<dyn Fn() -> JsValue>) {
    let key = JsValue::from_str(name);
    effect(move || {
        let v = f();
        let now = js_sys::Reflect::get(&el, &key).unwrap_or(JsValue::UNDEFINED);
        // Form controls hold strings and booleans: compare as they would.
        let same = match (v.as_string(), v.as_bool()) {
            (Some(s), _) => now.as_string().as_deref() == Some(s.as_str()),
            (_, Some(b)) => now.as_bool() == Some(b),
            _ => false,
        };
        if !same {
            let _ = js_sys::Reflect::set(&el, &key, &v);
        }
    });
}

/// A part of `parent` rebuilt whenever what `build` read changes: its nodes sit before a
/// marker (an empty comment), and are replaced together.
fn region(parent: &Element, build: Box<dyn Fn() -> Nodes>) {
    let marker: Node = document().create_comment("").into();
    let _ = parent.append_child(&marker);
    let shown: RefCell<Vec<Node>> = RefCell::new(Vec::new());
    effect(move || {
        let Nodes(next) = build();
        for old in shown.borrow_mut().drain(..) {
            if let Some(p) = old.parent_node() {
                let _ = p.remove_child(&old);
            }
        }
        if let Some(p) = marker.parent_node() {
            for n in &next {
                let _ = p.insert_before(n, Some(&marker));
            }
        }
        *shown.borrow_mut() = next;
    });
}

/// A built view in the page, with everything it owns; dropping it takes it out again.
pub struct Mounted {
    owned: Rc<RefCell<Owned>>,
    node: Element,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let owned = std::mem::take(&mut *self.owned.borrow_mut());
        drop(owned);
        self.node.remove();
    }
}

/// Builds `view` into `parent`; what it makes is owned by the returned handle.
pub fn mount(parent: &Element, view: impl FnOnce() -> El) -> Mounted {
    let owned = Rc::new(RefCell::new(Vec::new()));
    let node = owned_by(&owned, view).0;
    let _ = parent.append_child(&node);
    Mounted { owned, node }
}

// ---------------------------------------------------------------------------------------------
// Small helpers for event handlers.

/// The value of the input, select or text area an event came from.
pub fn event_value(ev: &Event) -> String {
    let key = JsValue::from_str("value");
    ev.target()
        .and_then(|t| js_sys::Reflect::get(&t, &key).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Whether the checkbox an event came from is checked.
pub fn event_checked(ev: &Event) -> bool {
    let key = JsValue::from_str("checked");
    ev.target()
        .and_then(|t| js_sys::Reflect::get(&t, &key).ok())
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Calls `f` once after `ms` milliseconds.
pub fn after_ms(ms: i32, f: impl FnOnce() + 'static) {
    after_ms_boxed(ms, Box::new(f));
}

/// [`after_ms`] compiled once, whatever the callback.
fn after_ms_boxed(ms: i32, f: Box<dyn FnOnce()>) {
    if let Some(w) = web_sys::window() {
        let cb = Closure::once_into_js(f);
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(cb.unchecked_ref(), ms);
    }
}

/// Reads `file` as text in the background and hands `done` the text, or `None` when it could
/// not be read.
pub fn read_text(file: &web_sys::File, done: Box<dyn FnOnce(Option<String>)>) {
    let Ok(reader) = web_sys::FileReader::new() else {
        return done(None);
    };
    let r = reader.clone();
    let done = std::rc::Rc::new(std::cell::Cell::new(Some(done)));
    let on_load = done.clone();
    let onload = Closure::once_into_js(move || {
        if let Some(f) = on_load.take() {
            f(r.result().ok().and_then(|v| v.as_string()));
        }
    });
    reader.set_onload(Some(onload.unchecked_ref()));
    if reader.read_as_text(file).is_err() {
        if let Some(f) = done.take() {
            f(None);
        }
    }
}
