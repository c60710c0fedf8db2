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
pub const CLASS_LEADER: u8 = 4;
pub const CLASS_LAGGING: u8 = 5;

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
    if p.phase == Phase::Forwarding {
        return match p.asked.first() {
            Some((l, _)) => format!("{}: sent to the leader S{l}", p.req.op.text()),
            None => format!("{}: no leader known", p.req.op.text()),
        };
    }
    let (what, need) = match p.phase {
        Phase::Forwarding => ("answer", 1),
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
        if self.leader_mode {
            return leader_node_view(w, id);
        }
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
        match self.leader_mode {
            true => vec![consistency_panel(w), replication_panel(w)],
            false => vec![consistency_panel(w), replicas_panel(w)],
        }
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
        m.push(Metric::new(
            "replication_lag_ms",
            "leader mode: how far the furthest follower that is up lags behind the leader's log",
            max_lag_us(w) as f64 / 1000.0,
        ));
        m
    }

    fn stage(
        &self,
        w: &World<Self>,
        _ix: usize,
        area: &crate::labs::StageArea,
    ) -> Vec<crate::viz::scene::Shape> {
        super::stage::shapes(w, area)
    }

    fn stage_hit(
        &self,
        w: &World<Self>,
        _ix: usize,
        area: &crate::labs::StageArea,
        p: crate::viz::scene::Pt,
    ) -> Option<u64> {
        super::stage::hit(w, area, p)
    }

    fn item_view(&self, w: &World<Self>, item: u64) -> Option<crate::labs::ItemView> {
        super::stage::item_view(w, item)
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
        crate::sim::order::sort_by_key(&mut v, |&us| us);
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
        format!(
            "{} of {} operations succeeded ({}%)",
            j.ok,
            j.finished,
            crate::sim::time::shortest(pct)
        ),
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
                "{}; the latest: {} was acknowledged {}, {}",
                j.lost.len(),
                op_words(l.write),
                stamp_text(l.stamp),
                lost_why(w, l)
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

fn lost_why(w: &World<Quorum>, l: &super::consistency::Lost) -> String {
    match (l.beaten_by, super::consistency::current_leader(w)) {
        (Some(b), _) => format!("older than {}", item_text(&b)),
        (None, Some(at)) => format!(
            "but the leader S{at} (epoch {}) never received it",
            w.state(at).repl.epoch
        ),
        (None, None) => "but no leader holds it".into(),
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

/// How far follower `f` lags behind the leader `l`: the entries it lacks, and how long ago the
/// first of them was appended.
pub fn lag(w: &World<Quorum>, l: u32, f: u32) -> (u64, u64) {
    let (lead, follow) = (&w.state(l).repl, &w.state(f).repl);
    let have = common_prefix(&lead.log, &follow.log);
    let behind = lead.log_len().saturating_sub(have);
    let age = match lead.log.get(have as usize) {
        Some(e) => w.now().0.saturating_sub(e.at_us),
        None => 0,
    };
    (behind, age)
}

/// How many entries two logs share from the start (the same epoch at each position: the
/// same entry).
fn common_prefix(
    a: &crate::sim::chunked::Chunked<super::leader::LogEntry>,
    b: &crate::sim::chunked::Chunked<super::leader::LogEntry>,
) -> u64 {
    let n = a.len().min(b.len());
    // Logs that agree at a position agree before it, so the shared prefix is found by halving.
    let same = |i: usize| a.get(i).map(|e| e.epoch) == b.get(i).map(|e| e.epoch);
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if same(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo as u64
}

/// The longest lag of a follower that is up behind the current leader, in µs.
pub fn max_lag_us(w: &World<Quorum>) -> u64 {
    let Some(l) = super::consistency::current_leader(w) else {
        return 0;
    };
    (0..w.n())
        .filter(|&f| f != l && w.is_up(f))
        .map(|f| lag(w, l, f).1)
        .max()
        .unwrap_or(0)
}

fn leader_node_view(w: &World<Quorum>, id: u32) -> NodeView {
    let st = w.state(id);
    let r = &st.repl;
    let leader = super::consistency::current_leader(w);
    let mut lines = vec![format!("epoch {}, log {} entries", r.epoch, r.log_len())];
    let (role, class) = if r.is_leader(id) {
        let waits = r.waits.len();
        if waits > 0 {
            lines.push(format!("{waits} writes waiting for followers"));
        }
        (format!("leader (epoch {})", r.epoch), CLASS_LEADER)
    } else {
        let (behind, age) = leader.map_or((0, 0), |l| lag(w, l, id));
        match behind {
            0 => ("follower".to_string(), CLASS_IDLE),
            b => (format!("{b} behind ({} ms)", age / 1000), CLASS_LAGGING),
        }
    };
    lines.extend(st.pending.values().map(|p| pending_line(p, &w.proto)));
    lines.extend(
        st.store
            .iter()
            .map(|(k, v)| format!("k{k} = {}", versions_text(v))),
    );
    NodeView {
        id,
        label: format!("S{id}"),
        role,
        role_class: class,
        lines,
        timer_fraction: None,
        up: w.is_up(id),
    }
}

/// Leader mode: each node's epoch, log and lag behind the leader, and its copy of the keys.
pub fn replication_panel(w: &World<Quorum>) -> Panel {
    let leader = super::consistency::current_leader(w);
    let keys = w.proto.keys.min(PANEL_KEYS);
    let mut columns: Vec<String> = ["node", "role", "log", "behind"].map(String::from).to_vec();
    columns.extend((0..keys).map(|k| format!("k{k}")));
    let rows = (0..w.n())
        .map(|id| {
            let st = w.state(id);
            let r = &st.repl;
            let role = match (r.is_leader(id), w.is_up(id)) {
                (_, false) => "down".to_string(),
                (true, _) => format!("leader, epoch {}", r.epoch),
                (false, _) => format!("follower, epoch {}", r.epoch),
            };
            let (behind, age) = match leader {
                Some(l) if l != id => lag(w, l, id),
                _ => (0, 0),
            };
            let lag_cell = match behind {
                0 => Cell::plain("—"),
                b => Cell::styled(format!("{b} entries, {} ms", age / 1000), STYLE_BEHIND),
            };
            let mut row = vec![
                Cell::plain(format!("S{id}")),
                Cell::plain(role),
                Cell::plain(r.log_len().to_string()),
                lag_cell,
            ];
            row.extend((0..keys).map(|k| {
                let v = st.store.get(&k).cloned().unwrap_or_default();
                let newest = leader.map(|l| w.state(l).store.get(&k).cloned().unwrap_or_default());
                let style = match newest.is_some_and(|n| n != v) {
                    true => STYLE_BEHIND,
                    false => 0,
                };
                Cell::styled(versions_text(&v), style)
            }));
            row
        })
        .collect();
    let sync = match w.proto.sync {
        super::Sync::Async => "as soon as the leader has it",
        super::Sync::SemiSync => "once one follower has it too",
        super::Sync::Sync => "once every follower has it",
    };
    Panel {
        title: "Replication".into(),
        columns,
        rows,
        caption: format!(
            "The leader acknowledges a write {sync}. Behind: the entries a follower lacks and how long ago the first of them was written (highlighted: a copy behind the leader's)."
        ),
    }
}
