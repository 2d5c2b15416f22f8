//! The collector's error type.
//!
//! Messages say what failed, not why: the cause is the error's
//! [`source`](std::error::Error::source), which callers print after it
//! (`covlens` and `covlens-collect` print the whole chain; logs use
//! [`Chain`]).

use std::error::Error;
use std::ffi::OsStr;
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
    #[error("{op} {}", esc(path))]
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
    #[error("staging journal {} cannot be read", esc(path))]
    JournalUnreadable {
        /// The journal file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The staging journal was written by an incompatible collector.
    #[error("staging journal {}: version {found}, want {want}", esc(path))]
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
    #[error("staging journal {} is not this collector's: {why}", esc(path))]
    JournalInvalid {
        /// The journal file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The staging directory could be changed by others: a link, another
    /// user's, or writable by group or others.
    #[error("staging directory {} cannot be trusted: {why}", esc(path))]
    StagingUnsafe {
        /// The staging directory.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// Another collector holds the staging directory.
    #[error("staging directory {} is in use by another collector", esc(.0))]
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
    #[error("{}: changed while being staged", esc(.0))]
    SourceChanged(PathBuf),
    /// Uploading to or deleting from the destination failed.
    #[error("destination {}: {op} {}", esc(dest), esc(key))]
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
    #[error("watching {}", esc(path))]
    Watch {
        /// The watched directory.
        path: PathBuf,
        /// notify's error.
        #[source]
        source: notify::Error,
    },
    /// The watched path cannot be used: its directory is missing, it is a
    /// symlink loop, or it is not what its kind needs.
    #[error("watched path {}: {}", esc(path), esc(why))]
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
        esc(staging)
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

/// A name (a path, a key, text from a file) as it may be shown in a log
/// line or on a terminal: control characters (C0, DEL, C1) and the Unicode
/// bidirectional controls are escaped (`\n`, `\u{1b}`), so names from the
/// shared volume or the environment can neither forge log lines nor send
/// escape sequences to a terminal. Nothing else changes, and no quotes are
/// added; invalid UTF-8 shows as U+FFFD.
pub(crate) struct Escaped<'a>(&'a OsStr);

/// [`Escaped`] of a path or string.
pub(crate) fn esc<S: AsRef<OsStr> + ?Sized>(s: &S) -> Escaped<'_> {
    Escaped(s.as_ref())
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        for c in self.0.to_string_lossy().chars() {
            match c {
                '\n' => f.write_str("\\n")?,
                '\r' => f.write_str("\\r")?,
                '\t' => f.write_str("\\t")?,
                c if c.is_control()
                    || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
                {
                    write!(f, "\\u{{{:x}}}", u32::from(c))?
                }
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An error and its causes, `what: why: ...`, for log lines.
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Causes from other crates may quote names raw: escaped too.
        write!(f, "{}", esc(&self.0.to_string()))?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {}", esc(&e.to_string()))?;
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
    fn names_are_escaped() {
        let shown =
            esc("a\u{1b}[2J\nb\r\t\u{7f}\u{9b}\u{202e}c\\d \"e\" gr\u{f6}\u{df}e").to_string();
        assert_eq!(
            shown,
            "a\\u{1b}[2J\\nb\\r\\t\\u{7f}\\u{9b}\\u{202e}c\\d \"e\" gr\u{f6}\u{df}e"
        );
        let e = CollectorError::io(
            "reading",
            "/cov/p\n2099 ERROR forged",
            io::Error::other("x"),
        );
        assert_eq!(e.to_string(), "reading /cov/p\\n2099 ERROR forged");
    }

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
