//! A small, strict, total JSON reader (RFC 8259) for history files.
//!
//! It reads exactly what a JSON parser must accept and refuses the rest, every error with the
//! 1-based line it was found on; nesting is capped so a hostile file cannot overflow the stack.
//! Every value remembers the line it starts on, so a history whose shape is wrong ("client" is
//! a string) is reported at the line of the offending value.
//!
//! Why not `serde_json`, which writes these files: its derived readers for the history types
//! cost the browser's module about 14 KB gzipped, this reader about 3 KB, and it reads the same
//! language (a property test compares the two on every history `serde_json` writes).

/// A JSON value and the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Json {
    pub line: usize,
    pub value: JsonValue,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum JsonValue {
    Null,
    Bool(bool),
    /// The number's text, as written (callers read it as the integer type they need).
    Number(String),
    Str(String),
    Array(Vec<Json>),
    /// Members in file order.
    Object(Vec<(String, Json)>),
}

/// A reading error and the 1-based line it was found on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct JsonError {
    pub line: usize,
    pub message: String,
}

/// How deeply arrays and objects may nest; a history needs four levels.
const MAX_DEPTH: usize = 64;

/// Reads one JSON value with nothing but whitespace around it.
pub(crate) fn parse(text: &str) -> Result<Json, JsonError> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        text,
        pos: 0,
        line: 1,
    };
    let value = reader.value(0)?;
    reader.skip_blank();
    match reader.peek() {
        None => Ok(value),
        Some(_) => reader.error("unexpected text after the value"),
    }
}

impl Json {
    /// A short description of the value for error messages: "a string", "an array", ...
    pub(crate) fn kind(&self) -> &'static str {
        match self.value {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "a boolean",
            JsonValue::Number(_) => "a number",
            JsonValue::Str(_) => "a string",
            JsonValue::Array(_) => "an array",
            JsonValue::Object(_) => "an object",
        }
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    line: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, JsonError> {
        Err(JsonError {
            line: self.line,
            message: message.into(),
        })
    }

    fn skip_blank(&mut self) {
        while let Some(byte) = self.peek() {
            match byte {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => return,
            }
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.skip_blank();
        let line = self.line;
        let value = match self.peek() {
            None => return self.error("the text ends where a value should be"),
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => JsonValue::Str(self.string()?),
            Some(b'-' | b'0'..=b'9') => JsonValue::Number(self.number()?),
            Some(b't') => self.word("true", JsonValue::Bool(true))?,
            Some(b'f') => self.word("false", JsonValue::Bool(false))?,
            Some(b'n') => self.word("null", JsonValue::Null)?,
            Some(_) => return self.error(format!("expected a value, found {}", self.found())),
        };
        Ok(Json { line, value })
    }

    /// The character at the cursor, quoted, for error messages.
    fn found(&self) -> String {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => format!("{c:?}"),
            None => "the end of the text".into(),
        }
    }

    fn word(&mut self, word: &str, value: JsonValue) -> Result<JsonValue, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            self.error(format!("expected a value, found {}", self.found()))
        }
    }

    fn open(&mut self, depth: usize) -> Result<(), JsonError> {
        if depth >= MAX_DEPTH {
            return self.error(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        self.pos += 1;
        Ok(())
    }

    /// After an element: true at the closing byte, false after a comma.
    fn next_or_close(&mut self, close: u8, what: &str) -> Result<bool, JsonError> {
        self.skip_blank();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(byte) if byte == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => self.error(format!(
                "expected ',' or '{}' in {what}, found {}",
                close as char,
                self.found()
            )),
        }
    }

    fn closes_at_once(&mut self, close: u8) -> bool {
        self.skip_blank();
        let empty = self.peek() == Some(close);
        if empty {
            self.pos += 1;
        }
        empty
    }

    fn array(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.open(depth)?;
        let mut items = Vec::new();
        if self.closes_at_once(b']') {
            return Ok(JsonValue::Array(items));
        }
        loop {
            items.push(self.value(depth + 1)?);
            if self.next_or_close(b']', "an array")? {
                return Ok(JsonValue::Array(items));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<JsonValue, JsonError> {
        self.open(depth)?;
        let mut members = Vec::new();
        if self.closes_at_once(b'}') {
            return Ok(JsonValue::Object(members));
        }
        loop {
            self.skip_blank();
            if self.peek() != Some(b'"') {
                return self.error(format!("expected a member name, found {}", self.found()));
            }
            let name = self.string()?;
            self.skip_blank();
            if self.peek() != Some(b':') {
                return self.error(format!(
                    "expected ':' after \"{name}\", found {}",
                    self.found()
                ));
            }
            self.pos += 1;
            members.push((name, self.value(depth + 1)?));
            if self.next_or_close(b'}', "an object")? {
                return Ok(JsonValue::Object(members));
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let leading_zero = self.peek() == Some(b'0');
        let whole = self.digits();
        let mut ok = whole > 0 && !(leading_zero && whole > 1);
        if ok && self.peek() == Some(b'.') {
            self.pos += 1;
            ok = self.digits() > 0;
        }
        if ok && matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            ok = self.digits() > 0;
        }
        if !ok {
            return self.error("a malformed number");
        }
        Ok(self.text[start..self.pos].to_owned())
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let start_line = self.line;
        self.pos += 1;
        let mut text = String::new();
        let mut run_start = self.pos;
        loop {
            let Some(byte) = self.peek() else {
                return self.error(format!(
                    "a string starting on line {start_line} is not closed"
                ));
            };
            self.pos += 1;
            match byte {
                b'"' => {
                    text.push_str(&self.text[run_start..self.pos - 1]);
                    return Ok(text);
                }
                b'\\' => {
                    text.push_str(&self.text[run_start..self.pos - 1]);
                    text.push(self.escape()?);
                    run_start = self.pos;
                }
                0..=0x1f => return self.error("a control character inside a string"),
                _ => {}
            }
        }
    }

    fn escape(&mut self) -> Result<char, JsonError> {
        let byte = self.peek();
        self.pos += 1;
        match byte {
            Some(b'"') => Ok('"'),
            Some(b'\\') => Ok('\\'),
            Some(b'/') => Ok('/'),
            Some(b'b') => Ok('\u{8}'),
            Some(b'f') => Ok('\u{c}'),
            Some(b'n') => Ok('\n'),
            Some(b'r') => Ok('\r'),
            Some(b't') => Ok('\t'),
            Some(b'u') => self.unicode_escape(),
            _ => self.error("a bad escape in a string"),
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
        match u32::from_str_radix(hex, 16) {
            Ok(code) if hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                self.pos += 4;
                Ok(code)
            }
            _ => self.error("a bad \\u escape in a string"),
        }
    }

    /// `\uXXXX`, joining a surrogate pair into one character.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if !self.bytes[self.pos..].starts_with(b"\\u") {
                    return self.error("a lone surrogate in a \\u escape");
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return self.error("a lone surrogate in a \\u escape");
                }
                0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            }
            0xDC00..=0xDFFF => return self.error("a lone surrogate in a \\u escape"),
            code => code,
        };
        match char::from_u32(code) {
            Some(c) => Ok(c),
            None => self.error("a bad \\u escape in a string"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> JsonValue {
        parse(text).unwrap().value
    }

    fn error(text: &str) -> JsonError {
        parse(text).unwrap_err()
    }

    #[test]
    fn reads_every_kind_of_value() {
        assert_eq!(value(" null "), JsonValue::Null);
        assert_eq!(value("true"), JsonValue::Bool(true));
        assert_eq!(value("-12.5e+3"), JsonValue::Number("-12.5e+3".into()));
        assert_eq!(
            value(r#""a\"\\\/\n\u00e9\ud83d\ude00""#),
            JsonValue::Str("a\"\\/\né😀".into())
        );
        let JsonValue::Object(members) = value("{\"a\": [1, {}], \"b\": []}") else {
            panic!("not an object");
        };
        assert_eq!(members[0].0, "a");
        assert_eq!(members[1].1.value, JsonValue::Array(vec![]));
    }

    #[test]
    fn values_know_their_line() {
        let JsonValue::Array(items) = value("[1,\n\n \"x\"]") else {
            panic!("not an array");
        };
        assert_eq!(items[1].line, 3);
    }

    #[test]
    fn refuses_what_json_does_not_allow_and_names_the_line() {
        for bad in [
            "",
            "[1,]",
            "{\"a\" 1}",
            "{'a': 1}",
            "01",
            "1.",
            "-",
            "1e",
            "[1 2]",
            "nul",
            "tru",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"a\tb\"",
            "[1] 2",
            "{\"a\":1,}",
            "\"open",
            "NaN",
            "+1",
            "[\"\\u12\"]",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(error("[\n1,\n]").line, 3);
        assert!(error("[\n\"abc").message.contains("line 2"));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = "[".repeat(100_000);
        assert!(error(&deep).message.contains("nested"));
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&fine).is_ok());
    }
}
