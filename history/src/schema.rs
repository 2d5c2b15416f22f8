//! The schema, as numbered migrations. Each backend applies, in order and
//! inside one transaction holding the store's write lock, every migration
//! newer than the highest version in `covlens_schema`, and records it there.
//! A store newer than [`LATEST`] is refused, never written.
//!
//! Version 1:
//! - `runs`: one row per recorded run, unique on `(job, build)`, with the
//!   run's totals and the digest that tells a repeated recording (a no-op)
//!   from a conflicting one (an error);
//! - `packages` and `files`: names, stored once for all runs;
//! - `run_files`: per run and file, the statements and covered statements;
//! - `run_packages`: per run and package, the sums of its files, written
//!   with the files in the same transaction. Reading the last N runs per
//!   package reads these (measured 2.5 times faster than summing the files
//!   when read, with one file per package; more with several, see
//!   docs/history.md). Directory rollups are sums of packages, computed when
//!   read.
//!
//! Version 2 (flaky coverage, `covlens history record --flaky-from`):
//! - `runs.flaky_runs`: over how many runs of the job the flaky coverage
//!   recorded with the run was measured (NULL: not measured);
//! - `run_flaky`: per run and package, the statements and blocks covered in
//!   some but not all of those runs. Every package of the measured runs has
//!   a row, 0 included, so "no flaky coverage" and "not measured" differ.
//!
//! The per-run tables have no foreign keys: their ids are taken from the
//! tables they would reference, in the transaction that inserts the run,
//! and PostgreSQL's per-row key checks were three quarters of the time to
//! record a run. Deleting a run deletes
//! its rows in those tables explicitly.

/// One schema step, written once per backend's SQL dialect.
pub(crate) struct Migration {
    pub version: u32,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

/// Every migration, oldest first; versions are 1, 2, ...
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: "
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            job TEXT NOT NULL,
            build TEXT NOT NULL,
            branch TEXT,
            commit_sha TEXT,
            run_time INTEGER NOT NULL, -- microseconds since 1970-01-01T00:00:00Z
            source TEXT NOT NULL,
            files INTEGER NOT NULL,
            statements INTEGER NOT NULL,
            covered INTEGER NOT NULL,
            digest TEXT NOT NULL,
            UNIQUE (job, build)
        );
        CREATE INDEX runs_job_time ON runs (job, run_time, id);
        CREATE TABLE packages (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            package_id INTEGER NOT NULL REFERENCES packages (id)
        );
        CREATE TABLE run_files (
            run_id INTEGER NOT NULL,
            file_id INTEGER NOT NULL,
            statements INTEGER NOT NULL,
            covered INTEGER NOT NULL,
            PRIMARY KEY (run_id, file_id)
        ) WITHOUT ROWID;
        CREATE TABLE run_packages (
            run_id INTEGER NOT NULL,
            package_id INTEGER NOT NULL,
            statements INTEGER NOT NULL,
            covered INTEGER NOT NULL,
            PRIMARY KEY (run_id, package_id)
        ) WITHOUT ROWID;
    ",
        postgres: "
        CREATE TABLE runs (
            id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            job TEXT NOT NULL,
            build TEXT NOT NULL,
            branch TEXT,
            commit_sha TEXT,
            run_time TIMESTAMPTZ NOT NULL,
            source TEXT NOT NULL,
            files BIGINT NOT NULL,
            statements BIGINT NOT NULL,
            covered BIGINT NOT NULL,
            digest TEXT NOT NULL,
            UNIQUE (job, build)
        );
        CREATE INDEX runs_job_time ON runs (job, run_time, id);
        CREATE TABLE packages (
            id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        );
        CREATE TABLE files (
            id INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            package_id INTEGER NOT NULL REFERENCES packages (id)
        );
        CREATE TABLE run_files (
            run_id INTEGER NOT NULL,
            file_id INTEGER NOT NULL,
            statements INTEGER NOT NULL,
            covered INTEGER NOT NULL,
            PRIMARY KEY (run_id, file_id)
        );
        CREATE TABLE run_packages (
            run_id INTEGER NOT NULL,
            package_id INTEGER NOT NULL,
            statements BIGINT NOT NULL,
            covered BIGINT NOT NULL,
            PRIMARY KEY (run_id, package_id)
        );
    ",
    },
    Migration {
        version: 2,
        sqlite: "
        ALTER TABLE runs ADD COLUMN flaky_runs INTEGER;
        CREATE TABLE run_flaky (
            run_id INTEGER NOT NULL,
            package_id INTEGER NOT NULL,
            statements INTEGER NOT NULL,
            blocks INTEGER NOT NULL,
            PRIMARY KEY (run_id, package_id)
        ) WITHOUT ROWID;
    ",
        postgres: "
        ALTER TABLE runs ADD COLUMN flaky_runs INTEGER;
        CREATE TABLE run_flaky (
            run_id INTEGER NOT NULL,
            package_id INTEGER NOT NULL,
            statements BIGINT NOT NULL,
            blocks BIGINT NOT NULL,
            PRIMARY KEY (run_id, package_id)
        );
    ",
    },
];

/// Tables with a row per run and something else, deleted with the run.
pub(crate) const PER_RUN_TABLES: &[&str] = &["run_files", "run_packages", "run_flaky"];

/// The newest schema version this library writes.
pub const LATEST: u32 = MIGRATIONS[MIGRATIONS.len() - 1].version;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1);
        }
    }
}
