//! The collector's error type.
//!
//! Messages say what failed, not why: the cause is the error's
//! [`source`](std::error::Error::source), which callers print after it
//! (`covlens` and `covlens-collect` print the whole chain; logs use
//! [`Chain`]).

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything that can go wrong while collecting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectorError {
    /// A bad option value or combination.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A destination URL that cannot be used.
    #[error("invalid destination {url}")]
    DestUrl {
        /// The destination as given.
        url: String,
        /// What the URL parser or the object store's builder said.
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
    /// A filesystem operation on a named path failed.
    #[error("{op} {}", path.display())]
    Io {
        /// What was being done ("reading", "renaming", ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The staging journal exists but is not valid JSON of the journal's
    /// format.
    #[error("staging journal {} cannot be read", path.display())]
    JournalUnreadable {
        /// The journal file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The staging journal was written by an incompatible collector.
    #[error("staging journal {}: version {found}, want {want}", path.display())]
    JournalVersion {
        /// The journal file.
        path: PathBuf,
        /// The version it has.
        found: u32,
        /// The version this collector writes.
        want: u32,
    },
    /// The staging journal names objects or keys that the collector would
    /// never write: outside the staging directory or the destination.
    #[error("staging journal {} is not this collector's: {why}", path.display())]
    JournalInvalid {
        /// The journal file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The staging directory could be changed by others: a link, another
    /// user's, or writable by group or others.
    #[error("staging directory {} cannot be trusted: {why}", path.display())]
    StagingUnsafe {
        /// The staging directory.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// Another collector holds the staging directory.
    #[error("staging directory {} is in use by another collector", .0.display())]
    StagingLocked(PathBuf),
    /// Staging a snapshot would exceed the staging limit even after
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
    /// Uploading to or deleting from the destination failed.
    #[error("destination {dest}: {op} {key}")]
    Dest {
        /// The destination (directory or URL).
        dest: String,
        /// "put" or "delete".
        op: &'static str,
        /// The object key.
        key: String,
        /// The store's error.
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
    /// A key that would leave a local destination's directory.
    #[error("destination {dest}: key {key:?} is not a relative path")]
    BadKey {
        /// The destination directory.
        dest: String,
        /// The key.
        key: String,
    },
    /// The file watcher could not be set up.
    #[error("watching {}", path.display())]
    Watch {
        /// The watched directory.
        path: PathBuf,
        /// notify's error.
        #[source]
        source: notify::Error,
    },
    /// The watched path cannot be used: its directory is missing, it is a
    /// symlink loop, or it is not what its kind needs.
    #[error("watched path {}: {why}", path.display())]
    WatchPath {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        why: String,
        /// The filesystem's error, if any.
        #[source]
        source: Option<io::Error>,
    },
    /// Snapshots were still staged when the collector stopped: the
    /// destination failed or the grace period ran out. They stay in the
    /// staging directory for a later run.
    #[error(
        "{pending} snapshot{} not uploaded; left in the staging directory {}",
        if *pending == 1 { "" } else { "s" },
        staging.display()
    )]
    NotUploaded {
        /// How many.
        pending: usize,
        /// The staging directory.
        staging: PathBuf,
        /// The last upload error.
        #[source]
        source: Option<Arc<CollectorError>>,
    },
    /// The last scan failed: the source's last state may not be shipped.
    #[error("the last collection failed")]
    LastScan(#[source] Arc<CollectorError>),
    /// A blocking task (startup, a scan) panicked or was cancelled.
    #[error("the {what} task failed")]
    Task {
        /// Which task.
        what: &'static str,
        /// tokio's error.
        #[source]
        source: tokio::task::JoinError,
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

/// An error and its causes, `what: why: ...`, for log lines.
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

/// Results of this crate.
pub type Result<T, E = CollectorError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leaves_the_cause_to_the_chain() {
        let e = CollectorError::io(
            "reading",
            "/cov/p.cov",
            io::Error::new(io::ErrorKind::PermissionDenied, "denied"),
        );
        assert_eq!(e.to_string(), "reading /cov/p.cov");
        assert_eq!(Chain(&e).to_string(), "reading /cov/p.cov: denied");
    }
}
