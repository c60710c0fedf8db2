//! The `dsplay` command line: output shapes and the handling of bad input.

use std::process::Command;

fn dsplay(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_dsplay"))
        .args(args)
        .output()
        .expect("run dsplay");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// `run --json` prints the documented keys, and the hash is the pinned one.
#[test]
fn run_json_has_the_documented_keys() {
    let (code, out, err) = dsplay(&[
        "run",
        "#/flows?n=3&seed=7&lat=20..80ms&loss=2%&dup=0%",
        "--until",
        "10s",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    for key in [
        "lab",
        "seed",
        "virtual_time_us",
        "events",
        "messages",
        "trace_hash",
        "properties",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for key in ["sent", "delivered", "dropped", "duplicated"] {
        assert!(v["messages"][key].is_u64(), "missing messages.{key}");
    }
    assert_eq!(v["virtual_time_us"], 10_000_000);
    assert_eq!(v["trace_hash"].as_str().map(str::len), Some(16));
    assert!(v["properties"].as_array().is_some_and(|p| p
        .iter()
        .all(|p| p["name"].is_string() && p["holds"].is_boolean())));
}

// decode then encode gives back the canonical link.
#[test]
fn link_decode_and_encode_round_trip() {
    let (code, json, err) = dsplay(&["link", "decode", "#/flows?n=4&seed=9&loss=1%&s=1s:crash:2"]);
    assert_eq!(code, 0, "{err}");
    let path = std::env::temp_dir().join(format!("dsplay-cli-{}.json", std::process::id()));
    std::fs::write(&path, json).unwrap();
    let (code, link, err) = dsplay(&["link", "encode", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(link.starts_with("#/flows?n=4&seed=9&"), "{link}");
    assert!(link.contains("s=1s:crash:2"));
    let (code, _, _) = dsplay(&["run", path.to_str().unwrap(), "--until", "1s"]);
    assert_eq!(code, 0);
    std::fs::remove_file(path).ok();
}

#[test]
fn labs_lists_every_lab_with_parameters() {
    let (code, out, _) = dsplay(&["labs"]);
    assert_eq!(code, 0);
    for lab in dsplay::labs::REGISTRY {
        assert!(out.contains(lab.id));
        for p in lab.params {
            assert!(out.contains(p.key), "{} {}", lab.id, p.key);
        }
        // Each teaching variant with the sweep that hunts it, a link that opens.
        for v in lab.variants {
            let hunt = format!("dsplay sweep '{}&variant={}'", v.hunt, v.id);
            assert!(out.contains(&hunt), "{}: {hunt}", lab.id);
            dsplay::scenario::link::decode(v.hunt).unwrap_or_else(|e| panic!("{}: {e}", v.hunt));
        }
    }
}

// Bad input: a message naming the problem on stderr, exit status 2, never a panic.
#[test]
fn bad_input_exits_2_with_a_message() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "#/flows?n=abc"], "node count 'abc'"),
        (&["run", "#/nolab"], "unknown lab 'nolab'"),
        (&["run", "no-such-file.json"], "neither a link"),
        (&["run", "#/flows", "--until", "-3s"], "--until"),
        (&["run", "#/flows", "--until", "5 parsecs"], "--until"),
        (&["link", "decode", "#/flows?loss=300%"], "from 0% to 100%"),
        (&["link", "encode", "/nonexistent/x.json"], "cannot read"),
        (&["frobnicate"], "unrecognized subcommand"),
        (
            &["sweep", "#/raft", "--faults", "wild"],
            "--faults: unknown fault profile",
        ),
        (&["sweep", "#/raft", "--seeds", "0"], "--seeds: between 1"),
        (&["sweep", "#/raft", "--until", "0s"], "--until: at least"),
        (&["sweep", "#/raft?n=x"], "node count 'x'"),
    ];
    for (args, expected) in cases {
        let (code, out, err) = dsplay(args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.contains(expected),
            "{args:?}: stderr '{err}' should mention '{expected}'"
        );
        assert!(
            !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
            "{args:?}: {err}"
        );
    }
}

// Experiments come from the registry: `--list` names each with its parameters, and one rule
// reads every experiment's flags: `--key value`, `--key=value` and `--set key=value` are the
// same; a list of values runs once per value; bad input is refused with status 2.
#[test]
fn experiments_come_from_the_registry_with_one_rule_for_their_flags() {
    let (code, out, _) = dsplay(&["experiment", "--list"]);
    assert_eq!(code, 0);
    for (_, e) in dsplay::labs::experiments() {
        assert!(out.contains(e.id), "{out}");
        for p in e.params {
            assert!(out.contains(&format!("--{}", p.key)), "{out}");
        }
    }
    let run = |args: &[&str]| {
        let mut all = vec!["experiment", "raft-election"];
        all.extend_from_slice(args);
        all.push("--json");
        let (code, out, err) = dsplay(&all);
        assert_eq!(code, 0, "{args:?}: {err}");
        serde_json::from_str::<serde_json::Value>(&out).expect("JSON")
    };
    let a = run(&["--trials", "5", "--timeout-ms", "150..200", "--seed", "3"]);
    let b = run(&[
        "--set",
        "trials=5",
        "--set",
        "timeout-ms=150..200ms",
        "--seed=3",
    ]);
    assert_eq!(a, b);
    assert_eq!(a["trials"], 5);
    let many = run(&["--trials", "4", "--nodes", "3,5"]);
    let many = many.as_array().expect("one result per value");
    assert_eq!(many.len(), 2);
    assert_eq!(many[1]["params"]["nodes"], "5");
    for bad in [
        vec!["experiment", "raft-election", "--trials", "0"],
        vec!["experiment", "raft-election", "--colour", "red"],
        vec!["experiment", "raft-election", "--trials"],
        vec![
            "experiment",
            "raft-election",
            "--nodes",
            "3,5",
            "--seed",
            "1,2",
        ],
        vec!["experiment", "no-such-thing"],
    ] {
        let (code, _, err) = dsplay(&bad);
        assert_eq!(code, 2, "{bad:?}");
        assert!(!err.is_empty());
    }
}

// A reader that stops early (`dsplay experiment --list | head -1`) closes the pipe: dsplay
// exits quietly instead of reporting an internal error.
#[test]
fn a_closed_pipe_is_a_quiet_exit() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_dsplay"))
        .args(["experiment", "--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close our end of stdout before dsplay writes.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}: {err}", out.status);
    assert!(!err.contains("internal error"), "{err}");
}

// `dsplay check --nil-reads` chooses how a Jepsen register read of nil is read, and says so
// in its help; the default is Knossos's (a nil read matches any state).
#[test]
fn check_reads_nil_reads_as_knossos_does_unless_told_otherwise() {
    let dir = std::env::temp_dir().join(format!("dsplay-nil-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("nil.edn");
    std::fs::write(
        &file,
        "({:process 0, :type :invoke, :f :write, :value 1}\n {:process 0, :type :ok, :f :write, :value 1}\n {:process 1, :type :invoke, :f :read}\n {:process 1, :type :ok, :f :read, :value nil})\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let base = [
        "check",
        path,
        "--format",
        "jepsen-edn",
        "--model",
        "register",
        "--json",
    ];
    let (code, out, err) = dsplay(&base);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("\"linearizable\": true"), "{out}");
    let mut literal = base.to_vec();
    literal.extend(["--nil-reads", "literal"]);
    let (_, out, _) = dsplay(&literal);
    assert!(out.contains("\"linearizable\": false"), "{out}");
    let mut bad = base.to_vec();
    bad.extend(["--nil-reads", "maybe"]);
    let (code, _, err) = dsplay(&bad);
    assert_eq!(code, 2);
    assert!(
        err.contains("--nil-reads") && err.contains("any or literal"),
        "{err}"
    );
    let (_, help, _) = dsplay(&["check", "--help"]);
    assert!(
        help.contains("--nil-reads") && help.contains("Knossos"),
        "{help}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

// `sweep --json` prints the documented keys; each violation names its seed, property, time and
// both links, and the same sweep on one thread prints the same violations.
#[test]
fn sweep_json_has_the_documented_keys_whatever_the_threads() {
    let link = "#/quorum?n=5&seed=4&lat=10..40ms&clients=4&mode=leader";
    let run = |jobs: &str| {
        let args = [
            "sweep", link, "--seeds", "6", "--faults", "heavy", "--until", "8s", "--jobs", jobs,
            "--json",
        ];
        let (code, out, err) = dsplay(&args);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).expect("one JSON object")
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(one["violations"], two["violations"]);
    assert_eq!(one["seeds"], 6);
    assert!(one["events"].as_u64() > Some(0) && one["elapsed_ms"].is_u64());
    let violations = one["violations"].as_array().expect("a list");
    assert!(!violations.is_empty());
    for v in violations {
        for key in ["seed", "property", "at_us", "link", "original_link"] {
            assert!(v.get(key).is_some(), "missing {key} in {v}");
        }
        assert!(v["link"]
            .as_str()
            .is_some_and(|l| l.starts_with("#/quorum?")));
    }
}
