//! The trace file the share dialog exports: what it is, the run's link at the cursor, its trace
//! hash and the records of the window the page holds, as JSON. Written and read here without a
//! JSON library (the browser build carries none for this): reading takes only the top-level
//! text fields it needs, and says plainly what is wrong with anything else.

use crate::sim::trace::RecordView;
use std::fmt::Write;

/// What a trace file says it is.
pub const FORMAT: &str = "dsplay-trace";

/// A string as JSON writes it.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "null".into(), |v| v.to_string())
}

fn record(r: &RecordView) -> String {
    format!(
        "{{\"seq\":{},\"at_us\":{},\"what\":{},\"msg\":{},\"from\":{},\"to\":{},\"node\":{},\"arrive_us\":{},\"lost\":{},\"text\":{}}}",
        r.seq,
        r.at_us,
        quoted(r.what),
        opt(r.msg),
        opt(r.from),
        opt(r.to),
        opt(r.node),
        opt(r.arrive_us),
        r.lost,
        quoted(&r.text)
    )
}

/// The file: its format, the link, the trace hash (16 hex digits), the cursor and the records.
pub fn write(link: &str, trace_hash: u64, now_us: u64, records: &[RecordView]) -> String {
    let rows: Vec<String> = records.iter().map(record).collect();
    format!(
        "{{\"format\":{},\"version\":1,\"link\":{},\"trace_hash\":\"{trace_hash:016x}\",\"now_us\":{now_us},\"records\":[\n{}\n]}}\n",
        quoted(FORMAT),
        quoted(link),
        rows.join(",\n")
    )
}

/// What reopening a trace file needs from it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    pub link: String,
    pub trace_hash: String,
}

/// Reads the file's format, link and trace hash; the error says why it is not a trace file.
/// The JSON is read by the checker's strict reader, which the page carries anyway.
pub fn read(text: &str) -> Result<Head, String> {
    use crate::check::json::{parse, JsonValue};
    let members = match parse(text) {
        Ok(json) => match json.value {
            JsonValue::Object(members) => members,
            _ => return Err("it is not a JSON object".into()),
        },
        Err(e) => return Err(format!("it is not JSON (line {}: {})", e.line, e.message)),
    };
    let field = |key: &str| {
        members
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| match &v.value {
                JsonValue::Str(s) => Some(s.clone()),
                _ => None,
            })
    };
    if field("format").as_deref() != Some(FORMAT) {
        return Err("it does not say \"format\": \"dsplay-trace\"".into());
    }
    let link = field("link").ok_or("it has no link")?;
    let trace_hash = field("trace_hash").unwrap_or_default();
    Ok(Head { link, trace_hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(what: &'static str, text: &str) -> RecordView {
        RecordView {
            seq: 3,
            at_us: 1_500,
            what,
            msg: Some(7),
            from: Some(0),
            to: None,
            node: None,
            arrive_us: Some(2_000),
            lost: false,
            text: text.into(),
            colour: "",
        }
    }

    #[test]
    fn a_written_file_reads_back_and_is_json() {
        let records = vec![
            rec("send", "vote \"request\"\n"),
            rec("note", "S1: {leader}, [term 2]"),
        ];
        let text = write("#/raft?n=5&seed=3&t=2s", 0xabc, 2_000_000, &records);
        let head = read(&text).unwrap();
        assert_eq!(head.link, "#/raft?n=5&seed=3&t=2s");
        assert_eq!(head.trace_hash, "0000000000000abc");
        // Any JSON reader takes it (serde_json is a dev dependency of the native build).
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["records"][0]["text"], "vote \"request\"\n");
        assert_eq!(v["records"][1]["what"], "note");
        assert_eq!(v["records"][0]["to"], serde_json::Value::Null);
    }

    #[test]
    fn fields_are_found_after_others_and_anything_else_is_refused_with_a_reason() {
        let other = r##"{"records": [{"link": "no"}, [1, 2, {"a": "}"}]], "format": "dsplay-trace", "link": "#/flows?n=3"}"##;
        assert_eq!(read(other).unwrap().link, "#/flows?n=3");
        for (bad, why) in [
            ("{\"a\":1}", "format"),
            ("not json", "not JSON"),
            ("[1]", "not a JSON object"),
            ("{\"format\":\"dsplay-trace\"}", "no link"),
            ("{\"format\":\"dsplay-trace\",\"link\":\"\\u12", "not JSON"),
            ("", "not JSON"),
        ] {
            assert!(read(bad).unwrap_err().contains(why), "{bad}");
        }
    }
}
