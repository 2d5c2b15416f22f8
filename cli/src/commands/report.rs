//! `report`: a static, self-contained site (no request leaves the page),
//! written by `write_site` into a directory.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use covlens_report_templates::{DirSink, SiteOptions, write_site_with_extras};

use crate::input::InputArgs;

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens report e2e=/tmp/covdir unit=unit.out --out site",
    "gzip -dc c.out.gz | covlens report - --out site"
))]
pub struct ReportArgs {
    #[command(flatten)]
    columns: super::ColumnArgs,
    /// Directory to write the site into (created; existing files with the
    /// same names are replaced, all at once when every file is written;
    /// an earlier report's other data files are removed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Page title.
    #[arg(long, default_value = "Coverage report")]
    title: String,
    #[command(flatten)]
    extras: super::ExtrasArgs,
}

pub fn run(input: &InputArgs, a: ReportArgs) -> Result<()> {
    let popts = input.load_options();
    let mut c = a.columns.load(&popts)?;
    let extras = a.extras.load(&mut c, &popts)?;
    let opts = SiteOptions {
        title: &a.title,
        root: &c.root,
    };
    // Whatever fails does so before the directory is made.
    opts.check(&c.profiles)?;
    let mut sink =
        DirSink::create(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    let into = || format!("cannot write the report into {}", a.out.display());
    write_site_with_extras(&mut sink, &opts, &c.profiles, &c.resolver, &extras)
        .with_context(into)?;
    // Only now does any file take its place.
    sink.commit().with_context(into)
}
