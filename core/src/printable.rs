//! Text from profiles, diffs and file names made safe to show on a
//! terminal: the one helper every plain-text printer uses.
//!
//! A name may hold bytes a terminal obeys: ESC sequences that recolour,
//! move the cursor, retitle the window or clear the screen, C1 controls
//! (U+009B is a CSI on its own), carriage returns and backspaces that
//! overwrite what was printed, and bidirectional overrides that reorder
//! it. Each is written as an escape instead: `\x1b` for a C0 control or
//! DEL, `\u{9b}` for any other. Backslashes are left as they are, so a
//! name that contains the text `\x1b` reads the same as one with an ESC;
//! what matters is that neither reaches the terminal as a control.
//!
//! [`printable`] escapes line breaks and tabs too (for a name in a
//! table); [`printable_lines`] and [`TerminalSafe`] keep them (for
//! messages and whole outputs).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// Whether `c` is written escaped: C0 and C1 controls, DEL, the line and
/// paragraph separators, and the bidirectional formatting characters.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_bidi(c)
}

/// Whether `c` is a bidirectional formatting character: it can make text
/// read in another order than it is stored (Trojan Source).
pub fn is_bidi(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// `s` with every [unsafe](is_unsafe) character escaped, line breaks and
/// tabs included.
pub fn printable(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// `s` with every [unsafe](is_unsafe) character but `\n` and `\t`
/// escaped: for messages that span lines.
pub fn printable_lines(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

/// A plain-text table's name column: `names` made [printable], and the
/// width (in characters) that fits them and the heading `head`.
pub fn name_column<'a>(
    head: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> (Vec<Cow<'a, str>>, usize) {
    let names: Vec<Cow<'a, str>> = names.into_iter().map(printable).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .chain([head.chars().count()])
        .max()
        .unwrap_or(0);
    (names, width)
}

fn escape(s: &str, keep_lines: bool) -> Cow<'_, str> {
    let hit = |c: char| is_unsafe(c) && !(keep_lines && matches!(c, '\n' | '\t'));
    if !s.contains(hit) {
        return Cow::Borrowed(s);
    }
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if hit(c) {
            push_escape(&mut o, c);
        } else {
            o.push(c);
        }
    }
    Cow::Owned(o)
}

fn push_escape(o: &mut String, c: char) {
    let n = c as u32;
    let _ = if n < 0x80 {
        write!(o, "\\x{n:02x}")
    } else {
        write!(o, "\\u{{{n:x}}}")
    };
}

/// A writer for a terminal: passes text through [`printable_lines`] and
/// writes bytes that are not UTF-8 as `\xNN`. A character split across
/// writes is held until its last byte arrives.
pub struct TerminalSafe<W: Write> {
    inner: W,
    /// The start of a UTF-8 sequence whose end has not arrived.
    held: Vec<u8>,
}

impl<W: Write> TerminalSafe<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> TerminalSafe<W> {
        TerminalSafe {
            inner,
            held: Vec::new(),
        }
    }

    fn put(&mut self, data: &[u8]) -> io::Result<()> {
        let mut rest = data;
        loop {
            match std::str::from_utf8(rest) {
                Ok(s) => return self.inner.write_all(printable_lines(s).as_bytes()),
                Err(e) => {
                    let (good, bad) = rest.split_at(e.valid_up_to());
                    let good = std::str::from_utf8(good).expect("valid up to here");
                    self.inner.write_all(printable_lines(good).as_bytes())?;
                    match e.error_len() {
                        Some(n) => {
                            for b in &bad[..n] {
                                write!(self.inner, "\\x{b:02x}")?;
                            }
                            rest = &bad[n..];
                        }
                        None => {
                            self.held = bad.to_vec();
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
}

impl<W: Write> Write for TerminalSafe<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.held.is_empty() {
            self.put(data)?;
        } else {
            let mut joined = std::mem::take(&mut self.held);
            joined.extend_from_slice(data);
            self.put(&joined)?;
        }
        Ok(data.len())
    }

    /// Flushes; a sequence still incomplete is written as `\xNN` bytes.
    fn flush(&mut self) -> io::Result<()> {
        for b in std::mem::take(&mut self.held) {
            write!(self.inner, "\\x{b:02x}")?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(printable("plain/größe.go"), "plain/größe.go");
        assert!(matches!(printable("plain"), Cow::Borrowed(_)));
        assert_eq!(
            printable("a\u{1b}[2Jb\rc\u{8}\u{7f}\u{9b}1m\u{202e}d\te\n"),
            r"a\x1b[2Jb\x0dc\x08\x7f\u{9b}1m\u{202e}d\x09e\x0a"
        );
        assert_eq!(printable_lines("a\tb\nc\u{1b}"), "a\tb\nc\\x1b");
    }

    #[test]
    fn terminal_writer_holds_split_characters() {
        let mut w = TerminalSafe::new(Vec::new());
        let text = "ö\u{1b}]0;title\u{7}ü\n".as_bytes();
        // Byte by byte: every UTF-8 sequence is split.
        for b in text {
            w.write_all(std::slice::from_ref(b)).unwrap();
        }
        w.write_all(b"\xff\xc3").unwrap();
        w.flush().unwrap();
        assert_eq!(
            String::from_utf8(w.inner).unwrap(),
            "ö\\x1b]0;title\\x07ü\n\\xff\\xc3"
        );
    }
}
