//! The `covlens` command line: gopherage's commands and more.
//!
//! clap's option structs stay in this crate; each command turns them into
//! plain values before calling `covlens-core`.

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use covlens_core::SetOp;
use covlens_core::printable::printable_lines;

mod commands;
mod input;
mod progress;

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
    /// What the first profile covers and none of the others do: its
    /// counts, zeroed where another covers the block (`go tool covdata
    /// subtract`, for text profiles and GOCOVERDIRs alike).
    Subtract(commands::setop::SetArgs),
    /// What every profile covers: the first's counts, zeroed where another
    /// does not cover the block (`go tool covdata intersect`, each input
    /// counted as a whole, all its runs together).
    Intersect(commands::setop::SetArgs),
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
    /// Why line-based tools (LCOV, Codecov) print another
    /// percentage than `go test -cover`: the profile counted three ways.
    Explain(commands::explain::ExplainArgs),
    /// Read Go binary coverage directories (GOCOVERDIR) like `go tool covdata`.
    #[command(subcommand)]
    Covdata(commands::covdata::CovdataCommand),
    /// Write a static report site: directory tree, packages, files with
    /// coloured source; works offline and from file://.
    Report(commands::report::ReportArgs),
    /// Per-package (or per-directory) table across branches with ▲/▼.
    Table(commands::table::TableArgs),
    /// The Markdown of a pull-request comment (base vs head), size-bounded.
    Comment(commands::comment::CommentArgs),
    /// An SVG badge with the total coverage.
    Badge(commands::badge::BadgeArgs),
    /// Check a coverage policy (.covlens.yml, flags): thresholds, patch
    /// coverage, ratchet; exit 1 when a rule is not met.
    Check(commands::check::CheckArgs),
    /// GitHub Checks annotations for uncovered changed lines (JSON).
    Annotate(commands::annotate::AnnotateArgs),
    /// Ship coverage snapshots of a running Go binary (a GOCOVERDIR or a
    /// KUBE_COVERAGE_FILE) to a directory or bucket; a sidecar.
    Collect(covlens_collector::CollectArgs),
    /// Coverage history: record runs, show trends per package, find drops.
    #[command(subcommand)]
    History(commands::history::HistoryCommand),
    /// Flaky coverage: blocks covered in some but not all runs of a job,
    /// by file and function, ranked.
    Flaky(commands::flaky::FlakyArgs),
    /// Prow: the ProwJob reporter.
    #[command(subcommand)]
    Prow(commands::prow::ProwCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(io::stderr)
        // Colours only for a terminal, never into a log file or pipe.
        .with_ansi(io::IsTerminal::is_terminal(&io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("COVLENS_LOG"))
        .init();
    let args: Vec<std::ffi::OsString> = commands::covdata::normalize_args(std::env::args_os())
        .into_iter()
        .collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => return usage_error(&args, e),
    };
    // The collector and the reporter handle their own signals (they flush,
    // or release their lease, before they end).
    if !matches!(cli.command, Command::Collect(_) | Command::Prow(_))
        && let Err(e) = remove_temporaries_on_signals()
    {
        let _ = writeln!(
            io::stderr().lock(),
            "covlens: warning: cannot handle signals: {e}"
        );
    }
    if !matches!(cli.command, Command::Collect(_)) {
        progress::init(!cli.input.quiet && io::IsTerminal::is_terminal(&io::stderr()));
    }
    let result = match cli.command {
        Command::Merge(a) => commands::merge::run_merge(&cli.input, a),
        Command::Aggregate(a) => commands::merge::run_aggregate(&cli.input, a),
        Command::Diff(a) => commands::diff::run(&cli.input, a),
        Command::Subtract(a) => commands::setop::run(&cli.input, SetOp::Subtract, a),
        Command::Intersect(a) => commands::setop::run(&cli.input, SetOp::Intersect, a),
        Command::Filter(a) => commands::filter::run(&cli.input, a),
        Command::Junit(a) => commands::junit::run(&cli.input, a),
        Command::Html(a) => commands::html::run(&cli.input, a),
        Command::Metadata(c) => commands::metadata::run(c),
        Command::Func(a) => commands::func::run(&cli.input, a),
        Command::Summary(a) => commands::summary::run(&cli.input, a),
        Command::Convert(a) => commands::convert::run(&cli.input, a),
        Command::Explain(a) => commands::explain::run(&cli.input, a),
        Command::Covdata(c) => commands::covdata::run(&cli.input, c),
        Command::Report(a) => commands::report::run(&cli.input, a),
        Command::Table(a) => commands::table::run(&cli.input, a),
        Command::Comment(a) => commands::comment::run(&cli.input, a),
        Command::Badge(a) => commands::badge::run(&cli.input, a),
        Command::Check(a) => commands::check::run(&cli.input, a),
        Command::Annotate(a) => commands::annotate::run(&cli.input, a),
        Command::Collect(a) => covlens_collector::run_cli(&a).map_err(Into::into),
        Command::History(c) => commands::history::run(&cli.input, c),
        Command::Flaky(a) => commands::flaky::run(&cli.input, a),
        Command::Prow(c) => commands::prow::run(c),
    };
    progress::finish();
    if covlens_core::counts_saturated() {
        warn([format!(
            "some counts reached {}, the largest a profile holds, and stopped there",
            covlens_core::MAX_COUNT
        )]);
    }
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
            // Messages echo names from inputs: controls are shown escaped.
            let msg = format!("{err:#}{}", hint(&err));
            let _ = writeln!(io::stderr().lock(), "covlens: {}", printable_lines(&msg));
            // A policy that cannot run is bad usage; one not met is 1.
            let bad_policy = err
                .downcast_ref::<covlens_policy::Error>()
                .is_some_and(|e| !matches!(e, covlens_policy::Error::ReadDiff { .. }));
            ExitCode::from(if bad_policy { 2 } else { 1 })
        }
    }
}

/// On SIGINT, SIGTERM or SIGHUP: removes the temporary files of outputs
/// being written, then ends the process by that signal (so the exit status
/// says so). The handler only wakes a thread; the thread does the work.
fn remove_temporaries_on_signals() -> io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(sig) = signals.forever().next() {
                covlens_core::output::abandon_temporaries();
                let _ = signal_hook::low_level::emulate_default_handler(sig);
                // Not reached: the default action of these signals ends
                // the process.
                std::process::exit(128 + sig);
            }
        })?;
    Ok(())
}

/// What this binary's flags can do about an error of the library.
fn hint(err: &anyhow::Error) -> &'static str {
    use covlens_core::{Error, ParseErrorKind};
    const UPGRADE: &str = " (use --mode-policy=upgrade to combine them)";
    if let Some(covlens_prow::reporter::ReporterError::NoKubeconfig(_)) = err.downcast_ref() {
        return "; pass --kubeconfig";
    }
    if let Some(covlens_policy::Error::MissingInput(m)) = err.downcast_ref()
        && *m == covlens_policy::OWNERS_NEEDED
    {
        return "; pass --owners DIR";
    }
    if err.chain().any(|e| {
        matches!(e.downcast_ref(), Some(Error::OutsideRoot { .. }))
            || matches!(
                e.downcast_ref(),
                Some(covlens_report_templates::Error::OutsideRoot { .. })
            )
    }) {
        return " (choose another --root, or leave such files out with `covlens filter`)";
    }
    match err.downcast_ref::<Error>() {
        Some(Error::ModeMismatch { .. }) => UPGRADE,
        Some(Error::Parse(p)) if matches!(p.kind, ParseErrorKind::ModeClash { .. }) => UPGRADE,
        Some(Error::CountWentDown { .. }) => "; use --restart-policy=clamp or after",
        Some(Error::Parse(p)) if matches!(p.kind, ParseErrorKind::LineTooLong { .. }) => {
            "; --max-line-bytes raises the limit"
        }
        _ => "",
    }
}

/// Prints warnings on stderr, one per line, controls escaped.
fn warn<W: std::fmt::Display>(warnings: impl IntoIterator<Item = W>) {
    note(warnings.into_iter().map(|w| format!("warning: {w}")));
}

/// Prints lines on stderr after `covlens: `, controls escaped.
fn note<W: std::fmt::Display>(lines: impl IntoIterator<Item = W>) {
    progress::suspend(|| {
        let mut err = io::stderr().lock();
        for l in lines {
            let _ = writeln!(err, "covlens: {}", printable_lines(&l.to_string()));
        }
    });
}

/// Exit codes as gopherage's: 2 for a wrong number of arguments (with its
/// "Expected ..." line), 1 for other bad options, 0 and help for no
/// command at all.
fn usage_error(args: &[std::ffi::OsString], e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let sub = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy())
        .find(|a| !a.starts_with('-'))
        .map(|a| a.into_owned());
    let code = match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => match sub.as_deref() {
            None => {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            Some("metadata") => {
                println!("Sub command required [inc, abs]");
                return ExitCode::from(1);
            }
            Some(_) => 2,
        },
        ErrorKind::MissingRequiredArgument => {
            match sub.as_deref() {
                Some("aggregate") => println!("Expected at least one file."),
                Some("html") => println!("Expected at least one coverage file."),
                Some("merge") => eprintln!("Expected at least one coverage file."),
                Some("diff") => eprintln!("Expected two files."),
                Some("filter") => eprintln!("Expected one file."),
                Some("junit") => eprintln!("Expected exactly one argument: coverage file path"),
                _ => {}
            }
            2
        }
        // An extra positional argument is a wrong count; an unknown flag
        // is a bad option.
        ErrorKind::UnknownArgument => {
            let extra_positional = e
                .get(clap::error::ContextKind::InvalidArg)
                .is_some_and(|v| !v.to_string().starts_with('-'));
            if extra_positional { 2 } else { 1 }
        }
        _ => 1,
    };
    // `check` and `annotate` exit 1 only for an unmet policy; `covdata`
    // exits 2 for bad usage, as Go's flag package does.
    let code = match sub.as_deref() {
        Some("check" | "annotate" | "covdata") if code != 0 => 2,
        _ => code,
    };
    let _ = e.print();
    ExitCode::from(code)
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
