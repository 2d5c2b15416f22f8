//! `html`: the report of `report` as one self-contained file (the same
//! tree, numbers and source view; every directory and file inlined), for
//! attaching or mailing a report; `report` scales to any size.

use anyhow::Result;
use clap::Args;
use covlens_report_templates::{SiteOptions, write_page};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens html head=/tmp/covdir base=base.out -o coverage.html",
    "gzip -dc c.out.gz | covlens html - -o coverage.html"
))]
pub struct HtmlArgs {
    /// Profiles, one column each, newest first: `NAME=PROFILE` or a
    /// profile named after its file (`-` for stdin). An argument that is
    /// an existing path, or whose part before `=` holds a `/`, is a path.
    #[arg(required = true, value_name = "[NAME=]PROFILE")]
    files: Vec<String>,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Page title.
    #[arg(long, default_value = "Code Coverage")]
    title: String,
    /// Map an import-path prefix to a source directory (repeatable); files
    /// found get their coloured source in the page.
    #[arg(long, value_name = "IMPORT_PREFIX=DIR")]
    source_root: Vec<String>,
    /// The directory the tree starts at (import-path prefix); default: the
    /// longest directory common to every file.
    #[arg(long, value_name = "PREFIX")]
    root: Option<String>,
}

pub fn run(input: &InputArgs, a: HtmlArgs) -> Result<()> {
    let resolver = super::source_resolver(&a.source_root)?;
    let popts = input.load_options();
    let mut profiles = Vec::new();
    for f in &a.files {
        let (name, path) = covlens_report_templates::named_column(f);
        profiles.push((name, load(path, &popts)?));
    }
    let root =
        covlens_report_templates::report_root(a.root.as_deref(), profiles.iter().map(|(_, p)| p));
    let opts = SiteOptions {
        title: &a.title,
        root: &root,
    };
    opts.check(&profiles)?;
    let mut out = covlens_core::output::Output::create(&a.output)?;
    write_page(&mut out, &opts, &profiles, &resolver)?;
    Ok(out.commit()?)
}
