//! `convert`: LCOV, Cobertura and JSON (see docs/convert.md).

use anyhow::Result;
use clap::{Args, ValueEnum};
use covlens_core::{CoberturaCounts, ConvertFormat, ConvertOptions, LineHits};

use crate::input::{InputArgs, load};

#[derive(Args, Debug)]
#[command(after_help = crate::input::inputs_help!(
    "covlens convert /tmp/covdir --to lcov -o lcov.info",
    "gzip -dc c.out.gz | covlens convert - --to cobertura"
))]
pub struct ConvertArgs {
    /// The profile (`-` for stdin).
    file: String,
    /// Output format.
    #[arg(long, value_enum)]
    to: To,
    /// Output file (`-` for stdout).
    #[arg(short, long, default_value = "-")]
    output: String,
    /// Remove this import-path prefix from file names in LCOV `SF:` and
    /// Cobertura `filename`, e.g. the module path (repeatable; the longest
    /// match wins).
    #[arg(long, value_name = "PREFIX")]
    strip_prefix: Vec<String>,
    /// Source root: Cobertura's `<source>` (default `.`), and prepended to
    /// relative LCOV `SF:` paths.
    #[arg(long, value_name = "DIR")]
    source_dir: Option<String>,
    /// A line's hit count when several blocks share it: the largest (the
    /// line ran) or the smallest (everything on it ran).
    #[arg(long, value_enum, default_value_t = LineHitsArg::Max)]
    line_hits: LineHitsArg,
    /// What Cobertura's line-rate and lines-covered/lines-valid count:
    /// Go statements (as `go tool cover`) or `<line>` elements.
    #[arg(long, value_enum, default_value_t = CountsArg::Statements)]
    cobertura_counts: CountsArg,
    /// Cobertura timestamp in milliseconds since the epoch [default:
    /// $SOURCE_DATE_EPOCH * 1000, else 0, so output is reproducible].
    #[arg(long, value_name = "MILLIS")]
    timestamp: Option<u64>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum To {
    Lcov,
    Cobertura,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum LineHitsArg {
    Max,
    Min,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum CountsArg {
    Statements,
    Lines,
}

pub fn run(input: &InputArgs, a: ConvertArgs) -> Result<()> {
    let p = load(&a.file, &input.load_options())?;
    let format = match a.to {
        To::Lcov => ConvertFormat::Lcov,
        To::Cobertura => ConvertFormat::Cobertura,
        To::Json => ConvertFormat::Json,
    };
    let timestamp = match a.timestamp {
        Some(t) => t,
        None => ConvertOptions::timestamp_from_env()?,
    };
    let opts = ConvertOptions {
        strip_prefixes: a.strip_prefix,
        source_dir: a.source_dir,
        line_hits: match a.line_hits {
            LineHitsArg::Max => LineHits::Max,
            LineHitsArg::Min => LineHits::Min,
        },
        cobertura_counts: match a.cobertura_counts {
            CountsArg::Statements => CoberturaCounts::Statements,
            CountsArg::Lines => CoberturaCounts::Lines,
        },
        timestamp,
        ..ConvertOptions::default()
    };
    let mut out = covlens_core::output::Output::create(&a.output)?;
    let stats = covlens_core::convert(&mut out, &p, format, &opts)?;
    out.commit()?;
    // Said even with -q: line records were left out.
    crate::warn(&stats.clipped);
    // The global -q/--quiet also leaves out the totals.
    if !input.quiet {
        eprintln!("covlens: convert: {stats}");
    }
    Ok(())
}
