//! Loading profiles named on the command line.

use std::path::Path;

use anyhow::Result;
use clap::{Args, ValueEnum};
use covlens_core::{ModePolicy, ParseOptions, Profile};

/// Options shared by every command that reads profiles.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Read files with read(2) instead of memory-mapping them.
    #[arg(long, global = true)]
    pub no_mmap: bool,
    /// Inputs (or `mode:` lines) with different modes: fail, or combine at
    /// the highest mode (set < count < atomic).
    #[arg(long, value_enum, default_value_t = ModePolicyArg::Strict, global = true)]
    pub mode_policy: ModePolicyArg,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModePolicyArg {
    Strict,
    Upgrade,
}

impl InputArgs {
    pub fn parse_options(&self) -> ParseOptions {
        ParseOptions {
            mode_policy: self.mode_policy(),
            mmap: !self.no_mmap,
            ..ParseOptions::default()
        }
    }

    pub fn mode_policy(&self) -> ModePolicy {
        match self.mode_policy {
            ModePolicyArg::Strict => ModePolicy::Strict,
            ModePolicyArg::Upgrade => ModePolicy::Upgrade,
        }
    }
}

/// Reads one profile; `-` is standard input, and a directory is read as
/// Go binary coverage data (a GOCOVERDIR).
pub fn load(path: &str, opts: &ParseOptions) -> Result<Profile> {
    if is_covdata_dir(path) {
        return load_covdata(path, opts.mode_policy);
    }
    Ok(covlens_core::parse_path(Path::new(path), opts)?)
}

/// Whether `path` names a directory, to be read as GOCOVERDIR data.
pub fn is_covdata_dir(path: &str) -> bool {
    path != "-" && Path::new(path).is_dir()
}

/// Reads a GOCOVERDIR as a profile (newest snapshot per process; pods
/// with different modes need `--mode-policy=upgrade`). A directory without
/// any meta-data file is an error: it is almost surely not what was meant.
fn load_covdata(dir: &str, mode_policy: ModePolicy) -> Result<Profile> {
    let opts = covlens_core::covdata::ReadOptions {
        mode_policy,
        ..Default::default()
    };
    let data = covlens_core::covdata::read_dirs(&[dir], &opts)?;
    if data.report().pods == 0 {
        anyhow::bail!(
            "{dir}: is a directory without Go coverage data (no covmeta.* file), \
             expected a text profile or a GOCOVERDIR"
        );
    }
    Ok(data.to_profile()?)
}
