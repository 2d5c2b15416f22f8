//! The store's error type.

use std::fmt;

/// What went wrong while opening, recording into or reading a history store.
///
/// `Display` never repeats the cause's text; walk [`std::error::Error::source`]
/// for it (the binary prints the whole chain).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store location is neither a file path nor a PostgreSQL URL.
    #[error("unrecognised store {0:?}: expected a file path, sqlite:PATH, or a postgres:// URL")]
    BadLocation(String),
    /// Reading a store file that does not exist.
    #[error("{0} does not exist: record a run first")]
    NoStore(String),
    /// An SQLite file that is another program's database: covlens neither
    /// reads it nor adds its tables to it.
    #[error(
        "{0} is an SQLite database but not a covlens history store (it has tables, none of them covlens_schema)"
    )]
    NotAStore(String),
    /// An SQLite file with no table: no run was recorded into it.
    #[error("{0} holds no history yet: record a run first")]
    EmptyStore(String),
    /// The PostgreSQL URL does not parse.
    #[error("invalid PostgreSQL URL")]
    BadUrl(#[source] postgres::Error),
    /// An SQLite call failed.
    #[error("SQLite store {path}")]
    Sqlite {
        /// The database file.
        path: String,
        /// The driver's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A PostgreSQL call failed.
    #[error("PostgreSQL store")]
    Postgres(#[source] postgres::Error),
    /// The store was written by a newer covlens.
    #[error(
        "the store's schema is version {found}, newer than this covlens knows ({known}); use a newer covlens"
    )]
    SchemaTooNew {
        /// Version found in the store.
        found: u32,
        /// Newest version this library can migrate to.
        known: u32,
    },
    /// The run is already recorded, with other numbers or provenance.
    #[error(
        "job {job:?} build {build:?} is already recorded with different data (stored: {stored}; new: {new})"
    )]
    Conflict {
        /// Job name.
        job: String,
        /// Build id.
        build: String,
        /// What the store holds.
        stored: Box<RunDigest>,
        /// What was about to be recorded.
        new: Box<RunDigest>,
    },
    /// The run is not recorded.
    #[error("job {job:?} build {build:?} is not recorded: record the run first")]
    NoRun {
        /// Job name.
        job: String,
        /// Build id.
        build: String,
    },
    /// A time that is not RFC 3339.
    #[error("invalid time {0:?}: expected RFC 3339, such as 2026-12-02T16:04:56Z")]
    BadTime(String),
    /// A required name is empty.
    #[error("the {0} must not be empty")]
    Empty(&'static str),
    /// A file is listed twice in one run.
    #[error("file {0:?} is listed twice in one run")]
    DuplicateFile(String),
    /// A package is listed twice in one run's flaky coverage.
    #[error("package {0:?} is listed twice in one run's flaky coverage")]
    DuplicatePackage(String),
    /// A per-file number does not fit the store's columns.
    #[error("file {name:?}: {statements} statements is more than the store holds (2^31-1)")]
    TooLarge {
        /// The file.
        name: String,
        /// Its statement count.
        statements: u64,
    },
    /// A package is outside the directory `--depth` counts from.
    #[error("package {package:?} is not under the root {root:?} (choose another root)")]
    OutsideRoot {
        /// The package.
        package: String,
        /// The root.
        root: String,
    },
    /// The store cannot be opened.
    #[error("cannot open the history store {store}")]
    Open {
        /// Its location, password redacted.
        store: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// A run to record has no files.
    #[error("the inputs have no files; nothing recorded")]
    NothingToRecord,
    /// Writing output failed.
    #[error("writing output")]
    Io(#[from] std::io::Error),
    /// Serialising JSON failed.
    #[error("writing JSON")]
    Json(#[from] serde_json::Error),
}

/// A recorded run's identity as compared on a second recording: its
/// provenance and its numbers (the digest covers every file's numbers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDigest {
    /// Branch, if given.
    pub branch: Option<String>,
    /// Commit, if given.
    pub commit: Option<String>,
    /// Number of files.
    pub files: u64,
    /// Covered statements.
    pub covered: u64,
    /// All statements.
    pub statements: u64,
    /// Order-independent hash of every file's name and numbers (hex).
    pub digest: String,
}

impl fmt::Display for RunDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "branch {}, commit {}, {} files, {}/{} statements covered, digest {}",
            self.branch.as_deref().unwrap_or("-"),
            self.commit.as_deref().unwrap_or("-"),
            self.files,
            self.covered,
            self.statements,
            &self.digest[..self.digest.len().min(16)]
        )
    }
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn sqlite(path: &str) -> impl Fn(rusqlite::Error) -> Error + '_ {
    move |source| Error::Sqlite {
        path: path.to_string(),
        source,
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Error {
        Error::Postgres(e)
    }
}
