//! The Raft paper's election experiment (section 9.3, Figure 16) against the paper's numbers.
//!
//! The reference data comes from `DSPLAY_REFDATA` (default `../shared/refdata` next to the
//! crate); without it the comparison test says so and passes without comparing.

use dsplay::labs::raft::experiment::{
    election_experiment, reference, run_trial, ClusterModel, ElectionExperiment, ElectionParams,
};

fn params(min: u64, max: u64, trials: u32) -> ElectionParams {
    ElectionParams {
        nodes: 5,
        timeout_min_ms: min,
        timeout_max_ms: max,
        trials,
        seed: 1,
    }
}

// Section 9.3: with enough randomness in the timeouts, and at every scale, our Raft detects and
// replaces a crashed leader as fast as the paper's LogCabin: median and 90th percentile within
// 20% of Figure 16 for each range the paper recommends or scales.
#[test]
fn raft_election_times_match_figure_16_within_20_percent() {
    let rows = match reference::fig16_summary() {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!(
                "SKIPPED: {e}; set DSPLAY_REFDATA to the refdata folder to compare with the paper"
            );
            return;
        }
    };
    let ranges = [
        (150, 175),
        (150, 200),
        (150, 300),
        (12, 24),
        (25, 50),
        (50, 100),
        (100, 200),
    ];
    let mut report = Vec::new();
    let mut bad = Vec::new();
    for (min, max) in ranges {
        let paper = rows
            .iter()
            .find(|r| (r.timeout_min_ms, r.timeout_max_ms) == (min, max))
            .unwrap_or_else(|| panic!("no paper row for {min}-{max} ms"));
        let ours = election_experiment(&params(min, max, 500));
        for (what, o, p) in [
            ("median", ours.p50_ms, paper.p50_ms),
            ("p90", ours.p90_ms, paper.p90_ms),
        ] {
            let err = o / p - 1.0;
            report.push(format!(
                "{min}-{max} ms {what}: ours {o:.1}, paper {p:.1} ({:+.0}%)",
                err * 100.0
            ));
            if err.abs() > 0.20 {
                bad.push(report.last().cloned().unwrap_or_default());
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(
        bad.is_empty(),
        "more than 20% from the paper:\n{}",
        bad.join("\n")
    );
}

// Section 9.3: "In the absence of randomness, leader election consistently took longer than 10
// seconds in our tests due to many split votes." With 150-150 ms timeouts elections take
// seconds here too.
#[test]
fn raft_election_without_randomness_takes_seconds_of_split_votes() {
    let r = election_experiment(&params(150, 150, 12));
    assert!(r.p50_ms > 2_000.0, "median {:.0} ms", r.p50_ms);
    assert!(r.mean_ms > 5_000.0, "mean {:.0} ms", r.mean_ms);
    let randomised = election_experiment(&params(150, 300, 12));
    assert!(r.p50_ms > 10.0 * randomised.p50_ms);
}

// The worst case of the paper: logs of different lengths, so only the followers holding the
// extra entry can win; and the time without a leader is at least half the minimum timeout
// minus nothing (the crash came at most one heartbeat interval after the last heartbeat).
#[test]
fn raft_election_trials_are_real_runs_where_only_up_to_date_servers_win() {
    let p = params(150, 300, 50);
    for t in 0..50 {
        let o = run_trial(&p, &ClusterModel::PAPER, t);
        assert!(o.converged);
        assert!(
            [1, 2].contains(&o.new_leader),
            "trial {t}: S{} won without the longest log",
            o.new_leader
        );
        assert!(o.term >= 3);
        assert!(o.crash_us < 75_000);
        assert!(
            o.time_without_leader_us >= 75_000,
            "trial {t}: {} us",
            o.time_without_leader_us
        );
    }
}

// Deterministic from the seed, and the chunked form gives exactly the one-shot result.
#[test]
fn raft_election_experiment_is_deterministic_and_chunkable() {
    let p = params(150, 200, 40);
    let whole = election_experiment(&p);
    assert_eq!(whole, election_experiment(&p));
    let mut e = ElectionExperiment::new(p.clone());
    let mut chunks = 0;
    while !e.is_finished() {
        assert!(e.run_trials(7) > 0);
        chunks += 1;
    }
    assert_eq!((chunks, e.progress()), (6, (40, 40)));
    assert_eq!(e.result(), whole);
    let other = election_experiment(&ElectionParams { seed: 2, ..p });
    assert_ne!(other.samples_ms, whole.samples_ms);
}

// The command line prints these keys with --json.
#[test]
fn raft_election_result_serialises_with_the_documented_keys() {
    let r = election_experiment(&params(150, 300, 3));
    let v = serde_json::to_value(&r).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "trials",
        "mean_ms",
        "p50_ms",
        "p90_ms",
        "p99_ms",
        "max_ms",
        "samples_ms",
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    assert_eq!(r.trials, 3);
    assert!(params(150, 300, 3).validate().is_ok());
    assert!(params(300, 150, 3).validate().is_err());
    assert!(ElectionParams {
        nodes: 2,
        ..params(150, 300, 3)
    }
    .validate()
    .is_err());
}

// The excerpt the browser draws from must be exactly the reference file's numbers.
#[test]
fn the_browsers_paper_excerpt_matches_the_reference_data() {
    let Ok(rows) = dsplay::labs::raft::experiment::reference::fig16_summary() else {
        println!("reference data not found: skipping the excerpt comparison");
        return;
    };
    let mut compared = 0;
    for r in &rows {
        let Some(p) = dsplay::labs::raft::paper::fig16(r.timeout_min_ms, r.timeout_max_ms) else {
            panic!(
                "the excerpt lacks {}..{} ms",
                r.timeout_min_ms, r.timeout_max_ms
            );
        };
        assert_eq!(
            p.quantiles[3].1, r.p50_ms,
            "median {}..{}",
            r.timeout_min_ms, r.timeout_max_ms
        );
        assert_eq!(
            p.quantiles[5].1, r.p90_ms,
            "p90 {}..{}",
            r.timeout_min_ms, r.timeout_max_ms
        );
        assert_eq!(p.mean_ms, r.mean_ms);
        assert_eq!(p.quantiles[6].1, r.p99_ms);
        assert_eq!(p.quantiles[8].1, r.max_ms);
        assert_eq!(p.quantiles[0].1, r.min_ms);
        compared += 1;
    }
    assert!(compared >= 10);
}
