//! A learner's own scenarios, saved in the browser's storage: one entry per scenario (so one
//! damaged entry costs only itself), each three lines under a header: its name, its link and
//! when it was saved. Reading is total: an entry that is not one is reported and skipped.

use crate::scenario::link;

/// The first line of every entry.
const HEADER: &str = "dsplay saved scenario 1";

/// The storage keys of saved scenarios start with this.
pub const PREFIX: &str = "dsplay.saved.";
/// The longest name kept, in characters.
pub const MAX_NAME_CHARS: usize = 120;

/// A saved scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Saved {
    pub key: String,
    pub name: String,
    pub link: String,
    /// When it was saved, in ms since the Unix epoch.
    pub saved_ms: f64,
}

/// A name as kept: trimmed, at most [`MAX_NAME_CHARS`], never empty.
pub fn clean_name(name: &str) -> String {
    let one_line = name.replace(['\n', '\r'], " ");
    let n: String = one_line.trim().chars().take(MAX_NAME_CHARS).collect();
    if n.is_empty() {
        "Untitled scenario".into()
    } else {
        n
    }
}

impl Saved {
    pub fn new(key: String, name: &str, link: String, saved_ms: f64) -> Saved {
        Saved {
            key,
            name: clean_name(name),
            link,
            saved_ms,
        }
    }

    /// The text stored under its key (a name never holds a line break: see [`clean_name`]).
    pub fn text(&self) -> String {
        format!(
            "{HEADER}\n{}\n{}\n{}",
            self.name, self.link, self.saved_ms as u64
        )
    }

    /// Reads the entry stored under `key`; the error says what is wrong with it.
    pub fn read(key: &str, text: &str) -> Result<Saved, String> {
        let lines: Vec<&str> = text.lines().collect();
        let [HEADER, name, link_text, saved] = lines[..] else {
            return Err("it is not a saved scenario (not the four lines one is)".into());
        };
        let saved_ms: u64 = saved
            .parse()
            .map_err(|_| "it is not a saved scenario (its date is not a number)".to_string())?;
        link::decode(link_text).map_err(|e| format!("its link cannot be opened: {}", e.0))?;
        Ok(Saved::new(
            key.into(),
            name,
            link_text.into(),
            saved_ms as f64,
        ))
    }
}

/// The saved scenarios among a storage's entries, newest first, and the keys of the entries
/// that could not be read with the reason.
pub fn list(
    entries: impl IntoIterator<Item = (String, String)>,
) -> (Vec<Saved>, Vec<(String, String)>) {
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for (key, text) in entries.into_iter().filter(|(k, _)| k.starts_with(PREFIX)) {
        match Saved::read(&key, &text) {
            Ok(s) => good.push(s),
            Err(why) => bad.push((key, why)),
        }
    }
    crate::sim::order::sort_by(&mut good, |a: &Saved, b: &Saved| {
        b.saved_ms
            .total_cmp(&a.saved_ms)
            .then_with(|| a.key.cmp(&b.key))
    });
    (good, bad)
}

/// A key for a new entry saved at `now_ms`, unlike any of `taken`.
pub fn new_key(now_ms: f64, taken: &[String]) -> String {
    let base = format!("{PREFIX}{}", now_ms.max(0.0) as u64);
    (0..)
        .map(|i| {
            if i == 0 {
                base.clone()
            } else {
                format!("{base}-{i}")
            }
        })
        .find(|k| !taken.contains(k))
        .unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_reads_back_as_saved() {
        let s = Saved::new(
            "dsplay.saved.1".into(),
            "  Split brain  ",
            "#/raft?n=5&seed=3".into(),
            1.5e12,
        );
        assert_eq!(s.name, "Split brain");
        assert_eq!(Saved::read("dsplay.saved.1", &s.text()), Ok(s));
    }

    #[test]
    fn damaged_entries_are_reported_and_skipped_and_the_rest_listed_newest_first() {
        let a = Saved::new(format!("{PREFIX}1"), "old", "#/flows?n=3".into(), 1.0);
        let b = Saved::new(format!("{PREFIX}2"), "new", "#/ring?n=4".into(), 2.0);
        let entries = vec![
            (a.key.clone(), a.text()),
            (format!("{PREFIX}3"), "{not json".into()),
            (format!("{PREFIX}4"), format!("{HEADER}\nx\n#/nosuchlab\n3")),
            ("someone.else".into(), "{not json".into()),
            (b.key.clone(), b.text()),
        ];
        let (good, bad) = list(entries);
        assert_eq!(good, vec![b, a]);
        let keys: Vec<&str> = bad.iter().map(|b| b.0.as_str()).collect();
        assert_eq!(keys, vec!["dsplay.saved.3", "dsplay.saved.4"]);
        assert!(bad[0].1.contains("not a saved scenario"), "{}", bad[0].1);
        assert!(bad[1].1.contains("cannot be opened"), "{}", bad[1].1);
    }

    #[test]
    fn names_are_bounded_and_keys_unique() {
        assert_eq!(clean_name(""), "Untitled scenario");
        assert_eq!(clean_name(&"x".repeat(500)).chars().count(), MAX_NAME_CHARS);
        let taken = vec![format!("{PREFIX}5"), format!("{PREFIX}5-1")];
        assert_eq!(new_key(5.0, &taken), format!("{PREFIX}5-2"));
    }
}
