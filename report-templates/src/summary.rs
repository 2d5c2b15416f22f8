//! Rollups of one profile (`covlens_core::summarize`) as a text table,
//! Markdown or JSON.

use std::borrow::Cow;
use std::io::Write;

use covlens_core::printable::printable;
use covlens_core::{Row, Summary};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::render::render_to;
use crate::{Error, Stat};

/// Which rollup the table and Markdown formats list (JSON has all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryBy {
    /// One row per file.
    File,
    /// One row per package.
    Package,
    /// One row per directory prefix.
    Tree,
}

/// Output format of [`write_summary`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryFormat {
    /// Aligned plain-text columns.
    Table,
    /// A GitHub-flavoured Markdown table.
    Markdown,
    /// The whole [`Summary`] as JSON.
    Json,
}

#[derive(Serialize)]
struct View<'a> {
    /// `Directory`, or `Directory in ROOT/` under a root.
    heading: String,
    /// Width of the name column (table format).
    width: usize,
    rows: Vec<ViewRow<'a>>,
    total: Stat,
}

#[derive(Serialize)]
struct ViewRow<'a> {
    /// For the table, with controls escaped (the width is measured on
    /// what is shown).
    name: Cow<'a, str>,
    #[serde(flatten)]
    stat: Stat,
}

/// Writes the rollup `by` of `s` in `format`. Under a root
/// ([`covlens_core::summarize_under`]) the table and Markdown show names
/// relative to it (`.` for the root itself) and the root in the heading;
/// JSON keeps full names and has the root as `root`.
pub fn write_summary<W: Write>(
    mut w: W,
    s: &Summary,
    by: SummaryBy,
    format: SummaryFormat,
) -> Result<(), Error> {
    let (rows, heading): (&[Row], _) = match by {
        SummaryBy::File => (&s.files, "File"),
        SummaryBy::Package => (&s.packages, "Package"),
        SummaryBy::Tree => (&s.tree, "Directory"),
    };
    let template = match format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut w, s).map_err(Error::Json)?;
            return w.write_all(b"\n").map_err(Error::Write);
        }
        SummaryFormat::Table => "summary.txt",
        SummaryFormat::Markdown => "summary.md",
    };
    let rows: Vec<ViewRow> = rows
        .iter()
        .map(|r| {
            let name = match covlens_core::under_root(&s.root, &r.name) {
                Some("") => ".",
                Some(rel) => rel,
                None => &r.name,
            };
            ViewRow {
                name: if format == SummaryFormat::Table {
                    printable(name)
                } else {
                    Cow::Borrowed(name)
                },
                stat: r.counts.into(),
            }
        })
        .collect();
    let heading = if s.root.is_empty() {
        heading.to_string()
    } else if format == SummaryFormat::Table {
        format!("{heading} in {}/", printable(&s.root))
    } else {
        format!("{heading} in {}/", s.root)
    };
    let width = rows
        .iter()
        .map(|r| r.name.chars().count())
        .max()
        .unwrap_or(0)
        .max(heading.chars().count())
        .max("total".len());
    let view = View {
        heading,
        width,
        rows,
        total: s.total.into(),
    };
    render_to(template, context! { s => Serde(&view) }, w)
}
