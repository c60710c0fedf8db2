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
pub fn read(text: &str) -> Result<Head, String> {
    let field = |key: &str| top_level_string(text, key);
    if field("format").as_deref() != Some(FORMAT) {
        return Err("it does not say \"format\": \"dsplay-trace\"".into());
    }
    let link = field("link").ok_or("it has no link")?;
    let trace_hash = field("trace_hash").unwrap_or_default();
    Ok(Head { link, trace_hash })
}

/// The string value of `key` in the top-level object of a JSON text, if it is one.
fn top_level_string(text: &str, key: &str) -> Option<String> {
    let mut s = Scanner {
        b: text.trim_start().as_bytes(),
        i: 0,
    };
    s.eat(b'{')?;
    loop {
        s.skip_ws();
        let k = s.string()?;
        s.skip_ws();
        s.eat(b':')?;
        s.skip_ws();
        if k == key {
            return s.string();
        }
        s.skip_value()?;
        s.skip_ws();
        s.eat(b',')?;
    }
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while self.b.get(self.i).is_some_and(|c| c.is_ascii_whitespace()) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&c)).then(|| self.i += 1)
    }
    /// A JSON string (escapes decoded; `\u` escapes outside the basic plane become U+FFFD).
    fn string(&mut self) -> Option<String> {
        self.eat(b'"')?;
        let mut out = Vec::new();
        loop {
            let c = *self.b.get(self.i)?;
            self.i += 1;
            match c {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'u' => {
                            let hex = std::str::from_utf8(self.b.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            char::from_u32(u32::from_str_radix(hex, 16).ok()?).unwrap_or('\u{fffd}')
                        }
                        other => other as char,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                c => out.push(c),
            }
        }
    }
    /// Any value, skipped (strings with their escapes, nesting counted).
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            self.skip_ws();
            match *self.b.get(self.i)? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.i += 1;
                    continue;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.i += 1;
                }
                b',' | b':' if depth > 0 => {
                    self.i += 1;
                    continue;
                }
                _ => {
                    while self
                        .b
                        .get(self.i)
                        .is_some_and(|c| !b",:]} \t\r\n".contains(c))
                    {
                        self.i += 1;
                    }
                }
            }
            if depth == 0 {
                return Some(());
            }
        }
    }
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
            ("not json", "format"),
            ("{\"format\":\"dsplay-trace\"}", "no link"),
            ("{\"format\":\"dsplay-trace\",\"link\":\"\\u12", "no link"),
            ("", "format"),
        ] {
            assert!(read(bad).unwrap_err().contains(why), "{bad}");
        }
    }
}
