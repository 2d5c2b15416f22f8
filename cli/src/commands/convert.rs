//! `convert`: LCOV, Cobertura and JSON.

use anyhow::Result;
use clap::Args;

use crate::input::InputArgs;

#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// The profile (`-` for stdin).
    file: String,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
}

pub fn run(_input: &InputArgs, _a: ConvertArgs) -> Result<()> {
    anyhow::bail!("convert: not built yet")
}
