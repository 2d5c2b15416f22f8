//! `explain`: statements versus line-based counts (see docs/convert.md).

use anyhow::Result;
use clap::Args;
use covlens_core::{ExplainBy, ExplainFormat, explain, write_explain};

use super::{Names, Out, choice};
use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens explain /tmp/covdir --by file --top 10",
    "gzip -dc c.out.gz | covlens explain - --format json"
))]
pub struct ExplainArgs {
    /// The profile (`-` for stdin).
    file: String,
    #[command(flatten)]
    out: Out,
    /// Rows per file or per package.
    #[arg(long, default_value = "package", value_parser = choice(BY))]
    by: ExplainBy,
    /// The N rows where the counts differ most; 0 for all.
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// Output format.
    #[arg(long, default_value = "table", value_parser = choice(FORMAT))]
    format: ExplainFormat,
}

const BY: Names<ExplainBy> = &[("file", ExplainBy::File), ("package", ExplainBy::Package)];
const FORMAT: Names<ExplainFormat> = &[
    ("table", ExplainFormat::Table),
    ("json", ExplainFormat::Json),
];

pub fn run(input: &InputArgs, a: ExplainArgs) -> Result<()> {
    let p = load(&a.file, &input.load_options())?;
    let e = explain(&p, a.by);
    a.out.write(|w| write_explain(w, &e, a.top, a.format))
}
