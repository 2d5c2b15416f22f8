//! The embedded store: one SQLite file.
//!
//! Writers take SQLite's write lock at the start of their transaction
//! (`BEGIN IMMEDIATE`) and wait for each other (busy timeout), so several
//! processes recording at once run one after the other and lose nothing; the
//! file is in WAL mode, so readers never wait for a writer.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::Duration;

use covlens_core::{Counts, package_of};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use crate::backend::Backend;
use crate::error::{Error, Result, RunDigest, sqlite};
use crate::run::{FileCounts, FlakyCounts, NewRun, Recorded, Run, Tally, compare_existing};
use crate::schema::{LATEST, MIGRATIONS, PER_RUN_TABLES};
use crate::time::Timestamp;

/// How long a writer waits for another one before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(120);

/// A history store in an SQLite file.
pub struct SqliteStore {
    conn: Connection,
    path: String,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path` and brings its schema
    /// up to date. `:memory:` is a private in-memory store.
    pub fn open(path: &str) -> Result<SqliteStore> {
        SqliteStore::open_with(path, true)
    }

    /// Opens the store at `path`; unless `create`, a missing file is
    /// [`Error::NoStore`] rather than a new, empty store.
    pub fn open_with(path: &str, create: bool) -> Result<SqliteStore> {
        SqliteStore::open_at(path, create, LATEST)
    }

    /// As [`SqliteStore::open_with`], migrating no further than `version`
    /// (tests of the migrations write data at an old version).
    #[doc(hidden)]
    pub fn open_at(path: &str, create: bool, version: u32) -> Result<SqliteStore> {
        if !create && path != ":memory:" && !std::path::Path::new(path).exists() {
            return Err(Error::NoStore(path.to_string()));
        }
        let e = sqlite(path);
        if path != ":memory:" {
            // Never add covlens's tables to another program's database; a
            // new or empty file becomes a store only when asked to create.
            match schema_state(path)? {
                Schema::Foreign => return Err(Error::NotAStore(path.to_string())),
                Schema::Empty if !create => return Err(Error::EmptyStore(path.to_string())),
                _ => {}
            }
        }
        let conn = Connection::open(path).map_err(&e)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(&e)?;
        if path != ":memory:" {
            // Persistent in the file; readers then never block on writers.
            conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
                .map_err(&e)?;
        }
        conn.execute_batch("PRAGMA foreign_keys = ON").map_err(&e)?;
        let mut s = SqliteStore {
            conn,
            path: path.to_string(),
        };
        s.migrate(version)?;
        Ok(s)
    }

    /// Opens the store at `path` to read from it. As [`open_with`] without
    /// creating; where the file or its directory cannot be written (a
    /// read-only mount), through a read-only connection instead, so the
    /// store is still read.
    ///
    /// [`open_with`]: SqliteStore::open_with
    pub fn open_reader(path: &str) -> Result<SqliteStore> {
        match SqliteStore::open_with(path, false) {
            Err(Error::Sqlite {
                source: rusqlite::Error::SqliteFailure(f, _),
                ..
            }) if matches!(
                f.code,
                rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen
            ) && path != ":memory:" =>
            {
                match schema_state(path)? {
                    Schema::Covlens(v) if v > LATEST => Err(Error::SchemaTooNew {
                        found: v,
                        known: LATEST,
                    }),
                    Schema::Covlens(_) => Ok(SqliteStore {
                        conn: open_read_only(path)?,
                        path: path.to_string(),
                    }),
                    Schema::Empty => Err(Error::EmptyStore(path.to_string())),
                    Schema::Foreign => Err(Error::NotAStore(path.to_string())),
                }
            }
            other => other,
        }
    }

    fn migrate(&mut self, target: u32) -> Result<()> {
        let e = sqlite(&self.path);
        // Up to date (the usual case): no write lock needed.
        let current: Option<u32> = self
            .conn
            .query_row("SELECT MAX(version) FROM covlens_schema", [], |r| r.get(0))
            .optional()
            .ok()
            .flatten()
            .flatten();
        if current == Some(target) {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS covlens_schema (
                version INTEGER PRIMARY KEY,
                applied_at INTEGER NOT NULL
            )",
        )
        .map_err(&e)?;
        let current: u32 = tx
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM covlens_schema",
                [],
                |r| r.get(0),
            )
            .map_err(&e)?;
        if current > LATEST {
            return Err(Error::SchemaTooNew {
                found: current,
                known: LATEST,
            });
        }
        for m in MIGRATIONS
            .iter()
            .filter(|m| m.version > current && m.version <= target)
        {
            tx.execute_batch(m.sqlite).map_err(&e)?;
            tx.execute(
                "INSERT INTO covlens_schema (version, applied_at) VALUES (?1, ?2)",
                params![m.version, Timestamp::now().micros()],
            )
            .map_err(&e)?;
        }
        tx.commit().map_err(&e)
    }
}

/// What an SQLite file holds.
enum Schema {
    /// No table at all (a new or empty file).
    Empty,
    /// A covlens store, at this schema version.
    Covlens(u32),
    /// Tables, none of them covlens's.
    Foreign,
}

/// A read-only connection to `path`. SQLite reads a WAL-mode file through
/// a shared-memory file beside it; where that cannot be created (a
/// read-only directory or mount, where no writer can be at work either),
/// the file is opened as immutable.
fn open_read_only(path: &str) -> Result<Connection> {
    let e = sqlite(path);
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(&e)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(&e)?;
    let probe = conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    });
    match probe {
        Ok(_) => Ok(conn),
        Err(rusqlite::Error::SqliteFailure(f, _))
            if matches!(
                f.code,
                rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen
            ) =>
        {
            let mut uri = String::from("file:");
            for c in path.chars() {
                match c {
                    '?' | '#' | '%' => uri.push_str(&format!("%{:02X}", c as u32)),
                    c => uri.push(c),
                }
            }
            uri.push_str("?immutable=1");
            let conn = Connection::open_with_flags(&uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .map_err(&e)?;
            conn.busy_timeout(BUSY_TIMEOUT).map_err(&e)?;
            Ok(conn)
        }
        Err(err) => Err(e(err)),
    }
}

/// Looks at `path` through a read-only connection (writes nothing).
fn schema_state(path: &str) -> Result<Schema> {
    if !std::path::Path::new(path).exists() {
        return Ok(Schema::Empty);
    }
    let e = sqlite(path);
    let conn = open_read_only(path)?;
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(&e)?;
    if tables.is_empty() {
        return Ok(Schema::Empty);
    }
    if !tables.iter().any(|t| t == "covlens_schema") {
        return Ok(Schema::Foreign);
    }
    let v: Option<u32> = conn
        .query_row("SELECT MAX(version) FROM covlens_schema", [], |r| r.get(0))
        .map_err(&e)?;
    Ok(Schema::Covlens(v.unwrap_or(0)))
}

/// SQLite integers are signed; counts are never negative.
fn unsigned(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<u64> {
    Ok(u64::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
}

fn signed(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Backend for SqliteStore {
    fn record(
        &mut self,
        run: &NewRun<'_>,
        files: &mut dyn Iterator<Item = FileCounts<'_>>,
    ) -> Result<Recorded> {
        run.check()?;
        let e = sqlite(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        let mut tally = Tally::new();
        let existing = tx
            .query_row(
                "SELECT branch, commit_sha, files, covered, statements, digest
                 FROM runs WHERE job = ?1 AND build = ?2",
                params![run.job, run.build],
                |r| {
                    Ok(RunDigest {
                        branch: r.get(0)?,
                        commit: r.get(1)?,
                        files: unsigned(r, 2)?,
                        covered: unsigned(r, 3)?,
                        statements: unsigned(r, 4)?,
                        digest: r.get(5)?,
                    })
                },
            )
            .optional()
            .map_err(&e)?;
        if let Some(stored) = existing {
            drop(tx);
            tally.drain(files)?;
            return compare_existing(run, stored, tally.summary(run));
        }
        tx.execute(
            "INSERT INTO runs (job, build, branch, commit_sha, run_time, source,
                               files, statements, covered, digest)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, 0, 0, '')",
            params![
                run.job,
                run.build,
                run.branch,
                run.commit,
                run.time.micros(),
                run.source.as_str()
            ],
        )
        .map_err(&e)?;
        let run_id = tx.last_insert_rowid();
        {
            let mut find_pkg = tx
                .prepare("SELECT id FROM packages WHERE name = ?1")
                .map_err(&e)?;
            let mut add_pkg = tx
                .prepare("INSERT INTO packages (name) VALUES (?1)")
                .map_err(&e)?;
            let mut find_file = tx
                .prepare("SELECT id FROM files WHERE name = ?1")
                .map_err(&e)?;
            let mut add_file = tx
                .prepare("INSERT INTO files (name, package_id) VALUES (?1, ?2)")
                .map_err(&e)?;
            let mut add_row = tx
                .prepare(
                    "INSERT INTO run_files (run_id, file_id, statements, covered)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(&e)?;
            // Files of one package come together in a profile.
            let mut last_pkg: Option<(String, i64)> = None;
            for f in files {
                let (s, c) = tally.add(&f)?;
                let file_id = match find_file
                    .query_row([f.name], |r| r.get::<_, i64>(0))
                    .optional()
                    .map_err(&e)?
                {
                    Some(id) => id,
                    None => {
                        let pkg = package_of(f.name);
                        let pkg_id = match &last_pkg {
                            Some((name, id)) if name == pkg => *id,
                            _ => {
                                let id = match find_pkg
                                    .query_row([pkg], |r| r.get::<_, i64>(0))
                                    .optional()
                                    .map_err(&e)?
                                {
                                    Some(id) => id,
                                    None => {
                                        add_pkg.execute([pkg]).map_err(&e)?;
                                        tx.last_insert_rowid()
                                    }
                                };
                                last_pkg = Some((pkg.to_string(), id));
                                id
                            }
                        };
                        add_file.execute(params![f.name, pkg_id]).map_err(&e)?;
                        tx.last_insert_rowid()
                    }
                };
                add_row
                    .execute(params![run_id, file_id, s, c])
                    .map_err(&e)?;
            }
        }
        tx.execute(
            "INSERT INTO run_packages (run_id, package_id, statements, covered)
             SELECT rf.run_id, f.package_id, SUM(rf.statements), SUM(rf.covered)
             FROM run_files rf JOIN files f ON f.id = rf.file_id
             WHERE rf.run_id = ?1
             GROUP BY f.package_id",
            [run_id],
        )
        .map_err(&e)?;
        tx.execute(
            "UPDATE runs SET files = ?1, statements = ?2, covered = ?3, digest = ?4
             WHERE id = ?5",
            params![
                signed(tally.files()),
                signed(tally.counts().total),
                signed(tally.counts().covered),
                tally.digest_hex(),
                run_id
            ],
        )
        .map_err(&e)?;
        tx.commit().map_err(&e)?;
        Ok(Recorded::New {
            files: tally.files(),
            counts: tally.counts(),
        })
    }

    fn last_runs(&mut self, job: &str, last: usize) -> Result<Vec<Run>> {
        let e = sqlite(&self.path);
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, job, build, branch, commit_sha, run_time, source,
                        files, statements, covered, flaky_runs
                 FROM runs WHERE job = ?1
                 ORDER BY run_time DESC, id DESC LIMIT ?2",
            )
            .map_err(&e)?;
        let limit = i64::try_from(last).unwrap_or(i64::MAX);
        let mut runs = st
            .query_map(params![job, limit], |r| {
                Ok(Run {
                    id: r.get(0)?,
                    job: r.get(1)?,
                    build: r.get(2)?,
                    branch: r.get(3)?,
                    commit: r.get(4)?,
                    time: Timestamp::from_micros(r.get(5)?),
                    source: r.get(6)?,
                    files: unsigned(r, 7)?,
                    counts: Counts {
                        total: unsigned(r, 8)?,
                        covered: unsigned(r, 9)?,
                    },
                    flaky_runs: r
                        .get::<_, Option<i64>>(10)?
                        .and_then(|n| u32::try_from(n).ok()),
                })
            })
            .map_err(&e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(&e)?;
        runs.reverse();
        Ok(runs)
    }

    fn package_counts(
        &mut self,
        runs: &[i64],
        visit: &mut dyn FnMut(i64, &str, Counts),
    ) -> Result<()> {
        let e = sqlite(&self.path);
        // One snapshot for all runs.
        let tx = self.conn.transaction().map_err(&e)?;
        {
            let mut rows_of = tx
                .prepare_cached(
                    "SELECT package_id, statements, covered FROM run_packages WHERE run_id = ?1",
                )
                .map_err(&e)?;
            let mut name_of = tx
                .prepare_cached("SELECT name FROM packages WHERE id = ?1")
                .map_err(&e)?;
            // Package names, read once each rather than once per run.
            let mut names: HashMap<i64, String> = HashMap::new();
            for &run in runs {
                let mut rows = rows_of.query([run]).map_err(&e)?;
                while let Some(r) = rows.next().map_err(&e)? {
                    let id: i64 = r.get(0).map_err(&e)?;
                    let counts = Counts {
                        total: unsigned(r, 1).map_err(&e)?,
                        covered: unsigned(r, 2).map_err(&e)?,
                    };
                    let name = match names.entry(id) {
                        Entry::Occupied(o) => o.into_mut(),
                        Entry::Vacant(v) => v.insert(
                            name_of
                                .query_row([id], |r| r.get::<_, String>(0))
                                .map_err(&e)?,
                        ),
                    };
                    visit(run, name, counts);
                }
            }
        }
        tx.commit().map_err(&e)
    }

    fn file_counts(
        &mut self,
        runs: &[i64],
        visit: &mut dyn FnMut(i64, &str, Counts),
    ) -> Result<()> {
        let e = sqlite(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        {
            let mut rows_of = tx
                .prepare_cached(
                    "SELECT f.name, rf.statements, rf.covered FROM run_files rf
                     JOIN files f ON f.id = rf.file_id WHERE rf.run_id = ?1",
                )
                .map_err(&e)?;
            for &run in runs {
                let mut rows = rows_of.query([run]).map_err(&e)?;
                while let Some(r) = rows.next().map_err(&e)? {
                    let name: String = r.get(0).map_err(&e)?;
                    let counts = Counts {
                        total: unsigned(r, 1).map_err(&e)?,
                        covered: unsigned(r, 2).map_err(&e)?,
                    };
                    visit(run, &name, counts);
                }
            }
        }
        tx.commit().map_err(&e)
    }

    fn record_flaky(
        &mut self,
        job: &str,
        build: &str,
        runs: u32,
        packages: &mut dyn Iterator<Item = FlakyCounts<'_>>,
    ) -> Result<()> {
        let e = sqlite(&self.path);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        let run_id: i64 = tx
            .query_row(
                "SELECT id FROM runs WHERE job = ?1 AND build = ?2",
                params![job, build],
                |r| r.get(0),
            )
            .optional()
            .map_err(&e)?
            .ok_or_else(|| Error::NoRun {
                job: job.to_string(),
                build: build.to_string(),
            })?;
        tx.execute("DELETE FROM run_flaky WHERE run_id = ?1", [run_id])
            .map_err(&e)?;
        tx.execute(
            "UPDATE runs SET flaky_runs = ?1 WHERE id = ?2",
            params![runs, run_id],
        )
        .map_err(&e)?;
        {
            let mut find_pkg = tx
                .prepare("SELECT id FROM packages WHERE name = ?1")
                .map_err(&e)?;
            let mut add_pkg = tx
                .prepare("INSERT INTO packages (name) VALUES (?1)")
                .map_err(&e)?;
            let mut add_row = tx
                .prepare(
                    "INSERT INTO run_flaky (run_id, package_id, statements, blocks)
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(&e)?;
            for p in packages {
                let pkg_id = match find_pkg
                    .query_row([p.package], |r| r.get::<_, i64>(0))
                    .optional()
                    .map_err(&e)?
                {
                    Some(id) => id,
                    None => {
                        add_pkg.execute([p.package]).map_err(&e)?;
                        tx.last_insert_rowid()
                    }
                };
                add_row
                    .execute(params![
                        run_id,
                        pkg_id,
                        signed(p.statements),
                        signed(p.blocks)
                    ])
                    .map_err(|source| match source {
                        rusqlite::Error::SqliteFailure(f, _)
                            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                        {
                            Error::DuplicatePackage(p.package.to_string())
                        }
                        source => e(source),
                    })?;
            }
        }
        tx.commit().map_err(&e)
    }

    fn package_flaky(&mut self, runs: &[i64], visit: &mut dyn FnMut(i64, &str, u64)) -> Result<()> {
        let e = sqlite(&self.path);
        let tx = self.conn.transaction().map_err(&e)?;
        {
            let mut rows_of = tx
                .prepare_cached(
                    "SELECT p.name, f.statements FROM run_flaky f
                     JOIN packages p ON p.id = f.package_id WHERE f.run_id = ?1",
                )
                .map_err(&e)?;
            for &run in runs {
                let mut rows = rows_of.query([run]).map_err(&e)?;
                while let Some(r) = rows.next().map_err(&e)? {
                    let name: String = r.get(0).map_err(&e)?;
                    visit(run, &name, unsigned(r, 1).map_err(&e)?);
                }
            }
        }
        tx.commit().map_err(&e)
    }

    fn prune(&mut self, job: &str, keep: usize) -> Result<usize> {
        let e = sqlite(&self.path);
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&e)?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS covlens_doomed (id INTEGER PRIMARY KEY);
             DELETE FROM covlens_doomed;",
        )
        .map_err(&e)?;
        tx.execute(
            "INSERT INTO covlens_doomed (id)
             SELECT id FROM runs WHERE job = ?1
             ORDER BY run_time DESC, id DESC LIMIT -1 OFFSET ?2",
            params![job, keep],
        )
        .map_err(&e)?;
        for table in PER_RUN_TABLES {
            tx.execute(
                &format!("DELETE FROM {table} WHERE run_id IN (SELECT id FROM covlens_doomed)"),
                [],
            )
            .map_err(&e)?;
        }
        let n = tx
            .execute(
                "DELETE FROM runs WHERE id IN (SELECT id FROM covlens_doomed)",
                [],
            )
            .map_err(&e)?;
        tx.execute("DELETE FROM covlens_doomed", []).map_err(&e)?;
        tx.commit().map_err(&e)?;
        Ok(n)
    }

    fn schema_version(&mut self) -> Result<u32> {
        self.conn
            .query_row(
                "SELECT COALESCE(MAX(version), 0) FROM covlens_schema",
                [],
                |r| r.get(0),
            )
            .map_err(sqlite(&self.path))
    }
}
