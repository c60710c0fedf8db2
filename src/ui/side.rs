//! The side panel: the inspector (selected node or message), network and lab controls,
//! properties with their live status, the lab's own panels, and the tools: the client-history
//! checker and (Raft) the election experiment.

use super::experiment::ExperimentPanel;
use super::history::HistoryPanel;
use super::stage::endpoint_name;
use super::{clock_text, Shell};
use crate::labs::{ParamKind, ParamSpec};
use crate::sim::command::Action;
use crate::sim::net::Dist;
use crate::sim::property::PropKind;
use crate::sim::time::format_us;
use crate::sim::NetSetting;
use crate::viz::scene::Selection;
use crate::viz::Panel;
use leptos::prelude::*;

/// Everything beside the canvas.
#[component]
pub fn Side() -> impl IntoView {
    view! {
        <aside class="side" aria-label="Inspector and controls">
            <Inspector/>
            <Network/>
            <LabParams/>
            <Properties/>
            <Figures/>
            <Panels/>
            <Tools/>
        </aside>
    }
}

/// The client-history checker (labs with clients) and the Raft election experiment (Raft only),
/// each mounted once per lab, so a result or a run in progress survives the frames.
#[component]
fn Tools() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let lab = Memo::new(move |_| {
        shell.tick.get();
        shell.with(|s| s.lab().id).unwrap_or_default()
    });
    let clients = Memo::new(move |_| {
        shell.tick.get();
        shell.with(|s| s.sim().clients() > 0).unwrap_or(false)
    });
    view! {
        {move || clients.get().then(|| view! { <HistoryPanel/> })}
        {move || {
            let experiments = crate::labs::find(lab.get()).map_or(&[][..], |l| l.experiments);
            (!experiments.is_empty()).then(|| view! { <ExperimentPanel experiments=experiments/> })
        }}
    }
}

/// Cuts every link of `node` both ways (it keeps its clients).
pub fn isolate(shell: Shell, node: u32) {
    let Some(n) = shell.with(|s| s.sim().n()) else {
        return;
    };
    let rest: Vec<u32> = (0..n).filter(|&i| i != node).collect();
    if rest.is_empty() {
        shell.notice.set(Some(
            "There is only one node: nothing to isolate it from.".into(),
        ));
        return;
    }
    shell.act(Action::Partition {
        groups: vec![vec![node], rest],
    });
}

/// The selected node's state and actions, or the selected message's content.
#[component]
fn Inspector() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let body = move || {
        shell.slow_tick.get();
        let sel = shell.with(|s| s.selection).unwrap_or_default();
        match sel {
            Selection::Node(e) => node_view(shell, e).into_any(),
            Selection::Msg(m) => msg_view(shell, m).into_any(),
            Selection::None => view! {
                <p class="muted">"Click a node or a message to inspect it. Drag a line across the ring to partition it; click a link to cut it."</p>
            }
            .into_any(),
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
    view! {
        <section class="card" aria-label="Inspector">
            <h2>"Inspector"</h2>
            {body}
            <dl class="stats">
                <dt>"trace hash"</dt><dd class="mono" data-testid="trace-hash">{move || stats().0}</dd>
                <dt>"events"</dt><dd>{move || stats().1}</dd>
                <dt>"sent / delivered / dropped"</dt><dd>{move || format!("{} / {} / {}", stats().2, stats().3, stats().4)}</dd>
            </dl>
        </section>
    }
}

fn node_view(shell: Shell, e: u32) -> impl IntoView {
    let info = shell.with(|s| {
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
    });
    let Some((label, role, lines, up, is_node)) = info else {
        return ().into_any();
    };
    let name = label.clone();
    view! {
        <div class="inspect">
            <h3>{label} " " <span class="role">{if up { role } else { "crashed".into() }}</span></h3>
            <ul class="lines">{lines.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            {is_node.then(|| view! {
                <div class="row">
                    <button class="btn" disabled=!up aria-label=format!("Crash {name}") on:click=move |_| shell.act(Action::Crash { node: e })>"Crash"</button>
                    <button class="btn" disabled=up aria-label=format!("Restart {name}") on:click=move |_| shell.act(Action::Restart { node: e })>"Restart"</button>
                    <button class="btn" aria-label=format!("Isolate {name}") on:click=move |_| isolate(shell, e)>"Isolate"</button>
                </div>
            })}
        </div>
    }
    .into_any()
}

fn msg_view(shell: Shell, id: u64) -> impl IntoView {
    let info = shell.with(|s| {
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
        let fate = match (&flight, &end) {
            (Some(f), _) if f.lost => "in flight; it will be lost".to_string(),
            (Some(_), _) => "in flight".to_string(),
            (None, Some(r)) if r.what == "drop" => {
                format!("dropped at {} ({})", clock_text(r.at_us), r.text)
            }
            (None, Some(r)) => format!("delivered at {}", clock_text(r.at_us)),
            _ => "delivered or dropped".to_string(),
        };
        Some((
            kind,
            endpoint_name(s, from),
            endpoint_name(s, to),
            sent,
            arrive,
            fate,
            sim.describe_message(id),
            flight.is_some(),
        ))
    });
    let Some(Some((kind, from, to, sent, arrive, fate, content, in_flight))) = info else {
        return view! { <p class="muted">{format!("Message #{id} is no longer in the trace window.")}</p> }.into_any();
    };
    view! {
        <div class="inspect">
            <h3>{format!("Message #{id}")} " " <span class="role">{kind}</span></h3>
            <ul class="lines">
                <li>{format!("{from} → {to}")}</li>
                <li>{format!("sent at {}", clock_text(sent))}{arrive.map(|a| format!(", due {}", clock_text(a)))}</li>
                <li>{fate}</li>
                <li class="mono">{content.unwrap_or_default()}</li>
            </ul>
            {in_flight.then(|| view! {
                <button class="btn" aria-label=format!("Drop message {id}") on:click=move |_| shell.act(Action::DropMessage { id })>"Drop this message"</button>
            })}
        </div>
    }
    .into_any()
}

/// Network settings (commands at the cursor), node count and seed (rebuild), partitions.
#[component]
fn Network() -> impl IntoView {
    let shell = expect_context::<Shell>();
    // Follows `edits`, not the tick: while a run plays, the controls are left alone.
    let net = move || {
        shell.edits.get();
        shell.with(|s| s.net_now()).unwrap_or_default()
    };
    let lat = move || net().latency.bounds_us();
    let set_lat = move |lo_ms: Option<f64>, hi_ms: Option<f64>| {
        let (lo, hi) = lat();
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
    };
    let pct = |ppm: u32| format!("{}", ppm as f64 / 10_000.0);
    let to_ppm = |text: String| -> u32 {
        crate::sim::time::parse_decimal_scaled(text.trim(), 10_000)
            .unwrap_or(0)
            .min(1_000_000) as u32
    };
    let n_info = move || {
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
    };
    let set_n = move |ev: leptos::ev::Event| {
        if let Ok(n) = event_target_value(&ev).parse::<u32>() {
            shell.try_update(|s| s.set_n(n));
        }
    };
    let set_seed = move |ev: leptos::ev::Event| match event_target_value(&ev).trim().parse::<u64>()
    {
        Ok(seed) => shell.try_update(|s| s.set_seed(seed)),
        Err(_) => shell.notice.set(Some(
            "The seed must be a whole number from 0 to 18446744073709551615.".into(),
        )),
    };
    let majority = move |_| {
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
    };
    let isolate_sel = move |_| match shell.with(|s| s.selection) {
        Some(Selection::Node(e)) if shell.with(|s| e < s.sim().n()).unwrap_or(false) => {
            isolate(shell, e)
        }
        _ => shell.notice.set(Some(
            "Select a node first (click it), then isolate it.".into(),
        )),
    };
    view! {
        <section class="card" aria-label="Network">
            <h2>"Network"</h2>
            <div class="slider">
                <label for="lat-min">"latency min"</label>
                <input id="lat-min" type="range" min="0" max="500" step="5" aria-label="Latency minimum (ms)"
                    prop:value=move || (lat().0 / 1_000).to_string()
                    on:change=move |ev| set_lat(crate::sim::time::parse_decimal_f64(&event_target_value(&ev)), None)/>
                <output>{move || format_us(lat().0)}</output>
            </div>
            <div class="slider">
                <label for="lat-max">"latency max"</label>
                <input id="lat-max" type="range" min="0" max="500" step="5" aria-label="Latency maximum (ms)"
                    prop:value=move || (lat().1 / 1_000).to_string()
                    on:change=move |ev| set_lat(None, crate::sim::time::parse_decimal_f64(&event_target_value(&ev)))/>
                <output>{move || format_us(lat().1)}</output>
            </div>
            <div class="slider">
                <label for="loss">"loss"</label>
                <input id="loss" type="range" min="0" max="50" step="0.5" aria-label="Message loss (%)"
                    prop:value=move || pct(net().loss_ppm)
                    on:change=move |ev| { let p = to_ppm(event_target_value(&ev)); shell.try_update(|s| s.set_net(NetSetting::LossPpm(p))); }/>
                <output>{move || format!("{}%", pct(net().loss_ppm))}</output>
            </div>
            <div class="slider">
                <label for="dup">"duplication"</label>
                <input id="dup" type="range" min="0" max="50" step="0.5" aria-label="Message duplication (%)"
                    prop:value=move || pct(net().dup_ppm)
                    on:change=move |ev| { let p = to_ppm(event_target_value(&ev)); shell.try_update(|s| s.set_net(NetSetting::DupPpm(p))); }/>
                <output>{move || format!("{}%", pct(net().dup_ppm))}</output>
            </div>
            <div class="slider">
                <label for="nodes">"nodes"</label>
                <input id="nodes" type="range" step="1" aria-label="Number of nodes"
                    prop:min=move || n_info().1.to_string()
                    prop:max=move || n_info().2.to_string()
                    prop:value=move || n_info().0.to_string()
                    on:change=set_n/>
                <output>{move || n_info().0}</output>
            </div>
            <div class="slider">
                <label for="seed">"seed"</label>
                <input id="seed" type="number" min="0" aria-label="Random seed" prop:value=move || n_info().3.to_string() on:change=set_seed/>
                <button class="btn small" aria-label="Next seed" title="Try the next seed" on:click=move |_| {
                    let seed = n_info().3.wrapping_add(1);
                    shell.try_update(|s| s.set_seed(seed));
                }>"+1"</button>
            </div>
            <div class="row wrap">
                <button class="btn" aria-label="Isolate the selected node" on:click=isolate_sel>"Isolate selected"</button>
                <button class="btn" aria-label="Split into a majority and a minority" on:click=majority>"Majority | minority"</button>
                <button class="btn" aria-label="Heal all partitions and cut links" on:click=move |_| shell.act(Action::HealAll)>"Heal all"</button>
            </div>
        </section>
    }
}

/// One control per lab parameter, by kind. Changes rebuild the run at the same instant.
#[component]
fn LabParams() -> impl IntoView {
    let shell = expect_context::<Shell>();
    // Re-rendered only when the lab or the build changes, not on every tick.
    let key = Memo::new(move |_| {
        shell.tick.get();
        shell
            .with(|s| (s.lab().id, s.generation))
            .unwrap_or(("", 0))
    });
    let params = move || {
        key.get();
        shell
            .with(|s| (s.lab().title, s.lab().params))
            .unwrap_or(("", &[]))
    };
    view! {
        <section class="card" aria-label="Lab parameters">
            <h2>{move || params().0}</h2>
            {move || params().1.iter().map(|spec| param_control(shell, spec)).collect_view()}
            {move || {
                key.get();
                let verbs = shell.with(|s| s.lab().verbs).unwrap_or(&[]);
                (!verbs.is_empty()).then(|| view! {
                    <div class="row verbs">
                        {verbs.iter().map(|v| {
                            let key_hint = v.key.map(|k| format!(" (key {k})")).unwrap_or_default();
                            let title = format!("{}{key_hint}", v.help);
                            let label = if v.on_node { format!("{} the selected server", v.label) } else { v.label.to_string() };
                            view! {
                                <button class="btn" title=title aria-label=label on:click=move |_| shell.lab_verb(v, None)>{v.label}</button>
                            }
                        }).collect_view()}
                    </div>
                })
            }}
        </section>
    }
}

fn param_control(shell: Shell, spec: &'static ParamSpec) -> impl IntoView {
    let value = move || {
        shell.edits.get();
        shell
            .with(|s| s.base().param(spec.key).unwrap_or(spec.default).to_string())
            .unwrap_or_default()
    };
    let apply = move |v: String| shell.try_update(|s| s.set_param(spec.key, &v));
    let id = format!("param-{}", spec.key);
    let control = match spec.kind {
        ParamKind::Int { min, max } if max - min <= 64 => view! {
            <input id=id.clone() type="range" min=min.to_string() max=max.to_string() step="1" aria-label=spec.label
                prop:value=value on:change=move |ev| apply(event_target_value(&ev))/>
            <output>{value}</output>
        }
        .into_any(),
        ParamKind::Int { min, max } => view! {
            <input id=id.clone() type="number" min=min.to_string() max=max.to_string() aria-label=spec.label
                prop:value=value on:change=move |ev| apply(event_target_value(&ev))/>
        }
        .into_any(),
        ParamKind::Bool => view! {
            <input id=id.clone() type="checkbox" aria-label=spec.label prop:checked=move || value() == "1"
                on:change=move |ev| apply(if event_target_checked(&ev) { "1".into() } else { "0".into() })/>
        }
        .into_any(),
        ParamKind::Choice { options } => view! {
            <select id=id.clone() aria-label=spec.label prop:value=value
                on:change=move |ev| apply(event_target_value(&ev))>
                {options.iter().map(|o| view! { <option value=*o>{*o}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        ParamKind::Fraction { min_ppm, max_ppm } => {
            let frac = |ppm: u32| crate::labs::fraction_text(ppm);
            let step = frac(((max_ppm - min_ppm) / 100).max(1));
            view! {
                <input id=id.clone() type="range" min=frac(min_ppm) max=frac(max_ppm) step=step aria-label=spec.label
                    prop:value=value on:change=move |ev| apply(event_target_value(&ev))/>
                <output>{value}</output>
            }
            .into_any()
        }
        ParamKind::Duration { .. } | ParamKind::DurationRange { .. } => view! {
            <input id=id.clone() type="text" class="text" aria-label=spec.label spellcheck="false"
                prop:value=value on:change=move |ev| apply(event_target_value(&ev))/>
        }
        .into_any(),
    };
    view! {
        <div class="slider" title=spec.help>
            <label for=id>{spec.label}</label>
            {control}
        </div>
    }
}

/// Each property with its live status.
#[component]
fn Properties() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let props = Memo::new(move |_| {
        shell.slow_tick.get();
        shell.with(|s| s.sim().properties()).unwrap_or_default()
    });
    view! {
        <section class="card" aria-label="Properties">
            <h2>"Properties"</h2>
            <ul class="props">
                {move || props.get().into_iter().map(|p| {
                    let status = if p.holds && p.violations == 0 { "holds" } else { "violated" };
                    let detail = match p.first_violation_us {
                        Some(t) => format!("{} violation(s), first at {}", p.violations, clock_text(t)),
                        None => match p.kind {
                            PropKind::Always => "always".to_string(),
                            PropKind::Eventually { within } => format!("eventually, within {}", format_us(within.0)),
                        },
                    };
                    view! {
                        <li class=format!("prop {status}") title=p.description>
                            <span class="badge" aria-label=status>{if status == "holds" { "✓" } else { "✗" }}</span>
                            <span class="prop-name">{p.name}</span>
                            <span class="muted small">{p.description}</span>
                            <span class="muted small">{detail}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}

/// The run's figures (`metrics`), the same ones `dsplay run --json` prints. The rows are
/// built when the lab's set of figures changes; while a run plays only their numbers change.
#[component]
fn Figures() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let metrics = Memo::new(move |_| {
        shell.slow_tick.get();
        shell.with(|s| s.sim().metrics()).unwrap_or_default()
    });
    let rows = Memo::new(move |_| {
        metrics.with(|m| m.iter().map(|m| (m.key, m.label)).collect::<Vec<_>>())
    });
    let value = move |key: &'static str| {
        move || {
            metrics.with(|m| {
                m.iter()
                    .find(|m| m.key == key)
                    .map(|m| m.value_text())
                    .unwrap_or_default()
            })
        }
    };
    move || {
        let rows = rows.get();
        (!rows.is_empty()).then(|| {
            view! {
                <section class="card" aria-label="Figures">
                    <h2>"Figures"</h2>
                    <dl class="stats">
                        {rows.into_iter().map(|(key, label)| view! {
                            <dt>{label}</dt>
                            <dd class="mono" data-metric=key>{value(key)}</dd>
                        }).collect_view()}
                    </dl>
                </section>
            }
        })
    }
}

/// The lab's own tables (a Raft log, a ring's key ownership).
///
/// While a run plays the tables change several times a second. They are kept in step with the
/// run by [`sync_tables`], which changes only the cells whose text or style changed and adds or
/// removes cells as the tables grow: the browser re-lays-out a few cells, not whole tables.
#[component]
fn Panels() -> impl IntoView {
    let shell = expect_context::<Shell>();
    let host = NodeRef::<leptos::html::Div>::new();
    // What the tables show now: cells that did not change are not touched at all.
    let shown = StoredValue::new_local(Vec::<Panel>::new());
    Effect::new(move |_| {
        shell.slow_tick.get();
        let Some(el) = host.get() else { return };
        if let Some(panels) = shell.with(|s| s.sim().panels()) {
            if shown.with_value(|prev| *prev != panels) {
                shown.update_value(|prev| {
                    sync_tables(&el, &panels, prev);
                    *prev = panels;
                });
            }
        }
    });
    view! { <div class="panels" node_ref=host></div> }
}

/// Makes the children of `host` show `panels`: one card per panel, each with a heading, a
/// table and a caption. Existing elements are reused; text is written only where it differs
/// from `shown`, what the elements were last made to show.
fn sync_tables(host: &web_sys::HtmlElement, panels: &[Panel], shown: &[Panel]) {
    let Some(doc) = host.owner_document() else {
        return;
    };
    let make = |tag: &str, parent: &web_sys::Element| -> Option<web_sys::Element> {
        let el = doc.create_element(tag).ok()?;
        parent.append_child(&el).ok()?;
        Some(el)
    };
    // The number of children of `parent` made equal to `n` (new ones are `tag` elements).
    let fit = |parent: &web_sys::Element, n: usize, tag: &str| {
        while parent.child_element_count() as usize > n {
            if let Some(last) = parent.last_element_child() {
                last.remove();
            }
        }
        while (parent.child_element_count() as usize) < n {
            if make(tag, parent).is_none() {
                return;
            }
        }
    };
    let set_text = |el: &web_sys::Element, text: &str| {
        if el.text_content().as_deref() != Some(text) {
            el.set_text_content(Some(text));
        }
    };
    fit(host, panels.len(), "section");
    let cards = host.children();
    for (i, p) in panels.iter().enumerate() {
        let Some(card) = cards.item(i as u32) else {
            return;
        };
        if card.child_element_count() != 3 {
            card.set_inner_html("");
            let _ = card.set_attribute("class", "card");
            let ok = make("h2", &card).is_some()
                && make("div", &card)
                    .and_then(|wrap| {
                        let _ = wrap.set_attribute("class", "table-wrap newest");
                        let table = make("table", &wrap)?;
                        make("thead", &table).and_then(|h| make("tr", &h))?;
                        make("tbody", &table)
                    })
                    .is_some()
                && make("p", &card)
                    .map(|c| c.set_attribute("class", "muted small"))
                    .is_some();
            if !ok {
                return;
            }
        }
        if card.get_attribute("aria-label").as_deref() != Some(p.title.as_str()) {
            let _ = card.set_attribute("aria-label", &p.title);
        }
        let (Some(h2), Some(caption)) = (card.first_element_child(), card.last_element_child())
        else {
            return;
        };
        set_text(&h2, &p.title);
        set_text(&caption, &p.caption);
        let Ok(Some(table)) = card.query_selector("table") else {
            return;
        };
        let (Ok(Some(head)), Ok(Some(body))) = (
            table.query_selector("thead > tr"),
            table.query_selector("tbody"),
        ) else {
            return;
        };
        // Every row gets a cell per column (a short row's extra cells stay empty), so a
        // follower catching up changes texts, not the table.
        let cols = p
            .columns
            .len()
            .max(p.rows.iter().map(Vec::len).max().unwrap_or(0));
        fit(&head, cols, "th");
        let ths = head.children();
        for c in 0..cols {
            if let Some(th) = ths.item(c as u32) {
                set_text(&th, p.columns.get(c).map_or("", String::as_str));
            }
        }
        fit(&body, p.rows.len(), "tr");
        let trs = body.children();
        let before = shown.get(i).filter(|q| {
            q.title == p.title
                && q.rows.len() == p.rows.len()
                && q.columns
                    .len()
                    .max(q.rows.iter().map(Vec::len).max().unwrap_or(0))
                    == cols
        });
        for (r, row) in p.rows.iter().enumerate() {
            if before.is_some_and(|q| q.rows.get(r) == Some(row)) {
                continue; // this row's cells already show it
            }
            let Some(tr) = trs.item(r as u32) else {
                return;
            };
            fit(&tr, cols, "td");
            let tds = tr.children();
            for c in 0..cols {
                let Some(td) = tds.item(c as u32) else {
                    return;
                };
                let (text, style) = row
                    .get(c)
                    .map_or(("", 0), |cell| (cell.text.as_str(), cell.style.min(8)));
                set_text(&td, text);
                let class = format!("cell s{style}");
                if td.get_attribute("class").as_deref() != Some(class.as_str()) {
                    let _ = td.set_attribute("class", &class);
                }
            }
        }
    }
}
