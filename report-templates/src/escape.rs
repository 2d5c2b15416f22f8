//! The escapers: one per output context. Every value from a profile or a
//! pull request (file and package names, diff paths, titles) reaches a
//! page or a comment through one of these, either called directly or by
//! the templates' formatter (see `render.rs`).

use std::fmt;

use serde::Serialize;

use crate::Error;

/// Escapes characters that would end a Markdown table cell or start
/// formatting, links, HTML or entities (`&amp;`); control characters other than a tab (a
/// newline would end the table row) become U+FFFD.
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
/// plain whitespace in Markdown).
fn is_break(c: char) -> bool {
    c.is_control() && c != '\t'
}

/// Escapes text for HTML and XML (element content and quoted attribute
/// values alike): `&`, `<`, `>`, `"` and `'`. Characters XML 1.0 cannot
/// hold at all (C0 controls other than tab, line feed and carriage
/// return; U+FFFE, U+FFFF) become U+FFFD, so an SVG stays readable by
/// XML parsers.
pub fn html_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + s.len() / 8);
    write_html_escaped(&mut o, s).expect("a String takes any text");
    o
}

/// [`html_escape`] written to `out`.
pub(crate) fn write_html_escaped<W: fmt::Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let rep = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            '\t' | '\n' | '\r' => continue,
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => "\u{FFFD}",
            _ => continue,
        };
        out.write_str(&s[start..i])?;
        out.write_str(rep)?;
        start = i + c.len_utf8();
    }
    out.write_str(&s[start..])
}

/// Where JSON is placed in a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptContext {
    /// Inside a `<script>` element of an HTML page: `<`, `>` and `&` are
    /// written as `\u003c`, `\u003e` and `\u0026`, so no string can close
    /// the element (`</script>`) or open a comment (`<!--`).
    Inline,
    /// A separate `.js` file loaded with `<script src>`, where markup means
    /// nothing.
    File,
}

/// `value` as JSON for a script in `ctx`. U+2028 and U+2029, line breaks
/// to older JavaScript engines, are always written escaped.
pub fn script_json<T: Serialize + ?Sized>(value: &T, ctx: ScriptContext) -> Result<String, Error> {
    let json = serde_json::to_string(value).map_err(Error::Json)?;
    let special = |c: char| {
        matches!(c, '\u{2028}' | '\u{2029}')
            || (ctx == ScriptContext::Inline && matches!(c, '<' | '>' | '&'))
    };
    if !json.contains(special) {
        return Ok(json);
    }
    let mut o = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if special(c) {
            // These only occur inside JSON strings, where \uXXXX is valid.
            o.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            o.push(c);
        }
    }
    Ok(o)
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
        assert_eq!(md_code("new/`odd`|x.go"), "new/'odd'|x.go");
        assert_eq!(md_code_in_table("new/`odd`|x.go"), r"new/'odd'\|x.go");
    }

    #[test]
    fn html() {
        assert_eq!(
            html_escape(r#"<a href="x">'&'</a>/"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;/"
        );
        assert_eq!(html_escape("größe"), "größe");
        assert_eq!(
            html_escape("\u{1}a\tb\nc\u{1b}\u{fffe}"),
            "\u{FFFD}a\tb\nc\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn script() {
        let v = ["</script><!--&", "\u{2028}"];
        assert_eq!(
            script_json(&v, ScriptContext::Inline).unwrap(),
            r#"["\u003c/script\u003e\u003c!--\u0026","\u2028"]"#
        );
        assert_eq!(
            script_json(&v, ScriptContext::File).unwrap(),
            r#"["</script><!--&","\u2028"]"#
        );
        // What a browser's JSON.parse reads back is the original.
        let back: Vec<String> =
            serde_json::from_str(&script_json(&v, ScriptContext::Inline).unwrap()).unwrap();
        assert_eq!(back, v);
    }
}
