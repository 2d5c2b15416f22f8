//! `badge`: an SVG badge with the total coverage.

use anyhow::Result;
use clap::Args;
use covlens_report_templates::{Badge, write_badge};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens badge /tmp/covdir -o badge.svg",
    "gzip -dc c.out.gz | covlens badge - -o badge.svg"
))]
pub struct BadgeArgs {
    /// The profile (`-` for stdin).
    file: String,
    #[command(flatten)]
    out: super::Out,
    /// Left-hand text.
    #[arg(long, default_value = "coverage")]
    label: String,
}

pub fn run(input: &InputArgs, a: BadgeArgs) -> Result<()> {
    let p = load(&a.file, &input.load_options())?;
    let badge = Badge::coverage(&a.label, &p.statements().into());
    a.out.write(|w| write_badge(w, &badge))
}
