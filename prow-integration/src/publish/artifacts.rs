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
//! Text objects are streamed from the bucket into covlens-core's
//! [`Loader`](covlens_core::input::Loader) (each checked against
//! `limits.max_object_bytes` while it arrives, the run against
//! `limits.max_run_bytes` from the listing), never copied to disk; a
//! GOCOVERDIR's files are read into memory. One run at a time. Inputs in
//! different modes combine at the highest (set < count < atomic).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use covlens_core::covdata::names::META_MAGIC;
use covlens_core::covdata::{COUNTER_MAGIC, MemoryFiles};
use covlens_core::input::{LoadOptions, Loader, Remote, RemoteObject};
use covlens_core::{ModePolicy, OnConflict, Profile, RestartPolicy};
use covlens_report_templates::same_commit;
use futures_util::StreamExt;
use serde::Deserialize;

use super::PublishError;
use super::store::{Bucket, Listed, Max};
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

/// The most bytes of one GOCOVERDIR read into memory (as for a GOCOVERDIR
/// object prefix in the CLI).
const MAX_COVDIR_BYTES: u64 = 1 << 30;

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
    let objects: Vec<String> = all.iter().map(|o| o.rel.clone()).collect();
    let source = sel.source;
    let filters = filters.clone();
    let run = RunObjects::new(bucket.clone(), artifacts, &sel, limits.max_object_bytes);
    let profile = tokio::task::spawn_blocking(move || {
        run.load(&sel).map(|mut p| {
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

/// One input of a run: a text object, or a GOCOVERDIR's objects.
enum RunInput {
    /// Its key and size.
    Text(String, u64),
    /// Its files: base name and key; their total size.
    Dir(Vec<(String, String)>, u64),
}

/// A run's selected objects as core's loader reads them, named by their
/// URLs (`gs://bucket/logs/job/1/artifacts/e2e.cov`).
#[derive(Clone)]
struct RunObjects {
    bucket: Bucket,
    handle: tokio::runtime::Handle,
    max_object_bytes: u64,
    /// The run's `artifacts/` key, ending in `/`.
    artifacts: String,
    inputs: Arc<HashMap<String, RunInput>>,
    /// The first failure to fetch (a transport error, not bad data): the
    /// run is then retried, not given up as unreadable.
    fetch_error: Arc<Mutex<Option<PublishError>>>,
}

impl RunObjects {
    /// Must be called on the runtime (it keeps its handle).
    fn new(
        bucket: Bucket,
        artifacts: String,
        sel: &Selection,
        max_object_bytes: u64,
    ) -> RunObjects {
        let mut inputs = HashMap::new();
        let objs = sel.first.iter().chain(&sel.after);
        for o in objs {
            let segs: Vec<&str> = o.rel.split('/').collect();
            let key = format!("{artifacts}{}", o.rel);
            if sel.source == Source::Collector && segs.len() >= 5 && segs[3] == "covdata" {
                let dir = format!("{}/{artifacts}{}/", bucket.url(), segs[..4].join("/"));
                let base = segs[4..].join("/");
                let entry = inputs
                    .entry(dir)
                    .or_insert_with(|| RunInput::Dir(Vec::new(), 0));
                if let RunInput::Dir(files, size) = entry {
                    files.push((base, key));
                    *size += o.size;
                }
            } else {
                inputs.insert(
                    format!("{}/{key}", bucket.url()),
                    RunInput::Text(key, o.size),
                );
            }
        }
        RunObjects {
            bucket,
            handle: tokio::runtime::Handle::current(),
            max_object_bytes,
            artifacts,
            inputs: Arc::new(inputs),
            fetch_error: Arc::new(Mutex::new(None)),
        }
    }

    /// The loader's names of `objs`: GOCOVERDIRs first (each once, and
    /// only with a meta-data file: counter files alone cannot be read, so
    /// they are left out rather than failing the run), then text objects.
    fn names(&self, objs: &[Listed]) -> Vec<String> {
        let mut dirs: Vec<String> = Vec::new();
        let mut files: Vec<String> = Vec::new();
        for o in objs {
            let text = format!("{}/{}{}", self.bucket.url(), self.artifacts, o.rel);
            if self.inputs.contains_key(&text) {
                files.push(text);
                continue;
            }
            let key = format!("{}{}", self.artifacts, o.rel);
            let dir = self.inputs.iter().find_map(|(name, i)| match i {
                RunInput::Dir(fs, _) if fs.iter().any(|f| f.1 == key) => Some(name),
                _ => None,
            });
            if let Some(d) = dir
                && !dirs.contains(d)
            {
                dirs.push(d.clone());
            }
        }
        dirs.retain(|d| match self.inputs.get(d) {
            Some(RunInput::Dir(fs, _)) => fs.iter().any(|f| f.0.starts_with("covmeta.")),
            _ => false,
        });
        dirs.extend(files);
        dirs
    }

    /// Reads the selection (on a blocking thread).
    fn load(&self, sel: &Selection) -> Result<Profile, PublishError> {
        let label = format!("{}/{}", self.bucket.url(), self.artifacts);
        let bad = |e: covlens_core::Error| {
            // A failed fetch is retried; only bad data makes the run
            // unreadable.
            if let Some(fetch) = self
                .fetch_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
            {
                return fetch;
            }
            PublishError::Permanent(format!("{label}: unreadable coverage: {e}"))
        };
        // Binaries of one job may be built in different modes (a `set`
        // GOCOVERDIR next to a `count` text profile): combine at the highest.
        let mut opts = LoadOptions::default();
        opts.parse.mode_policy = ModePolicy::Upgrade;
        let mut loader = Loader::new(opts).with_remote(Arc::new(self.clone()));
        let (merged, _) = loader
            .merge(&self.names(&sel.first), OnConflict::Error)
            .map_err(bad)?;
        if sel.source != Source::BeforeAfter {
            return Ok(merged);
        }
        let (after, _) = loader
            .merge(&self.names(&sel.after), OnConflict::Error)
            .map_err(bad)?;
        covlens_core::diff(
            ("before", merged),
            ("after", &after),
            ModePolicy::Upgrade,
            RestartPolicy::Clamp,
        )
        .map_err(bad)
    }

    /// Notes a fetch failure and makes it the loader's error.
    fn fetch_failed(&self, e: PublishError) -> covlens_core::Error {
        let msg = e.to_string();
        self.fetch_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(e);
        covlens_core::Error::Remote(msg.into())
    }
}

impl Remote for RunObjects {
    fn claims(&self, input: &str) -> bool {
        self.inputs.contains_key(input)
    }

    fn expand(&self, input: &str) -> Result<Vec<RemoteObject>, covlens_core::Error> {
        let (size, covdata) = match self.inputs.get(input) {
            Some(RunInput::Text(_, size)) => (*size, false),
            Some(RunInput::Dir(_, size)) => (*size, true),
            None => {
                return Err(covlens_core::Error::Invalid(format!(
                    "{input}: not in the run"
                )));
            }
        };
        Ok(vec![RemoteObject {
            name: input.to_string(),
            size,
            covdata,
        }])
    }

    fn open(
        &self,
        object: &str,
        _next: &[String],
    ) -> Result<Box<dyn Read + Send>, covlens_core::Error> {
        let Some(RunInput::Text(key, _)) = self.inputs.get(object) else {
            return Err(covlens_core::Error::Invalid(format!(
                "{object}: not a text object of the run"
            )));
        };
        let (bucket, key, max) = (self.bucket.clone(), key.clone(), self.max_object_bytes);
        let errors = self.clone();
        let body =
            futures_util::stream::once(
                async move { bucket.get_stream(&key, Max::object(max)).await },
            )
            .flat_map(|got| match got {
                Ok(Some(s)) => s,
                // Gone between listing and reading: a run being deleted.
                Ok(None) => futures_util::stream::iter([Err(PublishError::Permanent(
                    "deleted while it was read".into(),
                ))])
                .boxed(),
                Err(e) => futures_util::stream::iter([Err(e)]).boxed(),
            })
            .map(move |chunk| {
                // The loader fails with the fetch's own error (see
                // `load`): a transport failure is retried, a refused
                // object (outside the root, too large) says why.
                chunk.map_err(|e| std::io::Error::other(errors.fetch_failed(e)))
            });
        Ok(Box::new(covlens_objects::ObjectReader::spawn(
            &self.handle,
            body,
            16,
        )))
    }

    fn read_dir(&self, dir: &str) -> Result<MemoryFiles, covlens_core::Error> {
        let Some(RunInput::Dir(files, size)) = self.inputs.get(dir) else {
            return Err(covlens_core::Error::Invalid(format!(
                "{dir}: not a GOCOVERDIR of the run"
            )));
        };
        // Held in memory whole: bounded as a GOCOVERDIR object prefix is.
        if *size > MAX_COVDIR_BYTES {
            return Err(covlens_core::Error::Invalid(format!(
                "{dir}: a GOCOVERDIR of {size} bytes, more than the {MAX_COVDIR_BYTES} read into memory"
            )));
        }
        let mut out = Vec::with_capacity(files.len());
        for (base, key) in files {
            let magic = if base.starts_with("covmeta.") {
                META_MAGIC
            } else {
                COUNTER_MAGIC
            };
            let got = self
                .handle
                .block_on(read_if(
                    &self.bucket,
                    key,
                    Max::object(self.max_object_bytes),
                    magic,
                ))
                .map_err(|e| self.fetch_failed(e))?;
            // Gone between listing and reading: left out, as a missing
            // file of a local directory would be.
            if let Some(bytes) = got {
                out.push((base.clone(), Arc::from(bytes)));
            }
        }
        Ok(out)
    }
}

/// `key` whole when it starts with `magic`; else its first bytes only,
/// for the parser to refuse (a stray object of any size under a
/// coverage file's name is not read on).
async fn read_if(
    bucket: &Bucket,
    key: &str,
    max: Max,
    magic: &[u8; 4],
) -> Result<Option<Vec<u8>>, PublishError> {
    let Some(mut body) = bucket.get_stream(key, max).await? else {
        return Ok(None);
    };
    let mut out = Vec::new();
    while let Some(chunk) = body.next().await {
        out.extend_from_slice(&chunk?);
        if out.len() >= 4 && &out[..4] != magic {
            out.truncate(4);
            return Ok(Some(out));
        }
    }
    Ok(Some(out))
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

/// What a run's `started.json` says of it (Prow's initupload writes it).
#[derive(Debug, Default, Deserialize)]
pub struct Started {
    /// `repo-commit`: the commit the run tested.
    #[serde(rename = "repo-commit")]
    pub commit: Option<String>,
    /// `timestamp`: when it started, in seconds since the epoch.
    pub timestamp: Option<i64>,
}

/// The `started.json` of the run in `run_dir`; empty when there is none
/// or it cannot be used (too large, a link out of the store, not JSON):
/// it only adds to a report. Only a transient failure is an error.
pub async fn run_started(bucket: &Bucket, run_dir: &str) -> Result<Started, PublishError> {
    let key = format!("{run_dir}started.json");
    match bucket.get(&key, Max::fixed(1 << 20)).await {
        Ok(got) => Ok(got
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()),
        Err(PublishError::Permanent(e)) => {
            tracing::warn!(key, error = %e, "started.json left out");
            Ok(Started::default())
        }
        Err(e) => Err(e),
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
    find_success(bucket, path_prefix, job, known, None).await
}

/// The most successful runs whose `started.json` is read when looking for
/// the one that tested a given commit.
pub const MAX_COMMIT_SCAN: usize = 20;

/// As [`latest_success`], preferring the newest successful run of the last
/// [`MAX_COMMIT_SCAN`] that tested `commit` (its `started.json`'s
/// `repo-commit`; a prefix of 7 or more hex digits matches): a pull
/// request's base commit, so that its comment compares the same base code.
pub async fn success_at(
    bucket: &Bucket,
    path_prefix: &str,
    job: &str,
    commit: &str,
) -> Result<Option<String>, PublishError> {
    find_success(bucket, path_prefix, job, None, Some(commit)).await
}

async fn find_success(
    bucket: &Bucket,
    path_prefix: &str,
    job: &str,
    known: Option<&str>,
    commit: Option<&str>,
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
        .get(&format!("{job_dir}latest-build.txt"), Max::fixed(1024))
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
    // Only a commit id (7 to 64 hex digits) is looked for.
    let wanted = commit.filter(|c| same_commit(c, c));
    let (mut latest, mut scanned) = (None, 0);
    for (_, b) in builds.into_iter().take(MAX_CANDIDATES) {
        let ok = known == Some(b.as_str()) || {
            // A finished.json that cannot be read (too large, a link out of
            // the store) does not say the run succeeded.
            let key = format!("{job_dir}{b}/finished.json");
            let finished = match bucket.get(&key, Max::fixed(1 << 20)).await {
                Err(PublishError::Permanent(e)) => {
                    tracing::warn!(key, error = %e, "finished.json left out");
                    None
                }
                got => got?,
            };
            finished.is_some_and(|f| finished_ok(&f))
        };
        if !ok {
            continue;
        }
        let Some(want) = &wanted else {
            return Ok(Some(b));
        };
        let tested = run_started(bucket, &format!("{job_dir}{b}/")).await?.commit;
        if tested.is_some_and(|t| same_commit(&t, want)) {
            return Ok(Some(b));
        }
        latest.get_or_insert(b);
        scanned += 1;
        if scanned >= MAX_COMMIT_SCAN {
            break;
        }
    }
    Ok(latest)
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
