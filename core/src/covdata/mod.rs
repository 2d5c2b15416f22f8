//! Go's binary coverage data (`GOCOVERDIR`, Go ≥ 1.20), read natively.
//!
//! A coverage directory holds meta-data files (`covmeta.<hash>`: packages,
//! functions and their coverable units) and counter-data files
//! (`covcounters.<hash>.<pid>.<nanos>`: one snapshot of a process's
//! counters). [`discover()`] groups them into pods as Go does, [`read_dirs`]
//! decodes, verifies and merges them into a [`CovData`], which prints
//! exactly what `go tool covdata textfmt|percent|func|pkglist` prints
//! ([`write_textfmt`] and friends) or converts to a text-model
//! [`Profile`](crate::Profile) ([`CovData::to_profile`]). [`go_flag_args`]
//! reads Go's spellings of `go tool covdata`'s flags.
//!
//! Every decoder is bounds-checked: a truncated, corrupt or mismatched
//! file gives [`Error::Covdata`](crate::Error::Covdata) naming the file,
//! the byte offset and what was expected there.
//!
//! ```no_run
//! use covlens_core::covdata::{read_dirs, write_textfmt, ReadOptions};
//! let data = read_dirs(&["covdir"], &ReadOptions::default())?;
//! write_textfmt(&mut std::io::stdout(), &data)?;
//! let profile = data.to_profile()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod counters;
mod data;
mod discover;
mod dump;
mod encode;
mod format;
mod go_flags;
mod hash;
mod meta;
pub mod names;
mod pattern;
mod read_pod;
mod wire;
mod write;

use std::fmt;

pub use counters::{
    Arg, COUNTER_MAGIC, CounterFile, Flavor, Record, SNAPSHOT_KEY, Segment, head_snapshot_process,
    parse_counters,
};
pub use data::{BadFile, CovData, ReadOptions, ReadReport, Warning, read_covdirs, read_dirs};
pub use discover::{
    CounterRef, CovDir, Discovery, FileData, MemoryFiles, Pod, Snapshots, discover, discover_dirs,
    read_if_magic,
};
pub use dump::{DumpOptions, DumpReport, write_debugdump};
pub use format::{write_func, write_percent, write_pkglist, write_textfmt};
pub use go_flags::go_flag_args;
pub use hash::HashAlgo;
pub use meta::{
    CounterMode, FileHashScheme, Function, Granularity, MetaFile, Package, Unit, function_hash,
    parse_meta,
};
pub use pattern::PackageFilter;
pub use write::{DirOp, WriteOptions, WriteReport, write_dirs};

/// A binary coverage file that is truncated, corrupt, or does not match
/// its meta-data file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CovdataError {
    /// The file.
    pub path: String,
    /// Byte offset in the file where the problem was found.
    pub offset: u64,
    /// What should have been there.
    pub expected: String,
    /// What was there instead, when it helps.
    pub found: Option<String>,
}

impl fmt::Display for CovdataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: at byte offset {}: expected {}",
            self.path, self.offset, self.expected
        )?;
        if let Some(found) = &self.found {
            write!(f, ", found {found}")?;
        }
        Ok(())
    }
}
