//! covlens' report templates: per-branch tables, PR comments, badges and
//! the static report site.
//!
//! Plain data in, text out. The callers (the `covlens` CLI) compute every
//! number from `covlens-core`; this crate only lays them out, plus the
//! small rules that belong to the presentation (▲/▼ marks against the
//! next column, badge colours and widths, fitting a PR comment into a size
//! limit). Templates are minijinja 3.1, embedded in the binary and
//! rendered with [`UndefinedBehavior::Strict`] so a missing field is an
//! error, not an empty cell.

use std::io::Write;

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, context};
use serde::{Deserialize, Serialize};

mod comment;
mod model;

pub use crate::comment::{CommentFit, github_len};
pub use crate::model::*;

/// What can go wrong while rendering.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A template failed (a bug in a template or in the data model).
    #[error("template {name}: {source}")]
    Template {
        /// The template's name.
        name: &'static str,
        /// minijinja's error.
        source: minijinja::Error,
    },
    /// Writing the output failed.
    #[error("cannot write report: {0}")]
    Io(#[from] std::io::Error),
    /// Serialising data for the site failed.
    #[error("cannot serialise report data: {0}")]
    Json(#[from] serde_json::Error),
}

/// Output format of [`write_table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// A self-contained HTML page.
    Html,
    /// The [`Table`] model as JSON.
    Json,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("table.md", include_str!("../templates/table.md")),
    ("table.html", include_str!("../templates/table.html")),
    ("comment.md", include_str!("../templates/comment.md")),
    ("badge.svg", include_str!("../templates/badge.svg")),
    (
        "site/index.html",
        include_str!("../templates/site/index.html"),
    ),
];

/// The site's script and style sheet, inlined into `index.html`.
const SITE_JS: &str = include_str!("../templates/site/app.js");
const SITE_CSS: &str = include_str!("../templates/site/style.css");

fn env() -> Environment<'static> {
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
    // .md and .svg get no/own escaping; .html and .svg escape as HTML.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".svg") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.add_filter("md", |s: String| md_escape(&s));
    for (name, src) in TEMPLATES {
        env.add_template(name, src)
            .expect("embedded template parses");
    }
    env
}

fn render_to<W: Write>(name: &'static str, ctx: minijinja::Value, w: W) -> Result<(), Error> {
    let env = env();
    let t = env
        .get_template(name)
        .map_err(|source| Error::Template { name, source })?;
    t.render_captured_to(ctx, w)
        .map(|_| ())
        .map_err(|source| match io_cause(&source) {
            Some(kind) => Error::Io(std::io::Error::new(kind, source.to_string())),
            None => Error::Template { name, source },
        })
}

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

pub(crate) fn render_string(name: &'static str, ctx: minijinja::Value) -> Result<String, Error> {
    let mut out = Vec::new();
    render_to(name, ctx, &mut out)?;
    Ok(String::from_utf8(out).expect("templates render UTF-8"))
}

/// Writes the per-branch table in `format`.
pub fn write_table<W: Write>(mut w: W, t: &Table, format: TableFormat) -> Result<(), Error> {
    match format {
        TableFormat::Json => {
            serde_json::to_writer_pretty(&mut w, t)?;
            w.write_all(b"\n")?;
            Ok(())
        }
        TableFormat::Markdown => render_to("table.md", context! { t => Serde(t) }, w),
        TableFormat::Html => render_to("table.html", context! { t => Serde(t) }, w),
    }
}

/// Writes a PR comment, cut down to fit `max_chars` (see [`CommentFit`]).
pub fn write_comment<W: Write>(
    mut w: W,
    c: &Comment,
    max_chars: usize,
) -> Result<CommentFit, Error> {
    let fit = comment::fit(c, max_chars)?;
    w.write_all(fit.text.as_bytes())?;
    Ok(fit)
}

/// Writes an SVG badge.
pub fn write_badge<W: Write>(w: W, b: &Badge) -> Result<(), Error> {
    render_to("badge.svg", context! { b => Serde(b) }, w)
}

/// Writes the site's `index.html`: the shell page with the top of the
/// tree inline; the rest comes from `data/*.js` files loaded on demand.
pub fn write_site_index<W: Write>(w: W, s: &SiteIndex) -> Result<(), Error> {
    let boot = serde_json::to_string(&s.boot)?;
    render_to(
        "site/index.html",
        context! { s => Serde(s), boot => boot, js => SITE_JS, css => SITE_CSS },
        w,
    )
}

/// Writes one lazily loaded data file of the site: a script that hands
/// `data` to the page (`covlens.<callback>(id, data)`). Scripts added
/// with `<script src>` load from `file://` too, where `fetch` is refused.
pub fn write_site_data<W: Write, T: Serialize>(
    mut w: W,
    callback: &str,
    id: &str,
    data: &T,
) -> Result<(), Error> {
    write!(w, "covlens.{callback}({},", serde_json::to_string(id)?)?;
    let json = serde_json::to_string(data)?;
    // "</script" inside a string is harmless in a .js file, but U+2028/9
    // are kept escaped for older engines.
    w.write_all(
        json.replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029")
            .as_bytes(),
    )?;
    w.write_all(b");\n")?;
    Ok(())
}

/// Escapes characters that would end a Markdown table cell or start
/// formatting, links or HTML.
pub fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '~'
        ) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}
