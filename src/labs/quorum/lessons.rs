//! The replication lab's guided lessons ([`crate::labs::lesson`]), over its presets.

use crate::labs::lesson::{metric, Ask, Highlight, Lesson, Step, Then, Until};
use crate::labs::Sim;

fn not_linearizable(sim: &dyn Sim) -> bool {
    metric(sim, "linearizable") == Some(0.0)
}

fn linearizable_after_heal(sim: &dyn Sim) -> bool {
    sim.now().0 >= 6_500_000 && metric(sim, "linearizable") == Some(1.0)
}

const PARTITION: &str = "#/quorum?n=5&seed=4&lat=10..40ms&loss=0%&dup=0%&clients=4&writeback=1&s=1s:part:0.1.5.6/2.3.4.7.8;6s:heal";

pub static LESSONS: &[Lesson] = &[
    Lesson {
        id: "overlap-not-enough",
        title: "W + R > N is not enough",
        description: "Every read quorum meets every write quorum, and a later read still sees less than an earlier one",
        link: "#/quorum?n=4&seed=1&lat=10ms&loss=0%&dup=0%&clients=3&think=1h&timeout=2s&s=0s:set:0>3:lat=500ms;0s:set:0>2:lat=500ms;0s:set:2>1:lat=100ms;1ms:op:0@0:put%20k0%207;20ms:op:1@1:get%20k0;100ms:op:2@2:get%20k0",
        length_us: 3_000_000,
        steps: &[
            Step {
                caption: "Three replicas hold k0 (S1, S2, S3); a write waits for W = 2 of them and a read asks R = 2. Since 2 + 2 > 3, every read quorum shares a replica with every write quorum. C0 writes k0 = 7 through S0, whose messages to S2 and S3 are slow.",
                highlight: Highlight::Nodes(&[0]),
                then: Then::Play(Until::Event { what: "complete", text: "" }),
            },
            Step {
                caption: "C1 read k0 through S1, which already has 7, and got 7. At 100 ms C2 reads k0 through S2.",
                highlight: Highlight::Nodes(&[2]),
                then: Then::Ask(Ask {
                    question: "C2 reads after C1 was told 7. With W + R > N, must C2 see 7 too?",
                    choices: &["Yes, the quorums overlap", "No, it can still miss it"],
                    answer: 1,
                    shows: "The write is still in flight: it has reached only S1, so it is not yet on W replicas. C2's quorum (S2, S3) has not got it and reads nothing: a later read saw less than an earlier one, and the checker finds the history not linearizable. Overlap only helps for writes that have completed; the fix is for reads to write back what they return (the preset \"Write-back makes reads linearizable\").",
                    reveal: Until::Cond { name: "the history is not linearizable", holds: not_linearizable },
                }),
            },
        ],
    },
    Lesson {
        id: "partition-forces",
        title: "What a partition forces",
        description: "Cut off from a quorum, a strict quorum store refuses operations to stay consistent",
        link: PARTITION,
        length_us: 8_000_000,
        steps: &[
            Step {
                caption: "Five replicas, four clients, strict quorums with write-back: every operation succeeds.",
                highlight: Highlight::None,
                then: Then::Play(Until::Event { what: "command", text: "part" }),
            },
            Step {
                caption: "At 1 s S0 and S1, with clients C0 and C1, are cut off from S2, S3 and S4.",
                highlight: Highlight::Nodes(&[0, 1]),
                then: Then::Ask(Ask {
                    question: "The clients on the small side keep going. What happens to their operations?",
                    choices: &[
                        "They succeed on the replicas they can reach",
                        "Those that cannot reach W or R replicas fail",
                    ],
                    answer: 1,
                    shows: "A side that cannot gather a quorum has to choose: answer and risk disagreeing, or refuse. A strict quorum refuses, so availability falls below 100%.",
                    reveal: Until::Metric { key: "ops_ok_fraction", above: false, value: 0.99 },
                }),
            },
            Step {
                caption: "What it bought: after the heal at 6 s the history is still linearizable. The preset \"Partition, sloppy quorum\" makes the other choice.",
                highlight: Highlight::Panel("Consistency so far"),
                then: Then::Play(Until::Cond { name: "linearizable after the heal", holds: linearizable_after_heal }),
            },
        ],
    },
    Lesson {
        id: "one-is-not-a-quorum",
        title: "One replica is not a quorum",
        description: "With R = W = 1 a slow link is enough for reads to miss acknowledged writes",
        link: "#/quorum?n=3&seed=2&lat=5..30ms&loss=0%&dup=0%&r=1&w=1&clients=2&s=0s:set:0>1:lat=400ms",
        length_us: 5_000_000,
        steps: &[
            Step {
                caption: "Three replicas; each write waits for one acknowledgement and each read for one reply. S0's messages to S1 take 400 ms.",
                highlight: Highlight::Nodes(&[0, 1]),
                then: Then::Ask(Ask {
                    question: "S0 acknowledges its clients' writes at once. Will every read see the writes acknowledged before it?",
                    choices: &["Yes", "No: S1 answers reads with the old value"],
                    answer: 1,
                    shows: "A read answered by S1 alone misses what S0 acknowledged: the Consistency panel flags the stale read with the value it missed.",
                    reveal: Until::Metric { key: "reads_stale", above: true, value: 1.0 },
                }),
            },
        ],
    },
];
