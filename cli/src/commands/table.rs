//! `table`: per-package (or per-directory) coverage across branches.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use covlens_core::{Counts, Profile, package_of};
use covlens_report_templates::{Table, TableFormat, write_table};

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
        columns.push((name.to_string(), rows(&p, a.depth)));
    }
    let heading = if a.depth.is_some() {
        "Directory"
    } else {
        "Package"
    };
    let t = Table::build(heading, columns, a.threshold);
    let format = match a.format {
        Format::Markdown => TableFormat::Markdown,
        Format::Html => TableFormat::Html,
        Format::Json => TableFormat::Json,
    };
    let mut out = Output::create(&a.output)?;
    write_table(&mut out, &t, format)?;
    Ok(out.commit()?)
}

/// Statement counts per package, or per directory prefix of at most
/// `depth` elements; every statement lands in exactly one row, so the
/// rows add up to the total.
pub fn rows(p: &Profile, depth: Option<usize>) -> Vec<(String, u64, u64)> {
    let mut m: BTreeMap<&str, Counts> = BTreeMap::new();
    for f in p.files() {
        let mut key = package_of(f.name());
        if let Some(d) = depth
            && let Some((i, _)) = key.match_indices('/').nth(d.saturating_sub(1))
        {
            key = &key[..i];
        }
        m.entry(key).or_default().add(f.statements());
    }
    m.into_iter()
        .map(|(k, c)| (k.to_string(), c.covered, c.total))
        .collect()
}
