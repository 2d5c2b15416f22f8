//! `summary`: rollups as a table, JSON or Markdown.

use std::io::Write;

use anyhow::Result;
use clap::{Args, ValueEnum};
use covlens_core::{Row, summarize};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
pub struct SummaryArgs {
    /// The profile to summarise (`-` for stdin).
    file: String,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Rows: per file, per package, or per directory tree (table and
    /// Markdown; JSON has all three).
    #[arg(long, value_enum, default_value_t = By::Package)]
    by: By,
    /// Deepest directory level in the tree (path elements).
    #[arg(long)]
    depth: Option<usize>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum By {
    File,
    Package,
    Tree,
}

pub fn run(input: &InputArgs, a: SummaryArgs) -> Result<()> {
    let p = load(&a.file, &input.load_options())?;
    let s = summarize(&p, a.depth);
    let mut out = covlens_core::output::Output::create(&a.output)?;
    let rows = match a.by {
        By::File => &s.files,
        By::Package => &s.packages,
        By::Tree => &s.tree,
    };
    let heading = match a.by {
        By::File => "File",
        By::Package => "Package",
        By::Tree => "Directory",
    };
    let total = Row {
        name: "total".into(),
        counts: s.total,
    };
    match a.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &s)?;
            out.write_all(b"\n")?;
        }
        Format::Table => {
            let width = rows
                .iter()
                .map(|r| r.name.chars().count())
                .max()
                .unwrap_or(0)
                .max(heading.len())
                .max(5);
            writeln!(
                out,
                "{heading:<width$}  {:>9}  {:>9}  {:>7}",
                "covered", "total", "%"
            )?;
            for r in rows.iter().chain(std::iter::once(&total)) {
                writeln!(
                    out,
                    "{:<width$}  {:>9}  {:>9}  {:>6.1}%",
                    r.name,
                    r.counts.covered,
                    r.counts.total,
                    r.percent()
                )?;
            }
        }
        Format::Markdown => {
            writeln!(out, "| {heading} | Covered | Statements | Coverage |")?;
            writeln!(out, "|---|---:|---:|---:|")?;
            for r in rows {
                writeln!(
                    out,
                    "| {} | {} | {} | {:.1}% |",
                    md_escape(&r.name),
                    r.counts.covered,
                    r.counts.total,
                    r.percent()
                )?;
            }
            writeln!(
                out,
                "| **Total** | **{}** | **{}** | **{:.1}%** |",
                s.total.covered,
                s.total.total,
                s.total.percent()
            )?;
        }
    }
    Ok(out.commit()?)
}

/// Escapes characters that would break a Markdown table cell or format text.
pub fn md_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '|' | '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>') {
            o.push('\\');
        }
        o.push(c);
    }
    o
}
