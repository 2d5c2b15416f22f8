//! Markdown escapers: one for text (a table cell included), two for code
//! spans. Every command and library that writes Markdown (PR comments,
//! tables, summaries, history) uses these, so a name from a profile or a
//! pull request is escaped the same way everywhere.

use crate::printable::is_unsafe;

/// Escapes characters that would end a Markdown table cell or start
/// formatting, links, HTML or entities (`&amp;`); control characters other
/// than a tab (a newline would end the table row) and bidirectional
/// formatting characters become U+FFFD.
///
/// GitHub turns `@name` into a mention (notifying that user or team) and
/// `#12` / `owner/repo#12` into references (an event on that issue) in
/// the rendered text, after backslash escapes and entities are decoded, so
/// `\@` and `&#64;` do not help; only code spans and links are left alone.
/// Its autolinks (`http://…`, `www.…`, `a@b.c`) take the backslashes of
/// escapes inside them as part of the link, which would let a `<` through.
/// An invisible U+2060 WORD JOINER after every `@` and `#`, after the `:`
/// of `://` and before the `.` of `www.` breaks all of these and renders
/// as nothing.
pub fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    let mut rest = s.chars();
    while let Some(c) = rest.next() {
        if c == '.' && o.len() >= 3 && o.as_bytes()[o.len() - 3..].eq_ignore_ascii_case(b"www") {
            o.push(WORD_JOINER);
        }
        if matches!(
            c,
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '~' | '&'
        ) {
            o.push('\\');
        }
        o.push(if is_break(c) { '\u{FFFD}' } else { c });
        if matches!(c, '@' | '#') || (c == ':' && rest.as_str().starts_with("//")) {
            o.push(WORD_JOINER);
        }
    }
    o
}

/// Invisible; keeps GitHub from reading `@name` and `#12` as mentions
/// and references (see [`md_escape`]).
pub const WORD_JOINER: char = '\u{2060}';

/// The text of a Markdown code span: backslash escapes do not work in
/// code spans, so a backtick becomes `'`; control characters other than a
/// tab become U+FFFD.
pub fn md_code(s: &str) -> String {
    code(s, false)
}

/// [`md_code`] for a code span inside a table cell, where a `|` is written
/// `\|` (GitHub's tables read that as a pipe even inside a code span).
pub fn md_code_in_table(s: &str) -> String {
    code(s, true)
}

fn code(s: &str, table: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '`' => o.push('\''),
            '|' if table => o.push_str("\\|"),
            c if is_break(c) => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// Control characters that could end a line or a table row (a tab is
/// plain whitespace in Markdown), the line and paragraph separators, and
/// the bidirectional formatting characters (they make a name read as
/// another).
fn is_break(c: char) -> bool {
    c != '\t' && is_unsafe(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown() {
        assert_eq!(md_escape("a|b_c*d~f&g"), r"a\|b\_c\*d\~f\&g");
        assert_eq!(md_escape("@o/t#1"), "@\u{2060}o/t\\#\u{2060}1");
        assert_eq!(md_escape("@.é.x"), "@\u{2060}.é.x");
        assert_eq!(
            md_escape("http://x/WWW.y"),
            "http:\u{2060}//x/WWW\u{2060}.y"
        );
        assert_eq!(md_escape("x\ny\tz"), "x\u{FFFD}y\tz");
        assert_eq!(md_escape("a\u{202e}b\u{2028}"), "a\u{FFFD}b\u{FFFD}");
        assert_eq!(md_code("a\u{202e}`b`"), "a\u{FFFD}'b'");
        assert_eq!(md_code("new/`odd`|x.go"), "new/'odd'|x.go");
        assert_eq!(md_code_in_table("new/`odd`|x.go"), r"new/'odd'\|x.go");
    }
}
