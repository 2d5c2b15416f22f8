//! `report`: a static, self-contained site (no request leaves the page),
//! written by `write_site` into a directory.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use covlens_report_templates::{DirSink, SiteExtras, write_site_with};

use crate::input::{InputArgs, load, with_loader};

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Profiles, one column each, newest first (`-` for stdin).
    #[arg(required = true)]
    files: Vec<String>,
    /// Directory to write the site into (created; existing files with the
    /// same names are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Map an import-path prefix to a source directory (repeatable).
    #[arg(long, value_name = "IMPORT_PREFIX=DIR")]
    source_root: Vec<String>,
    /// Page title.
    #[arg(long, default_value = "Coverage report")]
    title: String,
    #[command(flatten)]
    trend: super::history::TrendArgs,
    /// Add a flaky column: statements covered in some but not all of these
    /// runs (profiles or GOCOVERDIRs, comma-separated or repeated).
    #[arg(long, value_name = "RUN,...", value_delimiter = ',')]
    flaky_from: Vec<String>,
}

pub fn run(input: &InputArgs, a: ReportArgs) -> Result<()> {
    let resolver = super::source_resolver(&a.source_root)?;
    let popts = input.load_options();
    let mut profiles = Vec::new();
    for f in &a.files {
        profiles.push((super::column_label(f), load(f, &popts)?));
    }
    let mut sink =
        DirSink::create(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    let mut extras = SiteExtras::default();
    if let Some(h) = a.trend.load(None)? {
        extras.trends = Some((
            h.runs.len(),
            h.rows.into_iter().map(|r| (r.name, r.points)).collect(),
        ));
    }
    match a.flaky_from.len() {
        0 => {}
        1 => anyhow::bail!("--flaky-from needs at least 2 runs"),
        _ => {
            let f = with_loader(&popts, |l| l.flaky(&a.flaky_from))?;
            extras.flaky = Some(
                f.files
                    .into_iter()
                    .map(|f| (f.name, f.statements))
                    .collect(),
            );
        }
    }
    write_site_with(&mut sink, &a.title, &profiles, &resolver, &extras)
        .with_context(|| format!("cannot write the report into {}", a.out.display()))?;
    Ok(())
}
