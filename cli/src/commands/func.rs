//! `func`: per-function coverage like `go tool cover -func`.

use anyhow::Result;
use clap::Args;
use covlens_core::write_func_report;

use crate::input::{InputArgs, load};
use covlens_core::output::Output;

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens func /tmp/covdir --source-root example.com/m=.",
    "gzip -dc c.out.gz | covlens func -"
))]
pub struct FuncArgs {
    /// The profile (`-` for stdin).
    file: String,
    #[command(flatten)]
    out: super::Out,
    #[command(flatten)]
    sources: super::SourceRoots,
}

pub fn run(input: &InputArgs, a: FuncArgs) -> Result<()> {
    let resolver = a.sources.resolver()?;
    let p = load(&a.file, &input.load_options())?;
    let mut out = Output::create(&a.out.output)?;
    match write_func_report(&mut out, &p, &resolver) {
        Ok(_) => Ok(out.commit()?),
        Err(e) => {
            // go tool cover leaves the lines before the failing file on
            // stdout; an output file is not created at all.
            if a.out.output == "-" {
                let _ = out.commit();
            }
            Err(e.into())
        }
    }
}
