//! `table`: per-package (or per-directory) coverage across branches.

use anyhow::{Context, Result};
use clap::Args;
use covlens_report_templates::{Origin, Table, TableFormat, TableRows, report_root, write_table};

use super::{Names, choice};
use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens table --column master=/tmp/covdir --column 1.32=old.out",
    "gzip -dc m.out.gz | covlens table --column master=- --column 1.32=old.out"
))]
pub struct TableArgs {
    /// A column: its name and profile, newest first (`master=m.out`).
    #[arg(long = "column", value_name = "NAME=PROFILE", required = true)]
    columns: Vec<String>,
    /// Rows per directory of at most N path elements below the root
    /// instead of per package.
    #[arg(long, value_name = "N", value_parser = super::at_least_one())]
    depth: Option<usize>,
    /// The directory rows are named relative to (import-path prefix);
    /// default: the longest directory common to every column's files;
    /// `--root ''` for full import paths.
    #[arg(long, value_name = "PREFIX")]
    root: Option<String>,
    /// Say under the table which run each column is, one per column in
    /// their order: `NAME[@COMMIT]` (a commit of 7 to 64 hex digits).
    #[arg(long = "run", value_name = "NAME[@COMMIT]")]
    runs: Vec<String>,
    /// Changes smaller than this (percentage points) are not marked ▲/▼.
    #[arg(long, default_value_t = 0.1)]
    threshold: f64,
    /// Output format.
    #[arg(long, default_value = "markdown", value_parser = choice(FORMAT))]
    format: TableFormat,
    #[command(flatten)]
    out: super::Out,
    #[command(flatten)]
    trend: super::history::TrendArgs,
    #[command(flatten)]
    owners: super::OwnerArgs,
}

const FORMAT: Names<TableFormat> = &[
    ("markdown", TableFormat::Markdown),
    ("html", TableFormat::Html),
    ("json", TableFormat::Json),
];

pub fn run(input: &InputArgs, a: TableArgs) -> Result<()> {
    if !a.runs.is_empty() && a.runs.len() != a.columns.len() {
        anyhow::bail!(
            "{} --run for {} --column: give one per column, in their order",
            a.runs.len(),
            a.columns.len()
        );
    }
    let popts = input.load_options();
    let owners = a.owners.load()?;
    let mut profiles = Vec::new();
    for c in &a.columns {
        let (name, path) = c
            .split_once('=')
            .with_context(|| format!("--column {c:?}: expected NAME=PROFILE"))?;
        profiles.push((name.to_string(), load(path, &popts)?));
    }
    // Owner rows are names, not paths: no root.
    let root = match owners {
        Some(_) => String::new(),
        None => report_root(a.root.as_deref(), profiles.iter().map(|(_, p)| p)),
    };
    let rows = match &owners {
        Some((tree, by)) => TableRows::Groups(tree, *by),
        None => TableRows::Packages {
            root: &root,
            depth: a.depth,
        },
    };
    let mut t = Table::of_profiles(&profiles, rows, a.threshold)?;
    // The history names packages by full import path, depth counted from
    // its start: rows under a root are looked up below it.
    let root_depth = t.root.split('/').filter(|s| !s.is_empty()).count();
    let history = match &owners {
        Some((tree, by)) => a.trend.load_by(tree, *by)?,
        None => a.trend.load(a.depth.map(|d| d + root_depth))?,
    };
    if let Some(h) = history {
        t.set_trends_by_path(h.runs.len(), h.percents(), Some(h.total_percents()));
    }
    t.origins = a.runs.iter().map(|r| Origin::parse(r)).collect();
    a.out.write(|w| write_table(w, &t, a.format))
}
