//! `badge`: an SVG badge with the total coverage.

use anyhow::Result;
use clap::Args;
use covlens_report_templates::{Badge, write_badge};

use crate::input::{InputArgs, load};
use covlens_core::output::Output;

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens badge /tmp/covdir -o badge.svg",
    "gzip -dc c.out.gz | covlens badge - -o badge.svg"
))]
pub struct BadgeArgs {
    /// The profile (`-` for stdin).
    file: String,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Left-hand text.
    #[arg(long, default_value = "coverage")]
    label: String,
}

pub fn run(input: &InputArgs, a: BadgeArgs) -> Result<()> {
    let p = load(&a.file, &input.load_options())?;
    let mut out = Output::create(&a.output)?;
    write_badge(&mut out, &Badge::coverage(&a.label, &p.statements().into()))?;
    Ok(out.commit()?)
}
