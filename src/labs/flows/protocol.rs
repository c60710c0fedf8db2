//! Servers that answer requests after a processing delay.
//!
//! A request arrives; if a worker is free the server starts on it at once and arms a timer for
//! the processing time (a range the engine samples); otherwise it waits in a FIFO queue. When
//! the timer fires the server replies and takes the next request from the queue. Nothing is
//! durable: a crashed server forgets its queue, and the clients waiting on it time out.
//!
//! In the payment mode ([`super::payment`]) each request is a payment the server charges when
//! its processing is done, with an idempotency table that keeps retries from charging twice.
//!
//! With a queue configuration the same protocol runs producers, a broker and consumers instead
//! (`queue.rs`): one protocol type, so the engine is compiled once for both modes.

#[cfg(not(target_arch = "wasm32"))]
use super::pubsub::{PsRole, PubSubConfig, PubSubMsg, PubSubTimer};
use super::queue::{QueueConfig, QueueMsg, QueueTimer, Role};
use crate::sim::process::{ClientRequest, Ctx, MessageInfo, NodeId, Out, Protocol};
use crate::sim::rng::Rng;
use crate::sim::time::Duration;
use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flows {
    pub proc_min_us: u64,
    pub proc_max_us: u64,
    pub workers: u32,
    pub clients: u32,
    pub mode: FlowsMode,
    /// Payments: whether the server honours idempotency keys.
    pub idem: bool,
    /// Payments: how long a key's stored result is kept.
    pub ttl_s: u32,
    /// Queue mode (`None`: request and response).
    pub queue: Option<Box<QueueConfig>>,
    /// Publish/subscribe mode. The page does not offer it yet (its 13 KB would take the
    /// download over budget): the browser build leaves it out.
    #[cfg(not(target_arch = "wasm32"))]
    pub pubsub: Option<Box<PubSubConfig>>,
}

/// What the servers do with a request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlowsMode {
    /// Answer it: request and response.
    #[default]
    Rpc,
    /// Charge it as a payment ([`super::payment`]).
    Payment,
}

impl Flows {
    /// Today's request/response servers, with the payment settings at rest.
    pub fn rpc(proc_min_us: u64, proc_max_us: u64, workers: u32, clients: u32) -> Flows {
        Flows {
            proc_min_us,
            proc_max_us,
            workers,
            clients,
            mode: FlowsMode::Rpc,
            idem: true,
            ttl_s: 30,
            queue: None,
            #[cfg(not(target_arch = "wasm32"))]
            pubsub: None,
        }
    }
}

/// Servers do not talk to each other in request and response; queue mode's nodes do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FlowsMsg {
    Queue(QueueMsg),
    #[cfg(not(target_arch = "wasm32"))]
    PubSub(PubSubMsg),
}

/// The trace hashes what is sent: a queue message hashes as it did when it was the only
/// kind (so queue links keep their pinned hashes), a pub/sub message after a tag of its own.
impl std::hash::Hash for FlowsMsg {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        match self {
            FlowsMsg::Queue(m) => m.hash(h),
            #[cfg(not(target_arch = "wasm32"))]
            FlowsMsg::PubSub(m) => {
                h.write_u8(0x9b);
                m.hash(h);
            }
        }
    }
}

impl MessageInfo for FlowsMsg {
    fn kind(&self) -> &'static str {
        match self {
            FlowsMsg::Queue(m) => m.kind(),
            #[cfg(not(target_arch = "wasm32"))]
            FlowsMsg::PubSub(m) => m.kind(),
        }
    }
    fn summary(&self) -> String {
        match self {
            FlowsMsg::Queue(m) => m.summary(),
            #[cfg(not(target_arch = "wasm32"))]
            FlowsMsg::PubSub(m) => m.summary(),
        }
    }
}

/// A server's processing timer, or one of queue mode's.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlowsTimer {
    Work(Work),
    Queue(QueueTimer),
    #[cfg(not(target_arch = "wasm32"))]
    PubSub(PubSubTimer),
}

/// A request carries a number; the reply echoes it, so a mixed-up reply is detectable.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Op {
    pub value: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reply {
    pub value: u64,
}

/// The processing timer of one request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Work {
    pub client: u32,
    pub request_id: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerState {
    /// Requests being worked on.
    pub in_service: Vec<ClientRequest<Op>>,
    /// Requests waiting for a worker.
    pub queue: VecDeque<ClientRequest<Op>>,
    /// Replies sent since the last restart.
    pub served: u64,
    /// The payment database (payment mode).
    pub payments: super::payment::Payments,
    /// Queue mode: the node's part.
    pub role: Option<Role>,
    /// Publish/subscribe mode: the node's part.
    #[cfg(not(target_arch = "wasm32"))]
    pub pubsub: Option<PsRole>,
}

impl Flows {
    /// Whether this is publish/subscribe mode (never in the page, which leaves it out).
    pub fn is_pubsub(&self) -> bool {
        #[cfg(not(target_arch = "wasm32"))]
        return self.pubsub.is_some();
        #[cfg(target_arch = "wasm32")]
        false
    }

    /// Publish/subscribe mode's configuration.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn pubsub(&self) -> Option<&PubSubConfig> {
        self.pubsub.as_deref()
    }

    fn start_work(&self, st: &mut ServerState, req: ClientRequest<Op>, out: &mut Out<Self>) {
        let timer = Work {
            client: req.client,
            request_id: req.request_id,
        };
        out.set_timer(
            FlowsTimer::Work(timer),
            Duration(self.proc_min_us),
            Duration(self.proc_max_us),
        );
        st.in_service.push(req);
    }
}

impl Protocol for Flows {
    type Msg = FlowsMsg;
    type Timer = FlowsTimer;
    type State = ServerState;
    type Op = Op;
    type Reply = Reply;

    fn init(&self, id: NodeId, _n: u32) -> ServerState {
        ServerState {
            role: self.queue.as_ref().map(|q| q.init(id)),
            #[cfg(not(target_arch = "wasm32"))]
            pubsub: self.pubsub().map(|q| q.init(id)),
            ..ServerState::default()
        }
    }

    fn on_start(&self, st: &mut ServerState, ctx: &Ctx, out: &mut Out<Self>) {
        if let (Some(q), Some(r)) = (&self.queue, &mut st.role) {
            q.on_start(r, ctx, out);
        }
        #[cfg(not(target_arch = "wasm32"))]
        if let (Some(q), Some(r)) = (self.pubsub(), &mut st.pubsub) {
            q.on_start(r, ctx, out);
        }
    }

    fn on_message(
        &self,
        st: &mut ServerState,
        ctx: &Ctx,
        from: NodeId,
        msg: FlowsMsg,
        out: &mut Out<Self>,
    ) {
        match msg {
            FlowsMsg::Queue(m) => {
                if let (Some(q), Some(r)) = (&self.queue, &mut st.role) {
                    q.on_message(r, ctx, from, m, out);
                }
            }
            #[cfg(not(target_arch = "wasm32"))]
            FlowsMsg::PubSub(m) => {
                if let (Some(q), Some(r)) = (self.pubsub(), &mut st.pubsub) {
                    q.on_message(r, ctx, from, m, out);
                }
            }
        }
    }

    fn on_timer(&self, st: &mut ServerState, ctx: &Ctx, timer: FlowsTimer, out: &mut Out<Self>) {
        let timer = match timer {
            FlowsTimer::Work(w) => w,
            FlowsTimer::Queue(t) => {
                if let (Some(q), Some(r)) = (&self.queue, &mut st.role) {
                    q.on_timer(r, ctx, t, out);
                }
                return;
            }
            #[cfg(not(target_arch = "wasm32"))]
            FlowsTimer::PubSub(t) => {
                if let (Some(q), Some(r)) = (self.pubsub(), &mut st.pubsub) {
                    q.on_timer(r, ctx, t, out);
                }
                return;
            }
        };
        let Some(i) = st
            .in_service
            .iter()
            .position(|r| r.client == timer.client && r.request_id == timer.request_id)
        else {
            return;
        };
        let req = st.in_service.remove(i);
        if self.mode == FlowsMode::Payment {
            self.charge(st, ctx, &req);
        }
        out.reply(
            &req,
            Reply {
                value: req.op.value,
            },
        );
        st.served += 1;
        if let Some(next) = st.queue.pop_front() {
            self.start_work(st, next, out);
        }
    }

    fn on_client(
        &self,
        st: &mut ServerState,
        ctx: &Ctx,
        req: ClientRequest<Op>,
        out: &mut Out<Self>,
    ) {
        if self.mode == FlowsMode::Payment && !self.admit_payment(st, ctx, &req, out) {
            return;
        }
        if (st.in_service.len() as u32) < self.workers {
            self.start_work(st, req, out);
        } else {
            st.queue.push_back(req);
        }
    }

    fn next_op(&self, client: u32, seq: u64, _rng: &mut Rng) -> Option<Op> {
        Some(Op {
            value: (client as u64) << 32 | (seq & 0xffff_ffff),
        })
    }

    fn parse_op(&self, text: &str) -> Result<Op, String> {
        let v = text
            .trim()
            .strip_prefix("req")
            .map(str::trim)
            .unwrap_or(text.trim());
        v.parse().map(|value| Op { value }).map_err(|_| {
            format!(
                "a flows operation is 'req N' with a whole number N, not '{}'",
                text.chars().take(40).collect::<String>()
            )
        })
    }

    /// Payments: a client keeps to its server, whose table knows its keys.
    fn client_node(&self, client: u32, after_timeout: Option<NodeId>, n: u32) -> NodeId {
        match (self.mode, after_timeout) {
            (FlowsMode::Payment, _) | (_, None) => client % n.max(1),
            (_, Some(node)) => (node + 1) % n.max(1),
        }
    }

    fn recover(&self, id: NodeId, n: u32, crashed: &ServerState) -> ServerState {
        if let (Some(q), Some(r)) = (&self.queue, &crashed.role) {
            return ServerState {
                role: Some(q.recover(r)),
                ..ServerState::default()
            };
        }
        #[cfg(not(target_arch = "wasm32"))]
        if let (Some(q), Some(r)) = (self.pubsub(), &crashed.pubsub) {
            return ServerState {
                pubsub: Some(q.recover(r)),
                ..ServerState::default()
            };
        }
        let mut st = self.init(id, n);
        if self.mode == FlowsMode::Payment {
            st.payments = self.recover_payments(crashed);
        }
        st
    }

    fn timer_name(&self, timer: &FlowsTimer) -> &'static str {
        match timer {
            FlowsTimer::Work(_) => "processing done",
            FlowsTimer::Queue(t) => t.name(),
            #[cfg(not(target_arch = "wasm32"))]
            FlowsTimer::PubSub(t) => t.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::process::Effect;
    use crate::sim::time::Instant;

    fn req(client: u32, id: u64) -> ClientRequest<Op> {
        ClientRequest {
            client,
            request_id: id,
            key: id,
            op: Op { value: id * 10 },
        }
    }

    // A free worker starts at once: exactly one timer over the processing range.
    #[test]
    fn a_request_with_a_free_worker_arms_one_processing_timer() {
        let p = Flows::rpc(5, 20, 1, 1);
        let mut st = p.init(0, 1);
        let ctx = Ctx {
            id: 0,
            n: 1,
            now: Instant(0),
        };
        let mut out = Out::default();
        p.on_client(&mut st, &ctx, req(1, 7), &mut out);
        assert_eq!(
            out.effects,
            vec![Effect::SetTimer {
                timer: FlowsTimer::Work(Work {
                    client: 1,
                    request_id: 7
                }),
                min: Duration(5),
                max: Duration(20)
            }]
        );
    }

    // With every worker busy the request waits, and starts when one finishes.
    #[test]
    fn a_busy_server_queues_and_serves_in_order() {
        let p = Flows::rpc(5, 5, 1, 2);
        let mut st = p.init(0, 1);
        let ctx = Ctx {
            id: 0,
            n: 1,
            now: Instant(0),
        };
        let mut out = Out::default();
        p.on_client(&mut st, &ctx, req(1, 1), &mut out);
        p.on_client(&mut st, &ctx, req(2, 2), &mut out);
        assert_eq!(st.queue.len(), 1);
        out.effects.clear();
        p.on_timer(
            &mut st,
            &ctx,
            FlowsTimer::Work(Work {
                client: 1,
                request_id: 1,
            }),
            &mut out,
        );
        assert_eq!(
            out.effects,
            vec![
                Effect::Reply {
                    client: 1,
                    request_id: 1,
                    reply: Reply { value: 10 }
                },
                Effect::SetTimer {
                    timer: FlowsTimer::Work(Work {
                        client: 2,
                        request_id: 2
                    }),
                    min: Duration(5),
                    max: Duration(5)
                },
            ]
        );
        assert!(st.queue.is_empty());
    }
}
