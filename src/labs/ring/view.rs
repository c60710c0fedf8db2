//! How the partitioning lab looks: the nodes, the load chart and the figures.

use super::placement::{balance, Algorithm};
use super::protocol::{Coordinator, RingLab, COORDINATOR};
use crate::labs::{ItemView, Lab, LabProtocol, Metric, StageArea};
use crate::sim::world::World;
use crate::viz::chart::{AxisScale, Chart, Series, SeriesStyle};
use crate::viz::scene::{Pt, Shape};
use crate::viz::NodeView;

pub const CLASS_SPARE: u8 = 0;
pub const CLASS_SERVER: u8 = 1;
pub const CLASS_COORDINATOR: u8 = 8;

/// The coordinator's map (node 0 is always the coordinator).
pub fn map(w: &World<RingLab>) -> &Coordinator {
    w.state(COORDINATOR)
        .coordinator()
        .expect("node 0 is the coordinator")
}

/// Whether requests, not keys, are what the load view counts (popular keys).
pub fn counts_requests(p: &RingLab) -> bool {
    p.cdf.is_some()
}

/// Reads each member answered since the map last changed, in member order.
pub fn served(w: &World<RingLab>) -> Vec<u64> {
    let c = map(w);
    c.members
        .iter()
        .map(|m| {
            c.reads_since_change
                .get(m.id as usize)
                .copied()
                .unwrap_or(0)
        })
        .collect()
}

impl LabProtocol for RingLab {
    fn lab() -> &'static Lab {
        &super::LAB
    }

    fn properties(&self) -> Vec<crate::sim::Property<Self>> {
        super::properties::all()
    }

    fn node_view(&self, w: &World<Self>, id: u32) -> NodeView {
        let up = w.is_up(id);
        if id == COORDINATOR {
            let c = map(w);
            return NodeView {
                id,
                label: "coord".into(),
                role: if up { "coordinator" } else { "crashed" }.into(),
                role_class: CLASS_COORDINATOR,
                lines: vec![
                    format!("{} servers in the ring", c.members.len()),
                    format!("{} reads waiting for a server", c.pending.len()),
                    format!("{} fallbacks", c.fallbacks),
                ],
                timer_fraction: None,
                up,
            };
        }
        let c = map(w);
        let member = c.members.iter().find(|m| m.id == id);
        let keys = c.keys_by_server.get(id as usize).copied().unwrap_or(0);
        let served = super::stage::plural(w.state(id).served(), "read");
        let mut lines = vec![format!("served {served}")];
        if let Some(m) = member {
            lines.insert(0, format!("owns {keys} keys, weight {}", m.weight));
        }
        NodeView {
            id,
            label: format!("S{id}"),
            role: match (up, member) {
                (false, _) => "crashed",
                (true, Some(_)) => "server",
                (true, None) => "spare",
            }
            .into(),
            role_class: if member.is_some() {
                CLASS_SERVER
            } else {
                CLASS_SPARE
            },
            lines,
            timer_fraction: None,
            up,
        }
    }

    fn metrics(&self, w: &World<Self>) -> Vec<Metric> {
        let c = map(w);
        let b = balance(&c.member_loads());
        let r = balance(&served(w));
        let mut m = vec![
            Metric::new("servers", "servers in the ring", c.members.len() as f64),
            Metric::new(
                "keys_stddev_over_mean",
                "keys per server: standard deviation over mean",
                b.stddev_over_mean,
            ),
            Metric::new(
                "keys_max_over_mean",
                "keys per server: most over mean",
                b.max_over_mean,
            ),
            Metric::new(
                "reads_max_over_mean",
                "reads per server since the map last changed: most over mean",
                r.max_over_mean,
            ),
            Metric::new(
                "reads_fallback",
                "reads answered by a fallback server",
                c.fallbacks as f64,
            ),
            Metric::new(
                "reads_unavailable",
                "reads no server of the preference list answered",
                c.unavailable as f64,
            ),
        ];
        if let Some(ch) = c.changes.last() {
            let frac = |k: u64| k as f64 / self.keys as f64;
            m.extend([
                Metric::new(
                    "moved_keys",
                    "keys moved by the last change",
                    ch.moved as f64,
                ),
                Metric::new(
                    "moved_fraction",
                    "fraction of the keys the last change moved",
                    frac(ch.moved),
                ),
                Metric::new(
                    "ideal_fraction",
                    "the fraction an even split of the servers would move (1/(n + 1) on a join)",
                    ch.ideal_ppm as f64 / 1e6,
                ),
                Metric::new(
                    "moved_fraction_mod_n",
                    "what mod-N would have moved on the same keys",
                    frac(ch.moved_mod_n),
                ),
            ]);
        }
        m
    }

    fn charts(&self, w: &World<Self>) -> Vec<Chart> {
        vec![load_chart(self, w)]
    }

    fn stage(&self, w: &World<Self>, _ix: usize, area: &StageArea) -> Vec<Shape> {
        super::stage::shapes(w, area)
    }

    fn stage_hit(&self, w: &World<Self>, _ix: usize, area: &StageArea, p: Pt) -> Option<u64> {
        super::stage::hit(w, area, p)
    }

    fn item_view(&self, w: &World<Self>, item: u64) -> Option<ItemView> {
        super::stage::item_view(w, item)
    }

    fn op_text(&self, op: &super::protocol::Op) -> String {
        format!("get k{}", op.key)
    }
}

/// Keys per server as bars (reads per server for popular keys), with the mean beside them.
pub fn load_chart(p: &RingLab, w: &World<RingLab>) -> Chart {
    let c = map(w);
    let requests = counts_requests(p);
    let load = if requests {
        served(w)
    } else {
        c.member_loads()
    };
    let b = balance(&load);
    let points: Vec<(f64, f64)> = c
        .members
        .iter()
        .zip(&load)
        .map(|(m, l)| (m.id as f64, *l as f64))
        .collect();
    let (lo, hi) = (
        points.first().map_or(0.0, |p| p.0),
        points.last().map_or(1.0, |p| p.0),
    );
    let what = if requests {
        "reads since the map changed"
    } else {
        "keys owned"
    };
    let mut series = vec![
        Series {
            name: what.into(),
            style: SeriesStyle::Bars,
            points,
            reference: false,
            colour: Some(0),
        },
        Series {
            name: "mean".into(),
            style: SeriesStyle::Line,
            points: vec![(lo, b.mean), (hi, b.mean)],
            reference: true,
            colour: None,
        },
    ];
    if p.setup.algorithm == Algorithm::Bounded && !requests {
        let cap = c.placement.capacities(p.keys as u64);
        let most = cap.iter().copied().max().unwrap_or(0) as f64;
        series.push(Series {
            name: "capacity (1 + ε) × mean".into(),
            style: SeriesStyle::Line,
            points: vec![(lo, most), (hi, most)],
            reference: true,
            colour: Some(5),
        });
    }
    Chart {
        title: format!("Load per server ({what})"),
        x_label: "server".into(),
        y_label: what.into(),
        x_scale: AxisScale::Linear,
        y_scale: AxisScale::Linear,
        series,
        caption: format!(
            "Mean {}, standard deviation {}% of the mean, the most {} × the mean.{}",
            crate::sim::time::fixed(b.mean, 1),
            crate::sim::time::fixed(b.stddev_over_mean * 100.0, 1),
            crate::sim::time::fixed(b.max_over_mean, 2),
            match (requests, c.changes.last()) {
                (true, Some(ch)) => format!(
                    " Reads counted since {} at {}.",
                    ch.what,
                    crate::sim::time::format_us(ch.at_us)
                ),
                _ => String::new(),
            },
        ),
        cursor_x: None,
    }
}
