//! The escapers: one per output context. Every value from a profile or a
//! pull request (file and package names, diff paths, titles) reaches a
//! page or a comment through one of these, either called directly or by
//! the templates' formatter (see `render.rs`).

use std::fmt;

use serde::Serialize;

use crate::Error;

// Markdown's escapers live in core, so that every crate writing Markdown
// (history's tables too) escapes names the same way.
pub use covlens_core::markdown::{WORD_JOINER, md_code, md_code_in_table, md_escape};

/// Escapes text for HTML and XML (element content and quoted attribute
/// values alike): `&`, `<`, `>`, `"` and `'`. Characters XML 1.0 cannot
/// hold at all (C0 controls other than tab, line feed and carriage
/// return; U+FFFE, U+FFFF) become U+FFFD, so an SVG stays readable by
/// XML parsers. The bidirectional formatting characters, which can make
/// a name or a line of source read as another (Trojan Source), become
/// U+FFFD too.
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
            c if covlens_core::printable::is_bidi(c) => "\u{FFFD}",
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
        assert_eq!(html_escape("a\u{202e}b\u{2066}"), "a\u{FFFD}b\u{FFFD}");
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
