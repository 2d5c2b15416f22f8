//! One test body per behaviour, run against both backends: SQLite always,
//! PostgreSQL with `--include-ignored` (scripts/test.sh starts the server).

mod common;

use covlens_core::Counts;
use covlens_history::{
    Error, FileCounts, FlakyCounts, HistoryQuery, NewRun, Recorded, SCHEMA_VERSION, Source, Store,
    Timestamp,
};

fn run<'a>(build: &'a str, time: &str) -> NewRun<'a> {
    NewRun {
        job: "e2e",
        build,
        branch: Some("main"),
        commit: Some("abc123"),
        time: Timestamp::parse_rfc3339(time).unwrap(),
        source: Source::Cli,
    }
}

fn fc(name: &str, covered: u64, total: u64) -> FileCounts<'_> {
    FileCounts {
        name,
        counts: Counts { covered, total },
    }
}

/// Files of a run: three packages, numbers varying with `k`.
fn files(k: u64) -> Vec<(String, u64, u64)> {
    vec![
        ("k8s.io/a/x.go".into(), 3 + k, 10),
        ("k8s.io/a/y.go".into(), 2, 5),
        ("k8s.io/a/b/z.go".into(), 7 - k, 8),
        ("k8s.io/c/w.go".into(), k, 4),
    ]
}

fn as_counts(v: &[(String, u64, u64)]) -> Vec<FileCounts<'_>> {
    v.iter().map(|(n, c, t)| fc(n, *c, *t)).collect()
}

fn schema_and_reopen(url: &str) {
    let mut s = Store::open(url).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    drop(s);
    let mut s = Store::open(url).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
}

fn record_is_idempotent(url: &str) {
    let mut s = Store::open(url).unwrap();
    let f = files(1);
    let got = s
        .record(&run("1", "2026-12-01T00:00:00Z"), as_counts(&f))
        .unwrap();
    let total = f.iter().fold(Counts::default(), |mut a, (_, c, t)| {
        a.add(Counts {
            covered: *c,
            total: *t,
        });
        a
    });
    assert_eq!(
        got,
        Recorded::New {
            files: 4,
            counts: total
        }
    );
    // Same data, another time and order: a no-op.
    let mut rev = as_counts(&f);
    rev.reverse();
    assert_eq!(
        s.record(&run("1", "2026-12-05T00:00:00Z"), rev).unwrap(),
        Recorded::Unchanged
    );
    // Different numbers: refused, the stored run stays as it was.
    let err = s
        .record(&run("1", "2026-12-01T00:00:00Z"), as_counts(&files(2)))
        .unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err}");
    // Different commit: refused too.
    let mut other = run("1", "2026-12-01T00:00:00Z");
    other.commit = Some("def456");
    assert!(matches!(
        s.record(&other, as_counts(&f)),
        Err(Error::Conflict { .. })
    ));
    let runs = s.runs("e2e", 10).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].counts, total);
    assert_eq!(runs[0].files, 4);
    assert_eq!(runs[0].commit.as_deref(), Some("abc123"));
    assert_eq!(runs[0].time.to_string(), "2026-12-01T00:00:00Z");
    assert_eq!(runs[0].source, "cli");
}

fn history_and_drops(url: &str) {
    let mut s = Store::open(url).unwrap();
    // Recorded out of time order; read back oldest first.
    let times = [
        ("30", "2026-12-03T00:00:00Z", 3),
        ("10", "2026-12-01T00:00:00Z", 1),
        ("20", "2026-12-02T00:00:00+02:00", 2),
        ("40", "2026-12-04T00:00:00Z", 0),
    ];
    for (b, t, k) in times {
        s.record(&run(b, t), as_counts(&files(k))).unwrap();
    }
    // A package missing from one run.
    s.record(
        &run("50", "2026-12-05T00:00:00Z"),
        vec![fc("k8s.io/a/x.go", 1, 10)],
    )
    .unwrap();
    // Another job is not mixed in.
    let mut other = run("10", "2026-12-09T00:00:00Z");
    other.job = "unit";
    s.record(&other, vec![fc("k8s.io/z/z.go", 1, 1)]).unwrap();

    let q = HistoryQuery {
        job: "e2e",
        path: None,
        depth: None,
        root: None,
        last: 3,
    };
    let h = s.history(&q).unwrap();
    let builds: Vec<_> = h.runs.iter().map(|r| r.build.as_str()).collect();
    assert_eq!(builds, ["30", "40", "50"]);
    let names: Vec<_> = h.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["k8s.io/a", "k8s.io/a/b", "k8s.io/c"]);
    // Expected values: sums of the inputs above.
    let c = |covered, total| Some(Counts { covered, total });
    assert_eq!(h.rows[0].points, [c(3 + 3 + 2, 15), c(3 + 2, 15), c(1, 10)]);
    assert_eq!(h.rows[1].points, [c(4, 8), c(7, 8), None]);
    assert_eq!(h.rows[2].points, [c(3, 4), c(0, 4), None]);
    assert_eq!(
        h.total,
        [
            Counts {
                covered: 15,
                total: 27
            },
            Counts {
                covered: 12,
                total: 27
            },
            Counts {
                covered: 1,
                total: 10
            }
        ]
    );

    let all = s
        .history(&HistoryQuery {
            last: 100,
            ..q.clone()
        })
        .unwrap();
    assert_eq!(all.runs.len(), 5);
    assert_eq!(all.runs[1].build, "20");

    let d = s
        .history(&HistoryQuery {
            depth: Some(2),
            root: Some(""),
            ..q.clone()
        })
        .unwrap();
    assert_eq!(d.by, "directory");
    let names: Vec<_> = d.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["k8s.io/a", "k8s.io/c"]);
    assert_eq!(d.rows[0].points[0], c(3 + 3 + 2 + 4, 15 + 8));
    // Without a root, depth counts below the packages' common directory
    // (`k8s.io`), as `covlens table --depth` does.
    let below = s
        .history(&HistoryQuery {
            depth: Some(1),
            root: None,
            ..q.clone()
        })
        .unwrap();
    assert_eq!(below.root.as_deref(), Some("k8s.io"));
    assert_eq!(below.rows, d.rows);
    // A root that leaves a package out is an error, not a silent drop.
    let e = s
        .history(&HistoryQuery {
            depth: Some(1),
            root: Some("k8s.io/a"),
            ..q.clone()
        })
        .unwrap_err();
    assert!(e.to_string().contains("is not under the root"), "{e}");

    let p = s
        .history(&HistoryQuery {
            path: Some("k8s.io/a/"),
            ..q.clone()
        })
        .unwrap();
    let names: Vec<_> = p.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["k8s.io/a", "k8s.io/a/b"]);
    assert_eq!(
        p.total[0],
        Counts {
            covered: 12,
            total: 23
        }
    );

    // Drops over all five runs, by more than 10 points.
    let drops = all.drops(10.0);
    let got: Vec<_> = drops
        .iter()
        .map(|d| {
            (
                d.name.as_str(),
                all.runs[d.from].build.as_str(),
                all.runs[d.to].build.as_str(),
            )
        })
        .collect();
    // k8s.io/a: 6/15 -> 7/15 -> 8/15 -> 5/15 (-20) -> 1/10 (-23.3);
    // k8s.io/a/b: 6/8 -> 5/8 (-12.5) -> 4/8 (-12.5) -> 7/8; k8s.io/c: 1/4 ->
    // 2/4 -> 3/4 -> 0/4 (-75).
    assert_eq!(
        got,
        [
            ("k8s.io/a", "30", "40"),
            ("k8s.io/a", "40", "50"),
            ("k8s.io/a/b", "10", "20"),
            ("k8s.io/a/b", "20", "30"),
            ("k8s.io/c", "30", "40"),
        ]
    );
    assert!((drops[0].points - 20.0).abs() < 1e-9);
}

fn bad_runs_store_nothing(url: &str) {
    let mut s = Store::open(url).unwrap();
    let err = s
        .record(
            &run("1", "2026-12-01T00:00:00Z"),
            vec![fc("a/x.go", 1, 2), fc("a/x.go", 1, 2)],
        )
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateFile(_)), "{err}");
    let err = s
        .record(
            &run("2", "2026-12-01T00:00:00Z"),
            vec![fc("a/x.go", 1, 1 << 40)],
        )
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert!(matches!(
        s.record(&run("", "2026-12-01T00:00:00Z"), vec![]),
        Err(Error::Empty(_))
    ));
    assert!(s.runs("e2e", 10).unwrap().is_empty());
    // The key is free again.
    s.record(&run("1", "2026-12-01T00:00:00Z"), vec![fc("a/x.go", 1, 2)])
        .unwrap();
}

/// Threads, each with its own connection, record at once: nothing is lost,
/// shared names are stored once, and a run recorded by two of them at once
/// is stored once.
fn concurrent_writers(url: &str) {
    Store::open(url).unwrap();
    std::thread::scope(|sc| {
        for t in 0..6u64 {
            sc.spawn(move || {
                let mut s = Store::open(url).unwrap();
                for i in 0..5u64 {
                    let build = format!("{}", t * 10 + i);
                    let time = format!("2026-12-01T00:{:02}:{:02}Z", t, i);
                    let f = files(i % 4);
                    let got = s.record(&run(&build, &time), as_counts(&f)).unwrap();
                    assert!(matches!(got, Recorded::New { .. }));
                    // Everyone also records the same shared run.
                    let shared = files(0);
                    s.record(&run("shared", "2026-12-02T00:00:00Z"), as_counts(&shared))
                        .unwrap();
                }
            });
        }
    });
    let mut s = Store::open(url).unwrap();
    let runs = s.runs("e2e", 1000).unwrap();
    assert_eq!(runs.len(), 6 * 5 + 1);
    let h = s
        .history(&HistoryQuery {
            job: "e2e",
            path: None,
            depth: None,
            root: None,
            last: 1000,
        })
        .unwrap();
    assert_eq!(h.rows.len(), 3);
    for (r, t) in h.runs.iter().zip(&h.total) {
        assert_eq!(r.counts, *t, "run {}", r.build);
    }
}

fn newer_schema_is_refused(url: &str, bump: impl FnOnce()) {
    Store::open(url).unwrap();
    bump();
    match Store::open(url) {
        Err(Error::SchemaTooNew { found, known }) => {
            assert_eq!((found, known), (SCHEMA_VERSION + 1, SCHEMA_VERSION))
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

fn prune_keeps_the_newest(url: &str) {
    let mut s = Store::open(url).unwrap();
    // Recorded out of time order: pruning goes by run time, not by id.
    for (b, t, k) in [
        ("3", "2026-12-03T00:00:00Z", 3),
        ("1", "2026-12-01T00:00:00Z", 1),
        ("4", "2026-12-04T00:00:00Z", 4),
        ("2", "2026-12-02T00:00:00Z", 2),
    ] {
        let f = files(k);
        s.record(&run(b, t), as_counts(&f)).unwrap();
    }
    let mut other = run("1", "2026-11-01T00:00:00Z");
    other.job = "unit";
    let f = files(0);
    s.record(&other, as_counts(&f)).unwrap();

    assert_eq!(s.prune("e2e", 2).unwrap(), 2);
    let builds: Vec<String> = s
        .runs("e2e", 10)
        .unwrap()
        .into_iter()
        .map(|r| r.build)
        .collect();
    assert_eq!(builds, ["3", "4"]);
    // Their rows went with them: the history has only the kept runs' numbers.
    let h = s
        .history(&HistoryQuery {
            job: "e2e",
            path: None,
            depth: None,
            root: None,
            last: 10,
        })
        .unwrap();
    assert!(
        h.rows
            .iter()
            .all(|r| r.points.len() == 2 && r.points.iter().all(Option::is_some))
    );
    // Another job is untouched; pruning again deletes nothing.
    assert_eq!(s.runs("unit", 10).unwrap().len(), 1);
    assert_eq!(s.prune("e2e", 2).unwrap(), 0);
    // A pruned build can be recorded again (it is gone, not remembered).
    let f = files(1);
    assert!(matches!(
        s.record(&run("1", "2026-12-01T00:00:00Z"), as_counts(&f))
            .unwrap(),
        Recorded::New { .. }
    ));
    assert_eq!(s.prune("e2e", 0).unwrap(), 3);
    assert!(s.runs("e2e", 10).unwrap().is_empty());
}

fn flaky_is_recorded_per_package(url: &str) {
    let mut s = Store::open(url).unwrap();
    let f = files(1);
    s.record(&run("1", "2026-12-01T00:00:00Z"), as_counts(&f))
        .unwrap();
    s.record(&run("2", "2026-12-02T00:00:00Z"), as_counts(&f))
        .unwrap();
    let fl = |package, statements| FlakyCounts {
        package,
        statements,
        blocks: 1,
    };
    assert!(matches!(
        s.record_flaky("e2e", "9", 3, [fl("k8s.io/a", 1)]),
        Err(Error::NoRun { .. })
    ));
    s.record_flaky(
        "e2e",
        "2",
        3,
        [fl("k8s.io/a", 5), fl("k8s.io/a/b", 2), fl("k8s.io/c", 0)],
    )
    .unwrap();
    // Recording again replaces.
    s.record_flaky(
        "e2e",
        "2",
        3,
        [fl("k8s.io/a", 4), fl("k8s.io/a/b", 2), fl("k8s.io/c", 0)],
    )
    .unwrap();
    assert!(matches!(
        s.record_flaky("e2e", "2", 3, [fl("k8s.io/a", 4), fl("k8s.io/a", 2)]),
        Err(Error::DuplicatePackage(_))
    ));
    let q = |depth| HistoryQuery {
        job: "e2e",
        path: None,
        depth,
        root: Some(""),
        last: 10,
    };
    let h = s.history(&q(None)).unwrap();
    let flaky: Vec<(&str, &[Option<u64>])> = h
        .rows
        .iter()
        .map(|r| (r.name.as_str(), &r.flaky[..]))
        .collect();
    assert_eq!(
        flaky,
        [
            ("k8s.io/a", &[None, Some(4)][..]),
            ("k8s.io/a/b", &[None, Some(2)][..]),
            ("k8s.io/c", &[None, Some(0)][..])
        ]
    );
    // The newest run's measurement, with the number of runs it spans; the
    // run before it has none.
    assert_eq!(h.runs[0].flaky_runs, None);
    let (runs, newest) = h.newest_flaky().unwrap();
    assert_eq!(runs, 3);
    assert_eq!(
        newest,
        std::collections::HashMap::from([
            ("k8s.io/a".to_string(), 4),
            ("k8s.io/a/b".to_string(), 2),
            ("k8s.io/c".to_string(), 0)
        ])
    );
    let h = s.history(&q(Some(2))).unwrap();
    assert_eq!(h.rows[0].flaky, [None, Some(6)]);
    // Grouping files by a function of their name: by package gives the
    // per-package numbers; a file in two groups counts in both.
    let by_pkg = s
        .history_by(&q(None), "owner", &mut |f| {
            vec![covlens_core::package_of(f).to_string(), "all".to_string()]
        })
        .unwrap();
    let plain = s.history(&q(None)).unwrap();
    for r in &plain.rows {
        let g = by_pkg.rows.iter().find(|g| g.name == r.name).unwrap();
        assert_eq!(g.points, r.points, "{}", r.name);
    }
    let all = by_pkg.rows.iter().find(|g| g.name == "all").unwrap();
    assert_eq!(
        all.points,
        plain.total.iter().map(|c| Some(*c)).collect::<Vec<_>>()
    );
    assert_eq!(by_pkg.total, plain.total);
    // Pruning takes the flaky rows along.
    assert_eq!(s.prune("e2e", 0).unwrap(), 2);
}

/// A store written by a covlens at schema version 1 (before flaky
/// coverage), with runs in it, opened by this one: migrated in place, every
/// run and number kept, the new columns empty ("not measured"), and usable
/// for the new data afterwards.
fn migrates_a_populated_v1_store(url: &str) {
    let mut old = Store::open_at(url, true, 1).unwrap();
    assert_eq!(old.schema_version().unwrap(), 1);
    let mut recorded = Vec::new();
    for (k, build, time) in [
        (0, "1", "2026-11-01T00:00:00Z"),
        (1, "2", "2026-11-02T00:00:00Z"),
        (2, "3", "2026-11-03T00:00:00Z"),
    ] {
        let f = files(k);
        old.record(&run(build, time), as_counts(&f)).unwrap();
        recorded.push(f);
    }
    // Version 1 has no flaky table.
    let fl = FlakyCounts {
        package: "k8s.io/a",
        statements: 1,
        blocks: 1,
    };
    assert!(old.record_flaky("e2e", "3", 2, [fl]).is_err());
    drop(old);

    let mut s = Store::open(url).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    let runs = s.runs("e2e", 10).unwrap();
    let builds: Vec<_> = runs.iter().map(|r| r.build.as_str()).collect();
    assert_eq!(builds, ["1", "2", "3"]);
    for (r, f) in runs.iter().zip(&recorded) {
        let want = f.iter().fold(Counts::default(), |mut a, (_, c, t)| {
            a.add(Counts {
                covered: *c,
                total: *t,
            });
            a
        });
        assert_eq!((r.counts, r.files), (want, 4), "run {}", r.build);
        assert_eq!(r.commit.as_deref(), Some("abc123"));
    }
    let q = HistoryQuery {
        job: "e2e",
        path: None,
        depth: None,
        root: None,
        last: 10,
    };
    let h = s.history(&q).unwrap();
    let a = h.rows.iter().find(|r| r.name == "k8s.io/a").unwrap();
    let want_a: Vec<_> = (0..3)
        .map(|k| {
            Some(Counts {
                covered: 3 + k + 2,
                total: 15,
            })
        })
        .collect();
    assert_eq!(a.points, want_a);
    assert!(h.rows.iter().all(|r| r.flaky == [None, None, None]));
    // The same run again is still a no-op; new data goes in.
    assert_eq!(
        s.record(&run("3", "2026-11-03T00:00:00Z"), as_counts(&files(2)))
            .unwrap(),
        Recorded::Unchanged
    );
    s.record_flaky("e2e", "3", 2, [fl]).unwrap();
    let h = s.history(&q).unwrap();
    let a = h.rows.iter().find(|r| r.name == "k8s.io/a").unwrap();
    assert_eq!(a.flaky, [None, None, Some(1)]);
}

macro_rules! suite {
    ($($name:ident),*) => {
        mod sqlite {
            $(#[test] fn $name() { let s = crate::common::sqlite(); super::$name(&s.url); })*

            #[test]
            fn newer_schema_is_refused() {
                let s = crate::common::sqlite();
                super::newer_schema_is_refused(&s.url, || {
                    let c = rusqlite::Connection::open(&s.url).unwrap();
                    c.execute("INSERT INTO covlens_schema VALUES (?1, 0)", [super::SCHEMA_VERSION + 1]).unwrap();
                });
            }

            #[test]
            fn in_memory() {
                super::history_and_drops(":memory:");
            }

            /// Another program's database is neither read nor written: no
            /// covlens table is added to it (reading used to create them).
            /// A file with no table is a store only when recording.
            #[test]
            fn foreign_and_empty_databases() {
                let dir = tempfile::tempdir().unwrap();
                let other = dir.path().join("other.db");
                let other = other.to_str().unwrap();
                rusqlite::Connection::open(other).unwrap().execute("CREATE TABLE runs (x INT)", []).unwrap();
                for r in [super::Store::open_reader(other), super::Store::open_existing(other), super::Store::open(other)] {
                    assert!(matches!(r, Err(super::Error::NotAStore(_))), "{:?}", r.err());
                }
                let c = rusqlite::Connection::open(other).unwrap();
                let n: i64 = c.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0)).unwrap();
                assert_eq!(n, 1);
                let empty = dir.path().join("empty.db");
                std::fs::write(&empty, b"").unwrap();
                let empty = empty.to_str().unwrap();
                for r in [super::Store::open_reader(empty), super::Store::open_existing(empty)] {
                    assert!(matches!(r, Err(super::Error::EmptyStore(_))), "{:?}", r.err());
                }
                super::Store::open(empty).unwrap();
                super::Store::open_reader(empty).unwrap();
            }
        }
        mod postgres {
            $(#[test] #[ignore = "needs postgres"] fn $name() { let s = crate::common::postgres(); super::$name(&s.url); })*

            #[test]
            #[ignore = "needs postgres"]
            fn newer_schema_is_refused() {
                let s = crate::common::postgres();
                super::newer_schema_is_refused(&s.url, || {
                    let mut c = postgres::Client::connect(&s.url, postgres::NoTls).unwrap();
                    let v = i32::try_from(super::SCHEMA_VERSION + 1).unwrap();
                    c.execute("INSERT INTO covlens_schema (version) VALUES ($1)", &[&v]).unwrap();
                });
            }
        }
    };
}

suite!(
    schema_and_reopen,
    record_is_idempotent,
    history_and_drops,
    bad_runs_store_nothing,
    concurrent_writers,
    prune_keeps_the_newest,
    flaky_is_recorded_per_package,
    migrates_a_populated_v1_store
);
