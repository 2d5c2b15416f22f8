//! The interface both stores implement.

use covlens_core::Counts;

use crate::error::Result;
use crate::run::{FileCounts, FlakyCounts, NewRun, Recorded, Run};

/// A history store: SQLite ([`crate::SqliteStore`]) or PostgreSQL
/// ([`crate::PostgresStore`]). Every method is one transaction (or one
/// consistent read), so concurrent writers and readers never see half a run.
pub trait Backend {
    /// Records a run and its files, streamed from `files`. A run whose
    /// `(job, build)` is stored already is a no-op when its provenance
    /// (branch, commit) and numbers are the same, and
    /// [`crate::Error::Conflict`] when they differ; nothing is changed then.
    fn record(
        &mut self,
        run: &NewRun<'_>,
        files: &mut dyn Iterator<Item = FileCounts<'_>>,
    ) -> Result<Recorded>;

    /// The last `last` runs of `job` by time (ties by recording order),
    /// oldest first.
    fn last_runs(&mut self, job: &str, last: usize) -> Result<Vec<Run>>;

    /// Calls `visit(run id, package, counts)` once per package of each run
    /// in `runs`, in no particular order.
    fn package_counts(
        &mut self,
        runs: &[i64],
        visit: &mut dyn FnMut(i64, &str, Counts),
    ) -> Result<()>;

    /// Stores the flaky coverage measured over `runs` runs with the recorded
    /// run `(job, build)`: per package, flaky statements and blocks. It
    /// replaces what was stored with that run before;
    /// [`crate::Error::NoRun`] when the run is not recorded.
    fn record_flaky(
        &mut self,
        job: &str,
        build: &str,
        runs: u32,
        packages: &mut dyn Iterator<Item = FlakyCounts<'_>>,
    ) -> Result<()>;

    /// Calls `visit(run id, package, flaky statements)` once per package of
    /// each run in `runs` that has flaky coverage recorded.
    fn package_flaky(&mut self, runs: &[i64], visit: &mut dyn FnMut(i64, &str, u64)) -> Result<()>;

    /// Deletes all but the newest `keep` runs of `job` (by time, ties by
    /// recording order) with their per-file and per-package rows, in one
    /// transaction; returns how many runs were deleted. File and package
    /// names stay: other jobs share them.
    fn prune(&mut self, job: &str, keep: usize) -> Result<usize>;

    /// Calls `visit(run id, file, counts)` once per file of each run in
    /// `runs`, in no particular order.
    fn file_counts(&mut self, runs: &[i64], visit: &mut dyn FnMut(i64, &str, Counts))
    -> Result<()>;

    /// The schema version of the store.
    fn schema_version(&mut self) -> Result<u32>;
}
