//! `func`: per-function coverage like `go tool cover -func`.

use anyhow::Result;
use clap::Args;

use crate::input::InputArgs;

#[derive(Args, Debug)]
pub struct FuncArgs {
    /// The profile (`-` for stdin).
    file: String,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Map an import-path prefix to a source directory (repeatable).
    #[arg(long, value_name = "IMPORT_PREFIX=DIR")]
    source_root: Vec<String>,
}

pub fn run(_input: &InputArgs, _a: FuncArgs) -> Result<()> {
    anyhow::bail!("func: not built yet")
}
