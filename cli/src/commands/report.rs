//! `report`: a static, self-contained site (no request leaves the page),
//! written by `write_site` into a directory.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use covlens_report_templates::{
    DirSink, SiteExtras, SiteOptions, go_mod_module, read_diff_file, write_site_with_extras,
};

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
    /// List the functions whose coverage fell from the second column (the
    /// base) to the first (the head), as `comment --functions` does, from
    /// the sources `--source-root` finds.
    #[arg(long)]
    functions: bool,
    /// With --functions: the diff between the two (`git diff base...head`),
    /// to rebuild the base's source from the head's.
    #[arg(long, value_name = "FILE", requires = "functions")]
    git_diff: Option<String>,
    /// With --functions: import path of the repository root, as `comment`
    /// takes it. Default: the `module` line of ./go.mod.
    #[arg(long, value_name = "PREFIX", requires = "functions")]
    module: Option<String>,
}

pub fn run(input: &InputArgs, a: ReportArgs) -> Result<()> {
    let popts = input.load_options();
    let super::Columns {
        profiles,
        root,
        resolver,
    } = a.columns.load(&popts)?;
    let opts = SiteOptions {
        title: &a.title,
        root: &root,
    };
    // Whatever fails does so before the directory is made.
    opts.check(&profiles)?;
    let mut extras = SiteExtras::default();
    if let Some(h) = a.trend.load(None)? {
        extras.trends = Some((h.runs.len(), h.into_counts()));
    }
    if let Some((tree, by)) = a.owners.load()? {
        extras.set_groups(&profiles, &tree, by);
        extras.group_trends = a.trend.load_by(&tree, by)?.map(|h| h.into_counts());
    }
    if !a.flaky_from.is_empty() {
        extras.set_flaky(with_loader(&popts, |l| l.flaky(&a.flaky_from))?);
    }
    if a.functions {
        let [(_, head), (_, base), ..] = &profiles[..] else {
            bail!("--functions compares two columns: give the head's profile, then the base's");
        };
        let diff = a.git_diff.as_deref().map(read_diff_file).transpose()?;
        let module = a.module.clone().or_else(go_mod_module);
        extras.set_lost_functions(base, head, diff.as_deref(), module.as_deref(), &resolver);
    }
    let mut sink =
        DirSink::create(&a.out).with_context(|| format!("cannot create {}", a.out.display()))?;
    write_site_with_extras(&mut sink, &opts, &profiles, &resolver, &extras)
        .with_context(|| format!("cannot write the report into {}", a.out.display()))?;
    Ok(())
}
