//! The template environment, built once per process.
//!
//! Escaping follows the template's extension: `.html` and `.svg` through
//! [`html_escape`], `.md` through [`md_escape`], `.txt` through
//! [`printable`] (custom auto-escape modes, so a value can only reach a
//! comment or a terminal unescaped by being marked safe). Macro results
//! are safe strings, so they are not escaped twice.

use std::io::Write;
use std::sync::OnceLock;

use covlens_core::printable::printable;
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Output, State, UndefinedBehavior};

use crate::Error;
use crate::escape::{md_code, md_code_in_table, md_escape, write_html_escaped};

const MARKDOWN: &str = "markdown";
const TEXT: &str = "text";

const TEMPLATES: &[(&str, &str)] = &[
    ("table.md", include_str!("../templates/table.md")),
    ("table.html", include_str!("../templates/table.html")),
    ("comment.md", include_str!("../templates/comment.md")),
    ("origin.md", include_str!("../templates/origin.md")),
    ("badge.svg", include_str!("../templates/badge.svg")),
    ("summary.md", include_str!("../templates/summary.md")),
    ("summary.txt", include_str!("../templates/summary.txt")),
    (
        "site/index.html",
        include_str!("../templates/site/index.html"),
    ),
    (
        "site/source.html",
        include_str!("../templates/site/source.html"),
    ),
];

/// Style sheets and scripts, inlined into pages as they are, each ending
/// in a newline (globals marked safe; they are ours, not data).
const ASSETS: &[(&str, &str)] = &[
    ("site_css", include_str!("../templates/site/style.css")),
    ("site_js", include_str!("../templates/site/app.js")),
];

/// The environment; parsed on first use.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(build)
}

fn build() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("static syntax config"),
    );
    env.set_auto_escape_callback(|name| match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html" | "svg") => AutoEscape::Html,
        Some("md") => AutoEscape::Custom(MARKDOWN.into()),
        Some("txt") => AutoEscape::Custom(TEXT.into()),
        _ => AutoEscape::None,
    });
    env.set_formatter(format_value);
    env.add_filter("code", |s: String| Value::from_safe_string(md_code(&s)));
    env.add_filter("cell_code", |s: String| {
        Value::from_safe_string(md_code_in_table(&s))
    });
    // Trends: `None`/`none` (no history for the row) draws nothing.
    env.add_filter("spark_text", |t: Value| {
        crate::trend::sparkline_text(&trend_points(&t))
    });
    env.add_filter("spark_svg", |t: Value| {
        Value::from_safe_string(crate::trend::sparkline_svg(&trend_points(&t)))
    });
    env.add_filter("signed", |d: f64| crate::stat::signed(d));
    env.add_filter("link", |s: String| Value::from_safe_string(link(&s)));
    env.add_filter("ljust", |v: Value, w: usize| pad(&v, w, false));
    env.add_filter("rjust", |v: Value, w: usize| pad(&v, w, true));
    for (name, src) in ASSETS {
        env.add_global(*name, Value::from_safe_string(src.to_string()));
    }
    for (name, src) in TEMPLATES {
        env.add_template(name, src)
            .expect("embedded template parses");
    }
    env
}

/// Writes `value` escaped for the template's context.
fn format_value(
    out: &mut Output,
    state: &mut State,
    value: &Value,
) -> Result<(), minijinja::Error> {
    let custom = match state.auto_escape() {
        AutoEscape::Custom(n) if n == MARKDOWN => Some(MARKDOWN),
        AutoEscape::Custom(n) if n == TEXT => Some(TEXT),
        _ => None,
    };
    if !value.is_safe()
        && let Some(s) = value.as_str()
    {
        if *state.auto_escape() == AutoEscape::Html {
            return write_html_escaped(out, s).map_err(Into::into);
        }
        match custom {
            Some(MARKDOWN) => return out.write_str(&md_escape(s)).map_err(Into::into),
            Some(_) => return out.write_str(&printable(s)).map_err(Into::into),
            None => {}
        }
    }
    if custom.is_some() {
        // Numbers and safe strings; minijinja's formatter does not know
        // the custom modes.
        return write!(out, "{value}").map_err(Into::into);
    }
    minijinja::escape_formatter(out, state, value)
}

/// A link destination for Markdown: characters that would end it or the
/// link (space, `(`, `)`, `<`, `>`) and control characters percent-encoded.
/// A trend from a template value: a list of numbers or `none`s; anything
/// else is no trend.
fn trend_points(v: &Value) -> Vec<Option<f64>> {
    match v.try_iter() {
        Ok(it) => it.map(|p| f64::try_from(p).ok()).collect(),
        Err(_) => Vec::new(),
    }
}

fn link(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, ' ' | '(' | ')' | '<' | '>') || c.is_control() {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                o.push_str(&format!("%{b:02X}"));
            }
        } else {
            o.push(c);
        }
    }
    o
}

/// `v` padded with spaces to `width` characters, as `{:<width$}` /
/// `{:>width$}` do.
fn pad(v: &Value, width: usize, right: bool) -> String {
    let s = v.to_string();
    let n = s.chars().count();
    if n >= width {
        return s;
    }
    let fill = " ".repeat(width - n);
    if right { fill + &s } else { s + &fill }
}

/// Renders template `name` with `ctx` into `w`.
pub(crate) fn render_to<W: Write>(name: &'static str, ctx: Value, w: W) -> Result<(), Error> {
    let t = env()
        .get_template(name)
        .map_err(|source| Error::Template { name, source })?;
    t.render_captured_to(ctx, w)
        .map(|_| ())
        .map_err(|source| match io_cause(&source) {
            Some(kind) => Error::Write(std::io::Error::from(kind)),
            None => Error::Template { name, source },
        })
}

/// The I/O error under a failed render, if writing failed.
fn io_cause(e: &minijinja::Error) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(c) = cur {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = c.source();
    }
    None
}

/// Renders template `name` with `ctx` to a string.
pub(crate) fn render_string(name: &'static str, ctx: Value) -> Result<String, Error> {
    let mut out = Vec::new();
    render_to(name, ctx, &mut out)?;
    Ok(String::from_utf8(out).expect("templates render UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_is_built_once() {
        assert!(std::ptr::eq(env(), env()));
    }

    #[test]
    fn links_and_padding() {
        assert_eq!(link("https://x/a b(c)"), "https://x/a%20b%28c%29");
        assert_eq!(pad(&Value::from("ab"), 4, false), "ab  ");
        assert_eq!(pad(&Value::from(7), 3, true), "  7");
        assert_eq!(pad(&Value::from("größe"), 6, false), "größe ");
    }
}
