//! The flows lab's guided lessons ([`crate::labs::lesson`]), over its presets.

use crate::labs::lesson::{metric, Ask, Highlight, Lesson, Step, Then, Until};
use crate::labs::Sim;

fn all_once(sim: &dyn Sim) -> bool {
    metric(sim, "messages_processed").is_some_and(|p| p >= 30.0)
        && metric(sim, "duplicate_effects") == Some(0.0)
}

#[cfg(not(target_arch = "wasm32"))]
fn group_a_caught_up(sim: &dyn Sim) -> bool {
    metric(sim, "group_a_consumed").is_some_and(|c| c >= 80.0)
        && metric(sim, "group_a_lag") == Some(0.0)
}

pub static LESSONS: &[Lesson] = &[
    #[cfg(not(target_arch = "wasm32"))]
    Lesson {
        id: "consumer-groups",
        title: "Consumer groups and rebalancing",
        description: "A group shares a topic's partitions; when a consumer crashes its partitions move to the others, who resume from its committed offsets",
        link: super::PUBSUB_REBALANCE.link,
        length_us: 20_000_000,
        steps: &[
            Step {
                caption: "P0 publishes keyed messages; the broker appends each to one of 4 partitions, a log with offsets. Groups A and B each read every message; within a group each partition has one owner, which commits the offset it has reached with its heartbeats.",
                highlight: Highlight::Panel("topic"),
                then: Then::Play(Until::Event { what: "crash", text: "" }),
            },
            Step {
                caption: "A1 crashed with partitions of its own and records it had processed but not yet committed.",
                highlight: Highlight::None,
                then: Then::Ask(Ask {
                    question: "What becomes of A1's partitions?",
                    choices: &["They wait for A1 to come back", "The broker gives them to A0 and A2 once A1 misses its heartbeats"],
                    answer: 1,
                    shows: "A rebalance timeout without a heartbeat and the broker declares A1 gone: A0 and A2 take its partitions and group A's lag drains. Group B never noticed.",
                    reveal: Until::Event { what: "note", text: "left the group" },
                }),
            },
            Step {
                caption: "The new owners start from the offsets A1 last committed, not from where A1 got to.",
                highlight: Highlight::Panel("topic"),
                then: Then::Ask(Ask {
                    question: "Will some messages be processed twice?",
                    choices: &["No, each offset is read once", "Yes, those A1 processed after its last commit"],
                    answer: 1,
                    shows: "Offsets committed after processing make a consumer group at-least-once: what was processed and not committed is processed again after a rebalance, in the same order.",
                    reveal: Until::Metric { key: "redeliveries", above: true, value: 1.0 },
                }),
            },
            Step {
                caption: "A1 restarts at 6 s and joins again: partitions are revoked from A0 and A2 before A1 gets them, so no partition ever has two readers in one group.",
                highlight: Highlight::Panel("topic"),
                then: Then::Play(Until::Cond { name: "group A has consumed everything", holds: group_a_caught_up }),
            },
        ],
    },
    Lesson {
        id: "effectively-once",
        title: "Exactly-once is a lie, effectively-once is not",
        description: "Messages are delivered more than once; recording what was processed makes each effect happen once",
        link: "#/flows?n=1&seed=1&lat=20..80ms&loss=10%&dup=0%&mode=queue&semantics=exactly-once&messages=30&s=2s:crash:2;3s:restart:2;4s:crash:0;4.5s:restart:0&view=queue",
        length_us: 20_000_000,
        steps: &[
            Step {
                caption: "Producer P0 sends 30 messages through broker B to consumer C0, over a network that loses 10% of messages. B redelivers anything not acknowledged.",
                highlight: Highlight::Panel("queue"),
                then: Then::Play(Until::Event { what: "crash", text: "" }),
            },
            Step {
                caption: "The consumer C0 crashed at 2 s; the broker will crash at 4 s.",
                highlight: Highlight::None,
                then: Then::Ask(Ask {
                    question: "Can the network and the crashes make B deliver some message to C0 twice?",
                    choices: &["No, the queue is exactly-once", "Yes, delivery is at least once"],
                    answer: 1,
                    shows: "A lost acknowledgement looks like a lost delivery, so B delivers again: no protocol can promise exactly-once delivery over a network that loses messages.",
                    reveal: Until::Metric { key: "duplicate_deliveries", above: true, value: 1.0 },
                }),
            },
            Step {
                caption: "C0 records each processed message's id in the same transaction as its effect.",
                highlight: Highlight::Panel("queue"),
                then: Then::Ask(Ask {
                    question: "Will any effect be applied twice?",
                    choices: &["Yes, for every duplicate delivery", "No: a redelivered id is recognised and skipped"],
                    answer: 1,
                    shows: "All 30 messages are processed and no effect happens twice: delivery at least once plus an idempotent consumer is effectively once.",
                    reveal: Until::Cond { name: "every message processed, no effect twice", holds: all_once },
                }),
            },
        ],
    },
    Lesson {
        id: "retry-charges-twice",
        title: "A retry charges twice",
        description: "Retrying a payment whose answer was lost charges it again, unless requests carry idempotency keys",
        link: "#/flows?n=1&seed=4&lat=20..80ms&loss=20%&dup=0%&retry=exponential&attempts=4&proc=20..200ms&timeout=300ms&mode=payment&idem=0",
        length_us: 20_000_000,
        steps: &[
            Step {
                caption: "Clients send payments to a server over a network that loses 20% of messages. A client that hears nothing within 300 ms sends the payment again.",
                highlight: Highlight::None,
                then: Then::Ask(Ask {
                    question: "The client cannot tell a lost request from a lost answer. Will any payment be charged twice?",
                    choices: &["No, the server only charges what it receives", "Yes, when the answer was lost"],
                    answer: 1,
                    shows: "The server charged the payment, its answer was lost, the client retried, and the server charged it again. With idem=1 the server answers the retry from its table of keys instead (the preset \"Payments with idempotency keys\").",
                    reveal: Until::Metric { key: "payments_charged_twice", above: true, value: 1.0 },
                }),
            },
        ],
    },
    Lesson {
        id: "at-most-once",
        title: "At most once loses messages",
        description: "A consumer that acknowledges before it processes loses whatever the network drops",
        link: "#/flows?n=1&seed=1&lat=20..80ms&loss=10%&dup=0%&mode=queue&semantics=at-most-once&messages=30&view=queue",
        length_us: 20_000_000,
        steps: &[
            Step {
                caption: "The broker delivers each message once and never again; the consumer acknowledges before processing. 10% of messages are lost.",
                highlight: Highlight::Panel("queue"),
                then: Then::Ask(Ask {
                    question: "Will all 30 messages be processed?",
                    choices: &["Yes", "No: a lost delivery is a lost message"],
                    answer: 1,
                    shows: "Nothing is ever applied twice, but a message whose delivery was lost is gone: at most once trades loss for no duplicates.",
                    reveal: Until::Metric { key: "messages_lost", above: true, value: 1.0 },
                }),
            },
        ],
    },
];
