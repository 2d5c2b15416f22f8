//! `flaky`: blocks covered in some but not all runs of a job.

use anyhow::{Result, bail};
use clap::Args;
use covlens_core::flaky::{FlakyFormat, write_flaky};

use super::{Names, choice};
use crate::input::{InputArgs, with_loader};

#[derive(Args, Debug)]
pub struct FlakyArgs {
    /// The runs: one profile or GOCOVERDIR per run of the same job.
    #[arg(required = true, value_name = "RUN")]
    runs: Vec<String>,
    /// Refuse fewer runs than this: with too few, chance looks like a rule.
    #[arg(long, value_name = "N", default_value_t = 2)]
    min_runs: usize,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = choice(FORMAT))]
    format: FlakyFormat,
    // Blocks are grouped by function where the source is found, else by
    // file only.
    #[command(flatten)]
    sources: super::SourceRoots,
    #[command(flatten)]
    out: super::Out,
}

const FORMAT: Names<FlakyFormat> = &[("table", FlakyFormat::Table), ("json", FlakyFormat::Json)];

pub fn run(input: &InputArgs, a: FlakyArgs) -> Result<()> {
    if a.runs.len() < a.min_runs.max(2) {
        bail!(
            "{} runs given, at least {} needed (--min-runs)",
            a.runs.len(),
            a.min_runs.max(2)
        );
    }
    let mut report = with_loader(&input.load_options(), |l| l.flaky(&a.runs))?;
    let resolver = a.sources.resolver()?;
    report.attribute_sources(&resolver);
    a.out.write(|w| write_flaky(w, &report, a.format))
}
