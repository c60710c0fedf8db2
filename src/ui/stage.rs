//! The topology stage: the canvas with nodes, links and messages, and what the pointer does on
//! it — hover to describe, click to inspect, click a link to cut or heal it, drag a line across
//! the circle of nodes to partition, right-click a node for its menu.

use super::dom::{el, event_value, memo, El, Slot};
use super::{clock, Shell};
use crate::play::session::Session;
use crate::sim::command::Action;
use crate::sim::time::fixed;
use crate::viz::scene::{hit_endpoint, hit_link, hit_message, split_by_line, Pt, Selection};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlCanvasElement, MouseEvent, PointerEvent};

/// How far the pointer must move before a press becomes a partition drag, in CSS px.
const DRAG_PX: f64 = 8.0;

/// What is under the pointer on the topology.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Hit {
    Msg(u64),
    Endpoint(u32),
    /// A node-to-node link and the end nearer the pointer.
    Link(u32, u32, u32),
    /// One of the lab's items on its own stage.
    Item(u64),
    Nothing,
}

fn hit(shell: &Shell, p: Pt) -> Hit {
    // What the page shows now, decided once for this pointer event.
    let Some(view) = clock::frame_view(shell) else {
        return Hit::Nothing;
    };
    shell
        .with(|s| {
            if view.stage > 0 {
                return stage_hit(s, &view, view.stage as usize - 1, 0.0, p);
            }
            if let Some((ix, left)) = crate::play::frame::beside(s, &view).filter(|b| p.x >= b.1) {
                return stage_hit(s, &view, ix, left, p);
            }
            let Some(layout) = crate::play::frame::layout(s, &view) else {
                return Hit::Nothing;
            };
            let msgs = s.sim().in_flight();
            if let Some(m) = hit_message(&layout, &msgs, s.now_us(), p, view.style) {
                return Hit::Msg(m);
            }
            if let Some(e) = hit_endpoint(&layout, p) {
                return Hit::Endpoint(e);
            }
            match hit_link(&layout, p) {
                Some((a, b, near)) => Hit::Link(a, b, near),
                None => Hit::Nothing,
            }
        })
        .unwrap_or(Hit::Nothing)
}

/// What is under `p` on the lab's stage `ix`, drawn from `left` on (0 for the lab's own view,
/// the logs' left edge for a stage beside the servers).
fn stage_hit(
    s: &Session,
    view: &crate::play::frame::FrameView,
    ix: usize,
    left: f64,
    p: Pt,
) -> Hit {
    crate::play::frame::stage_area(view, left)
        .and_then(|a| s.sim().stage_hit(ix, &a, Pt::new(p.x - left, p.y)))
        .map_or(Hit::Nothing, Hit::Item)
}

fn local(canvas: &web_sys::HtmlCanvasElement, ev: &MouseEvent) -> Pt {
    let r = canvas.get_bounding_client_rect();
    Pt::new(
        ev.client_x() as f64 - r.left(),
        ev.client_y() as f64 - r.top(),
    )
}

/// A short description of what is under the pointer.
fn describe(s: &Session, h: Hit) -> Option<String> {
    let sim = s.sim();
    match h {
        Hit::Msg(id) => {
            let m = sim.in_flight().into_iter().find(|m| m.id == id)?;
            let lost = if m.lost { " (will be lost)" } else { "" };
            Some(format!(
                "#{id} {}: {} → {}{lost}",
                m.kind,
                s.endpoint_name(m.from),
                s.endpoint_name(m.to)
            ))
        }
        Hit::Endpoint(e) if e < sim.n() => {
            let nv = sim.nodes().into_iter().nth(e as usize)?;
            let state = if nv.up {
                nv.role.clone()
            } else {
                "crashed".into()
            };
            // The first line the role does not already say ("term 4" is in "leader, term 4").
            let first = nv
                .lines
                .iter()
                .find(|l| !state.contains(l.as_str()))
                .cloned()
                .unwrap_or_default();
            Some(format!("{} — {state}. {first}", nv.label))
        }
        Hit::Endpoint(e) => Some(format!("Client C{}", e - sim.n())),
        Hit::Item(i) => sim.item_view(i).map(|it| match it.lines.first() {
            Some(first) => format!("{} — {first}", it.title),
            None => it.title,
        }),
        Hit::Link(a, b, near) => {
            let cut = sim.cut_links();
            let (x, y) = (s.endpoint_name(a), s.endpoint_name(b));
            let state = match (cut.contains(&(a, b)), cut.contains(&(b, a))) {
                (true, true) => "cut both ways: click to heal",
                (true, false) | (false, true) => "cut one way: click to heal",
                _ => "click to cut",
            };
            let towards = s.endpoint_name(near);
            Some(format!(
                "Link {x}–{y}: {state}; shift-click cuts only messages towards {towards}"
            ))
        }
        Hit::Nothing => None,
    }
}

/// The action a click on a link asks for.
fn link_action(cuts: &[(u32, u32)], a: u32, b: u32, near: u32, one_way: bool) -> Action {
    if one_way {
        // Cut (or heal) only the direction heading towards the end clicked near.
        let (from, to) = if near == a { (b, a) } else { (a, b) };
        if cuts.contains(&(from, to)) {
            Action::HealLink {
                from,
                to,
                both_ways: false,
            }
        } else {
            Action::CutLink {
                from,
                to,
                both_ways: false,
            }
        }
    } else if cuts.contains(&(a, b)) || cuts.contains(&(b, a)) {
        Action::HealLink {
            from: a,
            to: b,
            both_ways: true,
        }
    } else {
        Action::CutLink {
            from: a,
            to: b,
            both_ways: true,
        }
    }
}

/// Where a press on the topology began, while the main button is down (CSS px on the canvas).
type Press = Rc<Cell<Option<Pt>>>;

/// The topology canvas and its overlays (hover text, node menu). `canvas` keeps the canvas
/// the display clock paints the topology on.
pub fn stage(shell: Shell, canvas: &'static Slot) -> El {
    let topology = topology_canvas(shell, canvas);
    el("section")
        .class("stage")
        .attr("aria-label", "Topology")
        .child(topology)
        .dynamic(tooltip(shell))
        .dynamic(move || node_menu(shell))
        .child(legend(shell))
        .dynamic_by(
            move || {
                shell.tick.get();
                shell.with(|s| s.lab()).map(|l| l.id)
            },
            move |lab| {
                lab.and_then(crate::labs::find)
                    .and_then(|l| view_picker(shell, l))
            },
        )
}

/// The canvas the topology is painted on, and what the pointer does on it (kept in `canvas`;
/// its size is observed from the start).
fn topology_canvas(shell: Shell, canvas: &'static Slot) -> El {
    let press: Press = Rc::new(Cell::new(None));
    let (p1, p2, p3, p4) = (press.clone(), press.clone(), press.clone(), press);
    let topology = el("canvas")
        .class("topology")
        .attr("role", "img")
        .attr(
            "aria-label",
            "Topology: nodes on a circle, clients as squares, messages moving along links. Click to inspect, drag a line to partition, click a link to cut it.",
        )
        .on("pointerdown", move |ev| pointer_down(shell, canvas, &p1, &ev))
        .on("pointermove", move |ev| pointer_move(shell, canvas, &p2, &ev))
        .on("pointerup", move |ev| pointer_up(shell, canvas, &p3, &ev))
        .on("pointercancel", move |_| pointer_cancel(shell, &p4))
        .on("pointerleave", move |_| pointer_leave(shell))
        .on("contextmenu", move |ev| context_menu(shell, canvas, &ev))
        .on("touchend", |ev| {
            // The finger that opened a menu lifts over it: that is no click on the menu.
            if LONG_PRESSED.with(|l| l.replace(false)) {
                ev.prevent_default();
            }
        })
        .keep(canvas);
    observe_size(&topology.0, shell, true);
    topology
}

/// A press of the main button: closes the node menu, remembers where the press began and
/// captures the pointer (a drag may leave the canvas).
fn pointer_down(shell: Shell, canvas: &Slot, press: &Press, ev: &web_sys::Event) {
    let Some(ev) = ev.dyn_ref::<PointerEvent>() else {
        return;
    };
    if ev.button() != 0 {
        return;
    }
    shell.menu.set(None);
    if let Some(c) = canvas.get::<HtmlCanvasElement>() {
        let at = local(&c, ev);
        press.set(Some(at));
        let _ = c.set_pointer_capture(ev.pointer_id());
        if ev.pointer_type() == "touch" {
            arm_long_press(shell, press, at);
        }
    }
}

/// A move: far enough from a press on the topology it draws the partition line; otherwise it
/// hovers.
fn pointer_move(shell: Shell, canvas: &Slot, press: &Press, ev: &web_sys::Event) {
    let Some(ev) = ev.dyn_ref::<MouseEvent>() else {
        return;
    };
    let Some(c) = canvas.get::<HtmlCanvasElement>() else {
        return;
    };
    let p = local(&c, ev);
    let on_topology = shell.with(|s| s.stage_ix() == 0).unwrap_or(true);
    if let (Some(start), true) = (press.get(), on_topology) {
        if start.dist(p) >= DRAG_PX {
            shell.view.update_value(|v| {
                v.drag = Some((start, p));
                v.dirty = true;
            });
            shell.tooltip.set(None);
            return;
        }
    }
    hover(shell, p);
}

/// Highlights what is under `p` and describes it in the hover text beside the pointer.
fn hover(shell: Shell, p: Pt) {
    let h = hit(&shell, p);
    let sel = match h {
        Hit::Msg(m) => Selection::Msg(m),
        Hit::Endpoint(e) => Selection::Node(e),
        Hit::Item(i) => Selection::Item(i),
        _ => Selection::None,
    };
    let changed = shell.with(|s| s.hover != sel).unwrap_or(false);
    if changed {
        shell.session.update_value(|s| s.hover = sel);
        shell.view.update_value(|v| v.dirty = true);
    }
    let text = shell.with(|s| describe(s, h)).flatten();
    let generation = shell.with(|s| s.generation).unwrap_or(0);
    shell.tooltip.set(text.map(|t| (p.x, p.y, t, generation)));
}

/// A release: ends a drag by partitioning along its line; a press that barely moved is a
/// click (shift for a one-way cut).
fn pointer_up(shell: Shell, canvas: &Slot, press: &Press, ev: &web_sys::Event) {
    let Some(ev) = ev.dyn_ref::<MouseEvent>() else {
        return;
    };
    let Some(start) = press.take() else { return };
    let Some(c) = canvas.get::<HtmlCanvasElement>() else {
        return;
    };
    let p = local(&c, ev);
    let drag = shell.view.try_update_value(|v| {
        v.dirty = true;
        v.drag.take()
    });
    if let Some(Some((a, b))) = drag {
        partition(shell, a, b);
    } else if start.dist(p) < DRAG_PX {
        click(shell, p, ev.shift_key());
    }
}

/// The browser took the pointer away: the press and any drag line are dropped.
fn pointer_cancel(shell: Shell, press: &Press) {
    press.set(None);
    shell.view.update_value(|v| {
        v.drag = None;
        v.dirty = true;
    });
}

/// The pointer left the canvas: nothing is hovered any more.
fn pointer_leave(shell: Shell) {
    shell.tooltip.set(None);
    shell.session.update_value(|s| s.hover = Selection::None);
    shell.view.update_value(|v| v.dirty = true);
}

/// A right-click on a server selects it and opens its menu there, instead of the browser's.
fn context_menu(shell: Shell, canvas: &Slot, ev: &web_sys::Event) {
    let Some(mev) = ev.dyn_ref::<MouseEvent>() else {
        return;
    };
    let Some(c) = canvas.get::<HtmlCanvasElement>() else {
        return;
    };
    if open_menu_at(shell, local(&c, mev)) {
        ev.prevent_default();
    }
}

/// The endpoint at `p`: on the topology a node or client; on a lab's stage an item that is a
/// server itself (it bears the server's name, as the ring's bands and rows do), not one that
/// belongs to a server (a key, a log entry). With what selecting it selects.
fn endpoint_at(shell: &Shell, p: Pt) -> Option<(u32, Selection)> {
    match hit(shell, p) {
        Hit::Endpoint(e) => Some((e, Selection::Node(e))),
        Hit::Item(i) => shell
            .with(|s| {
                let item = s.sim().item_view(i)?;
                let e = item.node?;
                (item.title == s.endpoint_name(e)).then_some((e, Selection::Item(i)))
            })
            .flatten(),
        _ => None,
    }
}

/// Opens the menu of the server at `p`, selecting it; false when no server is there.
fn open_menu_at(shell: Shell, p: Pt) -> bool {
    let Some((e, selection)) = endpoint_at(&shell, p) else {
        return false;
    };
    if !shell.with(|s| e < s.sim().n()).unwrap_or(false) {
        return false;
    }
    shell.update(|s| s.selection = selection);
    // Keep the menu inside the stage (it is clipped at its edges).
    let (w, h) = shell
        .view
        .try_with_value(|v| v.topo_size)
        .unwrap_or((400.0, 400.0));
    let x = p.x.min(w - 140.0).max(4.0);
    let y = p.y.min(h - 200.0).max(4.0);
    shell.tooltip.set(None);
    shell.menu.set(Some((x, y, e)));
    true
}

thread_local! {
    /// A long press has just opened a menu (its finger has not lifted yet).
    static LONG_PRESSED: Cell<bool> = const { Cell::new(false) };
}

/// How long a finger rests on a server before its menu opens (a touch screen's right-click).
const LONG_PRESS_MS: i32 = 550;

/// A touch that stays where it began opens the menu of the server under it, and is then no
/// click.
fn arm_long_press(shell: Shell, press: &Press, at: Pt) {
    let press = press.clone();
    super::dom::after_ms(LONG_PRESS_MS, move || {
        let dragging = shell
            .view
            .try_with_value(|v| v.drag.is_some())
            .unwrap_or(false);
        if press.get() == Some(at) && !dragging && open_menu_at(shell, at) {
            press.set(None);
            LONG_PRESSED.with(|l| l.set(true));
        }
    });
}

/// The hover text beside the pointer (it follows [`Shell::tooltip`]), gone once the run it
/// described is replaced under a resting pointer (a preset picked, a link opened).
fn tooltip(shell: Shell) -> impl Fn() -> Option<El> {
    let shown = memo(move || {
        shell.tick.get();
        let generation = shell.with(|s| s.generation);
        shell.tooltip.get().filter(|t| Some(t.3) == generation)
    });
    move || {
        shown.get().map(|(x, y, t, _)| {
            el("div")
                .class("tooltip")
                .attr("role", "status")
                .attr(
                    "style",
                    &format!("left:{}px;top:{}px", fixed(x + 14.0, 0), fixed(y + 14.0, 0)),
                )
                .text(&t)
        })
    }
}

/// The picker between the topology and the lab's own stages (none when it has none). Its
/// choice is in the link (`view=`).
fn view_picker(shell: Shell, lab: &'static crate::labs::Lab) -> Option<El> {
    if lab.stages.is_empty() {
        return None;
    }
    let current = memo(move || {
        shell.edits.get();
        shell.with(|s| s.stage_ix()).unwrap_or(0)
    });
    let pick = move |ev: web_sys::Event| {
        let ix: u8 = event_value(&ev).parse().unwrap_or(0);
        shell.update(|s| s.set_stage(ix));
        shell.tooltip.set(None);
    };
    let topology = el("option")
        .attr("value", "0")
        .attr(
            "title",
            "nodes and clients, the links between them, messages in flight",
        )
        .text("Topology");
    let own = lab.stages.iter().enumerate().map(|(i, st)| {
        el("option")
            .attr("value", &(i + 1).to_string())
            .attr("title", st.help)
            .text(st.title)
    });
    Some(
        el("select")
            .class("views")
            .attr("aria-label", "View")
            .on("change", pick)
            .child(topology)
            .children(own)
            .prop_with("value", move || current.get().to_string().into()),
    )
}

/// What the colours mean: the lab's message kinds and roles, and the engine's marks. Folded
/// away by default; it lies over the stage's corner and moves nothing.
fn legend(shell: Shell) -> El {
    let lab = memo(move || {
        shell.tick.get();
        shell
            .with(|s| (s.lab().id, s.sim().clients() > 0))
            .unwrap_or_default()
    });
    let entries = move || {
        let (id, clients) = lab.get();
        legend_rows(id, clients)
    };
    el("details")
        .class("legend")
        .child(
            el("summary")
                .attr("aria-label", "Legend: what the colours mean")
                .text("Legend"),
        )
        .child(el("ul").dynamic(move || {
            entries()
                .into_iter()
                .map(|(shape, colour, name, meaning)| {
                    el("li")
                        .attr("title", meaning)
                        .child(
                            el("span")
                                .class(&format!("swatch {shape}"))
                                .attr("style", &format!("--c:{colour}"))
                                .attr("aria-hidden", "true"),
                        )
                        .child(el("span").class("legend-name").text(name))
                        .child(el("span").class("muted small").text(meaning))
                })
                .collect::<Vec<El>>()
        }))
}

/// One row of the legend: the swatch's shape class, its colour, the name and what it means.
type LegendRow = (String, &'static str, &'static str, &'static str);

/// The legend's rows for lab `id`: its message kinds (and the clients' when it has clients),
/// its roles and the engine's, then the marks for drops and cut links.
fn legend_rows(id: &str, clients: bool) -> Vec<LegendRow> {
    use crate::labs::kind_colour;
    use crate::viz::colors::{for_role, ALERT};
    let Some(lab) = crate::labs::find(id) else {
        return Vec::new();
    };
    let engine = &crate::labs::ENGINE_LEGEND;
    let mut rows: Vec<LegendRow> = Vec::new();
    let client_kinds = if clients { engine.messages } else { &[] };
    for (kind, _, meaning) in lab.legend.messages.iter().chain(client_kinds) {
        rows.push(("dot".into(), kind_colour(kind), kind, meaning));
    }
    for (class, name, meaning) in lab.legend.roles.iter().chain(engine.roles) {
        rows.push(("outline".into(), for_role(*class), name, meaning));
    }
    rows.push((
        "cross".into(),
        ALERT,
        "dropped",
        "a message lost, cut off or dropped",
    ));
    rows.push((
        "dash".into(),
        "#8a8f98",
        "cut link",
        "a dashed line: messages on it are dropped",
    ));
    rows
}

fn click(shell: Shell, p: Pt, shift: bool) {
    shell.menu.set(None);
    match hit(&shell, p) {
        Hit::Msg(m) => {
            shell.update(|s| s.selection = Selection::Msg(m));
        }
        Hit::Endpoint(e) => {
            shell.update(|s| s.selection = Selection::Node(e));
        }
        Hit::Item(i) => {
            shell.update(|s| s.selection = Selection::Item(i));
        }
        Hit::Link(a, b, near) => {
            let Some(cuts) = shell.with(|s| s.sim().cut_links()) else {
                return;
            };
            shell.act(link_action(&cuts, a, b, near, shift));
        }
        Hit::Nothing => {
            shell.update(|s| s.selection = Selection::None);
        }
    }
}

fn partition(shell: Shell, a: Pt, b: Pt) {
    let Some(layout) = clock::layout(&shell) else {
        return;
    };
    match split_by_line(&layout, a, b) {
        Some([x, y]) => shell.act(Action::Partition { groups: vec![x, y] }),
        None => shell.notice.set(Some(
            "Drag the line right across the circle so that nodes lie on both sides of it.".into(),
        )),
    }
}

/// A node's menu: crash, restart, isolate. Built again whenever the menu opens, moves or
/// closes (it follows [`Shell::menu`]).
fn node_menu(shell: Shell) -> Option<El> {
    let (x, y, node) = shell.menu.get()?;
    let (name, up) = shell.with(|s| {
        (
            s.endpoint_name(node),
            s.sim().nodes().get(node as usize).is_some_and(|n| n.up),
        )
    })?;
    let (verbs, asks) = shell.with(|s| {
        let lab = s.lab();
        let server = node < s.sim().n();
        let sc = s.scenario();
        let verbs: Vec<&'static crate::labs::Verb> = lab
            .verbs
            .iter()
            .filter(|v| v.on_node && server && (lab.shown)(&sc, v.name))
            .collect();
        (
            verbs,
            server && lab.sample_request.is_some() && s.sim().clients() > 0,
        )
    })?;
    Some(
        el("div")
            .class("menu")
            .attr("role", "menu")
            .attr("aria-label", &format!("{name} menu"))
            .attr(
                "style",
                &format!("left:{}px;top:{}px", fixed(x, 0), fixed(y, 0)),
            )
            .child(el("div").class("menu-title").text(&name))
            .children(verbs.into_iter().map(|v| {
                menu_item(!up)
                    .attr("title", v.help)
                    .attr("aria-label", &format!("{} {name}", v.label))
                    .on(
                        "click",
                        and_close(shell, move || shell.lab_verb(v, Some(node))),
                    )
                    .text(v.label)
            }))
            .child(asks.then(|| {
                menu_item(false)
                    .attr("aria-label", &format!("Send a request to {name}"))
                    .on("click", and_close(shell, move || shell.request_at(node)))
                    .text("Send a request")
            }))
            .children(node_items(shell, node, &name, up)),
    )
}

/// The items every node's menu ends with: crash (when up), restart (when down), isolate, and
/// close the menu.
fn node_items(shell: Shell, node: u32, name: &str, up: bool) -> [El; 4] {
    [
        menu_item(!up)
            .attr("aria-label", &format!("Crash {name}"))
            .on(
                "click",
                and_close(shell, move || shell.act(Action::Crash { node })),
            )
            .text("Crash"),
        menu_item(up)
            .attr("aria-label", &format!("Restart {name}"))
            .on(
                "click",
                and_close(shell, move || shell.act(Action::Restart { node })),
            )
            .text("Restart"),
        menu_item(false)
            .attr("aria-label", &format!("Isolate {name}"))
            .on("click", and_close(shell, move || shell.isolate(node)))
            .text("Isolate"),
        menu_item(false)
            .attr("aria-label", "Close menu")
            .on("click", move |_| shell.menu.set(None))
            .text("Close"),
    ]
}

/// A button of the node menu, disabled when `disabled`.
fn menu_item(disabled: bool) -> El {
    el("button")
        .attr("role", "menuitem")
        .class("btn")
        .flag("disabled", disabled)
}

/// A menu item's click: does `act`, then closes the menu.
fn and_close(shell: Shell, act: impl Fn() + 'static) -> impl FnMut(web_sys::Event) + 'static {
    move |_| {
        act();
        shell.menu.set(None);
    }
}

/// Keeps the view's record of a canvas's CSS size current (and asks for a repaint). Called
/// with the canvas as soon as it is built.
pub fn observe_size(canvas: &web_sys::Element, shell: Shell, topo: bool) {
    let cb = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        for e in entries.iter() {
            let Ok(entry) = e.dyn_into::<web_sys::ResizeObserverEntry>() else {
                continue;
            };
            let r = entry.content_rect();
            let size = (r.width(), r.height());
            shell.view.update_value(|v| {
                if topo {
                    v.topo_size = size;
                } else {
                    v.diagram_size = size;
                }
                v.dirty = true;
            });
        }
    });
    // The observer lives as long as the canvas it watches; its callback as long as the page.
    if let Ok(obs) = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()) {
        obs.observe(canvas);
    }
    cb.forget();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_cuts_a_healthy_link_both_ways_and_heals_a_cut_one() {
        assert_eq!(
            link_action(&[], 0, 1, 0, false),
            Action::CutLink {
                from: 0,
                to: 1,
                both_ways: true
            }
        );
        assert_eq!(
            link_action(&[(1, 0)], 0, 1, 0, false),
            Action::HealLink {
                from: 0,
                to: 1,
                both_ways: true
            }
        );
        // Shift-click near node 0: only messages heading to node 0 are cut.
        assert_eq!(
            link_action(&[], 0, 1, 0, true),
            Action::CutLink {
                from: 1,
                to: 0,
                both_ways: false
            }
        );
        assert_eq!(
            link_action(&[(1, 0)], 0, 1, 0, true),
            Action::HealLink {
                from: 1,
                to: 0,
                both_ways: false
            }
        );
    }
}
