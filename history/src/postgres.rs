//! The shared store: a PostgreSQL database.
//!
//! The synchronous `postgres` client is used: covlens' commands are
//! synchronous, and it streams `COPY` through an ordinary `io::Write`. (It
//! runs its own small runtime: async callers use it from a blocking thread.)
//!
//! A run is recorded in one transaction: the run row first (`ON CONFLICT
//! (job, build) DO NOTHING`: a concurrent recorder of the same run waits for
//! the first one's outcome), then the files are streamed with a binary
//! `COPY` into a temporary table and moved into the store with three
//! set-based statements. New names are inserted in name order, so
//! concurrent recorders lock them in the same order and never deadlock; only
//! names not yet stored are inserted, so identity sequences are not burnt by
//! conflicts.

use std::collections::HashMap;
use std::time::SystemTime;

use covlens_core::{Counts, package_of};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::{Client, Config, NoTls};

use crate::backend::Backend;
use crate::error::{Error, Result, RunDigest};
use crate::run::{FileCounts, FlakyCounts, NewRun, Recorded, Run, Tally, compare_existing};
use crate::schema::{LATEST, MIGRATIONS, PER_RUN_TABLES};
use crate::time::Timestamp;

/// Any constant: the advisory lock key that serialises schema migrations.
const MIGRATION_LOCK: i64 = 0x0063_6f76_6c65_6e73; // "covlens" in ASCII

/// A history store in a PostgreSQL database.
pub struct PostgresStore {
    client: Client,
    staging_ready: bool,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host/db`,
    /// `postgresql:///db?host=/run/postgresql` for a Unix socket) and brings
    /// the schema up to date. Without a user in the URL, `PGUSER`, then
    /// `USER`, names one, as libpq does. TLS is not supported.
    pub fn open(url: &str) -> Result<PostgresStore> {
        PostgresStore::open_at(url, LATEST)
    }

    /// As [`PostgresStore::open`], migrating no further than `version`
    /// (tests of the migrations write data at an old version).
    #[doc(hidden)]
    pub fn open_at(url: &str, version: u32) -> Result<PostgresStore> {
        let mut config: Config = url.parse().map_err(Error::BadUrl)?;
        if config.get_user().is_none()
            && let Some(user) = ["PGUSER", "USER", "LOGNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
        {
            config.user(&user);
        }
        if config.get_application_name().is_none() {
            config.application_name("covlens");
        }
        let client = config.connect(NoTls)?;
        let mut s = PostgresStore {
            client,
            staging_ready: false,
        };
        s.migrate(version)?;
        Ok(s)
    }

    fn migrate(&mut self, target: u32) -> Result<()> {
        // Up to date (the usual case): no lock needed.
        let up_to_date = self
            .client
            .query_opt(
                "SELECT 1 FROM pg_catalog.pg_tables
                 WHERE tablename = 'covlens_schema' AND schemaname = ANY(current_schemas(false))",
                &[],
            )?
            .is_some()
            && self
                .client
                .query_one("SELECT COALESCE(MAX(version), 0) FROM covlens_schema", &[])?
                .get::<_, i32>(0)
                == i32::try_from(target).unwrap_or(i32::MAX);
        if up_to_date {
            return Ok(());
        }
        let mut tx = self.client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS covlens_schema (
                version INTEGER PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )?;
        let current: i32 = tx
            .query_one("SELECT COALESCE(MAX(version), 0) FROM covlens_schema", &[])?
            .get(0);
        let current = u32::try_from(current).unwrap_or(0);
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
            tx.batch_execute(m.postgres)?;
            let v = i32::try_from(m.version).unwrap_or(i32::MAX);
            tx.execute("INSERT INTO covlens_schema (version) VALUES ($1)", &[&v])?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Backend for PostgresStore {
    fn record(
        &mut self,
        run: &NewRun<'_>,
        files: &mut dyn Iterator<Item = FileCounts<'_>>,
    ) -> Result<Recorded> {
        run.check()?;
        if !self.staging_ready {
            self.client.batch_execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS covlens_incoming (
                    name TEXT NOT NULL,
                    package TEXT NOT NULL,
                    statements INTEGER NOT NULL,
                    covered INTEGER NOT NULL
                ) ON COMMIT DELETE ROWS",
            )?;
            self.staging_ready = true;
        }
        let mut tally = Tally::new();
        let mut tx = self.client.transaction()?;
        let time = SystemTime::from(run.time);
        let inserted = tx.query_opt(
            "INSERT INTO runs (job, build, branch, commit_sha, run_time, source,
                               files, statements, covered, digest)
             VALUES ($1, $2, $3, $4, $5, $6, 0, 0, 0, '')
             ON CONFLICT (job, build) DO NOTHING
             RETURNING id",
            &[
                &run.job,
                &run.build,
                &run.branch,
                &run.commit,
                &time,
                &run.source.as_str(),
            ],
        )?;
        let Some(row) = inserted else {
            let r = tx.query_one(
                "SELECT branch, commit_sha, files, covered, statements, digest
                 FROM runs WHERE job = $1 AND build = $2",
                &[&run.job, &run.build],
            )?;
            let stored = RunDigest {
                branch: r.get(0),
                commit: r.get(1),
                files: to_u64(r.get(2)),
                covered: to_u64(r.get(3)),
                statements: to_u64(r.get(4)),
                digest: r.get(5),
            };
            drop(tx);
            tally.drain(files)?;
            return compare_existing(run, stored, tally.summary(run));
        };
        let run_id: i32 = row.get(0);
        {
            let sink = tx.copy_in(
                "COPY covlens_incoming (name, package, statements, covered) FROM STDIN BINARY",
            )?;
            let mut w =
                BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::TEXT, Type::INT4, Type::INT4]);
            for f in files {
                let (s, c) = tally.add(&f)?;
                w.write(&[&f.name, &package_of(f.name), &s, &c])?;
            }
            w.finish()?;
        }
        tx.execute(
            "INSERT INTO packages (name)
             SELECT DISTINCT i.package FROM covlens_incoming i
             WHERE NOT EXISTS (SELECT 1 FROM packages p WHERE p.name = i.package)
             ORDER BY 1
             ON CONFLICT (name) DO NOTHING",
            &[],
        )?;
        tx.execute(
            "INSERT INTO files (name, package_id)
             SELECT i.name, p.id FROM covlens_incoming i
             JOIN packages p ON p.name = i.package
             WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.name = i.name)
             ORDER BY i.name
             ON CONFLICT (name) DO NOTHING",
            &[],
        )?;
        tx.execute(
            "INSERT INTO run_files (run_id, file_id, statements, covered)
             SELECT $1, f.id, i.statements, i.covered
             FROM covlens_incoming i JOIN files f ON f.name = i.name",
            &[&run_id],
        )?;
        tx.execute(
            "INSERT INTO run_packages (run_id, package_id, statements, covered)
             SELECT rf.run_id, f.package_id, SUM(rf.statements), SUM(rf.covered)
             FROM run_files rf JOIN files f ON f.id = rf.file_id
             WHERE rf.run_id = $1
             GROUP BY rf.run_id, f.package_id",
            &[&run_id],
        )?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        tx.execute(
            "UPDATE runs SET files = $1, statements = $2, covered = $3, digest = $4
             WHERE id = $5",
            &[
                &n(tally.files()),
                &n(tally.counts().total),
                &n(tally.counts().covered),
                &tally.digest_hex(),
                &run_id,
            ],
        )?;
        tx.commit()?;
        Ok(Recorded::New {
            files: tally.files(),
            counts: tally.counts(),
        })
    }

    fn last_runs(&mut self, job: &str, last: usize) -> Result<Vec<Run>> {
        let limit = i64::try_from(last).unwrap_or(i64::MAX);
        let rows = self.client.query(
            "SELECT id, job, build, branch, commit_sha, run_time, source,
                    files, statements, covered, flaky_runs
             FROM runs WHERE job = $1
             ORDER BY run_time DESC, id DESC LIMIT $2",
            &[&job, &limit],
        )?;
        let mut runs: Vec<Run> = rows
            .iter()
            .map(|r| Run {
                id: i64::from(r.get::<_, i32>(0)),
                job: r.get(1),
                build: r.get(2),
                branch: r.get(3),
                commit: r.get(4),
                time: Timestamp::from(r.get::<_, SystemTime>(5)),
                source: r.get(6),
                files: to_u64(r.get(7)),
                counts: Counts {
                    total: to_u64(r.get(8)),
                    covered: to_u64(r.get(9)),
                },
                flaky_runs: r
                    .get::<_, Option<i32>>(10)
                    .and_then(|n| u32::try_from(n).ok()),
            })
            .collect();
        runs.reverse();
        Ok(runs)
    }

    fn package_counts(
        &mut self,
        runs: &[i64],
        visit: &mut dyn FnMut(i64, &str, Counts),
    ) -> Result<()> {
        let ids: Vec<i32> = runs.iter().filter_map(|&r| i32::try_from(r).ok()).collect();
        // One snapshot for both reads; names travel once, not once per run.
        let mut tx = self.client.build_transaction().read_only(true).start()?;
        let rows = tx.query(
            "SELECT run_id, package_id, statements, covered FROM run_packages
             WHERE run_id = ANY($1)",
            &[&ids],
        )?;
        let mut wanted: Vec<i32> = rows.iter().map(|r| r.get(1)).collect();
        wanted.sort_unstable();
        wanted.dedup();
        let names: HashMap<i32, String> = tx
            .query(
                "SELECT id, name FROM packages WHERE id = ANY($1)",
                &[&wanted],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        tx.commit()?;
        for r in &rows {
            let Some(name) = names.get(&r.get::<_, i32>(1)) else {
                continue;
            };
            let counts = Counts {
                total: to_u64(r.get(2)),
                covered: to_u64(r.get(3)),
            };
            visit(i64::from(r.get::<_, i32>(0)), name, counts);
        }
        Ok(())
    }

    fn file_counts(
        &mut self,
        runs: &[i64],
        visit: &mut dyn FnMut(i64, &str, Counts),
    ) -> Result<()> {
        let ids: Vec<i32> = runs.iter().filter_map(|&r| i32::try_from(r).ok()).collect();
        let rows = self.client.query(
            "SELECT rf.run_id, f.name, rf.statements, rf.covered FROM run_files rf
             JOIN files f ON f.id = rf.file_id WHERE rf.run_id = ANY($1)",
            &[&ids],
        )?;
        for r in &rows {
            let counts = Counts {
                total: u64::try_from(r.get::<_, i32>(2)).unwrap_or(0),
                covered: u64::try_from(r.get::<_, i32>(3)).unwrap_or(0),
            };
            visit(i64::from(r.get::<_, i32>(0)), r.get::<_, &str>(1), counts);
        }
        Ok(())
    }

    fn record_flaky(
        &mut self,
        job: &str,
        build: &str,
        runs: u32,
        packages: &mut dyn Iterator<Item = FlakyCounts<'_>>,
    ) -> Result<()> {
        let mut tx = self.client.transaction()?;
        // Locks the run: concurrent recorders of its flaky coverage take turns.
        let run_id: i32 = tx
            .query_opt(
                "SELECT id FROM runs WHERE job = $1 AND build = $2 FOR UPDATE",
                &[&job, &build],
            )?
            .ok_or_else(|| Error::NoRun {
                job: job.to_string(),
                build: build.to_string(),
            })?
            .get(0);
        tx.execute("DELETE FROM run_flaky WHERE run_id = $1", &[&run_id])?;
        let n_runs = i32::try_from(runs).unwrap_or(i32::MAX);
        tx.execute(
            "UPDATE runs SET flaky_runs = $1 WHERE id = $2",
            &[&n_runs, &run_id],
        )?;
        let mut names = Vec::new();
        let mut stmts = Vec::new();
        let mut blocks = Vec::new();
        for p in packages {
            names.push(p.package.to_string());
            stmts.push(i64::try_from(p.statements).unwrap_or(i64::MAX));
            blocks.push(i64::try_from(p.blocks).unwrap_or(i64::MAX));
        }
        let mut sorted = names.clone();
        sorted.sort_unstable();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(Error::DuplicatePackage(w[0].clone()));
        }
        // New names in name order, as `record` inserts them (no deadlocks).
        tx.execute(
            "INSERT INTO packages (name)
             SELECT n FROM unnest($1::text[]) AS n
             WHERE NOT EXISTS (SELECT 1 FROM packages p WHERE p.name = n)
             ORDER BY 1
             ON CONFLICT (name) DO NOTHING",
            &[&sorted],
        )?;
        tx.execute(
            "INSERT INTO run_flaky (run_id, package_id, statements, blocks)
             SELECT $1, p.id, i.s, i.b
             FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS i(n, s, b)
             JOIN packages p ON p.name = i.n",
            &[&run_id, &names, &stmts, &blocks],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn package_flaky(&mut self, runs: &[i64], visit: &mut dyn FnMut(i64, &str, u64)) -> Result<()> {
        let ids: Vec<i32> = runs.iter().filter_map(|&r| i32::try_from(r).ok()).collect();
        let rows = self.client.query(
            "SELECT f.run_id, p.name, f.statements FROM run_flaky f
             JOIN packages p ON p.id = f.package_id WHERE f.run_id = ANY($1)",
            &[&ids],
        )?;
        for r in &rows {
            visit(
                i64::from(r.get::<_, i32>(0)),
                r.get::<_, &str>(1),
                to_u64(r.get(2)),
            );
        }
        Ok(())
    }

    fn prune(&mut self, job: &str, keep: usize) -> Result<usize> {
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        let mut tx = self.client.transaction()?;
        // The job's runs are locked first, so a concurrent prune of the
        // same job waits rather than deleting a different set.
        let doomed: Vec<i32> = tx
            .query(
                "SELECT id FROM runs WHERE job = $1
                 ORDER BY run_time DESC, id DESC OFFSET $2 FOR UPDATE",
                &[&job, &keep],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for table in PER_RUN_TABLES {
            tx.execute(
                &format!("DELETE FROM {table} WHERE run_id = ANY($1)"),
                &[&doomed],
            )?;
        }
        let n = tx.execute("DELETE FROM runs WHERE id = ANY($1)", &[&doomed])?;
        tx.commit()?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn schema_version(&mut self) -> Result<u32> {
        let v: i32 = self
            .client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM covlens_schema", &[])?
            .get(0);
        Ok(u32::try_from(v).unwrap_or(0))
    }
}
