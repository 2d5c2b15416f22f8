//! Scale figures of the history store (issue 12, part 6), printed as a
//! table; `benches/history.sh` runs it with a Kubernetes-sized profile and
//! a PostgreSQL server.
//!
//! - record: a Kubernetes-sized run (the profile in COVLENS_BENCH_PROFILE)
//!   into a fresh store, then 29 more runs of it, then a repeated
//!   recording, and the store's size after one run and after all;
//! - show: the history of the last N runs over COVLENS_BENCH_RUNS recorded
//!   runs (10,000) of COVLENS_BENCH_PACKAGES packages (5,000, one file
//!   each), from the stored per-package rollups (what the store does) and,
//!   for comparison, by summing the files when read;
//! - bytes per run of each store.
//!
//! Without COVLENS_BENCH_POSTGRES (an admin URL; a database is created per
//! step) only SQLite is measured. COVLENS_BIN (the built covlens) adds the
//! end-to-end `covlens history show` time; COVLENS_BENCH_ONLY=record skips
//! the show figures (the long part).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use covlens_core::{Counts, ParseOptions, parse_path};
use covlens_history::{
    FileCounts, HistoryQuery, NewRun, Recorded, Source, Store, Timestamp, profile_files,
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}={v:?}")))
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn run(build: &str, hour: i64) -> NewRun<'_> {
    NewRun {
        job: "bench",
        build,
        branch: Some("master"),
        commit: Some("0123456789abcdef0123456789abcdef01234567"),
        time: Timestamp::from_micros(1_780_000_000_000_000 + hour * 3_600_000_000),
        source: Source::Cli,
    }
}

/// One of the two backends, with a way to make fresh stores and sizes.
enum Backend {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// A new, empty store location named `tag`.
    fn fresh(&self, tag: &str) -> String {
        match self {
            Backend::Sqlite(dir) => {
                let p = dir.join(format!("{tag}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
                }
                p.to_str().unwrap().to_string()
            }
            Backend::Postgres(admin) => {
                let mut c = postgres::Client::connect(admin, postgres::NoTls).unwrap();
                let db = format!("covlens_bench_{tag}");
                c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}"))
                    .unwrap();
                c.batch_execute(&format!("CREATE DATABASE {db}")).unwrap();
                let (head, query) = admin.split_once('?').unwrap_or((admin, ""));
                let (scheme_host, _) = head.rsplit_once('/').unwrap();
                format!("{scheme_host}/{db}?{query}")
            }
        }
    }

    /// Bytes the store takes.
    fn size(&self, url: &str) -> u64 {
        match self {
            Backend::Sqlite(_) => {
                let c = rusqlite::Connection::open(url).unwrap();
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                    .unwrap();
                std::fs::metadata(url).unwrap().len()
            }
            Backend::Postgres(_) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.batch_execute("VACUUM ANALYZE").unwrap();
                let v: i64 = c
                    .query_one(
                        "SELECT SUM(pg_total_relation_size(oid))::BIGINT FROM pg_class
                         WHERE relname IN ('runs', 'files', 'packages', 'run_files', 'run_packages')",
                        &[],
                    )
                    .unwrap()
                    .get(0);
                v as u64
            }
        }
    }

    /// Copies run 1's files into runs 2..=runs with other numbers, in bulk
    /// (recording 10,000 runs one by one would take the bench's whole time).
    fn populate(&self, url: &str, runs: usize) {
        match self {
            Backend::Sqlite(_) => {
                let c = rusqlite::Connection::open(url).unwrap();
                c.execute_batch(&format!(
                    "BEGIN;
                     WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < {runs})
                     INSERT INTO runs (id, job, build, branch, commit_sha, run_time, source,
                                       files, statements, covered, digest)
                     SELECT i, job, 'b' || i, branch, commit_sha, run_time + i * 3600000000,
                            source, files, statements, covered, printf('%032x', i)
                     FROM n, runs WHERE runs.id = 1;
                     INSERT INTO run_files (run_id, file_id, statements, covered)
                     SELECT r.id, f.file_id, f.statements,
                            (f.covered + r.id * 7 + f.file_id) % (f.statements + 1)
                     FROM runs r, run_files f WHERE f.run_id = 1 AND r.id > 1
                     ORDER BY r.id, f.file_id;
                     INSERT INTO run_packages (run_id, package_id, statements, covered)
                     SELECT rf.run_id, f.package_id, SUM(rf.statements), SUM(rf.covered)
                     FROM run_files rf JOIN files f ON f.id = rf.file_id
                     WHERE rf.run_id > 1
                     GROUP BY rf.run_id, f.package_id ORDER BY rf.run_id, f.package_id;
                     COMMIT;"
                ))
                .unwrap();
            }
            Backend::Postgres(_) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                c.batch_execute(&format!(
                    "BEGIN;
                     INSERT INTO runs (job, build, branch, commit_sha, run_time, source,
                                       files, statements, covered, digest)
                     SELECT job, 'b' || i, branch, commit_sha, run_time + i * interval '1 hour',
                            source, files, statements, covered, lpad(to_hex(i), 32, '0')
                     FROM generate_series(2, {runs}) i, runs WHERE runs.id = 1
                     ORDER BY i;
                     ALTER TABLE run_files DROP CONSTRAINT run_files_pkey;
                     INSERT INTO run_files (run_id, file_id, statements, covered)
                     SELECT r.id, f.file_id, f.statements,
                            (f.covered + r.id * 7 + f.file_id) % (f.statements + 1)
                     FROM runs r, run_files f WHERE f.run_id = 1 AND r.id > 1
                     ORDER BY r.id, f.file_id;
                     ALTER TABLE run_packages DROP CONSTRAINT run_packages_pkey;
                     INSERT INTO run_packages (run_id, package_id, statements, covered)
                     SELECT rf.run_id, f.package_id, SUM(rf.statements), SUM(rf.covered)
                     FROM run_files rf JOIN files f ON f.id = rf.file_id
                     WHERE rf.run_id > 1
                     GROUP BY rf.run_id, f.package_id ORDER BY rf.run_id, f.package_id;
                     ALTER TABLE run_packages ADD PRIMARY KEY (run_id, package_id);
                     ALTER TABLE run_files ADD PRIMARY KEY (run_id, file_id);
                     COMMIT;"
                ))
                .unwrap();
            }
        }
    }

    /// Time to read the last `last` runs' per-package numbers by summing
    /// their files when read (the design not taken), as the store did
    /// before it stored per-package rollups.
    fn summed_from_files(&self, url: &str, last: usize) -> Duration {
        let mut times = Vec::new();
        match self {
            Backend::Sqlite(_) => {
                let c = rusqlite::Connection::open(url).unwrap();
                for _ in 0..15 {
                    let t = Instant::now();
                    let ids: Vec<i64> = c
                        .prepare_cached(
                            "SELECT id FROM runs WHERE job = 'bench'
                             ORDER BY run_time DESC, id DESC LIMIT ?1",
                        )
                        .unwrap()
                        .query_map([last as i64], |r| r.get(0))
                        .unwrap()
                        .map(Result::unwrap)
                        .collect();
                    let mut st = c
                        .prepare_cached(
                            "SELECT p.name, SUM(rf.statements), SUM(rf.covered)
                             FROM run_files rf
                             JOIN files f ON f.id = rf.file_id
                             JOIN packages p ON p.id = f.package_id
                             WHERE rf.run_id = ?1 GROUP BY f.package_id",
                        )
                        .unwrap();
                    let mut n = 0u64;
                    for id in ids {
                        let mut rows = st.query([id]).unwrap();
                        while let Some(r) = rows.next().unwrap() {
                            n += r.get::<_, i64>(1).unwrap() as u64;
                        }
                    }
                    std::hint::black_box(n);
                    times.push(t.elapsed());
                }
            }
            Backend::Postgres(_) => {
                let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
                for _ in 0..15 {
                    let t = Instant::now();
                    let ids: Vec<i32> = c
                        .query(
                            "SELECT id FROM runs WHERE job = 'bench'
                             ORDER BY run_time DESC, id DESC LIMIT $1",
                            &[&(last as i64)],
                        )
                        .unwrap()
                        .iter()
                        .map(|r| r.get(0))
                        .collect();
                    let rows = c
                        .query(
                            "SELECT t.run_id, p.name, t.statements, t.covered
                             FROM (SELECT rf.run_id, f.package_id,
                                          SUM(rf.statements)::BIGINT AS statements,
                                          SUM(rf.covered)::BIGINT AS covered
                                   FROM run_files rf JOIN files f ON f.id = rf.file_id
                                   WHERE rf.run_id = ANY($1)
                                   GROUP BY rf.run_id, f.package_id) t
                             JOIN packages p ON p.id = t.package_id",
                            &[&ids],
                        )
                        .unwrap();
                    std::hint::black_box(rows.len());
                    times.push(t.elapsed());
                }
            }
        }
        median(times)
    }
}

fn bench_record(b: &Backend, profile: &Path) {
    let p = parse_path(profile, &ParseOptions::default()).unwrap();
    let blocks = p.block_count();
    let url = b.fresh("record");
    let mut store = Store::open(&url).unwrap();
    let mut times = Vec::new();
    let builds: Vec<String> = (1..=30).map(|i| i.to_string()).collect();
    let mut size_one = 0;
    for (i, build) in builds.iter().enumerate() {
        let t = Instant::now();
        let got = store
            .record(&run(build, i as i64), profile_files(&p))
            .unwrap();
        times.push(t.elapsed());
        assert!(matches!(got, Recorded::New { .. }));
        if i == 0 {
            size_one = b.size(&url);
        }
    }
    let first = times[0];
    let t = Instant::now();
    assert_eq!(
        store.record(&run("1", 0), profile_files(&p)).unwrap(),
        Recorded::Unchanged
    );
    let again = t.elapsed();
    drop(store);
    let size = b.size(&url);
    let files = profile_files(&p).count();
    let packages = {
        let mut v: Vec<&str> = profile_files(&p)
            .map(|f| covlens_core::package_of(f.name))
            .collect();
        v.dedup();
        v.len()
    };
    println!(
        "{:<9} record  {} files in {packages} packages, {} blocks: first run {} (new names), next runs median {}, repeat (no-op) {}",
        b.name(),
        files,
        blocks,
        ms(first),
        ms(median(times[1..].to_vec())),
        ms(again),
    );
    println!(
        "{:<9} record  store size: {size_one} bytes after 1 run, {size} after {}; {} bytes per further run",
        b.name(),
        builds.len(),
        (size - size_one) / (builds.len() as u64 - 1)
    );
}

fn bench_show(b: &Backend, runs: usize, packages: usize) {
    let url = b.fresh("show");
    let t = Instant::now();
    {
        let mut store = Store::open(&url).unwrap();
        let names: Vec<String> = (0..packages)
            .map(|i| format!("k8s.io/kubernetes/pkg/g{:03}/p{i:05}/file.go", i % 200))
            .collect();
        let files = names.iter().enumerate().map(|(i, n)| FileCounts {
            name: n,
            counts: Counts {
                covered: (i % 37) as u64,
                total: 40 + (i % 50) as u64,
            },
        });
        store.record(&run("b1", 1), files).unwrap();
    }
    b.populate(&url, runs);
    let size = b.size(&url);
    println!(
        "{:<9} show    {runs} runs x {packages} packages stored in {:.0} s: {} bytes, {} bytes per run",
        b.name(),
        t.elapsed().as_secs_f64(),
        size,
        size / runs as u64
    );
    let mut store = Store::open(&url).unwrap();
    for last in [1, 10, 100] {
        let mut times = Vec::new();
        for _ in 0..15 {
            let t = Instant::now();
            let h = store
                .history(&HistoryQuery {
                    job: "bench",
                    path: None,
                    depth: None,
                    root: None,
                    last,
                })
                .unwrap();
            times.push(t.elapsed());
            assert_eq!((h.runs.len(), h.rows.len()), (last, packages));
        }
        println!(
            "{:<9} show    --last {last:>3}: {} (library, median of 15)",
            b.name(),
            ms(median(times))
        );
    }
    let mut times = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let h = store
            .history(&HistoryQuery {
                job: "bench",
                path: Some("k8s.io/kubernetes/pkg/g007"),
                depth: Some(4),
                root: None,
                last: 10,
            })
            .unwrap();
        times.push(t.elapsed());
        assert_eq!(h.rows.len(), 1);
    }
    println!(
        "{:<9} show    --last  10 --path .../g007 --depth 4: {}",
        b.name(),
        ms(median(times))
    );
    drop(store);
    if let Ok(bin) = std::env::var("COVLENS_BIN") {
        let mut times = Vec::new();
        for _ in 0..9 {
            let t = Instant::now();
            let o = Command::new(&bin)
                .args(["history", "show", "--store", &url, "--job", "bench"])
                .args(["--last", "10", "--format", "json", "-o", "/dev/null"])
                .output()
                .unwrap();
            times.push(t.elapsed());
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        println!(
            "{:<9} show    `covlens history show --last 10 --format json`: {} (whole process, median of 9)",
            b.name(),
            ms(median(times))
        );
    }
    println!(
        "{:<9} show    --last  10 summing files when read (not taken): {}",
        b.name(),
        ms(b.summed_from_files(&url, 10))
    );
}

fn main() {
    let runs = env_usize("COVLENS_BENCH_RUNS", 10_000);
    let packages = env_usize("COVLENS_BENCH_PACKAGES", 5_000);
    let dir = std::env::var("COVLENS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data/history")
        });
    std::fs::create_dir_all(&dir).unwrap();
    let mut backends = vec![Backend::Sqlite(dir)];
    if let Ok(url) = std::env::var("COVLENS_BENCH_POSTGRES") {
        backends.push(Backend::Postgres(url));
    }
    let profile = std::env::var("COVLENS_BENCH_PROFILE").ok();
    for b in &backends {
        match &profile {
            Some(p) => bench_record(b, Path::new(p)),
            None => println!("(COVLENS_BENCH_PROFILE not set: no record figures)"),
        }
        if std::env::var("COVLENS_BENCH_ONLY").as_deref() != Ok("record") {
            bench_show(b, runs, packages);
        }
    }
}
