//! The resilience lab's guided lessons ([`crate::labs::lesson`]), over its presets.

use crate::labs::lesson::{Ask, Highlight, Lesson, Step, Then, Until};

const DEAD_BACKEND: &str =
    "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&s=2s:crash:1;6s:restart:1";
const BREAKERS: &str = "#/resilience?n=3&seed=1&lat=1..2ms&loss=0%&dup=0%&health=0&breaker=1&s=2s:do:fail@1;2s:do:fail@2;2s:do:fail@3;6s:do:heal@1;6s:do:heal@2;6s:do:heal@3";

pub static LESSONS: &[Lesson] = &[
    Lesson {
        id: "retry-storm",
        title: "A retry storm outlives its outage",
        description: "Clients that retry at once, without a budget, keep a service down after the outage that started it",
        link: super::RETRY_STORM,
        length_us: 12_000_000,
        steps: &[
            Step {
                caption: "64 clients send 100 requests a second through the LB to two backends that can serve 200. A client that hears nothing within 100 ms retries 1 ms later, up to ten times, with no budget.",
                highlight: Highlight::Panel("The last second"),
                then: Then::Play(Until::Event { what: "crash", text: "" }),
            },
            Step {
                caption: "Both backends are down from 2 s to 4 s. Every request times out, and every client retries, again and again.",
                highlight: Highlight::Nodes(&[1, 2]),
                then: Then::Ask(Ask {
                    question: "The backends come back at 4 s. Will goodput return to 100 a second?",
                    choices: &["Yes, once they are up", "No: it stays near zero"],
                    answer: 1,
                    shows: "The retries offer several times what the backends can serve; their queues fill with requests whose clients have already given up, so every answer comes too late and is retried again: a metastable failure. Open the preset with full jitter and a 10% budget to see it recover.",
                    reveal: Until::At(9_000_000),
                }),
            },
        ],
    },
    Lesson {
        id: "health-checks",
        title: "Health checks take a dead backend out",
        description: "The LB probes its backends; a crashed one leaves the pool, and rejoins when it is back",
        link: DEAD_BACKEND,
        length_us: 10_000_000,
        steps: &[
            Step {
                caption: "The LB probes each backend every 200 ms; two failed probes in a row take one out of the pool. B1 will crash at 2 s.",
                highlight: Highlight::Kind("probe"),
                then: Then::Play(Until::Event { what: "crash", text: "" }),
            },
            Step {
                caption: "B1 is down. Requests the LB sends it are lost until the LB notices.",
                highlight: Highlight::Nodes(&[1]),
                then: Then::Ask(Ask {
                    question: "Will the LB keep sending a third of the requests to B1?",
                    choices: &["Yes, round robin goes on", "No, after two failed probes B1 leaves the pool"],
                    answer: 1,
                    shows: "Within about half a second B1 leaves the pool and the other two take every request. Without health checks (health=0) a third of them would keep timing out.",
                    reveal: Until::Event { what: "note", text: "leaves the pool" },
                }),
            },
            Step {
                caption: "B1 restarts at 6 s; two good probes in a row bring it back.",
                highlight: Highlight::Nodes(&[1]),
                then: Then::Play(Until::Event { what: "note", text: "rejoins the pool" }),
            },
        ],
    },
    Lesson {
        id: "liveness",
        title: "Readiness takes a hung backend out, liveness restarts it",
        description: "Two probes with two jobs: one decides whether a backend gets traffic, the other whether its process must be restarted",
        link: super::HUNG_LIVENESS,
        length_us: 8_000_000,
        steps: &[
            Step {
                caption: "The LB probes each backend's readiness every 200 ms (may it take traffic?) and its liveness every 500 ms (does its process answer at all?). B1 will hang at 2 s: up, but answering nothing.",
                highlight: Highlight::Kind("liveness probe"),
                then: Then::Play(Until::Event { what: "note", text: "hang" }),
            },
            Step {
                caption: "B1 is hung: requests and probes sent to it go unanswered.",
                highlight: Highlight::Nodes(&[1]),
                then: Then::Ask(Ask {
                    question: "Which probe takes B1 out of the pool?",
                    choices: &["The liveness probe, when it restarts B1", "The readiness probe, after two failures; liveness only restarts it"],
                    answer: 1,
                    shows: "Two failed readiness probes take B1 out of the pool within half a second; liveness, slower and more patient, restarts it after three failures.",
                    reveal: Until::Event { what: "note", text: "liveness probes: restart" },
                }),
            },
            Step {
                caption: "A second after its restart B1 is up again, with an empty queue; two good readiness probes bring it back into the pool. Without liveness probes it would stay out, hung, for good.",
                highlight: Highlight::Nodes(&[1]),
                then: Then::Play(Until::Event { what: "note", text: "rejoins the pool" }),
            },
        ],
    },
    Lesson {
        id: "circuit-breaker",
        title: "A circuit breaker sheds load at once",
        description: "Each client's breaker opens on failures in a row, fails its requests at once, and probes until the service heals",
        link: BREAKERS,
        length_us: 10_000_000,
        steps: &[
            Step {
                caption: "From 2 s every backend fails half its requests. Each client's breaker opens after 5 failures in a row.",
                highlight: Highlight::Panel("Circuit breakers"),
                then: Then::Play(Until::At(2_000_000)),
            },
            Step {
                caption: "Failures start to come back to the clients.",
                highlight: Highlight::Panel("Circuit breakers"),
                then: Then::Ask(Ask {
                    question: "What happens to a client's requests while its breaker is open?",
                    choices: &["They still go to the backends", "They fail at once, sending nothing, until the cool-down ends"],
                    answer: 1,
                    shows: "An open breaker answers at once with an error; after its 1 s cool-down it lets one probe through, and closes only if it succeeds.",
                    reveal: Until::Metric { key: "breakers_open", above: true, value: 1.0 },
                }),
            },
            Step {
                caption: "At 6 s the backends heal: the half-open breakers' probes succeed and they close.",
                highlight: Highlight::None,
                then: Then::Play(Until::At(8_000_000)),
            },
        ],
    },
];
