//! Prow's artifact layout, a job run's identity from Prow's environment,
//! and the collector's layout and metadata under a run's artifacts.
//!
//! Paths follow Prow's `pkg/pod-utils/gcs/target.go` with the "explicit"
//! path strategy (`<org>_<repo>` always in presubmit paths); keys are
//! relative, `/`-separated and end in `/` when they name a directory.
//! Every component that comes from the environment or a ProwJob is made a
//! single safe path segment first ([`segment`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The directory of a run whose files Prow's sidecar uploads from
/// `$ARTIFACTS` (`/logs/artifacts` in the pod).
pub const ARTIFACTS_DIR: &str = "artifacts/";

/// The marker files a decorated job's entrypoint writes when the test
/// ends: `/logs/marker-file.txt` when the job has one container, and
/// `/logs/<name>-marker.txt` for each when it has several (a collector
/// sidecar makes it several; Prow names the test container `test`). Prow's
/// sidecar waits for every container's marker, so a collector running
/// next to the test must exit once one of these appears.
pub const ENTRYPOINT_MARKERS: [&str; 2] = ["/logs/marker-file.txt", "/logs/test-marker.txt"];

/// Prow's job types (`ProwJob.spec.type`, `JOB_TYPE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobType {
    /// Runs on a schedule.
    Periodic,
    /// Runs after a merge.
    Postsubmit,
    /// Runs on a pull request.
    Presubmit,
    /// Runs on a batch of pull requests (Tide).
    Batch,
}

impl JobType {
    /// The name Prow uses.
    pub fn as_str(self) -> &'static str {
        match self {
            JobType::Periodic => "periodic",
            JobType::Postsubmit => "postsubmit",
            JobType::Presubmit => "presubmit",
            JobType::Batch => "batch",
        }
    }
}

impl fmt::Display for JobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A job type Prow does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown Prow job type {0:?} (periodic, postsubmit, presubmit or batch)")]
pub struct UnknownJobType(pub String);

impl FromStr for JobType {
    type Err = UnknownJobType;

    fn from_str(s: &str) -> Result<JobType, UnknownJobType> {
        match s {
            "periodic" => Ok(JobType::Periodic),
            "postsubmit" => Ok(JobType::Postsubmit),
            "presubmit" => Ok(JobType::Presubmit),
            "batch" => Ok(JobType::Batch),
            _ => Err(UnknownJobType(s.to_string())),
        }
    }
}

/// The pull request a presubmit tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pull<'a> {
    /// Organisation (`REPO_OWNER`, `refs.org`).
    pub org: &'a str,
    /// Repository (`REPO_NAME`, `refs.repo`).
    pub repo: &'a str,
    /// Pull request number (`PULL_NUMBER`).
    pub number: &'a str,
}

/// One run of a Prow job, enough to name its directory in the bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run<'a> {
    /// The job's type.
    pub job_type: JobType,
    /// The job's name.
    pub job: &'a str,
    /// The run's build id.
    pub build_id: &'a str,
    /// For presubmits, the pull request.
    pub pull: Option<Pull<'a>>,
    /// Prow's `path_prefix` (the bucket's prefix), or empty.
    pub path_prefix: &'a str,
}

impl<'a> Run<'a> {
    /// A run without pull request and path prefix.
    pub fn new(job_type: JobType, job: &'a str, build_id: &'a str) -> Run<'a> {
        Run {
            job_type,
            job,
            build_id,
            pull: None,
            path_prefix: "",
        }
    }

    /// The run's directory, ending in `/`: `logs/<job>/<build>/` for
    /// periodics and postsubmits, `pr-logs/pull/<org>_<repo>/<pr>/<job>/<build>/`
    /// for presubmits (a presubmit without pull request gets
    /// `unknown_unknown/0`), `pr-logs/pull/batch/<job>/<build>/` for
    /// batches; `path_prefix` in front.
    pub fn dir(&self) -> String {
        let mut out = String::new();
        let prefix = self.path_prefix.trim_matches('/');
        if !prefix.is_empty() {
            out.push_str(prefix);
            out.push('/');
        }
        let (job, build) = (segment(self.job), segment(self.build_id));
        match self.job_type {
            JobType::Presubmit => {
                let p = self.pull.unwrap_or(Pull {
                    org: "unknown",
                    repo: "unknown",
                    number: "0",
                });
                let org_repo = segment(&format!("{}_{}", p.org, p.repo));
                let pr = segment(p.number);
                out.push_str(&format!("pr-logs/pull/{org_repo}/{pr}/{job}/{build}/"));
            }
            JobType::Batch => out.push_str(&format!("pr-logs/pull/batch/{job}/{build}/")),
            JobType::Periodic | JobType::Postsubmit => {
                out.push_str(&format!("logs/{job}/{build}/"));
            }
        }
        out
    }

    /// The run's artifacts directory: [`Run::dir`] + [`ARTIFACTS_DIR`].
    pub fn artifacts_dir(&self) -> String {
        self.dir() + ARTIFACTS_DIR
    }
}

/// One path segment: `/` becomes `_`, and an empty, `.` or `..` segment
/// becomes `_`, so a value from the environment never adds or climbs a
/// directory.
pub fn segment(s: &str) -> String {
    let s = s.replace('/', "_");
    match s.as_str() {
        "" | "." | ".." => "_".into(),
        _ => s,
    }
}

/// The collector's directory for one container, ending in `/`:
/// `<under>coverage/<pod>/<container>/`, where `under` is a run's
/// [`Run::artifacts_dir`], or empty for a destination that is already the
/// artifacts directory.
pub fn coverage_root(under: &str, pod: &str, container: &str) -> String {
    format!("{under}coverage/{}/{}/", segment(pod), segment(container))
}

/// Key of a GOCOVERDIR file under a [`coverage_root`]: `covdata/<name>`.
/// `covdata/` is a directory `go tool covdata` reads as it is.
pub fn covdata_key(name: &str) -> String {
    format!("covdata/{name}")
}

/// Key of a text snapshot under a [`coverage_root`]:
/// `text/<generation:04>-<base>`, one per process generation.
pub fn text_key(generation: u32, base: &str) -> String {
    format!("text/{generation:04}-{base}")
}

/// Key of the [`SnapshotMetadata`] of the snapshot at `key` (both under a
/// [`coverage_root`]): `metadata/<key>.json`.
pub fn metadata_key(key: &str) -> String {
    format!("metadata/{key}.json")
}

/// The pod and container a snapshot comes from, and the Prow job run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `POD_NAME` (or `HOSTNAME`).
    pub pod: Option<String>,
    /// `POD_NAMESPACE`.
    pub namespace: Option<String>,
    /// `NODE_NAME`.
    pub node: Option<String>,
    /// The watched component's container (`COVLENS_CONTAINER`, default
    /// `component`).
    pub container: String,
    /// `COVLENS_IMAGE` (the downward API cannot expose images; set it in
    /// the manifest).
    pub image: Option<String>,
    /// The Prow job run.
    #[serde(flatten)]
    pub prow: Job,
}

/// Reads a variable; an empty value counts as unset.
fn lookup(get: &impl Fn(&str) -> Option<String>, key: &str) -> Option<String> {
    get(key).filter(|v| !v.is_empty())
}

impl Identity {
    /// Reads the environment.
    pub fn from_env() -> Identity {
        Identity::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get` (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Identity {
        Identity {
            pod: lookup(&get, "POD_NAME").or_else(|| lookup(&get, "HOSTNAME")),
            namespace: lookup(&get, "POD_NAMESPACE"),
            node: lookup(&get, "NODE_NAME"),
            container: lookup(&get, "COVLENS_CONTAINER").unwrap_or_else(|| "component".into()),
            image: lookup(&get, "COVLENS_IMAGE"),
            prow: Job::from_lookup(get),
        }
    }
}

/// A Prow job run as Prow's environment describes it
/// (`pkg/pod-utils/downwardapi/jobspec.go`). Periodics have no `REPO_*` or
/// `PULL_*` variables; presubmits have them all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// `JOB_NAME`.
    pub job: Option<String>,
    /// `JOB_TYPE` as given (see [`Job::job_type`]).
    pub job_type: Option<String>,
    /// `BUILD_ID`.
    pub build_id: Option<String>,
    /// `PROW_JOB_ID` (the ProwJob's name).
    pub prow_job_id: Option<String>,
    /// `REPO_OWNER`.
    pub repo_owner: Option<String>,
    /// `REPO_NAME`.
    pub repo_name: Option<String>,
    /// `PULL_NUMBER` (presubmits).
    pub pull_number: Option<String>,
    /// `PULL_BASE_REF` (the target branch); left out of documents when
    /// unset, as older collectors did not record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_base_ref: Option<String>,
    /// `PULL_BASE_SHA`.
    pub pull_base_sha: Option<String>,
    /// `PULL_PULL_SHA` (presubmits).
    pub pull_pull_sha: Option<String>,
}

/// The part of `JOB_SPEC` (`{type, job, buildid, prowjobid, refs, ...}`)
/// that fills what the separate variables leave unset.
#[derive(Deserialize)]
struct JobSpec {
    #[serde(rename = "type")]
    job_type: Option<String>,
    job: Option<String>,
    buildid: Option<String>,
    prowjobid: Option<String>,
    refs: Option<Refs>,
}

#[derive(Deserialize)]
struct Refs {
    org: Option<String>,
    repo: Option<String>,
    base_ref: Option<String>,
    base_sha: Option<String>,
    #[serde(default)]
    pulls: Vec<PullRef>,
}

#[derive(Deserialize)]
struct PullRef {
    number: Option<u64>,
    sha: Option<String>,
}

impl Job {
    /// Reads the environment.
    pub fn from_env() -> Job {
        Job::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get`: the separate variables first, then
    /// `JOB_SPEC` for what they leave unset (an unparsable `JOB_SPEC` is
    /// ignored).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Job {
        let var = |k: &str| lookup(&get, k);
        let mut job = Job {
            job: var("JOB_NAME"),
            job_type: var("JOB_TYPE"),
            build_id: var("BUILD_ID"),
            prow_job_id: var("PROW_JOB_ID"),
            repo_owner: var("REPO_OWNER"),
            repo_name: var("REPO_NAME"),
            pull_number: var("PULL_NUMBER"),
            pull_base_ref: var("PULL_BASE_REF"),
            pull_base_sha: var("PULL_BASE_SHA"),
            pull_pull_sha: var("PULL_PULL_SHA"),
        };
        if let Some(spec) = var("JOB_SPEC").and_then(|s| serde_json::from_str(&s).ok()) {
            job.fill_from(spec);
        }
        job
    }

    fn fill_from(&mut self, spec: JobSpec) {
        fn fill(field: &mut Option<String>, value: Option<String>) {
            if field.is_none() {
                *field = value.filter(|v| !v.is_empty());
            }
        }
        fill(&mut self.job_type, spec.job_type);
        fill(&mut self.job, spec.job);
        fill(&mut self.build_id, spec.buildid);
        fill(&mut self.prow_job_id, spec.prowjobid);
        if let Some(refs) = spec.refs {
            fill(&mut self.repo_owner, refs.org);
            fill(&mut self.repo_name, refs.repo);
            fill(&mut self.pull_base_ref, refs.base_ref);
            fill(&mut self.pull_base_sha, refs.base_sha);
            if let Some(pull) = refs.pulls.into_iter().next() {
                fill(&mut self.pull_number, pull.number.map(|n| n.to_string()));
                fill(&mut self.pull_pull_sha, pull.sha);
            }
        }
    }

    /// Whether this is a Prow job run: `JOB_NAME` and `BUILD_ID` are set.
    pub fn is_run(&self) -> bool {
        self.job.is_some() && self.build_id.is_some()
    }

    /// The job type; a missing or unknown `JOB_TYPE` counts as periodic
    /// (its run directory is `logs/<job>/<build>/`).
    pub fn job_type(&self) -> JobType {
        self.job_type
            .as_deref()
            .and_then(|t| t.parse().ok())
            .unwrap_or(JobType::Periodic)
    }

    /// The run, with `path_prefix`; missing values become placeholders
    /// (`unknown-job`, `unknown-build`, and see [`Run::dir`]).
    pub fn run<'a>(&'a self, path_prefix: &'a str) -> Run<'a> {
        let job_type = self.job_type();
        let pull = (job_type == JobType::Presubmit).then(|| Pull {
            org: self.repo_owner.as_deref().unwrap_or("unknown"),
            repo: self.repo_name.as_deref().unwrap_or("unknown"),
            number: self.pull_number.as_deref().unwrap_or("0"),
        });
        Run {
            job_type,
            job: self.job.as_deref().unwrap_or("unknown-job"),
            build_id: self.build_id.as_deref().unwrap_or("unknown-build"),
            pull,
            path_prefix,
        }
    }
}

/// What a shipped snapshot is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SnapshotKind {
    /// A GOCOVERDIR meta-data file (`covmeta.*`).
    Meta,
    /// A GOCOVERDIR counter file (`covcounters.*`).
    Counters,
    /// A text profile.
    Text,
}

/// Where a snapshot came from; which fields are set depends on its kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSource {
    /// The file it was read from, in the collector's container.
    #[serde(default)]
    pub source: String,
    /// The meta-data hash (GOCOVERDIR files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_hash: Option<String>,
    /// The writer's pid from the file name (counter files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u64>,
    /// The pid in the shipped name: `pid + generation·2^32` (counter files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_pid: Option<u64>,
    /// The process generation (counter files and text profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u32>,
    /// The timestamp field of the name (counter files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nanos: Option<u64>,
    /// The program's arguments as `key=value` (counter files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// When the collector took it (Unix milliseconds).
    #[serde(default)]
    pub taken_at_unix_ms: u64,
    /// A text snapshot with a new layout that no second write confirmed,
    /// shipped at shutdown as the last stable, fully parsed copy: it ends
    /// with a newline and parses, but a writer killed exactly at a line
    /// boundary would look the same. Written only when true; absent in
    /// documents of older collectors.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
}

/// The JSON document shipped next to every snapshot, at its
/// [`metadata_key`]: one flat object with the [`Identity`] fields, the
/// snapshot's key, kind, digest and size, and its [`SnapshotSource`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMetadata {
    /// Pod, container and Prow job.
    #[serde(flatten)]
    pub identity: Identity,
    /// The snapshot's full key at the destination.
    pub key: String,
    /// What it is.
    pub kind: SnapshotKind,
    /// XXH3-128 of its bytes, 32 hex digits.
    pub xxh3_128: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where it came from.
    #[serde(flatten)]
    pub source: SnapshotSource,
}

impl SnapshotMetadata {
    /// The document, pretty-printed.
    pub fn to_json(&self) -> Vec<u8> {
        // Strings, numbers and options only: serialising cannot fail.
        serde_json::to_vec_pretty(self).unwrap_or_default()
    }

    /// Reads a document.
    pub fn from_json(data: &[u8]) -> Result<SnapshotMetadata, serde_json::Error> {
        serde_json::from_slice(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn run_dirs_of_every_job_type() {
        let mut run = Run::new(JobType::Periodic, "ci-kubernetes-coverage-e2e", "1790");
        assert_eq!(run.dir(), "logs/ci-kubernetes-coverage-e2e/1790/");
        run.job_type = JobType::Postsubmit;
        assert_eq!(
            run.artifacts_dir(),
            "logs/ci-kubernetes-coverage-e2e/1790/artifacts/"
        );
        run.job_type = JobType::Batch;
        assert_eq!(
            run.dir(),
            "pr-logs/pull/batch/ci-kubernetes-coverage-e2e/1790/"
        );
        let pr = Run {
            job_type: JobType::Presubmit,
            job: "pull-k8s-cov",
            build_id: "7",
            pull: Some(Pull {
                org: "kubernetes",
                repo: "test-infra",
                number: "123",
            }),
            path_prefix: "/pfx/",
        };
        assert_eq!(
            pr.dir(),
            "pfx/pr-logs/pull/kubernetes_test-infra/123/pull-k8s-cov/7/"
        );
        // Values from the environment never climb out of their segment.
        let odd = Run::new(JobType::Periodic, "../x", "a/b");
        assert_eq!(odd.dir(), "logs/.._x/a_b/");
        assert_eq!(Run::new(JobType::Periodic, "..", "").dir(), "logs/_/_/");
    }

    #[test]
    fn coverage_keys() {
        let root = coverage_root("", "e2e-0", "api/server");
        assert_eq!(root, "coverage/e2e-0/api_server/");
        let key = text_key(3, "p.cov");
        assert_eq!(key, "text/0003-p.cov");
        assert_eq!(metadata_key(&key), "metadata/text/0003-p.cov.json");
        assert_eq!(
            metadata_key(&covdata_key("covmeta.ab")),
            "metadata/covdata/covmeta.ab.json"
        );
    }

    #[test]
    fn job_types() {
        for t in [
            JobType::Periodic,
            JobType::Postsubmit,
            JobType::Presubmit,
            JobType::Batch,
        ] {
            assert_eq!(t.as_str().parse::<JobType>(), Ok(t));
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{t}\""));
        }
        assert!("nightly".parse::<JobType>().is_err());
        let job = Job {
            job_type: Some("nightly".into()),
            ..Job::default()
        };
        assert_eq!(job.job_type(), JobType::Periodic);
    }

    #[test]
    fn identity_from_the_environment() {
        let id = Identity::from_lookup(env(&[
            ("POD_NAME", "e2e-0"),
            ("JOB_NAME", "pull-k8s-cov"),
            ("JOB_TYPE", "presubmit"),
            ("BUILD_ID", "7"),
            ("REPO_OWNER", "kubernetes"),
            ("REPO_NAME", "kubernetes"),
            ("PULL_NUMBER", "123"),
        ]));
        assert_eq!(id.container, "component");
        assert!(id.prow.is_run());
        assert_eq!(
            id.prow.run("").artifacts_dir(),
            "pr-logs/pull/kubernetes_kubernetes/123/pull-k8s-cov/7/artifacts/"
        );
        // Empty variables count as unset; HOSTNAME stands in for POD_NAME.
        let id = Identity::from_lookup(env(&[
            ("POD_NAME", ""),
            ("HOSTNAME", "h"),
            ("JOB_NAME", ""),
        ]));
        assert_eq!(
            (id.pod.as_deref(), id.prow.job.as_deref()),
            (Some("h"), None)
        );
        assert!(!id.prow.is_run());
    }

    #[test]
    fn job_spec_fills_what_the_variables_leave_unset() {
        let spec = r#"{"type":"presubmit","job":"pull-k8s-cov","buildid":"9","prowjobid":"uid-1",
            "refs":{"org":"kubernetes","repo":"kubernetes","base_ref":"master","base_sha":"b1",
            "pulls":[{"number":77,"author":"a","sha":"p1"}]},
            "decoration_config":{"timeout":"2h"}}"#;
        let job = Job::from_lookup(env(&[("JOB_SPEC", spec), ("BUILD_ID", "10")]));
        assert_eq!(
            job,
            Job {
                job: Some("pull-k8s-cov".into()),
                job_type: Some("presubmit".into()),
                build_id: Some("10".into()),
                prow_job_id: Some("uid-1".into()),
                repo_owner: Some("kubernetes".into()),
                repo_name: Some("kubernetes".into()),
                pull_number: Some("77".into()),
                pull_base_ref: Some("master".into()),
                pull_base_sha: Some("b1".into()),
                pull_pull_sha: Some("p1".into()),
            }
        );
        let broken = Job::from_lookup(env(&[("JOB_SPEC", "{"), ("JOB_NAME", "j")]));
        assert_eq!(broken.job.as_deref(), Some("j"));
        assert_eq!(broken.build_id, None);
    }

    /// Documents as collectors before the typed model wrote them (keys
    /// sorted, every identity field present, null when unset).
    const OLD_COUNTERS: &str = r#"{
  "args": [
    "argv0=./srv"
  ],
  "build_id": "1790",
  "container": "kube-apiserver",
  "dest_pid": 7,
  "generation": 0,
  "image": "registry.k8s.io/kube-apiserver:v1.36.0",
  "job": "pull-kubernetes-e2e",
  "job_type": "presubmit",
  "key": "pr-logs/pull/kubernetes_kubernetes/123/pull-kubernetes-e2e/1790/artifacts/coverage/e2e-0/kube-apiserver/covdata/covcounters.abababababababababababababababab.7.100",
  "kind": "counters",
  "meta_hash": "abababababababababababababababab",
  "namespace": "test-pods",
  "nanos": 100,
  "node": "node-7",
  "pid": 7,
  "pod": "e2e-0",
  "prow_job_id": "abc-123",
  "pull_base_sha": "aaaa",
  "pull_number": "123",
  "pull_pull_sha": "bbbb",
  "repo_name": "kubernetes",
  "repo_owner": "kubernetes",
  "size": 89,
  "source": "/tmp/.tmpexxsEj/cov/covcounters.abababababababababababababababab.7.100",
  "taken_at_unix_ms": 1796227746089,
  "xxh3_128": "1f8080da2c318e574ed8f9efe76c779f"
}"#;

    const OLD_META: &str = r#"{
  "build_id": null,
  "container": "kube-apiserver",
  "image": null,
  "job": null,
  "job_type": null,
  "key": "coverage/e2e-0/kube-apiserver/covdata/covmeta.abababababababababababababababab",
  "kind": "meta",
  "meta_hash": "abababababababababababababababab",
  "namespace": "test-pods",
  "node": "node-7",
  "pod": "e2e-0",
  "prow_job_id": null,
  "pull_base_sha": null,
  "pull_number": null,
  "pull_pull_sha": null,
  "repo_name": null,
  "repo_owner": null,
  "size": 58,
  "source": "/tmp/.tmpIFwdnW/cov/covmeta.abababababababababababababababab",
  "taken_at_unix_ms": 1796227752195,
  "xxh3_128": "4bf91310f99f71dc391623b98e88fdbc"
}"#;

    const OLD_TEXT: &str = r#"{
  "build_id": "1790",
  "container": "kube-apiserver",
  "generation": 0,
  "image": "registry.k8s.io/kube-apiserver:v1.36.0",
  "job": "pull-kubernetes-e2e",
  "job_type": "presubmit",
  "key": "pr-logs/pull/kubernetes_kubernetes/123/pull-kubernetes-e2e/1790/artifacts/coverage/e2e-0/kube-apiserver/text/0000-p.cov",
  "kind": "text",
  "namespace": "test-pods",
  "node": "node-7",
  "pod": "e2e-0",
  "prow_job_id": "abc-123",
  "pull_base_sha": "aaaa",
  "pull_number": "123",
  "pull_pull_sha": "bbbb",
  "repo_name": "kubernetes",
  "repo_owner": "kubernetes",
  "size": 29,
  "source": "/tmp/.tmpcB9PvF/p.cov",
  "taken_at_unix_ms": 1796227746115,
  "xxh3_128": "afc8a5af83bc944f33e7577a0736d7c3"
}"#;

    #[test]
    fn documents_of_older_collectors_parse_and_keep_their_fields() {
        for old in [OLD_COUNTERS, OLD_META, OLD_TEXT] {
            let m = SnapshotMetadata::from_json(old.as_bytes()).unwrap();
            // Written again: the same names with the same values.
            let again: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
            let old: serde_json::Value = serde_json::from_str(old).unwrap();
            assert_eq!(again, old);
        }
        let m = SnapshotMetadata::from_json(OLD_COUNTERS.as_bytes()).unwrap();
        assert_eq!(m.kind, SnapshotKind::Counters);
        assert_eq!(m.identity.prow.run("").job_type, JobType::Presubmit);
        assert_eq!(
            m.source.args.as_deref(),
            Some(&["argv0=./srv".to_string()][..])
        );
        assert_eq!((m.source.pid, m.source.dest_pid), (Some(7), Some(7)));
        let m = SnapshotMetadata::from_json(OLD_META.as_bytes()).unwrap();
        assert_eq!((m.identity.prow.job, m.source.generation), (None, None));
        let m = SnapshotMetadata::from_json(OLD_TEXT.as_bytes()).unwrap();
        assert!(!m.source.unconfirmed);
    }

    #[test]
    fn unconfirmed_is_written_only_when_true() {
        let mut m = SnapshotMetadata::from_json(OLD_TEXT.as_bytes()).unwrap();
        m.source.unconfirmed = true;
        let v: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
        assert_eq!(v["unconfirmed"], true);
        assert_eq!(SnapshotMetadata::from_json(&m.to_json()).unwrap(), m);
        m.source.unconfirmed = false;
        assert!(
            !String::from_utf8(m.to_json())
                .unwrap()
                .contains("unconfirmed")
        );
    }
}
