//! `html`: one self-contained summary page.
//!
//! gopherage's page loads Google Charts from the internet and embeds the raw
//! profiles for client-side parsing; ours (`write_page`) opens offline.

use anyhow::Result;
use clap::Args;
use covlens_report_templates::write_page;

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
pub struct HtmlArgs {
    /// Profiles to show, one column each (`-` for stdin).
    #[arg(required = true)]
    files: Vec<String>,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Page title.
    #[arg(long, default_value = "Code Coverage")]
    title: String,
}

pub fn run(input: &InputArgs, a: HtmlArgs) -> Result<()> {
    let popts = input.load_options();
    let mut profiles = Vec::new();
    for f in &a.files {
        profiles.push((super::column_label(f), load(f, &popts)?));
    }
    let mut out = covlens_core::output::Output::create(&a.output)?;
    write_page(&mut out, &a.title, &profiles)?;
    Ok(out.commit()?)
}
