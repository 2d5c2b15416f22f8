//! The options every command that reads profiles takes, and the loader
//! built from them.

use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use covlens_core::input::{LoadOptions, Loader};
use covlens_core::{ModePolicy, ParseOptions, Profile};
use covlens_objects::Objects;

use crate::commands::{Names, choice};

/// The `after_help` of a command that reads profiles: what an input may
/// be, then an example reading a GOCOVERDIR and one reading stdin.
macro_rules! inputs_help {
    ($dir:literal, $stdin:literal) => {
        concat!(
            "Inputs: each profile may be a text profile (`go test -coverprofile`), a GOCOVERDIR ",
            "directory (binary coverage data written by a program built with `-cover`), `-` ",
            "for standard input, or an object-store URL (gs://BUCKET/KEY, ",
            "s3://BUCKET/KEY, file:///PATH; a key ending in / reads every object under it, ",
            "* and ? match within a /-separated segment, ** across them; Go's covmeta/covcounters ",
            "files under one prefix are a GOCOVERDIR; credentials from the environment); text and ",
            "binary inputs mix.\n\nExamples:\n  # a GOCOVERDIR\n  ",
            $dir,
            "\n  # standard input\n  ",
            $stdin,
            "\n  # every .cov profile of a Prow job, as an input (quoted: the shell must not expand it)\n  ",
            "'gs://BUCKET/logs/JOB/BUILD/artifacts/**/*.cov'"
        )
    };
}
pub(crate) use inputs_help;

/// Options shared by every command that reads profiles.
#[derive(Args, Debug, Clone)]
// Listed after each command's own options, not among them.
#[command(next_help_heading = "Input options")]
pub struct InputArgs {
    /// Read files with read(2) instead of memory-mapping them.
    #[arg(long, global = true)]
    pub no_mmap: bool,
    /// Inputs (or `mode:` lines) with different modes: fail, or combine at
    /// the highest mode (set < count < atomic).
    #[arg(long, global = true, default_value = "strict", value_parser = choice(MODE_POLICY))]
    pub mode_policy: ModePolicy,
    /// GOCOVERDIR inputs: list truncated, corrupt or mismatched files on
    /// stderr and read the rest, instead of failing.
    #[arg(long, global = true)]
    pub skip_bad: bool,
    /// Text profiles: the longest line accepted, in bytes; input without
    /// a newline within it is an error (memory stays bounded whatever the
    /// input).
    #[arg(
        long,
        global = true,
        value_name = "BYTES",
        default_value_t = covlens_core::MAX_LINE as u64,
        value_parser = clap::value_parser!(u64).range(1..=1 << 40)
    )]
    pub max_line_bytes: u64,
    /// No progress display on stderr (shown otherwise when stderr is a
    /// terminal and reading takes over a second); `convert` also leaves
    /// out its totals.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

const MODE_POLICY: Names<ModePolicy> = &[
    ("strict", ModePolicy::Strict),
    ("upgrade", ModePolicy::Upgrade),
];

impl InputArgs {
    pub fn load_options(&self) -> LoadOptions {
        LoadOptions {
            parse: ParseOptions {
                mode_policy: self.mode_policy,
                mmap: !self.no_mmap,
                max_line: usize::try_from(self.max_line_bytes).unwrap_or(usize::MAX),
                ..ParseOptions::default()
            },
            skip_bad: self.skip_bad,
        }
    }
}

/// Runs `f` with a loader and prints the loader's warnings on stderr, also
/// when `f` fails (they say what was left out before the error).
pub fn with_loader<T>(
    opts: &LoadOptions,
    f: impl FnOnce(&mut Loader) -> Result<T, covlens_core::Error>,
) -> Result<T> {
    // Inputs with a URL scheme are listed and streamed from their store.
    let mut loader = Loader::new(opts.clone()).with_remote(Arc::new(Objects::default()));
    if let Some(hook) = crate::progress::hook() {
        loader = loader.with_progress(hook);
    }
    let res = f(&mut loader);
    crate::warn(loader.take_warnings());
    Ok(res?)
}

/// Reads one profile (a text profile, `-`, or a GOCOVERDIR).
pub fn load(path: &str, opts: &LoadOptions) -> Result<Profile> {
    with_loader(opts, |l| l.load(path))
}
