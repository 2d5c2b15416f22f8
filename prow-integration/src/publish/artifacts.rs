//! A job run's coverage from Prow's artifacts, and a job's latest
//! successful run.
//!
//! Under a run's `artifacts/`, one source of coverage is used, the first
//! found in this order (two of them in one run would count the same
//! processes twice):
//! 1. the collector's snapshots, `coverage/<pod>/<container>/covdata/`
//!    (a GOCOVERDIR) and `.../text/<NNNN>-<name>` (one text profile per
//!    process generation), all merged;
//! 2. before/after pairs as Kubernetes' e2e coverage jobs dump them:
//!    `before/**/*.cov` merged, `after/**/*.cov` merged, then
//!    `after - before` (core's `diff`); a `merged.cov` the job wrote
//!    itself is left out;
//! 3. `combined-coverage*` (the unit-test jobs' profile);
//! 4. the other `*.cov` and `*.out` files directly in `artifacts/`, except
//!    `filtered.cov`;
//! 5. `filtered.cov` alone (a job that kept only gopherage's output).
//!
//! Objects are streamed into a private temporary directory (each checked
//! against `limits.max_object_bytes`, the run against
//! `limits.max_run_bytes`) and read there by covlens-core's
//! [`Loader`](covlens_core::input::Loader), one run at a time. Inputs in
//! different modes combine at the highest (set < count < atomic).

use std::path::{Path as FsPath, PathBuf};

use covlens_core::input::{LoadOptions, Loader};
use covlens_core::{ModePolicy, OnConflict, Profile, RestartPolicy};
use serde::Deserialize;

use super::PublishError;
use super::store::{Bucket, Listed, local_path};
use crate::config::{Filters, Limits};
use crate::layout::{ARTIFACTS_DIR, segment};

/// Where a run's coverage came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The collector's snapshots.
    Collector,
    /// `before/` and `after/` dumps, diffed.
    BeforeAfter,
    /// `combined-coverage*`.
    Combined,
    /// Other profiles in `artifacts/`.
    Profiles,
    /// `filtered.cov`.
    Filtered,
}

impl Source {
    /// For logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Collector => "collector snapshots",
            Source::BeforeAfter => "before/after dumps",
            Source::Combined => "combined-coverage profile",
            Source::Profiles => "profiles",
            Source::Filtered => "filtered.cov",
        }
    }
}

/// A run's coverage, filtered.
#[derive(Debug)]
pub struct RunCoverage {
    /// The profile.
    pub profile: Profile,
    /// Where it came from.
    pub source: Source,
    /// The objects read (relative to `artifacts/`).
    pub objects: Vec<String>,
}

/// What to read: the selected objects and how to combine them.
#[derive(Debug, PartialEq, Eq)]
struct Selection {
    source: Source,
    /// Merged (collector, profiles) or the `before` side.
    first: Vec<Listed>,
    /// The `after` side.
    after: Vec<Listed>,
}

fn is_profile_name(name: &str) -> bool {
    name.ends_with(".cov") || name.ends_with(".out")
}

/// Picks the coverage objects among a run's artifacts (keys relative to
/// `artifacts/`), by the order in the module's documentation.
fn select(objects: &[Listed]) -> Option<Selection> {
    let collector: Vec<Listed> = objects
        .iter()
        .filter(|o| {
            let s: Vec<&str> = o.rel.split('/').collect();
            s.len() >= 5
                && s[0] == "coverage"
                && (s[3] == "covdata" || (s[3] == "text" && s.len() == 5))
        })
        .cloned()
        .collect();
    if collector
        .iter()
        .any(|o| o.rel.contains("/text/") || o.rel.contains("/covdata/covmeta."))
    {
        return Some(Selection {
            source: Source::Collector,
            first: collector,
            after: Vec::new(),
        });
    }
    let side = |dir: &str| -> Vec<Listed> {
        objects
            .iter()
            .filter(|o| {
                o.rel.starts_with(dir)
                    && o.rel.ends_with(".cov")
                    && o.rel != format!("{dir}merged.cov")
            })
            .cloned()
            .collect()
    };
    let (before, after) = (side("before/"), side("after/"));
    if !before.is_empty() && !after.is_empty() {
        return Some(Selection {
            source: Source::BeforeAfter,
            first: before,
            after,
        });
    }
    let top = |f: &dyn Fn(&str) -> bool| -> Vec<Listed> {
        objects
            .iter()
            .filter(|o| !o.rel.contains('/') && f(&o.rel))
            .cloned()
            .collect()
    };
    let picks: [(Source, Vec<Listed>); 3] = [
        (
            Source::Combined,
            top(&|n| n.starts_with("combined-coverage")),
        ),
        (
            Source::Profiles,
            top(&|n| is_profile_name(n) && n != "filtered.cov"),
        ),
        (Source::Filtered, top(&|n| n == "filtered.cov")),
    ];
    picks
        .into_iter()
        .find(|(_, v)| !v.is_empty())
        .map(|(source, first)| Selection {
            source,
            first,
            after: Vec::new(),
        })
}

/// Reads the coverage of the run in `run_dir` (Prow's run directory,
/// ending in `/`), filtered; `None` when it has none.
pub async fn read_run(
    bucket: &Bucket,
    run_dir: &str,
    limits: &Limits,
    filters: &Filters,
) -> Result<Option<RunCoverage>, PublishError> {
    let artifacts = format!("{run_dir}{ARTIFACTS_DIR}");
    let listed = bucket.list(&artifacts, limits.max_objects).await?;
    let Some(sel) = select(&listed) else {
        return Ok(None);
    };
    let all: Vec<&Listed> = sel.first.iter().chain(&sel.after).collect();
    let total: u64 = all.iter().map(|o| o.size).sum();
    if total > limits.max_run_bytes {
        return Err(PublishError::Permanent(format!(
            "{}/{artifacts}: {} coverage objects of {total} bytes, over the limit of {} bytes per run (limits.max_run_bytes)",
            bucket.url(),
            all.len(),
            limits.max_run_bytes
        )));
    }
    let stage = tempfile::Builder::new()
        .prefix("covlens-run-")
        .tempdir()
        .map_err(|e| PublishError::Transient(format!("cannot create a staging directory: {e}")))?;
    for o in &all {
        let dest = local_path(stage.path(), &o.rel)?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| PublishError::Transient(format!("cannot stage {}: {e}", o.rel)))?;
        }
        let mut f = std::fs::File::create(&dest)
            .map_err(|e| PublishError::Transient(format!("cannot stage {}: {e}", o.rel)))?;
        // Gone between listing and reading: a run being deleted; the
        // staged file stays empty and reading it says so.
        bucket
            .get_into(
                &format!("{artifacts}{}", o.rel),
                limits.max_object_bytes,
                &mut f,
            )
            .await?;
    }
    let objects: Vec<String> = all.iter().map(|o| o.rel.clone()).collect();
    let source = sel.source;
    let filters = filters.clone();
    let label = format!("{}/{artifacts}", bucket.url());
    let profile = tokio::task::spawn_blocking(move || {
        let p = load(stage.path(), &sel, &label);
        drop(stage);
        p.map(|mut p| {
            covlens_core::filter(&mut p, filters.include.as_ref(), filters.exclude.as_ref());
            p
        })
    })
    .await
    .map_err(|e| PublishError::Transient(format!("reading coverage stopped: {e}")))??;
    Ok(Some(RunCoverage {
        profile,
        source,
        objects,
    }))
}

/// Reads the staged objects with core's loader.
fn load(root: &FsPath, sel: &Selection, label: &str) -> Result<Profile, PublishError> {
    let bad = |e: covlens_core::Error| {
        // Paths in core's messages are the staging directory's; name the
        // run instead.
        let msg = format!("{e}").replace(&root.display().to_string(), label.trim_end_matches('/'));
        PublishError::Permanent(format!("{label}: unreadable coverage: {msg}"))
    };
    // Binaries of one job may be built in different modes (a `set`
    // GOCOVERDIR next to a `count` text profile): combine at the highest.
    let mut opts = LoadOptions::default();
    opts.parse.mode_policy = ModePolicy::Upgrade;
    let mut loader = Loader::new(opts);
    let paths = |objs: &[Listed]| -> Vec<String> {
        let mut dirs: Vec<String> = Vec::new();
        let mut files: Vec<String> = Vec::new();
        for o in objs {
            let segs: Vec<&str> = o.rel.split('/').collect();
            if sel.source == Source::Collector && segs.len() >= 5 && segs[3] == "covdata" {
                let dir: PathBuf = segs[..4].iter().fold(root.to_path_buf(), |p, s| p.join(s));
                let dir = dir.display().to_string();
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            } else {
                files.push(
                    segs.iter()
                        .fold(root.to_path_buf(), |p, s| p.join(s))
                        .display()
                        .to_string(),
                );
            }
        }
        // A GOCOVERDIR with counter files but no meta-data file cannot be
        // read; it is left out rather than failing the run.
        dirs.retain(|d| {
            std::fs::read_dir(d).is_ok_and(|mut it| {
                it.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("covmeta.")))
            })
        });
        dirs.extend(files);
        dirs
    };
    let first = paths(&sel.first);
    let (merged, _) = loader.merge(&first, OnConflict::Error).map_err(bad)?;
    if sel.source != Source::BeforeAfter {
        return Ok(merged);
    }
    let (after, _) = loader
        .merge(&paths(&sel.after), OnConflict::Error)
        .map_err(bad)?;
    let write = |name: &str, p: &Profile| -> Result<String, PublishError> {
        let path = root.join(name);
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(&path)
                .map_err(|e| PublishError::Transient(format!("cannot stage {name}: {e}")))?,
        );
        covlens_core::write_profile(&mut f, p)
            .and_then(|_| std::io::Write::flush(&mut f))
            .map_err(|e| PublishError::Transient(format!("cannot stage {name}: {e}")))?;
        Ok(path.display().to_string())
    };
    let b = write(".before.merged", &merged)?;
    drop(merged);
    let a = write(".after.merged", &after)?;
    drop(after);
    loader.diff(&b, &a, RestartPolicy::Clamp).map_err(bad)
}

/// `finished.json` as the sidecar (`result`: `SUCCESS`, ...) or crier
/// (lowercase state) writes it.
#[derive(Deserialize)]
struct Finished {
    result: Option<String>,
    passed: Option<bool>,
}

/// Whether a run's `finished.json` says it succeeded.
fn finished_ok(data: &[u8]) -> bool {
    match serde_json::from_slice::<Finished>(data) {
        Ok(f) => match f.result {
            Some(r) => r.eq_ignore_ascii_case("success"),
            None => f.passed == Some(true),
        },
        Err(_) => false,
    }
}

/// The most candidates whose `finished.json` is read when looking for a
/// job's latest successful run.
pub const MAX_CANDIDATES: usize = 50;

/// A build id as a number, for ordering (Prow's are numeric).
fn build_number(b: &str) -> Option<u128> {
    (!b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()))
        .then(|| b.parse().ok())
        .flatten()
}

/// The newest run of periodic or postsubmit `job` under `logs/` whose
/// `finished.json` says it succeeded: candidates are the builds listed
/// under `logs/<job>/` and the one `latest-build.txt` names, newest
/// (largest number) first, at most [`MAX_CANDIDATES`] looked at.
/// `known` is a build known to have succeeded (the ProwJob that just
/// finished, whose `finished.json` may not be there yet).
pub async fn latest_success(
    bucket: &Bucket,
    path_prefix: &str,
    job: &str,
    known: Option<&str>,
) -> Result<Option<String>, PublishError> {
    let pfx = if path_prefix.is_empty() {
        String::new()
    } else {
        format!("{path_prefix}/")
    };
    let job_dir = format!("{pfx}logs/{}/", segment(job));
    let mut builds: Vec<(u128, String)> = bucket
        .list_dirs(&job_dir)
        .await?
        .into_iter()
        .filter_map(|b| build_number(&b).map(|n| (n, b)))
        .collect();
    if let Some(latest) = bucket
        .get(&format!("{job_dir}latest-build.txt"), 1024)
        .await?
    {
        let s = String::from_utf8_lossy(&latest).trim().to_string();
        if let Some(n) = build_number(&s) {
            builds.push((n, s));
        }
    }
    if let Some(k) = known.and_then(|k| build_number(k).map(|n| (n, k.to_string()))) {
        builds.push(k);
    }
    builds.sort();
    builds.dedup();
    builds.reverse();
    for (_, b) in builds.into_iter().take(MAX_CANDIDATES) {
        if known == Some(b.as_str()) {
            return Ok(Some(b));
        }
        if let Some(f) = bucket
            .get(&format!("{job_dir}{b}/finished.json"), 1 << 20)
            .await?
            && finished_ok(&f)
        {
            return Ok(Some(b));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(rel: &str) -> Listed {
        Listed {
            rel: rel.into(),
            size: 1,
        }
    }

    fn rels(v: &[Listed]) -> Vec<&str> {
        v.iter().map(|o| o.rel.as_str()).collect()
    }

    #[test]
    fn selection_order() {
        let collector = [
            l("coverage/e2e-0/kube-apiserver/covdata/covmeta.ab"),
            l("coverage/e2e-0/kube-apiserver/covdata/covcounters.ab.1.2"),
            l("coverage/e2e-0/kube-apiserver/metadata/covdata/covmeta.ab.json"),
            l("coverage/e2e-0/kubelet/text/0000-kubelet.cov"),
            l("e2e.cov"),
            l("filtered.cov"),
        ];
        let s = select(&collector).unwrap();
        assert_eq!(s.source, Source::Collector);
        assert_eq!(
            rels(&s.first),
            [
                "coverage/e2e-0/kube-apiserver/covdata/covmeta.ab",
                "coverage/e2e-0/kube-apiserver/covdata/covcounters.ab.1.2",
                "coverage/e2e-0/kubelet/text/0000-kubelet.cov"
            ]
        );
        let e2e = [
            l("after/node-1/kubelet.cov"),
            l("after/merged.cov"),
            l("before/node-1/kubelet.cov"),
            l("conformance.cov"),
            l("filtered.cov"),
            l("junit_coverage.xml"),
        ];
        let s = select(&e2e).unwrap();
        assert_eq!(s.source, Source::BeforeAfter);
        assert_eq!(
            (rels(&s.first), rels(&s.after)),
            (
                vec!["before/node-1/kubelet.cov"],
                vec!["after/node-1/kubelet.cov"]
            )
        );
        let unit = [l("combined-coverage.out"), l("filtered.cov"), l("x.out")];
        assert_eq!(select(&unit).unwrap().source, Source::Combined);
        let plain = [l("a.cov"), l("b.out"), l("filtered.cov"), l("sub/c.cov")];
        let s = select(&plain).unwrap();
        assert_eq!(
            (s.source, rels(&s.first)),
            (Source::Profiles, vec!["a.cov", "b.out"])
        );
        let s = select(&[l("filtered.cov"), l("build-log.txt")]).unwrap();
        assert_eq!(s.source, Source::Filtered);
        assert!(select(&[l("build-log.txt"), l("junit.xml")]).is_none());
    }

    #[test]
    fn finished_json() {
        assert!(finished_ok(
            br#"{"timestamp":1,"passed":true,"result":"SUCCESS"}"#
        ));
        assert!(finished_ok(br#"{"result":"success"}"#));
        assert!(finished_ok(br#"{"passed":true}"#));
        assert!(!finished_ok(br#"{"passed":true,"result":"FAILURE"}"#));
        assert!(!finished_ok(br#"{"passed":false}"#));
        assert!(!finished_ok(b"not json"));
        assert_eq!(
            build_number("1790000000000000000"),
            Some(1790000000000000000)
        );
        assert_eq!(build_number("12a"), None);
    }
}
