//! Loading profiles named on the command line.

use std::path::Path;

use anyhow::Result;
use clap::{Args, ValueEnum};
use covlens_core::{BlockPool, ModePolicy, ParseOptions, Profile, RawProfile, parse_path_raw};
use rayon::prelude::*;

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
    /// GOCOVERDIR inputs: list truncated, corrupt or mismatched files on
    /// stderr and read the rest, instead of failing.
    #[arg(long, global = true)]
    pub skip_bad: bool,
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
            skip_bad: self.skip_bad,
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
        return load_covdata(path, opts.mode_policy, opts.skip_bad);
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
fn load_covdata(dir: &str, mode_policy: ModePolicy, skip_bad: bool) -> Result<Profile> {
    let opts = covlens_core::covdata::ReadOptions {
        mode_policy,
        skip_bad,
        ..Default::default()
    };
    let data = covlens_core::covdata::read_dirs(&[dir], &opts)?;
    for b in &data.report().bad {
        eprintln!("covlens: warning: skipped {}: {}", b.path, b.error);
        for d in &b.dependents {
            eprintln!("covlens: warning: skipped {d} with its meta-data file");
        }
    }
    if data.report().pods == 0 {
        anyhow::bail!(
            "{dir}: is a directory without Go coverage data (no covmeta.* file), \
             expected a text profile or a GOCOVERDIR"
        );
    }
    Ok(data.to_profile()?)
}

/// One input read for merging.
pub enum Loaded {
    /// A text profile, not yet grouped per file.
    Raw(RawProfile),
    /// A GOCOVERDIR, already converted.
    Profile(Profile),
}

/// Small files are read in parallel batches of up to this many bytes.
const BATCH_BYTES: u64 = 32 << 20;
/// A file at least this large is parsed alone (in parallel inside).
const LARGE: u64 = 1 << 20;

/// Reads `files` in order and hands each to `f` in that order. Runs of
/// small regular files (per-package or per-node profiles, thousands of
/// them in an e2e job) are parsed in parallel across files; large files
/// are parsed one at a time, each split across threads.
pub fn for_each_input(
    files: &[String],
    opts: &ParseOptions,
    pool: &mut BlockPool,
    mut f: impl FnMut(&str, Loaded, &mut BlockPool) -> Result<()>,
) -> Result<()> {
    let small =
        |p: &str| p != "-" && std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() < LARGE);
    let mut i = 0;
    while i < files.len() {
        let path = files[i].as_str();
        if !small(path) {
            let loaded = if is_covdata_dir(path) {
                Loaded::Profile(load(path, opts)?)
            } else {
                Loaded::Raw(parse_path_raw(Path::new(path), opts, pool)?)
            };
            f(path, loaded, pool)?;
            i += 1;
            continue;
        }
        let mut j = i;
        let mut bytes = 0u64;
        while j < files.len() && small(&files[j]) && bytes < BATCH_BYTES {
            bytes += std::fs::metadata(&files[j]).map(|m| m.len()).unwrap_or(0);
            j += 1;
        }
        let parsed: Vec<Result<RawProfile, covlens_core::Error>> = files[i..j]
            .par_iter()
            .map(|p| parse_path_raw(Path::new(p), opts, &mut BlockPool::default()))
            .collect();
        for (p, r) in files[i..j].iter().zip(parsed) {
            f(p, Loaded::Raw(r?), pool)?;
        }
        i = j;
    }
    Ok(())
}
