//! `flaky`: blocks covered in some but not all runs of a job.

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use covlens_core::flaky::{write_flaky_json, write_flaky_table};

use crate::input::{InputArgs, with_loader};
use covlens_core::output::Output;

#[derive(Args, Debug)]
pub struct FlakyArgs {
    /// The runs: one profile or GOCOVERDIR per run of the same job.
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<String>,
    /// Refuse fewer runs than this: with too few, chance looks like a rule.
    #[arg(long, value_name = "N", default_value_t = 2)]
    min_runs: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FlakyFormat::Table)]
    format: FlakyFormat,
    /// Map an import-path prefix to a source directory (repeatable), to
    /// group blocks by function; files whose source is not found are
    /// grouped by file only.
    #[arg(long, value_name = "IMPORT_PREFIX=DIR")]
    source_root: Vec<String>,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum FlakyFormat {
    Table,
    Json,
}

pub fn run(input: &InputArgs, a: FlakyArgs) -> Result<()> {
    if a.runs.len() < a.min_runs.max(2) {
        bail!(
            "{} runs given, at least {} needed (--min-runs)",
            a.runs.len(),
            a.min_runs.max(2)
        );
    }
    let mut report = with_loader(&input.load_options(), |l| l.flaky(&a.runs))?;
    let resolver = super::source_resolver(&a.source_root)?;
    report.attribute_sources(&resolver);
    let mut out = Output::create(&a.output)?;
    match a.format {
        FlakyFormat::Table => write_flaky_table(&mut out, &report)?,
        FlakyFormat::Json => write_flaky_json(&mut out, &report)?,
    }
    Ok(out.commit()?)
}
