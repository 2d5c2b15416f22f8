//! `table`: per-package (or per-directory) coverage across branches.

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use covlens_report_templates::{Table, TableFormat, table_rows, write_table};

use crate::input::{InputArgs, load};
use covlens_core::output::Output;

#[derive(Args, Debug)]
pub struct TableArgs {
    /// A column: its name and profile, newest first (`master=m.out`).
    #[arg(long = "column", value_name = "NAME=PROFILE", required = true)]
    columns: Vec<String>,
    /// Rows per directory of at most N path elements instead of per package.
    #[arg(long)]
    depth: Option<usize>,
    /// Changes smaller than this (percentage points) are not marked ▲/▼.
    #[arg(long, default_value_t = 0.1)]
    threshold: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    #[command(flatten)]
    trend: super::history::TrendArgs,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum Format {
    Markdown,
    Html,
    Json,
}

pub fn run(input: &InputArgs, a: TableArgs) -> Result<()> {
    let popts = input.load_options();
    let mut columns = Vec::new();
    for c in &a.columns {
        let (name, path) = c
            .split_once('=')
            .with_context(|| format!("--column {c:?}: expected NAME=PROFILE"))?;
        let p = load(path, &popts)?;
        columns.push((name.to_string(), table_rows(&p, a.depth)));
    }
    let mut t = Table::build(Table::heading_for(a.depth), columns, a.threshold);
    if let Some(h) = a.trend.load(a.depth)? {
        let mut by_row = h.percents();
        t.set_trends(
            h.runs.len(),
            |name| by_row.remove(name),
            Some(h.total_percents()),
        );
    }
    let format = match a.format {
        Format::Markdown => TableFormat::Markdown,
        Format::Html => TableFormat::Html,
        Format::Json => TableFormat::Json,
    };
    let mut out = Output::create(&a.output)?;
    write_table(&mut out, &t, format)?;
    Ok(out.commit()?)
}
