/*!
covlens-history keeps the coverage of runs over time, per file, and answers
"how did each package do in the last N runs of this job" and "which packages
fell, and when".

A run is a job's build: its provenance (job, build id, branch, commit, time,
who recorded it) and, per file, the statements and covered statements, so a
Kubernetes-sized run (4,350 files) costs tens of kilobytes, not the 20 MB
profile. Package and directory rollups are sums over the files, computed
when read. `(job, build)` identifies a run: recording it again is a no-op,
or an error when the numbers or provenance differ.

Two backends implement [`Backend`] over one schema with numbered migrations
(see [`SCHEMA_VERSION`]): [`SqliteStore`], one file, the default; and
[`PostgresStore`], for several jobs and reporters writing to one shared
database. [`Store::open`] picks one from a location: a `postgres://` or
`postgresql://` URL, else a file path (`sqlite:` prefix optional).
[`Store::record_profile`] records a merged profile with its flaky coverage
([`write_recorded`] says what it did), and [`Trends`] reads the last runs
of a job that reports draw their trends from.

```
use covlens_core::Counts;
use covlens_history::{FileCounts, HistoryQuery, NewRun, Recorded, Source, Store, Timestamp};

let mut store = Store::open(":memory:")?;
let run = |build, time| NewRun {
    job: "e2e", build, branch: Some("main"), commit: None,
    time: Timestamp::parse_rfc3339(time).unwrap(), source: Source::Cli,
};
let files = |covered| [FileCounts { name: "k8s.io/a/x.go", counts: Counts { covered, total: 10 } }];
store.record(&run("1", "2026-12-01T00:00:00Z"), files(8))?;
store.record(&run("2", "2026-12-02T00:00:00Z"), files(5))?;
assert_eq!(store.record(&run("2", "2026-12-02T00:00:00Z"), files(5))?, Recorded::Unchanged);
assert!(store.record(&run("2", "2026-12-02T00:00:00Z"), files(6)).is_err());

let h = store.history(&HistoryQuery { job: "e2e", path: None, depth: None, root: None, last: 10 })?;
assert_eq!(h.rows[0].name, "k8s.io/a");
let drops = h.drops(1.0);
assert_eq!((drops[0].from, drops[0].to, drops[0].points.round()), (0, 1, 30.0));
# Ok::<(), Box<dyn std::error::Error>>(())
```
*/
#![deny(missing_docs)]

mod backend;
mod error;
mod postgres;
mod record;
mod render;
mod run;
mod schema;
mod sqlite;
mod time;
mod trend;

pub use crate::backend::Backend;
pub use crate::error::{Error, Result, RunDigest};
pub use crate::postgres::PostgresStore;
pub use crate::record::{Trends, check_recordable, write_recorded};
pub use crate::render::{Format, write_drops, write_history};
pub use crate::run::{FileCounts, FlakyCounts, NewRun, Recorded, Run, Source, profile_files};
pub use crate::schema::LATEST as SCHEMA_VERSION;
pub use crate::sqlite::SqliteStore;
pub use crate::time::Timestamp;
pub use crate::trend::{DropRow, History, HistoryQuery, HistoryRow};

/// The store used when none is named: a SQLite file in the working
/// directory.
pub const DEFAULT_STORE: &str = "covlens-history.db";

/// Where a store lives, as parsed from its location string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location<'a> {
    /// An SQLite file (or `:memory:`).
    Sqlite(&'a str),
    /// A PostgreSQL connection URL.
    Postgres(&'a str),
}

impl<'a> Location<'a> {
    /// `postgres://...` and `postgresql://...` are PostgreSQL; `sqlite:PATH`,
    /// `sqlite://PATH` and any other non-empty string are an SQLite file.
    pub fn parse(s: &'a str) -> Result<Location<'a>> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Location::Postgres(s));
        }
        let path = s
            .strip_prefix("sqlite://")
            .or_else(|| s.strip_prefix("sqlite:"))
            .unwrap_or(s);
        if path.is_empty() || path.contains("://") {
            return Err(Error::BadLocation(s.to_string()));
        }
        Ok(Location::Sqlite(path))
    }
}

/// The location for messages: a PostgreSQL URL's password (`user:PASS@`
/// or `password=PASS`) is replaced by `***`.
pub fn redacted(location: &str) -> String {
    let Ok(Location::Postgres(url)) = Location::parse(location) else {
        return location.to_string();
    };
    let mut out = url.to_string();
    let scheme_end = out.find("://").map_or(0, |i| i + 3);
    let authority_end = out[scheme_end..]
        .find(['/', '?'])
        .map_or(out.len(), |i| scheme_end + i);
    if let Some(at) = out[scheme_end..authority_end].rfind('@')
        && let Some(colon) = out[scheme_end..scheme_end + at].find(':')
    {
        out.replace_range(scheme_end + colon + 1..scheme_end + at, "***");
    }
    if let Some(q) = out.find('?') {
        let query: Vec<String> = out[q + 1..]
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k == "password" => format!("{k}=***"),
                _ => kv.to_string(),
            })
            .collect();
        out.replace_range(q + 1.., &query.join("&"));
    }
    out
}

/// A history store, either backend.
pub struct Store {
    backend: Box<dyn Backend + Send>,
}

impl Store {
    /// Opens the store at `location` (see [`Location::parse`]), creating it
    /// or migrating its schema if needed.
    pub fn open(location: &str) -> Result<Store> {
        Store::open_with(location, true)
    }

    /// Opens an existing store for reading: as [`Store::open`], but a
    /// missing SQLite file is [`Error::NoStore`], not created.
    pub fn open_existing(location: &str) -> Result<Store> {
        Store::open_with(location, false)
    }

    /// Opens an existing store to read from it only (`show`, `drops`,
    /// trends): an SQLite file through a read-only connection, so a store
    /// on a read-only mount is read and nothing is written to it.
    pub fn open_reader(location: &str) -> Result<Store> {
        let backend: Box<dyn Backend + Send> = match Location::parse(location)? {
            Location::Sqlite(path) => Box::new(SqliteStore::open_reader(path)?),
            Location::Postgres(url) => Box::new(PostgresStore::open_at(url, schema::LATEST)?),
        };
        Ok(Store { backend })
    }

    fn open_with(location: &str, create: bool) -> Result<Store> {
        Store::open_at(location, create, schema::LATEST)
    }

    /// Opens or creates the store with its schema migrated no further than
    /// `version`: how the migration tests write data as an older covlens
    /// did. Reading such a store needs the later columns; record only.
    #[doc(hidden)]
    pub fn open_at(location: &str, create: bool, version: u32) -> Result<Store> {
        let backend: Box<dyn Backend + Send> = match Location::parse(location)? {
            Location::Sqlite(path) => Box::new(SqliteStore::open_at(path, create, version)?),
            Location::Postgres(url) => Box::new(PostgresStore::open_at(url, version)?),
        };
        Ok(Store { backend })
    }

    /// Wraps a backend.
    pub fn from_backend(backend: Box<dyn Backend + Send>) -> Store {
        Store { backend }
    }

    /// Records a run (see [`Backend::record`]). `files` is consumed as a
    /// stream.
    pub fn record<'a>(
        &mut self,
        run: &NewRun<'_>,
        files: impl IntoIterator<Item = FileCounts<'a>>,
    ) -> Result<Recorded> {
        self.backend.record(run, &mut files.into_iter())
    }

    /// The last `last` runs of `job`, oldest first.
    pub fn runs(&mut self, job: &str, last: usize) -> Result<Vec<Run>> {
        self.backend.last_runs(job, last)
    }

    /// Per package (or directory) the numbers of the last runs of a job.
    pub fn history(&mut self, q: &HistoryQuery<'_>) -> Result<History> {
        History::load(self.backend.as_mut(), q)
    }

    /// Stores the flaky coverage measured over `runs` runs with the recorded
    /// run `(job, build)` (see [`Backend::record_flaky`]).
    pub fn record_flaky<'a>(
        &mut self,
        job: &str,
        build: &str,
        runs: u32,
        packages: impl IntoIterator<Item = FlakyCounts<'a>>,
    ) -> Result<()> {
        self.backend
            .record_flaky(job, build, runs, &mut packages.into_iter())
    }

    /// Keeps the newest `keep` runs of `job` and deletes the others (see
    /// [`Backend::prune`]); returns how many were deleted.
    pub fn prune(&mut self, job: &str, keep: usize) -> Result<usize> {
        self.backend.prune(job, keep)
    }

    /// Per group of files (owners, labels), the numbers of the last runs of
    /// a job (see [`History::load_by`]).
    pub fn history_by(
        &mut self,
        q: &HistoryQuery<'_>,
        by: &'static str,
        groups: &mut dyn FnMut(&str) -> Vec<String>,
    ) -> Result<History> {
        History::load_by(self.backend.as_mut(), q, by, groups)
    }

    /// The store's schema version.
    pub fn schema_version(&mut self) -> Result<u32> {
        self.backend.schema_version()
    }

    /// The backend, for calls this type does not wrap.
    pub fn backend(&mut self) -> &mut dyn Backend {
        self.backend.as_mut()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            Location::parse("postgresql:///db?host=/tmp").unwrap(),
            Location::Postgres("postgresql:///db?host=/tmp")
        );
        assert_eq!(
            Location::parse("sqlite:h.db").unwrap(),
            Location::Sqlite("h.db")
        );
        assert_eq!(
            Location::parse("/x/h.db").unwrap(),
            Location::Sqlite("/x/h.db")
        );
        assert!(Location::parse("mysql://x").is_err());
        assert_eq!(
            redacted("postgres://u:s3cret@db:5432/h?password=x&host=/tmp"),
            "postgres://u:***@db:5432/h?password=***&host=/tmp"
        );
        assert_eq!(redacted("postgresql://u@db/h"), "postgresql://u@db/h");
        assert_eq!(redacted("h:x@y.db"), "h:x@y.db");
        assert!(Location::parse("").is_err());
    }
}
