//! criterion benchmarks of the hot library functions on synthetic,
//! Kubernetes-shaped profiles made in-process (see `covlens_benches`).
//!
//! ```sh
//! cargo bench -p covlens-benches                         # 2,000 files x 50 blocks
//! COVLENS_BENCH_FILES=20000 cargo bench -p covlens-benches  # Kubernetes scale (68 MB)
//! cargo bench -p covlens-benches -- --save-baseline before   # then --baseline before
//! ```
//!
//! The whole-command comparison with gopherage is `benches/compare.sh`.
//! `merge_files` times `Loader::merge_into` on the five profiles written to
//! files: the streaming path (what `covlens merge` does with them) against
//! the general one. `COVLENS_BENCH_COVDIR=DIR` adds `covdata textfmt` of
//! that GOCOVERDIR (`benches/covdata-compare.sh` makes one).

use std::hint::black_box;
use std::time::Duration;

use covlens_benches::{bench_files, synthetic_profile};
use covlens_core::covdata::{ReadOptions, read_dirs, write_textfmt};
use covlens_core::input::Loader;
use covlens_core::{
    ExplainBy, MergeOptions, Merger, ModePolicy, OnConflict, ParseOptions, Profile, RestartPolicy,
    diff, explain, filter, parse_bytes, path_regex, write_profile,
};
use criterion::measurement::WallTime;
use criterion::{
    BatchSize, BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main,
};

const BLOCKS: usize = 50;
/// Seeds 1-5, as for gopherage's "merge of 5" baseline.
const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];
/// Kubernetes' coverage job's exclusions (config/jobs/kubernetes/sig-testing/coverage.yaml).
const K8S_EXCLUDES: &str = r"zz_generated,third_party/,cmd/,\.pb\.go";

struct Inputs {
    files: usize,
    texts: Vec<Vec<u8>>,
    profiles: Vec<Profile>,
}

fn parse(data: &[u8], parallel: bool) -> Profile {
    let opts = ParseOptions {
        parallel,
        ..ParseOptions::default()
    };
    parse_bytes(data, "bench", &opts).expect("synthetic profile parses")
}

fn inputs() -> Inputs {
    let files = bench_files(2_000);
    let texts: Vec<Vec<u8>> = SEEDS
        .iter()
        .map(|&s| synthetic_profile(files, BLOCKS, s))
        .collect();
    let profiles = texts.iter().map(|t| parse(t, true)).collect();
    Inputs {
        files,
        texts,
        profiles,
    }
}

fn merge_all(profiles: Vec<Profile>) -> Profile {
    let mut m = Merger::new(MergeOptions::default());
    for (i, p) in profiles.into_iter().enumerate() {
        m.add(&format!("in{i}"), p).expect("same layout merges");
    }
    m.finish().0
}

fn configure<'a>(c: &'a mut Criterion, name: &str, files: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(format!("{name}/{files}x{BLOCKS}"));
    // Keep the default size well under a minute per group on 2 cores.
    g.sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g
}

fn benches(c: &mut Criterion) {
    let inp = inputs();
    let text = &inp.texts[0];
    let bytes = text.len() as u64;

    let mut g = configure(c, "parse", inp.files);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("parallel", |b| b.iter(|| parse(black_box(text), true)));
    g.bench_function("sequential", |b| b.iter(|| parse(black_box(text), false)));
    g.finish();

    let mut g = configure(c, "merge", inp.files);
    let blocks: u64 = inp.profiles.iter().map(|p| p.block_count() as u64).sum();
    g.throughput(Throughput::Elements(blocks));
    // Profiles are taken by value, so each iteration gets fresh copies; the
    // copying is not timed.
    g.bench_function("5_profiles", |b| {
        b.iter_batched(|| inp.profiles.clone(), merge_all, BatchSize::LargeInput)
    });
    let text_bytes: u64 = inp.texts.iter().map(|t| t.len() as u64).sum();
    g.throughput(Throughput::Bytes(text_bytes));
    g.bench_function("parse_and_merge_5", |b| {
        b.iter(|| {
            merge_all(
                inp.texts
                    .iter()
                    .map(|t| parse(black_box(t), true))
                    .collect(),
            )
        })
    });
    g.finish();

    // The same five profiles as files, for the paths that read files.
    let dir = std::env::temp_dir().join(format!("covlens-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let paths: Vec<String> = inp
        .texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = dir.join(format!("seed{i}.out"));
            std::fs::write(&p, t).expect("writing a bench input");
            p.to_string_lossy().into_owned()
        })
        .collect();
    let mut g = configure(c, "merge_files", inp.files);
    g.throughput(Throughput::Bytes(text_bytes));
    g.bench_function("streaming_5", |b| {
        b.iter(|| {
            Loader::default()
                .merge_into(black_box(&paths), OnConflict::Error, &mut std::io::sink())
                .expect("same layout merges")
        })
    });
    g.bench_function("general_5", |b| {
        b.iter(|| {
            let (p, _) = Loader::default()
                .merge(black_box(&paths), OnConflict::Error)
                .expect("same layout merges");
            write_profile(&mut std::io::sink(), &p).expect("writing to a sink");
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);

    if let Ok(covdir) = std::env::var("COVLENS_BENCH_COVDIR") {
        let mut g = c.benchmark_group("covdata");
        g.sample_size(20).measurement_time(Duration::from_secs(4));
        g.bench_function("textfmt", |b| {
            b.iter(|| {
                let d = read_dirs(&[&covdir], &ReadOptions::default()).expect("a GOCOVERDIR");
                write_textfmt(&mut std::io::sink(), &d).expect("writing to a sink");
            })
        });
        g.finish();
    }

    let mut g = configure(c, "write", inp.files);
    g.throughput(Throughput::Bytes(bytes));
    let mut out: Vec<u8> = Vec::with_capacity(text.len() + 4096);
    g.bench_function("to_vec", |b| {
        b.iter(|| {
            out.clear();
            write_profile(&mut out, black_box(&inp.profiles[0])).expect("writing to a Vec");
            out.len()
        })
    });
    g.finish();

    // "after" = before + another run, so every count went up: diff's normal
    // case, and after - before is exactly the other run's counts.
    let before = &inp.profiles[0];
    let after = merge_all(vec![before.clone(), inp.profiles[1].clone()]);
    let mut g = configure(c, "diff", inp.files);
    g.throughput(Throughput::Elements(before.block_count() as u64));
    g.bench_function("before_after", |b| {
        b.iter_batched(
            || before.clone(),
            |bf| {
                diff(
                    ("before", bf),
                    ("after", &after),
                    ModePolicy::Strict,
                    RestartPolicy::Clamp,
                )
                .expect("same layout diffs")
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let excludes: Vec<String> = K8S_EXCLUDES.split(',').map(str::to_string).collect();
    let k8s = path_regex(&excludes).expect("valid regex");
    // Drops about a third of the files, so retain() really moves data.
    let third = path_regex(&[r"/sub2\d\d/".to_string()]).expect("valid regex");
    let mut g = configure(c, "filter", inp.files);
    g.throughput(Throughput::Elements(before.files().len() as u64));
    g.bench_function("k8s_excludes", |b| {
        b.iter_batched(
            || before.clone(),
            |mut p| {
                filter(&mut p, None, k8s.as_ref());
                p
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("drop_some", |b| {
        b.iter_batched(
            || before.clone(),
            |mut p| {
                filter(&mut p, None, third.as_ref());
                p
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    // Statements against line-based counts: every block mapped to lines
    // twice (`covlens explain`).
    let one = &inp.profiles[0];
    let mut g = configure(c, "explain", inp.files);
    g.throughput(Throughput::Elements(one.block_count() as u64));
    g.bench_function("by_package", |b| {
        b.iter(|| explain(black_box(one), ExplainBy::Package))
    });
    g.finish();
}

criterion_group!(parse_merge, benches);
criterion_main!(parse_merge);
