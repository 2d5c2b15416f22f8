//! `junit`.

use anyhow::Result;
use clap::Args;

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens junit /tmp/covdir -t 0.5 -o junit.xml",
    "gzip -dc c.out.gz | covlens junit -"
))]
pub struct JunitArgs {
    /// The profile to summarise (`-` for stdin).
    file: String,
    #[command(flatten)]
    out: super::Out,
    /// Rows below this ratio (0 to 1) get a <failure>.
    // Negative values must reach the range check (exit 1, as gopherage),
    // not be taken for a flag by clap (exit 2).
    #[arg(short, long, default_value_t = 0.8, allow_negative_numbers = true)]
    threshold: f32,
}

pub fn run(input: &InputArgs, a: JunitArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&a.threshold) {
        anyhow::bail!("coverage threshold must be a float number between 0 to 1, inclusively");
    }
    let p = load(&a.file, &input.load_options())?;
    a.out
        .write(|w| covlens_core::write_junit(w, &p, a.threshold))
}
