//! `convert`: LCOV, Cobertura and JSON (see docs/convert.md).

use anyhow::Result;
use clap::Args;
use covlens_core::{CoberturaCounts, ConvertFormat, ConvertOptions, LineHits};

use super::{Names, Out, choice, write_with};
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
    #[arg(long, value_parser = choice(TO))]
    to: ConvertFormat,
    #[command(flatten)]
    out: Out,
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
    #[arg(long, default_value = "max", value_parser = choice(LINE_HITS))]
    line_hits: LineHits,
    /// What Cobertura's line-rate and lines-covered/lines-valid count:
    /// Go statements (as `go tool cover`) or `<line>` elements.
    #[arg(long, default_value = "statements", value_parser = choice(COUNTS))]
    cobertura_counts: CoberturaCounts,
    /// Cobertura timestamp in milliseconds since the epoch [default:
    /// $SOURCE_DATE_EPOCH * 1000, else 0, so output is reproducible].
    #[arg(long, value_name = "MILLIS")]
    timestamp: Option<u64>,
}

const TO: Names<ConvertFormat> = &[
    ("lcov", ConvertFormat::Lcov),
    ("cobertura", ConvertFormat::Cobertura),
    ("json", ConvertFormat::Json),
];
const LINE_HITS: Names<LineHits> = &[("max", LineHits::Max), ("min", LineHits::Min)];
const COUNTS: Names<CoberturaCounts> = &[
    ("statements", CoberturaCounts::Statements),
    ("lines", CoberturaCounts::Lines),
];

pub fn run(input: &InputArgs, a: ConvertArgs) -> Result<()> {
    let p = load(&a.file, &input.load_options())?;
    let timestamp = match a.timestamp {
        Some(t) => t,
        None => ConvertOptions::timestamp_from_env()?,
    };
    let opts = ConvertOptions {
        strip_prefixes: a.strip_prefix,
        source_dir: a.source_dir,
        line_hits: a.line_hits,
        cobertura_counts: a.cobertura_counts,
        timestamp,
        ..ConvertOptions::default()
    };
    let stats = write_with(&a.out.output, |w| covlens_core::convert(w, &p, a.to, &opts))?;

    // Said even with -q: line records were left out.
    crate::warn(&stats.clipped);
    // The global -q/--quiet also leaves out the totals.
    if !input.quiet {
        eprintln!("covlens: convert: {stats}");
    }
    Ok(())
}
