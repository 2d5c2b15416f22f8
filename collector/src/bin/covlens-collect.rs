//! A standalone `covlens collect` for small sidecar images (no tree-sitter,
//! none of the report commands).

use std::process::ExitCode;

use clap::Parser;
use covlens_collector::CollectArgs;

#[derive(Parser, Debug)]
#[command(name = "covlens-collect", version, about)]
struct Cli {
    #[command(flatten)]
    args: CollectArgs,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COVLENS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    match covlens_collector::run_cli(&cli.args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The error and its causes: `what: why: ...`.
            let mut msg = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                msg = format!("{msg}: {c}");
                cause = c.source();
            }
            eprintln!("covlens-collect: {msg}");
            ExitCode::from(1)
        }
    }
}
