//! The side panel: the inspector (selected node or message), network and lab controls,
//! properties with their live status, the lab's own panels, and the tools: the client-history
//! checker and (Raft) the election experiment.

use super::dom::{effect, el, event_checked, event_value, memo, untracked, El};
use super::experiment::experiment_panel;
use super::history::history_panel;
use super::{clock_text, Shell};
use crate::labs::{ParamKind, ParamSpec};
use crate::sim::client::BACKOFFS;
use crate::sim::command::Action;
use crate::sim::net::Dist;
use crate::sim::property::PropKind;
use crate::sim::time::{format_us, parse_decimal_f64};
use crate::sim::trace::RecordView;
use crate::sim::{LinkParams, NetSetting};
use crate::viz::scene::Selection;
use crate::viz::{MsgView, Panel};
use std::cell::RefCell;
use std::rc::Rc;

/// Everything beside the canvas.
pub fn side(shell: Shell) -> El {
    let aside = el("aside")
        .class("side")
        .attr("aria-label", "Inspector and controls")
        .child(inspector(shell))
        .child(network(shell))
        .child(lab_params(shell))
        .dynamic({
            let clients = has_clients(shell);
            move || clients.get().then(|| client_settings(shell))
        })
        .child(properties(shell));
    let aside = figures(shell, aside).child(panels(shell));
    let aside = charts(shell, aside);
    tools(shell, aside)
}

/// The client-history checker (labs with clients) and the lab's experiments, each mounted once
/// per lab, so a result or a run in progress survives the frames. Added to
/// `side` (they are its last children, not an element of their own).
fn tools(shell: Shell, side: El) -> El {
    let lab = memo(move || {
        shell.tick.get();
        shell.with(|s| s.lab().id).unwrap_or_default()
    });
    let clients = memo(move || {
        shell.tick.get();
        shell.with(|s| s.sim().clients() > 0).unwrap_or(false)
    });
    side.dynamic(move || clients.get().then(|| history_panel(shell)))
        .dynamic({
            let lab = lab.clone();
            move || {
                let experiments = crate::labs::find(lab.get()).map_or(&[][..], |l| l.experiments);
                (!experiments.is_empty()).then(|| experiment_panel(shell, experiments))
            }
        })
}

/// The chart's height in CSS pixels.
const CHART_H: f64 = 180.0;

/// The run's charts (time series end at the cursor), one canvas each, drawn by the shared
/// chart painter; built again only when the set of charts changes. Added to `side`.
fn charts(shell: Shell, side: El) -> El {
    let charts = memo(move || {
        shell.slow_tick.get();
        shell.with(|s| s.sim().charts()).unwrap_or_default()
    });
    let titles = {
        let charts = charts.clone();
        memo(move || {
            charts
                .get()
                .iter()
                .map(|c| c.title.clone())
                .collect::<Vec<_>>()
        })
    };
    side.dynamic_by(
        move || titles.get(),
        move |titles| {
            let card = el("section")
                .class("card charts")
                .attr("aria-label", "Charts")
                .child(el("h2").text("Charts"));
            (!titles.is_empty()).then(|| {
                titles.iter().enumerate().fold(card, |card, (i, title)| {
                    card.child(el("h3").text(title))
                        .child({
                            let charts = charts.clone();
                            let label = format!("{title}, as a chart");
                            super::paint::chart_canvas(shell, &label, CHART_H, move || {
                                charts.get().get(i).cloned()
                            })
                        })
                        .child(el("p").class("muted small").text_with({
                            let charts = charts.clone();
                            move || {
                                charts
                                    .get()
                                    .get(i)
                                    .map(|c| c.caption.clone())
                                    .unwrap_or_default()
                            }
                        }))
                })
            })
        },
    )
}

/// The selected node's state and actions, or the selected message's content.
fn inspector(shell: Shell) -> El {
    // Built again when the selection changes (or a message lands), not at every tick: a button
    // rebuilt under the pointer would lose its click. The node's state inside follows the tick.
    let key = move || {
        shell.slow_tick.get();
        shell
            .with(|s| {
                let in_flight = match s.selection {
                    Selection::Msg(m) => s.sim().in_flight().iter().any(|f| f.id == m),
                    _ => false,
                };
                (s.selection, in_flight)
            })
            .unwrap_or_default()
    };
    let body = move |(sel, _): (Selection, bool)| {
        match sel {
            Selection::Node(e) => node_view(shell, e),
            Selection::Msg(m) => Some(msg_view(shell, m)),
            Selection::Item(i) => Some(item_view(shell, i)),
            Selection::None => Some(el("p").class("muted").text(
                "Click a node or a message to inspect it. Drag a line across the circle of nodes to partition them; click a link to cut it.",
            )),
        }
    };
    let stats = move || {
        shell.slow_tick.get();
        shell
            .with(|s| {
                let c = s.sim().counters();
                (
                    format!("{:016x}", s.sim().trace_hash()),
                    c.events,
                    c.sent,
                    c.delivered,
                    c.dropped,
                )
            })
            .unwrap_or_default()
    };
    el("section")
        .class("card")
        .attr("aria-label", "Inspector")
        .child(el("h2").text("Inspector"))
        .dynamic_by(key, body)
        .child(
            el("dl")
                .class("stats")
                .child(el("dt").text("trace hash"))
                .child(
                    el("dd")
                        .class("mono")
                        .attr("data-testid", "trace-hash")
                        .text_with(move || stats().0),
                )
                .child(el("dt").text("events"))
                .child(el("dd").text_with(move || stats().1.to_string()))
                .child(el("dt").text("sent / delivered / dropped"))
                .child(
                    el("dd").text_with(move || {
                        format!("{} / {} / {}", stats().2, stats().3, stats().4)
                    }),
                ),
        )
}

/// What the inspector shows of endpoint `e`: label, role, state lines, up, whether a server.
fn node_info(shell: Shell, e: u32) -> Option<(String, String, Vec<String>, bool, bool)> {
    shell.with(|s| {
        let sim = s.sim();
        if e >= sim.n() {
            return (
                format!("Client C{}", e - sim.n()),
                String::new(),
                vec!["sends requests to the servers".to_string()],
                true,
                false,
            );
        }
        let nv = sim.nodes().into_iter().nth(e as usize).unwrap_or_default();
        (nv.label, nv.role, nv.lines, nv.up, true)
    })
}

fn node_view(shell: Shell, e: u32) -> Option<El> {
    let (label, _, _, _, is_node) = node_info(shell, e)?;
    let info = move || {
        shell.slow_tick.get();
        node_info(shell, e)
    };
    let role = move || {
        info()
            .map(|(_, role, _, up, _)| if up { role } else { "crashed".into() })
            .unwrap_or_default()
    };
    let lines = move || {
        let lines = info().map(|i| i.2).unwrap_or_default();
        lines.iter().map(|l| el("li").text(l)).collect::<Vec<El>>()
    };
    let name = label.clone();
    Some(
        el("div")
            .class("inspect")
            .child(
                el("h3")
                    .text(&label)
                    .text(" ")
                    .child(el("span").class("role").text_with(role)),
            )
            .child(el("ul").class("lines").dynamic(lines))
            .child(is_node.then(|| node_actions(shell, e, name))),
    )
}

/// Crash, Restart and Isolate for node `e` (called `name`).
fn node_actions(shell: Shell, e: u32, name: String) -> El {
    let up = move || {
        shell.slow_tick.get();
        node_info(shell, e).is_some_and(|i| i.3)
    };
    el("div")
        .class("row")
        .child(
            el("button")
                .class("btn")
                .flag_with("disabled", move || !up())
                .attr("aria-label", &format!("Crash {name}"))
                .on("click", move |_| shell.act(Action::Crash { node: e }))
                .text("Crash"),
        )
        .child(
            el("button")
                .class("btn")
                .flag_with("disabled", up)
                .attr("aria-label", &format!("Restart {name}"))
                .on("click", move |_| shell.act(Action::Restart { node: e }))
                .text("Restart"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", &format!("Isolate {name}"))
                .on("click", move |_| shell.isolate(e))
                .text("Isolate"),
        )
}

/// One of the lab's own items (selected on its stage): what the lab says of it, kept current;
/// for an item that belongs to a node (a server on a ring, a box on a queue), that node's
/// actions too.
fn item_view(shell: Shell, id: u64) -> El {
    let view = move || {
        shell.slow_tick.get();
        shell.with(|s| s.sim().item_view(id)).flatten()
    };
    let title = view;
    let owner = untracked(|| view().and_then(|v| v.node));
    let actions = owner.and_then(|n| {
        let (label, _, _, _, is_node) = node_info(shell, n)?;
        is_node.then(|| node_actions(shell, n, label))
    });
    el("div")
        .class("inspect")
        .child(el("h3").text_with(move || {
            title()
                .map(|v| v.title)
                .unwrap_or_else(|| "This item no longer exists.".into())
        }))
        .child(el("ul").class("lines").dynamic(move || {
            let lines = view().map(|v| v.lines).unwrap_or_default();
            lines.iter().map(|l| el("li").text(l)).collect::<Vec<El>>()
        }))
        .child(actions)
}

/// What the inspector shows of a message.
struct MsgInfo {
    kind: String,
    from: String,
    to: String,
    sent_us: u64,
    arrive_us: Option<u64>,
    /// In flight, delivered or dropped, and when.
    fate: String,
    content: Option<String>,
    in_flight: bool,
}

/// What the inspector shows of message `id`, from the messages in flight and the trace
/// window; `None` once it has left both.
fn msg_info(shell: Shell, id: u64) -> Option<MsgInfo> {
    shell
        .with(|s| {
            let sim = s.sim();
            let flight = sim.in_flight().into_iter().find(|m| m.id == id);
            let send = s
                .records()
                .iter()
                .find(|r| r.what == "send" && r.msg == Some(id))
                .cloned();
            let end = s
                .records()
                .iter()
                .find(|r| (r.what == "deliver" || r.what == "drop") && r.msg == Some(id))
                .cloned();
            let (kind, from, to, sent, arrive) = match (&flight, &send) {
                (Some(f), _) => (
                    f.kind.to_string(),
                    f.from,
                    f.to,
                    f.sent_us,
                    Some(f.arrive_us),
                ),
                (None, Some(r)) => (
                    r.text.clone(),
                    r.from.unwrap_or(0),
                    r.to.unwrap_or(0),
                    r.at_us,
                    r.arrive_us,
                ),
                _ => return None,
            };
            Some(MsgInfo {
                kind,
                from: s.endpoint_name(from),
                to: s.endpoint_name(to),
                sent_us: sent,
                arrive_us: arrive,
                fate: msg_fate(flight.as_ref(), end.as_ref()),
                content: sim.describe_message(id),
                in_flight: flight.is_some(),
            })
        })
        .flatten()
}

/// A message's fate, from its flight (while in flight) or the record of its end.
fn msg_fate(flight: Option<&MsgView>, end: Option<&RecordView>) -> String {
    match (flight, end) {
        (Some(f), _) if f.lost => "in flight; it will be lost".to_string(),
        (Some(_), _) => "in flight".to_string(),
        (None, Some(r)) if r.what == "drop" => {
            format!("dropped at {} ({})", clock_text(r.at_us), r.text)
        }
        (None, Some(r)) => format!("delivered at {}", clock_text(r.at_us)),
        _ => "delivered or dropped".to_string(),
    }
}

/// The selected message: kind, ends, times, fate and content, and a button that drops it
/// while it is in flight.
fn msg_view(shell: Shell, id: u64) -> El {
    let Some(m) = msg_info(shell, id) else {
        return el("p")
            .class("muted")
            .text(&format!("Message #{id} is no longer in the trace window."));
    };
    let sent_li = el("li").text(&format!("sent at {}", clock_text(m.sent_us)));
    let sent_li = match m.arrive_us {
        Some(a) => sent_li.text(&format!(", due {}", clock_text(a))),
        None => sent_li,
    };
    el("div")
        .class("inspect")
        .child(
            el("h3")
                .text(&format!("Message #{id}"))
                .text(" ")
                .child(el("span").class("role").text(&m.kind)),
        )
        .child(
            el("ul")
                .class("lines")
                .child(el("li").text(&format!("{} → {}", m.from, m.to)))
                .child(sent_li)
                .child(el("li").text(&m.fate))
                .child(el("li").class("mono").text(&m.content.unwrap_or_default())),
        )
        .child(m.in_flight.then(|| {
            el("button")
                .class("btn")
                .attr("aria-label", &format!("Drop message {id}"))
                .on("click", move |_| shell.act(Action::DropMessage { id }))
                .text("Drop this message")
        }))
}

/// A range slider row: its label, the input and the value shown beside it.
fn slider_row(id: &str, label: &str, input: El, output: El) -> El {
    el("div")
        .class("slider")
        .child(el("label").attr("for", id).text(label))
        .child(input)
        .child(output)
}

/// Network settings (commands at the cursor), node count and seed (rebuild), partitions.
fn network(shell: Shell) -> El {
    el("section")
        .class("card")
        .attr("aria-label", "Network")
        .child(el("h2").text("Network"))
        .children(latency_sliders(shell))
        .children(fault_sliders(shell))
        .child(nodes_slider(shell))
        .child(seed_row(shell))
        .child(partition_buttons(shell))
}

/// Whether the run has clients, as a memo (it changes only with the build).
fn has_clients(shell: Shell) -> super::dom::Var<bool> {
    memo(move || {
        shell.edits.get();
        shell.with(|s| s.sim().clients() > 0).unwrap_or(false)
    })
}

/// How clients retry and when their operations arrive, for every lab with clients (the run
/// is rebuilt). Each field takes its link text.
fn client_settings(shell: Shell) -> El {
    let value = move |key: &'static str| {
        shell.edits.get();
        shell
            .with(|s| s.base().client_policy.text(key))
            .unwrap_or_default()
    };
    let set = move |key: &'static str, ev: web_sys::Event| {
        shell.try_update(|s| s.set_client(key, &event_value(&ev)))
    };
    let retry = el("select")
        .attr("id", "client-retry")
        .attr("aria-label", "Retry backoff")
        .on("change", move |ev| set("retry", ev))
        .children(
            BACKOFFS
                .iter()
                .map(|(_, n)| el("option").attr("value", n).text(n)),
        )
        .prop_with("value", move || value("retry").into());
    let fields = [
        ("backoff", "backoff", "Backoff base..cap, such as 100ms..5s"),
        (
            "attempts",
            "attempts",
            "Attempts per operation, the first included (1 to 10)",
        ),
        (
            "budget",
            "retry budget",
            "Retries per new operation: off, or a share such as 20%",
        ),
        (
            "arrivals",
            "arrivals",
            "closed (think time), or poisson:R/s operations a second",
        ),
    ];
    el("section")
        .class("card")
        .attr("aria-label", "Clients")
        .child(el("h2").text("Clients"))
        .child(slider_row("client-retry", "retry", retry, el("span")))
        .children(fields.map(|(key, label, help)| {
            let id = format!("client-{key}");
            let input = el("input")
                .attr("id", &id)
                .attr("type", "text")
                .class("text")
                .attr("title", help)
                .attr("aria-label", help)
                .attr("spellcheck", "false")
                .prop_with("value", move || value(key).into())
                .on("change", move |ev| set(key, ev));
            slider_row(&id, label, input, el("span"))
        }))
}

/// The network settings at the cursor. Follows `edits`, not the tick: while a run plays, the
/// controls are left alone.
fn net_now(shell: Shell) -> LinkParams {
    shell.edits.get();
    shell.with(|s| s.net_now()).unwrap_or_default()
}

/// A range input with its static attributes, in the order the page has always had them.
fn range(id: &str, min: &str, max: &str, step: &str, label: &str) -> El {
    el("input")
        .attr("id", id)
        .attr("type", "range")
        .attr("min", min)
        .attr("max", max)
        .attr("step", step)
        .attr("aria-label", label)
}

/// Shows a slider's value in the output beside it while it is dragged, in `unit`; the run
/// takes the value when the slider is released.
fn live(input: El, unit: &'static str) -> El {
    input.on("input", move |ev| {
        let out = ev
            .target()
            .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok())
            .and_then(|e| e.next_element_sibling());
        if let Some(out) = out {
            out.set_text_content(Some(&format!("{}{unit}", event_value(&ev))));
        }
    })
}

/// The latency sliders, minimum and maximum (ms), and the latency each shows.
fn latency_sliders(shell: Shell) -> [El; 2] {
    let lat = move || net_now(shell).latency.bounds_us();
    [
        slider_row(
            "lat-min",
            "latency min",
            live(
                range("lat-min", "0", "500", "5", "Latency minimum (ms)")
                    .prop_with("value", move || (lat().0 / 1_000).to_string().into())
                    .on("change", move |ev| {
                        set_latency(shell, parse_decimal_f64(&event_value(&ev)), None)
                    }),
                "ms",
            ),
            el("output").text_with(move || format_us(lat().0)),
        ),
        slider_row(
            "lat-max",
            "latency max",
            live(
                range("lat-max", "0", "500", "5", "Latency maximum (ms)")
                    .prop_with("value", move || (lat().1 / 1_000).to_string().into())
                    .on("change", move |ev| {
                        set_latency(shell, None, parse_decimal_f64(&event_value(&ev)))
                    }),
                "ms",
            ),
            el("output").text_with(move || format_us(lat().1)),
        ),
    ]
}

/// Sets the latency to a uniform range with the end given (ms) moved.
fn set_latency(shell: Shell, lo_ms: Option<f64>, hi_ms: Option<f64>) {
    let (lo, hi) = net_now(shell).latency.bounds_us();
    let lo = lo_ms.map_or(lo, |v| (v * 1_000.0) as u64);
    let hi = hi_ms.map_or(hi, |v| (v * 1_000.0) as u64);
    // Moving one end past the other drags it along.
    let (lo, hi) = if lo_ms.is_some() {
        (lo, hi.max(lo))
    } else {
        (lo.min(hi), hi)
    };
    shell.try_update(|s| {
        s.set_net(NetSetting::Latency(Dist::Uniform {
            min_us: lo,
            max_us: hi,
        }))
    });
}

/// A probability in parts per million, as the percentage the sliders show.
/// Written as `{}` writes `ppm as f64 / 10_000.0` (`12.5`, `0.0001`, `3`), in whole numbers, so
/// the page needs no float formatter.
fn pct(ppm: u32) -> String {
    let (whole, frac) = (ppm / 10_000, ppm % 10_000);
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:04}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// A percentage typed or slid, in parts per million (0 when unreadable, at most 100%).
fn to_ppm(text: String) -> u32 {
    crate::sim::time::parse_decimal_scaled(text.trim(), 10_000)
        .unwrap_or(0)
        .min(1_000_000) as u32
}

/// The message loss and duplication sliders (%).
fn fault_sliders(shell: Shell) -> [El; 2] {
    [
        slider_row(
            "loss",
            "loss",
            live(
                range("loss", "0", "50", "0.5", "Message loss (%)")
                    .prop_with("value", move || pct(net_now(shell).loss_ppm).into())
                    .on("change", move |ev| {
                        let p = to_ppm(event_value(&ev));
                        shell.try_update(|s| s.set_net(NetSetting::LossPpm(p)));
                    }),
                "%",
            ),
            el("output").text_with(move || format!("{}%", pct(net_now(shell).loss_ppm))),
        ),
        slider_row(
            "dup",
            "duplication",
            live(
                range("dup", "0", "50", "0.5", "Message duplication (%)")
                    .prop_with("value", move || pct(net_now(shell).dup_ppm).into())
                    .on("change", move |ev| {
                        let p = to_ppm(event_value(&ev));
                        shell.try_update(|s| s.set_net(NetSetting::DupPpm(p)));
                    }),
                "%",
            ),
            el("output").text_with(move || format!("{}%", pct(net_now(shell).dup_ppm))),
        ),
    ]
}

/// What the run is built from: node count, the lab's least and most nodes, and the seed.
/// Follows `edits`.
fn build_info(shell: Shell) -> (u32, u32, u32, u64) {
    shell.edits.get();
    shell
        .with(|s| {
            (
                s.base().n,
                s.lab().nodes_min,
                s.lab().nodes_max,
                s.base().seed,
            )
        })
        .unwrap_or((1, 1, 1, 0))
}

/// The node count slider, within the lab's bounds (the run is rebuilt).
fn nodes_slider(shell: Shell) -> El {
    let n_info = move || build_info(shell);
    let set_n = move |ev: web_sys::Event| {
        if let Ok(n) = event_value(&ev).parse::<u32>() {
            shell.try_update(|s| s.set_n(n));
        }
    };
    slider_row(
        "nodes",
        "nodes",
        live(
            el("input")
                .attr("id", "nodes")
                .attr("type", "range")
                .attr("step", "1")
                .attr("aria-label", "Number of nodes")
                // min and max before the value, so that the value is not clamped to old bounds.
                .prop_with("min", move || n_info().1.to_string().into())
                .prop_with("max", move || n_info().2.to_string().into())
                .prop_with("value", move || n_info().0.to_string().into())
                .on("change", set_n),
            "",
        ),
        el("output").text_with(move || n_info().0.to_string()),
    )
}

/// The seed: typed, or the next one at a click (the run is rebuilt).
fn seed_row(shell: Shell) -> El {
    let set_seed = move |ev: web_sys::Event| match event_value(&ev).trim().parse::<u64>() {
        Ok(seed) => shell.try_update(|s| s.set_seed(seed)),
        Err(_) => {
            shell.notice.set(Some(
                "The seed must be a whole number from 0 to 18446744073709551615.".into(),
            ));
            // The field shows the seed the run uses, not the value it refused.
            let field = ev
                .target()
                .and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(t).ok());
            if let Some(field) = field {
                field.set_value(&build_info(shell).3.to_string());
            }
        }
    };
    el("div")
        .class("slider")
        .child(el("label").attr("for", "seed").text("seed"))
        .child(
            el("input")
                .attr("id", "seed")
                .attr("type", "number")
                .attr("min", "0")
                .attr("aria-label", "Random seed")
                .prop_with("value", move || build_info(shell).3.to_string().into())
                .on("change", set_seed),
        )
        .child(
            el("button")
                .class("btn small")
                .attr("aria-label", "+1: the next seed")
                .attr("title", "Try the next seed")
                .on("click", move |_| {
                    let seed = build_info(shell).3.wrapping_add(1);
                    shell.try_update(|s| s.set_seed(seed));
                })
                .text("+1"),
        )
}

/// The partition buttons: isolate the selected node, split a majority from a minority, heal.
fn partition_buttons(shell: Shell) -> El {
    el("div")
        .class("row wrap")
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Isolate selected node")
                .on("click", move |_| isolate_selected(shell))
                .text("Isolate selected"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Majority | minority: split the nodes in two")
                .on("click", move |_| split_majority(shell))
                .text("Majority | minority"),
        )
        .child(
            el("button")
                .class("btn")
                .attr("aria-label", "Heal all partitions and cut links")
                .on("click", move |_| shell.act(Action::HealAll))
                .text("Heal all"),
        )
}

/// Cuts the selected node off from the others, or says to select one first.
fn isolate_selected(shell: Shell) {
    match shell.with(|s| s.selection) {
        Some(Selection::Node(e)) if shell.with(|s| e < s.sim().n()).unwrap_or(false) => {
            shell.isolate(e)
        }
        _ => shell.notice.set(Some(
            "Select a node first (click it), then isolate it.".into(),
        )),
    }
}

/// Partitions the nodes into a majority (the lowest numbers) and the minority.
fn split_majority(shell: Shell) {
    let Some(n) = shell.with(|s| s.sim().n()) else {
        return;
    };
    if n < 2 {
        shell
            .notice
            .set(Some("A split needs at least two nodes.".into()));
        return;
    }
    let maj = n / 2 + 1;
    shell.act(Action::Partition {
        groups: vec![(0..maj).collect(), (maj..n).collect()],
    });
}

/// One control per lab parameter, by kind. Changes rebuild the run at the same instant.
fn lab_params(shell: Shell) -> El {
    // Re-rendered only when the lab or the build changes, not on every tick.
    let key = memo(move || {
        shell.tick.get();
        shell
            .with(|s| (s.lab().id, s.generation))
            .unwrap_or(("", 0))
    });
    let params = {
        let key = key.clone();
        move || {
            key.get();
            shell
                .with(|s| {
                    let (lab, sc) = (s.lab(), s.scenario());
                    let shown: Vec<&'static ParamSpec> = lab
                        .params
                        .iter()
                        .filter(|p| (lab.shown)(&sc, p.key))
                        .collect();
                    (lab.title, shown)
                })
                .unwrap_or(("", Vec::new()))
        }
    };
    let params_title = params.clone();
    el("section")
        .class("card")
        .attr("aria-label", "Lab parameters")
        .child(el("h2").text_with(move || params_title().0.to_string()))
        .dynamic(move || {
            params()
                .1
                .into_iter()
                .map(|spec| param_control(shell, spec))
                .collect::<Vec<El>>()
        })
        .dynamic(move || {
            key.get();
            let verbs: Vec<&'static crate::labs::Verb> = shell
                .with(|s| {
                    let (lab, sc) = (s.lab(), s.scenario());
                    lab.verbs
                        .iter()
                        .filter(|v| (lab.shown)(&sc, v.name))
                        .collect()
                })
                .unwrap_or_default();
            (!verbs.is_empty()).then(|| {
                el("div")
                    .class("row verbs")
                    .children(verbs.into_iter().map(|v| {
                        let key_hint = v.key.map(|k| format!(" (key {k})")).unwrap_or_default();
                        let title = format!("{}{key_hint}", v.help);
                        let label = if v.on_node {
                            format!("{} (the selected server)", v.label)
                        } else {
                            v.label.to_string()
                        };
                        el("button")
                            .class("btn")
                            .attr("title", &title)
                            .attr("aria-label", &label)
                            .on("click", move |_| shell.lab_verb(v, None))
                            .text(v.label)
                    }))
            })
        })
}

/// One lab parameter's row: its label and the control for its kind.
fn param_control(shell: Shell, spec: &'static ParamSpec) -> El {
    let id = format!("param-{}", spec.key);
    let control = param_inputs(shell, spec, &id);
    el("div")
        .class("slider")
        .attr("title", spec.help)
        .child(el("label").attr("for", &id).text(spec.label))
        .children(control)
}

/// The value of a lab parameter in the run's build (what was set, or its default). Follows
/// `edits`.
fn param_value(shell: Shell, spec: &'static ParamSpec) -> String {
    shell.edits.get();
    shell
        .with(|s| s.base().param(spec.key).unwrap_or(spec.default).to_string())
        .unwrap_or_default()
}

/// Sets a lab parameter from its control's text (the run is rebuilt at the same instant).
fn apply_param(shell: Shell, spec: &'static ParamSpec, v: String) {
    shell.try_update(|s| s.set_param(spec.key, &v));
}

/// The input (and, for sliders, the value shown beside it) for a parameter of each kind.
fn param_inputs(shell: Shell, spec: &'static ParamSpec, id: &str) -> Vec<El> {
    let value = move || param_value(shell, spec);
    let apply = move |v: String| apply_param(shell, spec, v);
    match spec.kind {
        ParamKind::Int { min, max } if max - min <= 64 => {
            param_slider(shell, spec, id, &min.to_string(), &max.to_string(), "1")
        }
        ParamKind::Int { min, max } => vec![el("input")
            .attr("id", id)
            .attr("type", "number")
            .attr("min", &min.to_string())
            .attr("max", &max.to_string())
            .attr("aria-label", spec.label)
            .prop_with("value", move || value().into())
            .on("change", move |ev| apply(event_value(&ev)))],
        ParamKind::Bool => vec![el("input")
            .attr("id", id)
            .attr("type", "checkbox")
            .attr("aria-label", spec.label)
            .prop_with("checked", move || (value() == "1").into())
            .on("change", move |ev| {
                apply(if event_checked(&ev) {
                    "1".into()
                } else {
                    "0".into()
                })
            })],
        ParamKind::Choice { options } => vec![el("select")
            .attr("id", id)
            .attr("aria-label", spec.label)
            .on("change", move |ev| apply(event_value(&ev)))
            .children(
                options
                    .iter()
                    .map(|o| el("option").attr("value", o).text(o)),
            )
            // After the options: a select's value can only be one of its options.
            .prop_with("value", move || value().into())],
        ParamKind::Fraction { min_ppm, max_ppm } => {
            let frac = |ppm: u32| crate::labs::fraction_text(ppm);
            let step = frac(((max_ppm - min_ppm) / 100).max(1));
            param_slider(shell, spec, id, &frac(min_ppm), &frac(max_ppm), &step)
        }
        ParamKind::Duration { .. } | ParamKind::DurationRange { .. } | ParamKind::Text { .. } => {
            vec![el("input")
                .attr("id", id)
                .attr("type", "text")
                .class("text")
                .attr("aria-label", spec.label)
                .attr("spellcheck", "false")
                .prop_with("value", move || value().into())
                .on("change", move |ev| apply(event_value(&ev)))]
        }
    }
}

/// A parameter's range slider, from `min` to `max` by `step`, and the value beside it.
fn param_slider(
    shell: Shell,
    spec: &'static ParamSpec,
    id: &str,
    min: &str,
    max: &str,
    step: &str,
) -> Vec<El> {
    vec![
        live(
            range(id, min, max, step, spec.label)
                .prop_with("value", move || param_value(shell, spec).into())
                .on("change", move |ev| {
                    apply_param(shell, spec, event_value(&ev))
                }),
            "",
        ),
        el("output").text_with(move || param_value(shell, spec)),
    ]
}

/// Each property with its live status.
fn properties(shell: Shell) -> El {
    let props = memo(move || {
        shell.slow_tick.get();
        shell.with(|s| s.sim().properties()).unwrap_or_default()
    });
    el("section")
        .class("card")
        .attr("aria-label", "Properties")
        .child(el("h2").text("Properties"))
        .child(el("ul").class("props").dynamic(move || {
            props
                .get()
                .into_iter()
                .map(|p| {
                    let status = if p.holds && p.violations == 0 {
                        "holds"
                    } else {
                        "violated"
                    };
                    let detail = match p.first_violation_us {
                        Some(t) => {
                            format!("{} violation(s), first at {}", p.violations, clock_text(t))
                        }
                        None => match p.kind {
                            PropKind::Always => "always".to_string(),
                            PropKind::Eventually { within } => {
                                format!("eventually, within {}", format_us(within.0))
                            }
                        },
                    };
                    el("li")
                        .class(&format!("prop {status}"))
                        .attr("title", p.description)
                        .child(
                            el("span")
                                .class("badge")
                                .attr("aria-label", status)
                                .text(if status == "holds" { "✓" } else { "✗" }),
                        )
                        .child(el("span").class("prop-name").text(p.name))
                        .child(el("span").class("muted small").text(p.description))
                        .child(el("span").class("muted small").text(&detail))
                        .children(p.cause.as_deref().map(|c| {
                            el("span")
                                .class("prop-cause small")
                                .attr("data-testid", "property-cause")
                                .text(c)
                        }))
                })
                .collect::<Vec<El>>()
        }))
}

/// The run's figures (`metrics`), the same ones `dsplay run --json` prints. The rows are
/// built when the lab's set of figures changes; while a run plays only their numbers change.
/// Added to `side` (the card is there only when the lab has figures).
fn figures(shell: Shell, side: El) -> El {
    let metrics = memo(move || {
        shell.slow_tick.get();
        shell.with(|s| s.sim().metrics()).unwrap_or_default()
    });
    let rows = {
        let metrics = metrics.clone();
        memo(move || {
            metrics
                .get()
                .iter()
                .map(|m| (m.key, m.label))
                .collect::<Vec<_>>()
        })
    };
    let value = move |key: &'static str| {
        let metrics = metrics.clone();
        move || {
            metrics
                .get()
                .iter()
                .find(|m| m.key == key)
                .map(|m| m.value_text())
                .unwrap_or_default()
        }
    };
    side.dynamic(move || {
        let rows = rows.get();
        (!rows.is_empty()).then(|| {
            el("section")
                .class("card")
                .attr("aria-label", "Figures")
                .child(el("h2").text("Figures"))
                .child(el("dl").class("stats").children(rows.into_iter().flat_map(
                    |(key, label)| {
                        [
                            el("dt").text(label),
                            el("dd")
                                .class("mono")
                                .attr("data-metric", key)
                                .text_with(value(key)),
                        ]
                    },
                )))
        })
    })
}

/// The lab's own tables (a Raft log, a ring's key ownership).
///
/// While a run plays the tables change several times a second. They are kept in step with the
/// run by [`sync_tables`], which changes only the cells whose text or style changed and adds or
/// removes cells as the tables grow: the browser re-lays-out a few cells, not whole tables.
fn panels(shell: Shell) -> El {
    let host = el("div").class("panels");
    let host_el = host.0.clone();
    // What the tables show now: cells that did not change are not touched at all.
    let shown = Rc::new(RefCell::new(Vec::<Panel>::new()));
    effect(move || {
        shell.slow_tick.get();
        if let Some(panels) = shell.with(|s| s.sim().panels()) {
            let Ok(mut prev) = shown.try_borrow_mut() else {
                return;
            };
            if *prev != panels {
                sync_tables(&host_el, &panels, &prev);
                *prev = panels;
            }
        }
        let focus = shell.with(crate::play::frame::lesson_panel).flatten();
        mark_focus(&host_el, focus);
    });
    host
}

/// Rings the card a lesson's step points at, and brings it into view when it is new.
fn mark_focus(host: &web_sys::Element, focus: Option<&str>) {
    for card in element_children(host) {
        let on = focus.is_some() && card.get_attribute("aria-label").as_deref() == focus;
        if on != card.class_list().contains("focus") {
            let _ = card.class_list().toggle_with_force("focus", on);
            // Once the side panel's other parts have laid out; then the learner's own
            // scrolling wins.
            if on {
                super::dom::after_ms(300, move || scroll_to(&card));
            }
        }
    }
}

/// Scrolls the side panel (not the page: on a phone the stage stays where it is) so that
/// `card`'s top is in view, if it is not.
fn scroll_to(card: &web_sys::Element) {
    let Some(side) = card.closest(".side").ok().flatten() else {
        return;
    };
    let (at, side_at) = (
        card.get_bounding_client_rect(),
        side.get_bounding_client_rect(),
    );
    if at.height() > 0.0 && (at.top() < side_at.top() || at.top() > side_at.bottom() - 40.0) {
        side.set_scroll_top(side.scroll_top() + (at.top() - side_at.top() - 8.0) as i32);
    }
}

/// The element children of `parent`, in order: what its live `children` collection lists now
/// (the web-sys build here has no `HtmlCollection`).
fn element_children(parent: &web_sys::Element) -> Vec<web_sys::Element> {
    let mut out = Vec::new();
    let mut next = parent.first_element_child();
    while let Some(el) = next {
        next = el.next_element_sibling();
        out.push(el);
    }
    out
}

/// Makes the children of `host` show `panels`: one card per panel, each with a heading, a
/// table and a caption. Existing elements are reused; text is written only where it differs
/// from `shown`, what the elements were last made to show.
fn sync_tables(host: &web_sys::Element, panels: &[Panel], shown: &[Panel]) {
    let Some(doc) = host.owner_document() else {
        return;
    };
    fit(&doc, host, panels.len(), "section");
    let cards = element_children(host);
    for (i, p) in panels.iter().enumerate() {
        let synced = cards
            .get(i)
            .and_then(|card| sync_card(&doc, card, p, shown.get(i)));
        if synced.is_none() {
            return;
        }
    }
}

/// A new `tag` element, appended to `parent`.
fn make(doc: &web_sys::Document, tag: &str, parent: &web_sys::Element) -> Option<web_sys::Element> {
    let el = doc.create_element(tag).ok()?;
    parent.append_child(&el).ok()?;
    Some(el)
}

/// The number of children of `parent` made equal to `n` (new ones are `tag` elements).
fn fit(doc: &web_sys::Document, parent: &web_sys::Element, n: usize, tag: &str) {
    while parent.child_element_count() as usize > n {
        if let Some(last) = parent.last_element_child() {
            last.remove();
        }
    }
    while (parent.child_element_count() as usize) < n {
        if make(doc, tag, parent).is_none() {
            return;
        }
    }
}

/// Writes `text` into `el` unless it shows it already.
fn set_text(el: &web_sys::Element, text: &str) {
    if el.text_content().as_deref() != Some(text) {
        el.set_text_content(Some(text));
    }
}

/// The number of columns a panel's table has: every row gets a cell per column (a short row's
/// extra cells stay empty), so a follower catching up changes texts, not the table.
fn table_width(p: &Panel) -> usize {
    p.columns
        .len()
        .max(p.rows.iter().map(Vec::len).max().unwrap_or(0))
}

/// Makes `card` show panel `p`; `shown` is what it was last made to show, if anything. `None`
/// when the card could not be made or is not as made (the tables are left as they are).
fn sync_card(
    doc: &web_sys::Document,
    card: &web_sys::Element,
    p: &Panel,
    shown: Option<&Panel>,
) -> Option<()> {
    if card.child_element_count() != 3 {
        card_frame(doc, card)?;
    }
    if card.get_attribute("aria-label").as_deref() != Some(p.title.as_str()) {
        let _ = card.set_attribute("aria-label", &p.title);
    }
    let h2 = card.first_element_child()?;
    let caption = card.last_element_child()?;
    set_text(&h2, &p.title);
    set_text(&caption, &p.caption);
    let table = card.query_selector("table").ok().flatten()?;
    let head = table.query_selector("thead > tr").ok().flatten()?;
    let body = table.query_selector("tbody").ok().flatten()?;
    let cols = table_width(p);
    fit(doc, &head, cols, "th");
    let ths = element_children(&head);
    for c in 0..cols {
        if let Some(th) = ths.get(c) {
            set_text(th, p.columns.get(c).map_or("", String::as_str));
        }
    }
    // What the card showed counts only for a table of the same title and shape.
    let before = shown
        .filter(|q| q.title == p.title && q.rows.len() == p.rows.len() && table_width(q) == cols);
    sync_rows(doc, &body, p, before, cols)
}

/// Empties `card` and makes it a panel's card: a heading, the table (a header row and a body)
/// in its scrolling wrapper, and a caption.
fn card_frame(doc: &web_sys::Document, card: &web_sys::Element) -> Option<()> {
    card.set_inner_html("");
    let _ = card.set_attribute("class", "card");
    make(doc, "h2", card)?;
    let wrap = make(doc, "div", card)?;
    let _ = wrap.set_attribute("class", "table-wrap newest");
    let table = make(doc, "table", &wrap)?;
    make(doc, "thead", &table).and_then(|h| make(doc, "tr", &h))?;
    make(doc, "tbody", &table)?;
    let caption = make(doc, "p", card)?;
    let _ = caption.set_attribute("class", "muted small");
    Some(())
}

/// Makes the rows of `body` show `p`'s rows, `cols` cells each; rows that `before` shows
/// already are not touched.
fn sync_rows(
    doc: &web_sys::Document,
    body: &web_sys::Element,
    p: &Panel,
    before: Option<&Panel>,
    cols: usize,
) -> Option<()> {
    fit(doc, body, p.rows.len(), "tr");
    let trs = element_children(body);
    for (r, row) in p.rows.iter().enumerate() {
        if before.is_some_and(|q| q.rows.get(r) == Some(row)) {
            continue; // this row's cells already show it
        }
        let tr = trs.get(r)?;
        fit(doc, tr, cols, "td");
        let tds = element_children(tr);
        for c in 0..cols {
            let td = tds.get(c)?;
            let (text, style) = row
                .get(c)
                .map_or(("", 0), |cell| (cell.text.as_str(), cell.style.min(8)));
            set_text(td, text);
            let class = format!("cell s{style}");
            if td.get_attribute("class").as_deref() != Some(class.as_str()) {
                let _ = td.set_attribute("class", &class);
            }
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_percentage_reads_as_the_float_formatter_writes_it() {
        let some_large = (0..2_000u32).map(|i| u32::MAX - i * 2_147_483);
        for ppm in (0..=1_000_000).chain(some_large) {
            assert_eq!(
                super::pct(ppm),
                format!("{}", ppm as f64 / 10_000.0),
                "{ppm}"
            );
        }
    }
}
