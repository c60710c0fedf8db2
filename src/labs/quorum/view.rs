//! How the replication lab looks: nodes with what they store and wait for, the replicas of
//! each key side by side, the consistency the run kept, and its figures.

use super::consistency::{first_breaks, judge, linearizable, Entry};
use super::protocol::{merge, stamp_text, NodeState, Op, Phase, Quorum, Reply, Versioned, Vv};
use crate::labs::{Lab, LabProtocol, Metric};
use crate::sim::time::format_us;
use crate::sim::world::World;
use crate::viz::{Cell, NodeView, Panel};

pub const CLASS_IDLE: u8 = 1;
pub const CLASS_BUSY: u8 = 2;
pub const CLASS_HINTS: u8 = 3;

/// Cell styles (palette colours): vermillion for what went wrong (a replica behind the newest
/// version, a broken guarantee), bluish green for what held.
const STYLE_BEHIND: u8 = 6;
const STYLE_GOOD: u8 = 3;

/// The most keys the replicas panel lists.
const PANEL_KEYS: u32 = 8;

/// `7 @1.234·S0`, with its version vector when it has one: `7 @1.234·S0 [S0:1]`.
pub fn item_text(v: &Versioned) -> String {
    if v.vv == Vv::default() {
        format!("{} {}", v.value, stamp_text(v.stamp))
    } else {
        format!("{} {} {}", v.value, stamp_text(v.stamp), v.vv.text())
    }
}

/// Versions side by side (siblings), `—` for none.
pub fn versions_text(v: &[Versioned]) -> String {
    if v.is_empty() {
        return "—".into();
    }
    v.iter().map(item_text).collect::<Vec<_>>().join(" | ")
}

fn pending_line(p: &super::protocol::Pending, q: &Quorum) -> String {
    let (what, need) = match p.phase {
        Phase::Writing => ("acks", q.w),
        Phase::Reading => ("replies", q.r),
        Phase::WritingBack => ("write-back acks", q.w),
        Phase::ReadingContext => ("context replies", q.r),
    };
    format!(
        "{}: {} of {need} {what}",
        p.req.op.text(),
        p.heard.len().min(need as usize)
    )
}

fn node_lines(q: &Quorum, st: &NodeState, id: u32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    if let Some(s) = q.skew_us.get(id as usize).filter(|s| **s != 0) {
        lines.push(format!(
            "clock {}{}",
            if *s < 0 { "−" } else { "+" },
            format_us(s.unsigned_abs())
        ));
    }
    lines.extend(
        st.pending
            .values()
            .filter(|p| !p.done)
            .map(|p| pending_line(p, q)),
    );
    lines.extend(
        st.store
            .iter()
            .map(|(k, v)| format!("k{k} = {}", versions_text(v))),
    );
    lines.extend(st.hints.iter().map(|h| {
        format!(
            "hint for S{}: k{} = {}",
            h.for_node,
            h.key,
            item_text(&h.item)
        )
    }));
    lines
}

impl LabProtocol for Quorum {
    fn lab() -> &'static Lab {
        &super::LAB
    }

    fn properties(&self) -> Vec<crate::sim::Property<Self>> {
        super::properties::all()
    }

    fn node_view(&self, w: &World<Self>, id: u32) -> NodeView {
        let st = w.state(id);
        let busy = st.pending.values().filter(|p| !p.done).count();
        let (role, class) = match (busy, st.hints.len()) {
            (0, 0) => ("node".to_string(), CLASS_IDLE),
            (0, h) => (format!("{h} hints"), CLASS_HINTS),
            (b, _) => (format!("coordinating {b}"), CLASS_BUSY),
        };
        NodeView {
            id,
            label: format!("S{id}"),
            role,
            role_class: class,
            lines: node_lines(self, st, id),
            timer_fraction: None,
            up: w.is_up(id),
        }
    }

    fn panels(&self, w: &World<Self>) -> Vec<Panel> {
        vec![consistency_panel(w), replicas_panel(w)]
    }

    fn metrics(&self, w: &World<Self>) -> Vec<Metric> {
        let j = judge(w);
        let (lin, _) = linearizable(w);
        let hints: usize = (0..w.n()).map(|i| w.state(i).hints.len()).sum();
        let siblings = w
            .history()
            .iter()
            .filter(|h| matches!(h.reply, Some(Reply::Value { got }) if got.items[1].is_some()))
            .count();
        let mut m = vec![
            Metric::new(
                "ops_ok_fraction",
                "operations that succeeded, of those finished",
                fraction(j.ok, j.finished),
            ),
            Metric::new(
                "reads_stale",
                "reads that missed a write acknowledged before they began",
                j.stale.len() as f64,
            ),
            Metric::new(
                "writes_lost",
                "acknowledged writes last-write-wins dropped",
                j.lost.len() as f64,
            ),
            Metric::new(
                "linearizable",
                "the checker's verdict (1 yes, 0 no, -1 unknown)",
                lin.map_or(-1.0, |l| l as u8 as f64),
            ),
            Metric::new(
                "reads_with_siblings",
                "reads that returned concurrent versions (version vectors)",
                siblings as f64,
            ),
            Metric::new(
                "hints_held",
                "hinted writes waiting on stand-ins",
                hints as f64,
            ),
        ];
        m.extend(latency_metrics(w));
        m
    }

    fn op_text(&self, op: &Op) -> String {
        op.text()
    }

    fn check_model(&self) -> Option<crate::check::ModelKind> {
        Some(crate::check::ModelKind::Kv)
    }

    fn check_input(&self, op: &Op) -> crate::check::Input {
        use crate::check::Input;
        match op {
            Op::Get { key } => Input::get(format!("k{key}")),
            Op::Put { key, value } => Input::put(format!("k{key}"), value.to_string()),
        }
    }

    fn check_output(&self, op: &Op, reply: &Reply) -> crate::check::Output {
        use crate::check::Output;
        match (op, reply) {
            (Op::Get { .. }, Reply::Value { got }) if got.is_empty() => Output::nil(),
            (Op::Get { .. }, Reply::Value { got }) => match got.items {
                [Some(v), None, ..] => Output::value(v.value.to_string()),
                _ => Output::None,
            },
            _ => Output::None,
        }
    }
}

/// The median and 99th percentile of successful reads' and writes' latency, in ms: what R and
/// W cost when nothing fails.
fn latency_metrics(w: &World<Quorum>) -> Vec<Metric> {
    let of = |write: bool| {
        let mut v: Vec<u64> = w
            .history()
            .iter()
            .filter(|h| h.outcome == Some(crate::sim::OutcomeKind::Ok))
            .filter(|h| matches!(h.op, Op::Put { .. }) == write)
            .filter_map(|h| h.complete_us.map(|c| c - h.invoke_us))
            .collect();
        v.sort_unstable();
        (super::quantile_ms(&v, 0.5), super::quantile_ms(&v, 0.99))
    };
    let ((r50, r99), (w50, w99)) = (of(false), of(true));
    vec![
        Metric::new(
            "read_latency_ms_p50",
            "median latency of successful reads",
            r50,
        ),
        Metric::new(
            "read_latency_ms_p99",
            "99th percentile latency of successful reads",
            r99,
        ),
        Metric::new(
            "write_latency_ms_p50",
            "median latency of successful writes",
            w50,
        ),
        Metric::new(
            "write_latency_ms_p99",
            "99th percentile latency of successful writes",
            w99,
        ),
    ]
}

fn fraction(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

fn op_words(h: &Entry) -> String {
    let got = match h.reply {
        Some(Reply::Value { got }) => format!(" = {}", got.text()),
        _ => String::new(),
    };
    format!(
        "client {}'s {}{got} at {}",
        h.client,
        h.op.text(),
        format_us(h.invoke_us)
    )
}

/// A time of the run in seconds, to the millisecond: `3.414 s`.
pub fn seconds(us: u64) -> String {
    format!("{} s", crate::sim::time::fixed(us as f64 / 1e6, 3))
}

fn row(name: &str, text: String, style: u8) -> Vec<Cell> {
    vec![Cell::plain(name), Cell::styled(text, style)]
}

/// Availability, the checker's verdict, the session guarantees, stale reads, lost writes.
pub fn consistency_panel(w: &World<Quorum>) -> Panel {
    let j = judge(w);
    let pct = (fraction(j.ok, j.finished) * 100.0).round();
    let mut rows = vec![row(
        "availability",
        format!("{} of {} operations succeeded ({pct}%)", j.ok, j.finished),
        if j.ok < j.finished {
            STYLE_BEHIND
        } else {
            STYLE_GOOD
        },
    )];
    let (lin, words) = linearizable(w);
    rows.push(row(
        "linearizable",
        words,
        if lin == Some(false) {
            STYLE_BEHIND
        } else {
            STYLE_GOOD
        },
    ));
    for (g, first) in first_breaks(w) {
        rows.push(match first {
            Some((before, at)) => row(
                g.name(),
                format!("broken: {} after {}", op_words(at), op_words(before)),
                STYLE_BEHIND,
            ),
            None => row(g.name(), "kept".into(), STYLE_GOOD),
        });
    }
    rows.push(match j.stale.last() {
        Some(s) => row(
            "stale reads",
            format!(
                "{}; the latest: {} missed {}",
                j.stale.len(),
                op_words(s.read),
                item_text(&s.missed)
            ),
            STYLE_BEHIND,
        ),
        None => row("stale reads", "none".into(), STYLE_GOOD),
    });
    rows.push(match j.lost.last() {
        Some(l) => row(
            "lost writes",
            format!(
                "{}; the latest: {} was acknowledged {}, older than {}",
                j.lost.len(),
                op_words(l.write),
                stamp_text(l.stamp),
                item_text(&l.beaten_by)
            ),
            STYLE_BEHIND,
        ),
        None => row("lost writes", "none".into(), STYLE_GOOD),
    });
    Panel {
        title: "Consistency so far".into(),
        columns: vec!["".into(), "this run".into()],
        rows,
        caption: "A read is stale when it misses a write acknowledged before it began; a write \
                  is lost when last-write-wins drops it. The guarantees are judged per client and key."
            .into(),
    }
}

/// Each key's replicas side by side, a replica behind the newest highlighted.
pub fn replicas_panel(w: &World<Quorum>) -> Panel {
    let q = &w.proto;
    let mut columns = vec!["key".to_string()];
    columns.extend((0..q.rf).map(|i| format!("replica {}", i + 1)));
    columns.push("hints".into());
    let rows = (0..q.keys.min(PANEL_KEYS))
        .map(|k| {
            let held: Vec<(u32, Vec<Versioned>)> = q
                .replicas(k)
                .iter()
                .map(|&n| (n, w.state(n).store.get(&k).cloned().unwrap_or_default()))
                .collect();
            let mut newest: Vec<Versioned> = Vec::new();
            for v in held.iter().flat_map(|h| &h.1) {
                merge(q.vectors, &mut newest, *v);
            }
            let mut r = vec![Cell::plain(format!("k{k}"))];
            r.extend(held.iter().map(|(n, v)| {
                let style = if *v != newest { STYLE_BEHIND } else { 0 };
                Cell::styled(format!("S{n}: {}", versions_text(v)), style)
            }));
            let hints: Vec<String> = (0..w.n())
                .flat_map(|n| {
                    w.state(n)
                        .hints
                        .iter()
                        .filter(move |h| h.key == k)
                        .map(move |h| (n, h))
                })
                .map(|(n, h)| format!("S{n} for S{}: {}", h.for_node, h.item.value))
                .collect();
            r.push(Cell::plain(if hints.is_empty() {
                "—".into()
            } else {
                hints.join(", ")
            }));
            r
        })
        .collect();
    Panel {
        title: "Replicas".into(),
        columns,
        rows,
        caption: format!(
            "Each key's N = {} replicas in preference-list order, with the value and stamp each holds (highlighted: behind the newest); R = {}, W = {}.",
            q.rf, q.r, q.w
        ),
    }
}
