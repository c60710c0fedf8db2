//! The partitioning lab's guided lessons ([`crate::labs::lesson`]), over its presets.

use crate::labs::lesson::{metric, Ask, Highlight, Lesson, Step, Then, Until};
use crate::labs::Sim;

/// Reads per server, most over mean, once a second or more of reads has been counted.
fn busiest(sim: &dyn Sim, from_us: u64) -> Option<f64> {
    (sim.now().0 >= from_us).then(|| metric(sim, "reads_max_over_mean"))?
}

fn hot(sim: &dyn Sim) -> bool {
    busiest(sim, 1_000_000).is_some_and(|m| m >= 3.0)
}

fn evened(sim: &dyn Sim) -> bool {
    busiest(sim, 3_500_000).is_some_and(|m| m <= 2.0)
}

pub static LESSONS: &[Lesson] = &[
    Lesson {
        id: "mod-n",
        title: "Why not hash mod N?",
        description: "One server joins ten: under mod-N nearly every key moves, on a ring about one in eleven",
        link: "#/ring?n=10&seed=1&lat=20..80ms&loss=0%&dup=0%&algo=ring&vnodes=100&spares=1&compare=1&s=1s:do:add&view=ring",
        length_us: 3_000_000,
        steps: &[
            Step {
                caption: "Ten servers share the keys. The simplest placement puts key k on server hash(k) mod 10; this ring places them by consistent hashing instead, and the lab computes mod-N on the same keys beside it.",
                highlight: Highlight::Panel("ring"),
                then: Then::Play(Until::At(500_000)),
            },
            Step {
                caption: "At 1 s an eleventh server joins.",
                highlight: Highlight::None,
                then: Then::Ask(Ask {
                    question: "Under hash mod N, going from 10 to 11 servers, how many keys change server?",
                    choices: &["About 1 in 11, all to the newcomer", "Nearly all of them", "None"],
                    answer: 1,
                    shows: "hash mod 10 and hash mod 11 agree for only about one key in eleven, so about 10 keys in 11 move, most between old servers that did not change at all.",
                    reveal: Until::Metric { key: "moved_fraction_mod_n", above: true, value: 0.8 },
                }),
            },
            Step {
                caption: "On the ring the newcomer takes over a few arcs: only the keys on them move, all to it, close to the ideal 1/11. That is why stores such as Dynamo and Cassandra place keys on a ring.",
                highlight: Highlight::Panel("ring"),
                then: Then::Play(Until::Metric { key: "moved_fraction", above: false, value: 0.15 }),
            },
        ],
    },
    Lesson {
        id: "virtual-nodes",
        title: "Virtual nodes",
        description: "With one point per server the arcs differ wildly; many points per server even them out",
        link: "#/ring?n=8&seed=1&lat=20..80ms&loss=0%&dup=0%&vnodes=1&keys=10000&view=ring",
        length_us: 2_000_000,
        steps: &[
            Step {
                caption: "Eight servers, each at one point on the ring; each owns the arc up to its point, and 10,000 keys fall on the arcs.",
                highlight: Highlight::Panel("ring"),
                then: Then::Ask(Ask {
                    question: "How much does the busiest server hold, compared with the mean?",
                    choices: &["About the mean, within 10%", "Half as much again or more"],
                    answer: 1,
                    shows: "Random points leave arcs of very different lengths: the busiest server holds at least 1.5 times the mean (the Figures card's keys max over mean).",
                    reveal: Until::Metric { key: "keys_max_over_mean", above: true, value: 1.5 },
                }),
            },
            Step {
                caption: "The fix is virtual nodes: give each server many points (vnodes=100 in the preset \"Virtual nodes even out the load\"). Each server's share is then the sum of many small arcs, close to one eighth.",
                highlight: Highlight::None,
                then: Then::Play(Until::At(1_000_000)),
            },
        ],
    },
    Lesson {
        id: "hot-key",
        title: "A hot key",
        description: "A popular key overloads its server however well the keys are spread; salting splits it",
        link: "#/ring?n=8&seed=1&lat=5..15ms&loss=0%&dup=0%&vnodes=100&dist=zipf:1.5&clients=8&think=20ms&s=3s:do:salt&view=ring",
        length_us: 6_000_000,
        steps: &[
            Step {
                caption: "The keys are evenly spread over eight servers, but the reads are not: with Zipf popularity, k0 is read far more than any other key.",
                highlight: Highlight::Kind("read"),
                then: Then::Ask(Ask {
                    question: "Does the server holding k0 serve about its eighth of the reads?",
                    choices: &["Yes, virtual nodes even out the load", "No, it serves three times the mean or more"],
                    answer: 1,
                    shows: "Virtual nodes even out keys, not requests: every read of k0 goes to the one server that owns it.",
                    reveal: Until::Cond { name: "the busiest server serves three times the mean or more", holds: hot },
                }),
            },
            Step {
                caption: "At 3 s k0 is salted: its reads are spread over eight sub-keys that the ring places apart.",
                highlight: Highlight::None,
                then: Then::Play(Until::Event { what: "command", text: "salt" }),
            },
            Step {
                caption: "The hot server's share falls towards the others'. The price: a write to k0 must now reach every sub-key.",
                highlight: Highlight::Kind("read"),
                then: Then::Play(Until::Cond { name: "half a second after salting, the busiest serves under twice the mean", holds: evened }),
            },
        ],
    },
];
