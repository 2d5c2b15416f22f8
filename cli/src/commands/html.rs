//! `html`: the report of `report` as one self-contained file (the same
//! tree, numbers, extras and source view; every directory and file
//! inlined), for attaching or mailing a report; `report` scales to any
//! size.

use anyhow::Result;
use clap::Args;
use covlens_report_templates::{SiteOptions, write_page_with_extras};

use crate::input::InputArgs;

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens html head=/tmp/covdir base=base.out -o coverage.html",
    "gzip -dc c.out.gz | covlens html - -o coverage.html"
))]
pub struct HtmlArgs {
    #[command(flatten)]
    columns: super::ColumnArgs,
    #[command(flatten)]
    out: super::Out,
    /// Page title.
    #[arg(long, default_value = "Code Coverage")]
    title: String,
    #[command(flatten)]
    extras: super::ExtrasArgs,
}

pub fn run(input: &InputArgs, a: HtmlArgs) -> Result<()> {
    let popts = input.load_options();
    let mut c = a.columns.load(&popts)?;
    let extras = a.extras.load(&mut c, &popts)?;
    let opts = SiteOptions {
        title: &a.title,
        root: &c.root,
    };
    opts.check(&c.profiles)?;
    a.out
        .write(|w| write_page_with_extras(w, &opts, &c.profiles, &c.resolver, &extras))
}
