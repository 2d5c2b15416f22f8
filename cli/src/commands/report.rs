//! `report`: a static, self-contained site (no request leaves the page),
//! written by `write_site` into a directory.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use covlens_report_templates::{DirSink, write_site};

use crate::input::{InputArgs, load};

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
    write_site(&mut sink, &a.title, &profiles, &resolver)
        .with_context(|| format!("cannot write the report into {}", a.out.display()))?;
    Ok(())
}
