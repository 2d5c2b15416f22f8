//! `report`: a static, self-contained site (no request leaves the page),
//! written by `write_site` into a directory.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use covlens_report_templates::{DirSink, SiteExtras, SiteOptions, write_site_with_extras};

use crate::input::{InputArgs, with_loader};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens report e2e=/tmp/covdir unit=unit.out --out site",
    "gzip -dc c.out.gz | covlens report - --out site"
))]
pub struct ReportArgs {
    #[command(flatten)]
    columns: super::ColumnArgs,
    /// Directory to write the site into (created; existing files with the
    /// same names are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Page title.
    #[arg(long, default_value = "Coverage report")]
    title: String,
    #[command(flatten)]
    trend: super::history::TrendArgs,
    /// `--by owner|label`: the tree's top level lists owners or labels.
    #[command(flatten)]
    owners: super::OwnerArgs,
    /// Add a flaky column: statements covered in some but not all of these
    /// runs (profiles or GOCOVERDIRs, comma-separated or repeated).
    #[arg(long, value_name = "RUN,...", value_delimiter = ',')]
    flaky_from: Vec<String>,
    #[command(flatten)]
    functions: super::FunctionArgs,
}

pub fn run(input: &InputArgs, a: ReportArgs) -> Result<()> {
    let popts = input.load_options();
    let columns = a.columns.load(&popts)?;
    let profiles = &columns.profiles;
    let opts = SiteOptions {
        title: &a.title,
        root: &columns.root,
    };
    // Whatever fails does so before the directory is made.
    opts.check(profiles)?;
    let mut extras = SiteExtras::default();
    if let Some(h) = a.trend.load(None)? {
        extras.trends = Some((h.runs.len(), h.into_counts()));
    }
    if let Some((tree, by)) = a.owners.load()? {
        extras.set_groups(profiles, &tree, by);
        extras.group_trends = a.trend.load_by(&tree, by)?.map(|h| h.into_counts());
    }
    if !a.flaky_from.is_empty() {
        extras.set_flaky(with_loader(&popts, |l| l.flaky(&a.flaky_from))?);
    }
    a.functions.apply(&columns, &mut extras)?;
    let mut sink =
        DirSink::create(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    write_site_with_extras(&mut sink, &opts, profiles, &columns.resolver, &extras)
        .with_context(|| format!("cannot write the report into {}", a.out.display()))?;
    Ok(())
}
