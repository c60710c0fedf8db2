//! `run_cli`, the body of `dsplay check`: human and JSON output, and errors that name the input.

use dsplay::check::{run_cli, run_cli_report, Format, ModelKind, Verdict};
use std::path::{Path, PathBuf};

/// The caller's clock for the report's time taken (a fixed reading: the time is not under test).
fn clock() -> f64 {
    0.0
}

/// Why `run_cli` refuses `path` read as `format` against `model` (text output, no initial value).
fn refusal(path: &Path, format: Format, model: ModelKind) -> String {
    run_cli(path, format, model, None, false, &clock).unwrap_err()
}

/// Writes `text` to a file of this test process's own and returns its path.
fn temp_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("dsplay-check-cli-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

/// A stale read: client 1 reads nil after client 0's write of 3 completed.
const STALE_READ: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t3
INFO  jepsen.util - 0\t:ok\t:write\t3
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:read\tnil
";

const FINE: &str = "INFO  jepsen.util - 0\t:invoke\t:write\t3
INFO  jepsen.util - 1\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:ok\t:read\tnil
INFO  jepsen.util - 0\t:ok\t:write\t3
";

#[test]
fn json_output_has_the_verdict_the_witness_and_the_prefix_length() {
    let path = temp_file("stale.log", STALE_READ);
    let text = run_cli(
        &path,
        Format::PorcupineEtcd,
        ModelKind::CasRegister,
        None,
        true,
        &clock,
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["linearizable"], false);
    assert_eq!(json["operations"], 2);
    assert!(
        json["elapsed_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{json}"
    );
    assert_eq!(json["longest_prefix"], 1);
    let witness = &json["witness"];
    assert_eq!(witness["index"], 1);
    assert_eq!(witness["client"], 1);
    assert_eq!(witness["input"], "read");
    assert_eq!(witness["output"], serde_json::json!({ "read": null }));
    assert_eq!(witness["call_us"], 2);
    assert_eq!(witness["return_us"], 3);
    assert_eq!(witness["status"], "ok");
    assert_eq!(witness["description"], "read() -> nil");
    assert_eq!(json["state_after_prefix"], "3");
    std::fs::remove_file(path).unwrap();
}

#[test]
fn json_output_for_a_linearizable_history_has_no_witness() {
    let path = temp_file("fine.log", FINE);
    let text = run_cli(
        &path,
        Format::PorcupineEtcd,
        ModelKind::Register,
        None,
        true,
        &clock,
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["linearizable"], true);
    assert_eq!(json["operations"], 2);
    assert!(json.get("witness").is_none());
    std::fs::remove_file(path).unwrap();
}

#[test]
fn human_output_states_the_verdict_and_explains_a_violation() {
    let path = temp_file("stale-text.log", STALE_READ);
    let report = run_cli_report(
        &path,
        Format::PorcupineEtcd,
        ModelKind::CasRegister,
        None,
        false,
        &clock,
    )
    .unwrap();
    assert_eq!(report.verdict, Verdict::NotLinearizable);
    let text = report.text;
    assert!(
        text.starts_with("NOT linearizable: 2 operations checked"),
        "{text}"
    );
    assert!(
        text.contains("longest linearizable prefix has 1 operation;"),
        "{text}"
    );
    assert!(text.contains("the register holds 3"), "{text}");
    assert!(
        text.contains("Operation 1 (id 1) cannot be placed"),
        "{text}"
    );
    assert!(text.contains("client 1 read() -> nil"), "{text}");
    let fine = temp_file("fine-text.log", FINE);
    let text = run_cli(
        &fine,
        Format::PorcupineEtcd,
        ModelKind::CasRegister,
        None,
        false,
        &clock,
    )
    .unwrap();
    assert!(
        text.starts_with("linearizable: 2 operations checked"),
        "{text}"
    );
    std::fs::remove_file(path).unwrap();
    std::fs::remove_file(fine).unwrap();
}

#[test]
fn the_initial_value_is_where_the_register_starts() {
    let path = temp_file(
        "initial.edn",
        "{:process 0, :type :invoke, :f :read}\n{:process 0, :type :ok, :f :read, :value 5}\n",
    );
    let text = |initial: Option<&str>| {
        let initial = initial.map(str::to_owned);
        run_cli(
            &path,
            Format::JepsenEdn,
            ModelKind::Register,
            initial,
            false,
            &clock,
        )
        .unwrap()
    };
    assert!(text(Some("5")).starts_with("linearizable"));
    assert!(text(None).starts_with("NOT linearizable"));
    let error = run_cli(
        &path,
        Format::JepsenEdn,
        ModelKind::Kv,
        Some("5".into()),
        false,
        &clock,
    );
    assert!(error.is_err());
    std::fs::remove_file(path).unwrap();
}

#[test]
fn errors_name_the_file_and_the_line() {
    let missing = std::env::temp_dir().join("dsplay-check-cli-no-such-file.log");
    let error = refusal(&missing, Format::Json, ModelKind::Register);
    assert!(error.contains("no-such-file"), "{error}");
    let bad = temp_file(
        "bad.edn",
        "{:process 0, :type :invoke, :f :read}\n{:process 0 :type}\n",
    );
    let error = refusal(&bad, Format::JepsenEdn, ModelKind::Register);
    assert!(
        error.contains("bad.edn") && error.contains("line 2"),
        "{error}"
    );
    let cas = temp_file("cas.log", "INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2]\n");
    let error = refusal(&cas, Format::PorcupineEtcd, ModelKind::Register);
    assert!(error.contains("register model does not support"), "{error}");
    let binary = temp_file("binary.json", "");
    std::fs::write(&binary, [0xff, 0xfe, 0x00]).unwrap();
    let error = refusal(&binary, Format::Json, ModelKind::Register);
    assert!(error.contains("not UTF-8"), "{error}");
    for path in [bad, cas, binary] {
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn model_and_format_names_parse_as_the_cli_spells_them() {
    let models = ["register", "cas-register", "kv"].map(|name| name.parse::<ModelKind>().unwrap());
    assert_eq!(
        models,
        [ModelKind::Register, ModelKind::CasRegister, ModelKind::Kv]
    );
    let formats = ["jepsen-edn", "porcupine-etcd", "porcupine-kv", "json"]
        .map(|name| name.parse::<Format>().unwrap());
    assert_eq!(formats, Format::ALL);
    assert!("cas"
        .parse::<ModelKind>()
        .unwrap_err()
        .contains("cas-register"));
}

/// Runs the `dsplay` binary; returns (status code, stdout, stderr).
fn dsplay(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dsplay"))
        .args(args)
        .output()
        .unwrap();
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout),
        text(out.stderr),
    )
}

// With --guarantees the JSON adds the five guarantees and the witness of each broken one; the
// stale read (client 1 reads nil after client 0's write of 3) is sequentially consistent, and a
// client that reads its own write's predecessor is not.
#[test]
fn guarantees_add_the_weaker_verdicts_and_their_witnesses_to_the_json() {
    let stale = temp_file("guarantees-stale.log", STALE_READ);
    let path = stale.to_str().unwrap();
    let base = [
        "check",
        path,
        "--format",
        "porcupine-etcd",
        "--model",
        "register",
        "--json",
    ];
    let (code, out, err) = dsplay(&base);
    assert_eq!(code, 0, "{err}");
    let plain: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(plain.get("guarantees").is_none(), "{out}");
    let mut with = base.to_vec();
    with.push("--guarantees");
    let (_, out, _) = dsplay(&with);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["linearizable"], false);
    let keys = [
        "sequential",
        "read_your_writes",
        "monotonic_reads",
        "monotonic_writes",
        "writes_follow_reads",
    ];
    for key in keys {
        assert_eq!(report["guarantees"][key], true, "{key}: {out}");
    }
    assert_eq!(report["guarantee_witnesses"], serde_json::json!({}));
    let own = temp_file("guarantees-own.log", &STALE_READ.replace("- 1\t", "- 0\t"));
    let mut own_args = with.clone();
    own_args[1] = own.to_str().unwrap();
    let (_, out, _) = dsplay(&own_args);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["guarantees"]["sequential"], false, "{out}");
    assert_eq!(report["guarantees"]["read_your_writes"], false, "{out}");
    assert_eq!(report["guarantees"]["monotonic_reads"], true, "{out}");
    for key in ["sequential", "read_your_writes"] {
        let witness = &report["guarantee_witnesses"][key];
        assert_eq!(witness["index"], 1, "{key}: {out}");
        assert_eq!(witness["description"], "read() -> nil", "{out}");
    }
    // The text form says the same, a line per guarantee.
    let mut text_args = own_args.clone();
    text_args.retain(|arg| *arg != "--json");
    let (_, out, _) = dsplay(&text_args);
    assert!(
        out.contains("sequentially consistent: NO (first broken by operation 1"),
        "{out}"
    );
    assert!(out.contains("monotonic reads: yes"), "{out}");
}

// A reader that goes away (`dsplay check ... | head -c1`) ends dsplay quietly: no internal
// error, whichever subcommand, whether the pipe closes before dsplay writes or after the first
// byte.
#[test]
fn a_reader_that_goes_away_ends_every_subcommand_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let history = temp_file("pipe.log", STALE_READ);
    let history = history.to_str().unwrap();
    let check = [
        "check",
        history,
        "--format",
        "porcupine-etcd",
        "--model",
        "register",
    ];
    let mut check_json = check.to_vec();
    check_json.extend(["--json", "--guarantees"]);
    let commands: Vec<Vec<&str>> = vec![
        check.to_vec(),
        check_json,
        vec!["check", "--help"],
        vec!["labs", "--json"],
        vec!["experiment", "--list"],
        vec!["link", "decode", "#/flows?n=3&seed=7"],
        vec!["run", "#/flows?n=3&seed=7", "--until", "1s", "--json"],
        vec!["--help"],
    ];
    for args in commands {
        for read_first_byte in [false, true] {
            let mut child = Command::new(env!("CARGO_BIN_EXE_dsplay"))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdout = child.stdout.take().unwrap();
            if read_first_byte {
                let mut byte = [0u8; 1];
                stdout.read_exact(&mut byte).unwrap();
            }
            drop(stdout);
            let out = child.wait_with_output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("internal error"), "{args:?}: {err}");
            assert!(out.status.success(), "{args:?}: {:?} {err}", out.status);
        }
    }
}
