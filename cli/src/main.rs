//! The `covlens` command line: gopherage's commands and more.
//!
//! clap's option structs stay in this crate; each command turns them into
//! plain values before calling `covlens-core`.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod input;
mod output;

use crate::input::InputArgs;

/// Fast Go coverage tooling for CI: merge, diff, aggregate, filter and
/// report Go coverage profiles. A drop-in replacement for gopherage.
#[derive(Parser, Debug)]
#[command(name = "covlens", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    input: InputArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Merge coverage profiles of the same source into one (counts add up;
    /// set mode ORs).
    Merge(commands::merge::MergeArgs),
    /// Count, per block, how many of the profiles hit it at least once.
    Aggregate(commands::merge::AggregateArgs),
    /// Subtract one profile from another (after - before).
    Diff(commands::diff::DiffArgs),
    /// Keep or drop files by path regex.
    Filter(commands::filter::FilterArgs),
    /// Summarise per file and directory as JUnit XML for TestGrid.
    Junit(commands::junit::JunitArgs),
    /// Write a self-contained HTML summary page of one or more profiles.
    Html(commands::html::HtmlArgs),
    /// Write gopherage's coverage metadata JSON.
    #[command(subcommand)]
    Metadata(commands::metadata::MetadataCommand),
    /// Per-function coverage, exactly as `go tool cover -func` prints it.
    Func(commands::func::FuncArgs),
    /// Per-file, per-package and per-directory rollups.
    Summary(commands::summary::SummaryArgs),
    /// Convert a profile to LCOV, Cobertura XML or JSON.
    Convert(commands::convert::ConvertArgs),
    /// Read Go binary coverage directories (GOCOVERDIR) like `go tool covdata`.
    #[command(subcommand)]
    Covdata(commands::covdata::CovdataCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("COVLENS_LOG"))
        .init();
    let cli = Cli::parse_from(commands::covdata::normalize_args(std::env::args_os()));
    let result = match cli.command {
        Command::Merge(a) => commands::merge::run_merge(&cli.input, a),
        Command::Aggregate(a) => commands::merge::run_aggregate(&cli.input, a),
        Command::Diff(a) => commands::diff::run(&cli.input, a),
        Command::Filter(a) => commands::filter::run(&cli.input, a),
        Command::Junit(a) => commands::junit::run(&cli.input, a),
        Command::Html(a) => commands::html::run(&cli.input, a),
        Command::Metadata(c) => commands::metadata::run(c),
        Command::Func(a) => commands::func::run(&cli.input, a),
        Command::Summary(a) => commands::summary::run(&cli.input, a),
        Command::Convert(a) => commands::convert::run(&cli.input, a),
        Command::Covdata(c) => commands::covdata::run(&cli.input, c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // A closed pipe (`covlens … | head`) is not a failure.
            if err.chain().any(|e| {
                e.downcast_ref::<io::Error>()
                    .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            let mut stderr = io::stderr().lock();
            let _ = write!(stderr, "covlens: {err}");
            for cause in err.chain().skip(1) {
                let _ = write!(stderr, ": {cause}");
            }
            let _ = writeln!(stderr);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
