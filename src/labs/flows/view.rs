//! How the flows lab looks.

use super::protocol::Flows;
use crate::labs::{Lab, LabProtocol};
use crate::sim::world::World;
use crate::viz::NodeView;

impl LabProtocol for Flows {
    fn lab() -> &'static Lab {
        &super::LAB
    }

    fn client_service_floor(&self) -> Option<(&'static str, u64)> {
        Some((
            "processing time",
            self.proc_min_us / 2 + self.proc_max_us / 2,
        ))
    }

    fn properties(&self) -> Vec<crate::sim::Property<Self>> {
        super::properties::all(self)
    }

    fn node_view(&self, w: &World<Self>, id: u32) -> NodeView {
        if let Some(q) = &self.queue {
            return super::queue_view::node_view(q, w, id);
        }
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(q) = self.pubsub() {
            return super::pubsub_view::node_view(q, w, id);
        }
        let st = w.state(id);
        let busy = !st.in_service.is_empty();
        let mut lines = vec![
            format!("working on {} of {}", st.in_service.len(), self.workers),
            format!("{} waiting", st.queue.len()),
            format!("{} served", st.served),
        ];
        if self.mode == super::FlowsMode::Payment {
            let p = &st.payments;
            lines.push(format!("{} charged, {} twice", p.charges, p.charged_again));
        }
        NodeView {
            id,
            label: format!("S{id}"),
            role: if !w.is_up(id) {
                "crashed".into()
            } else if busy {
                "busy".into()
            } else {
                "idle".into()
            },
            role_class: if busy { 2 } else { 1 },
            lines,
            timer_fraction: None,
            up: w.is_up(id),
        }
    }

    fn metrics(&self, w: &World<Self>) -> Vec<crate::labs::Metric> {
        use crate::labs::Metric;
        if self.queue.is_some() {
            return super::queue_view::metrics(w);
        }
        #[cfg(not(target_arch = "wasm32"))]
        if self.pubsub().is_some() {
            return super::pubsub_view::metrics(w);
        }
        let servers = 0..w.n();
        let waiting: usize = servers.clone().map(|i| w.state(i).queue.len()).sum();
        let busy: usize = servers.map(|i| w.state(i).in_service.len()).sum();
        let mut m = vec![
            Metric::new(
                "requests_in_service",
                "requests being worked on",
                busy as f64,
            ),
            Metric::new(
                "requests_waiting",
                "requests waiting in queues",
                waiting as f64,
            ),
        ];
        m.extend(super::payment::metrics(w));
        m
    }

    fn panels(&self, w: &World<Self>) -> Vec<crate::viz::Panel> {
        if let Some(q) = &self.queue {
            return super::queue_view::panels(q, w);
        }
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(q) = self.pubsub() {
            return super::pubsub_view::panels(q, w);
        }
        super::payment::panels(w)
    }

    fn stage(
        &self,
        w: &World<Self>,
        ix: usize,
        area: &crate::labs::StageArea,
    ) -> Vec<crate::viz::scene::Shape> {
        match ix {
            #[cfg(not(target_arch = "wasm32"))]
            1 if self.pubsub().is_some() => super::pubsub_view::shapes(w, area),
            _ => super::queue_stage::shapes(w, area),
        }
    }

    fn stage_hit(
        &self,
        w: &World<Self>,
        ix: usize,
        area: &crate::labs::StageArea,
        p: crate::viz::scene::Pt,
    ) -> Option<u64> {
        match ix {
            #[cfg(not(target_arch = "wasm32"))]
            1 if self.pubsub().is_some() => super::pubsub_view::hit(w, area, p),
            _ => super::queue_stage::hit(w, area, p),
        }
    }

    fn item_view(&self, w: &World<Self>, item: u64) -> Option<crate::labs::ItemView> {
        super::queue_stage::item_view(w, item)
    }

    fn op_text(&self, op: &super::Op) -> String {
        format!("req {}", op.value)
    }
}
