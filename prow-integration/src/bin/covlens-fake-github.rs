//! A fake GitHub API on loopback for scripts (see
//! `covlens_prow::github::fake`). Prints its base URL as the first line
//! of stdout, then serves until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Parser;
use covlens_prow::github::fake::{FakeGitHub, FakeOptions};

#[derive(Parser, Debug)]
#[command(name = "covlens-fake-github", version, about)]
struct Cli {
    /// Address to listen on (port 0: a free one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// State file: loaded at start if it exists, written after every change.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Largest page of a listing (GitHub's: 100).
    #[arg(long)]
    page_size: Option<usize>,
    /// API path prefix, e.g. /api/v3 as on GitHub Enterprise.
    #[arg(long, default_value = "")]
    prefix: String,
    /// Accepted token and its login, TOKEN=LOGIN (repeatable); none: any
    /// token is `covlens-bot`.
    #[arg(long = "token", value_name = "TOKEN=LOGIN")]
    tokens: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut tokens = Vec::new();
    for t in &cli.tokens {
        let Some((token, login)) = t.split_once('=') else {
            bail!("--token {t:?}: expected TOKEN=LOGIN");
        };
        tokens.push((token.to_owned(), login.to_owned()));
    }
    if !cli.prefix.is_empty() && !cli.prefix.starts_with('/') {
        bail!("--prefix {:?}: must start with /", cli.prefix);
    }
    let options = FakeOptions {
        listen: cli.listen,
        prefix: cli.prefix,
        page_size: cli.page_size,
        tokens,
        state_file: cli.state,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let fake = FakeGitHub::start(options)
            .await
            .context("cannot start the fake GitHub")?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", fake.url())?;
        out.flush()?;
        drop(out);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("cannot watch SIGTERM")?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        drop(fake);
        Ok(())
    })
}
