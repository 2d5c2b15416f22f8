//! The collector's error type.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while collecting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectorError {
    /// A bad option value or combination.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A filesystem operation on a named path failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done ("reading", "renaming", ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The staging journal exists but cannot be read back.
    #[error("staging journal {}: {msg}", path.display())]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// Why it was rejected.
        msg: String,
    },
    /// Another collector holds the staging directory.
    #[error("staging directory {} is in use by another collector", .0.display())]
    StagingLocked(PathBuf),
    /// Staging a snapshot would exceed `--max-staging-bytes` even after
    /// dropping every superseded snapshot.
    #[error("staging full: {need} bytes needed, {used} of {limit} in use")]
    StagingFull {
        /// Size of the snapshot that did not fit.
        need: u64,
        /// Bytes already staged.
        used: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A file changed between being read and being copied into staging;
    /// it is read again at the next scan.
    #[error("{}: changed while being staged", .0.display())]
    SourceChanged(PathBuf),
    /// A snapshot that is incomplete or malformed; it is never shipped.
    #[error("{}: rejected snapshot: {reason}", path.display())]
    Rejected {
        /// The source file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Uploading to or deleting from the destination failed.
    #[error("destination {dest}: {op} {key}: {msg}")]
    Dest {
        /// The destination (directory or URL).
        dest: String,
        /// "put" or "delete".
        op: &'static str,
        /// The object key.
        key: String,
        /// The store's error message.
        msg: String,
    },
    /// The file watcher could not be set up.
    #[error("watching {}: {source}", path.display())]
    Watch {
        /// The watched directory.
        path: PathBuf,
        /// notify's error.
        #[source]
        source: notify::Error,
    },
}

impl CollectorError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        CollectorError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Results of this crate.
pub type Result<T, E = CollectorError> = std::result::Result<T, E>;
