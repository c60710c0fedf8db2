//! How the Raft lab looks: nodes coloured by role with a draining election timer, and the logs
//! side by side.

use super::kv::KvOp;
use super::protocol::{Raft, Role, Timer};
use crate::labs::{Lab, LabProtocol};
use crate::sim::time::format_us;
use crate::sim::world::World;
use crate::viz::Within;
use crate::viz::{Cell, NodeView, Panel};

/// Role classes (palette indices).
pub const CLASS_FOLLOWER: u8 = 1;
pub const CLASS_CANDIDATE: u8 = 2;
pub const CLASS_LEADER: u8 = 3;

/// Log cell styles.
pub const STYLE_COMMITTED: u8 = 1;
pub const STYLE_UNCOMMITTED: u8 = 2;
/// Disagrees with the current leader's log: the leader will overwrite it.
pub const STYLE_CONFLICT: u8 = 3;

/// The log panel shows at most this many of the latest indices.
pub const LOG_COLUMNS: u64 = 20;
/// The state-machine panel shows at most this many keys.
const KV_COLUMNS: usize = 8;

/// The leader the cluster follows now: the live leader with the highest term.
pub fn current_leader(w: &World<Raft>) -> Option<u32> {
    (0..w.n())
        .filter(|&i| w.is_up(i) && w.state(i).role == Role::Leader)
        .max_by_key(|&i| w.state(i).current_term)
}

impl LabProtocol for Raft {
    fn lab() -> &'static Lab {
        &super::LAB
    }

    fn properties(&self) -> Vec<crate::sim::Property<Self>> {
        super::properties::all(self)
    }

    /// No leader while the election timeout is shorter than a round trip: every candidate's
    /// timer fires again before its votes can come back (the paper's timing requirement,
    /// broadcast time much shorter than the election timeout, section 5.6).
    fn settings_cause(&self, world: &World<Self>, property: &str) -> Option<String> {
        let round_trip_us = 2.0 * world.net.default.latency.mean_us();
        let (min, max) = (self.election_timeout_min_us, self.election_timeout_max_us);
        (property == "leader_elected" && (max as f64) < round_trip_us).then(|| {
            format!(
                "The election timeout ({}..{}) is shorter than a round trip on these links \
                 (about {}): each candidate's timer fires again before its votes can come \
                 back, so no election finishes. Raft needs the broadcast time to be much \
                 shorter than the election timeout (section 5.6 of the paper): try 150ms..300ms.",
                format_us(min),
                format_us(max),
                format_us(round_trip_us as u64 / 1_000 * 1_000),
            )
        })
    }

    fn node_view(&self, w: &World<Self>, id: u32) -> NodeView {
        let st = w.state(id);
        let up = w.is_up(id);
        let role_class = match st.role {
            Role::Follower => CLASS_FOLLOWER,
            Role::PreCandidate | Role::Candidate => CLASS_CANDIDATE,
            Role::Leader => CLASS_LEADER,
        };
        let voted = match st.voted_for {
            Some(v) => format!("voted for S{v}"),
            None => "voted for nobody".into(),
        };
        let timer_fraction = w.nodes[id as usize]
            .timers
            .get(&Timer::Election)
            .filter(|_| up)
            .map(|t| {
                let span = t.fire_us.saturating_sub(t.set_us).max(1) as f32;
                (t.fire_us.saturating_sub(w.now().0) as f32 / span).within(0.0, 1.0)
            });
        NodeView {
            id,
            label: format!("S{id}"),
            // The term beside the role: after a partition two servers may both say
            // "leader", and only the term tells the stale one.
            role: if up {
                format!("{}, term {}", st.role.name(), st.current_term)
            } else {
                "crashed".into()
            },
            role_class: if up { role_class } else { 0 },
            lines: vec![
                format!("term {}", st.current_term),
                voted,
                format!("log length {}", st.log.last_index()),
                format!("commit index {}", st.commit_index),
            ],
            timer_fraction,
            up,
        }
    }

    fn panels(&self, w: &World<Self>) -> Vec<Panel> {
        vec![log_panel(w), kv_panel(w)]
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

    fn metrics(&self, w: &World<Self>) -> Vec<crate::labs::Metric> {
        use crate::labs::Metric;
        let ids = 0..w.n();
        let term = ids
            .clone()
            .map(|i| w.state(i).current_term)
            .max()
            .unwrap_or(0);
        let commit = ids
            .clone()
            .map(|i| w.state(i).commit_index)
            .max()
            .unwrap_or(0);
        let longest = ids.map(|i| w.state(i).log.last_index()).max().unwrap_or(0);
        let leader = current_leader(w).map_or(-1.0, |l| l as f64);
        vec![
            Metric::new("term", "highest term", term as f64),
            Metric::new("commit_index", "highest commit index", commit as f64),
            Metric::new("log_length", "longest log", longest as f64),
            Metric::new("leader", "leader of the highest term (-1: none)", leader),
        ]
    }

    fn op_text(&self, op: &KvOp) -> String {
        op.text()
    }

    // The clients use a key-value map: the checker verifies what they saw is linearizable.
    fn check_model(&self) -> Option<crate::check::ModelKind> {
        Some(crate::check::ModelKind::Kv)
    }

    fn check_input(&self, op: &KvOp) -> crate::check::Input {
        use crate::check::Input;
        match op {
            KvOp::Put { key, value } => Input::put(key.as_str(), value.as_str()),
            KvOp::Get { key } => Input::get(key.as_str()),
            KvOp::Append { key, value } => Input::append(key.as_str(), value.as_str()),
        }
    }

    fn check_output(&self, op: &KvOp, reply: &super::RaftReply) -> crate::check::Output {
        use crate::check::Output;
        match (op, reply) {
            (KvOp::Get { .. }, super::RaftReply::Done { value: Some(v), .. }) => {
                Output::value(v.as_str())
            }
            (KvOp::Get { .. }, super::RaftReply::Done { value: None, .. }) => Output::nil(),
            _ => Output::None,
        }
    }
}

/// Every node's log, one row per node, one column per index (the latest [`LOG_COLUMNS`]).
pub fn log_panel(w: &World<Raft>) -> Panel {
    let leader = current_leader(w).map(|l| &w.state(l).log);
    let last = (0..w.n())
        .map(|i| w.state(i).log.last_index())
        .max()
        .unwrap_or(0);
    let first = last.saturating_sub(LOG_COLUMNS - 1).max(1);
    let mut columns = vec!["server".to_string()];
    columns.extend((first..=last).map(|i| i.to_string()));
    let rows = (0..w.n())
        .map(|id| {
            let st = w.state(id);
            let mut row = vec![Cell::plain(format!(
                "S{id} {}",
                if w.is_up(id) {
                    st.role.name()
                } else {
                    "crashed"
                }
            ))];
            for i in first..=last {
                let Some(e) = st.log.entry(i) else {
                    row.push(Cell::plain(""));
                    continue;
                };
                let conflict = leader.is_some_and(|l| l.term_at(i) != Some(e.term));
                let style = if conflict {
                    STYLE_CONFLICT
                } else if i <= st.commit_index {
                    STYLE_COMMITTED
                } else {
                    STYLE_UNCOMMITTED
                };
                row.push(Cell::styled(
                    format!("{} {}", e.term, e.cmd.op.short()),
                    style,
                ));
            }
            row
        })
        .collect();
    let shown = if first > 1 {
        format!(" (indices {first} to {last})")
    } else {
        String::new()
    };
    Panel {
        title: "Logs".into(),
        columns,
        rows,
        caption: format!(
            "Each cell is an entry: its term and command{shown}. Blue: committed. Orange: not \
             yet committed. Green: disagrees with the current leader's log, which will \
             overwrite it."
        ),
    }
}

/// Each node's applied key-value state.
pub fn kv_panel(w: &World<Raft>) -> Panel {
    let mut keys: Vec<&String> = (0..w.n()).flat_map(|i| w.state(i).kv.data.keys()).collect();
    crate::sim::order::sort_by(&mut keys, Ord::cmp);
    keys.dedup();
    keys.truncate(KV_COLUMNS);
    let mut columns = vec!["server".to_string(), "applied".to_string()];
    columns.extend(keys.iter().map(|k| k.to_string()));
    let rows = (0..w.n())
        .map(|id| {
            let st = w.state(id);
            let mut row = vec![
                Cell::plain(format!("S{id}")),
                Cell::plain(st.last_applied.to_string()),
            ];
            row.extend(
                keys.iter()
                    .map(|k| Cell::plain(st.kv.data.get(*k).cloned().unwrap_or_default())),
            );
            row
        })
        .collect();
    Panel {
        title: "State machines".into(),
        columns,
        rows,
        caption: "The key-value map each server has built by applying committed entries in order."
            .into(),
    }
}
