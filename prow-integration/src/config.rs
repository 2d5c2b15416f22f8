//! The reporter's configuration: one YAML file (docs/prow.md documents
//! every key; `prow-integration/deploy-example/reporter.yaml` is a full
//! example).
//!
//! ```yaml
//! name: covlens
//! namespace: default
//! artifacts: file:///srv/prow-artifacts
//! publish: file:///srv/coverage
//! dashboards:
//!   - name: e2e
//!     depth: 2
//!     columns:
//!       - {label: master, job: ci-kubernetes-coverage-e2e}
//!       - {label: "1.12", job: ci-kubernetes-coverage-e2e-1-12}
//! presubmits:
//!   - {job: pull-kubernetes-coverage, base: ci-kubernetes-coverage-e2e, threshold: 0.0}
//! filters: {exclude: ['/vendor/', 'zz_generated', '/third_party/']}
//! github: {api: https://api.github.com, token_file: /etc/github/token}
//! ```
//!
//! Read as the policy file is (serde-saphyr, serde_path_to_error for the
//! key of a type error, `Spanned` values for the line of a value that has
//! the right type but is wrong); unknown keys are errors, so a misspelt key
//! never silently turns something off. The controller's part (`name`,
//! `namespace`, `selection`, `concurrency`, `lease`, `listen`) is only
//! parsed here.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::github::Repo;
use covlens_core::owners::OwnerBy;
use regex::Regex;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// Names reserved under the publish root (see [`crate::publish`]).
pub const RESERVED_DASHBOARD_NAMES: [&str; 1] = ["pr"];

/// Default largest artifact object read (1 GiB).
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 1 << 30;
/// Default largest total of one run's coverage objects (8 GiB).
pub const DEFAULT_MAX_RUN_BYTES: u64 = 8 << 30;
/// Default largest number of coverage objects of one run.
pub const DEFAULT_MAX_OBJECTS: u64 = 100_000;

/// A configuration error: where, which key, what was expected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read the reporter config")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is wrong.
    #[error("{origin}:{line}:{column}: {}{message}", if key.is_empty() { String::new() } else { format!("{key}: ") })]
    Invalid {
        /// The file.
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key (`dashboards[0].columns`), or empty.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The reporter's whole configuration, validated.
#[derive(Clone, Debug)]
pub struct Config {
    /// `name`: the reporter's key in `status.prev_report_states`.
    pub name: String,
    /// `namespace`: where the ProwJobs are.
    pub namespace: String,
    /// `artifacts`: Prow's bucket (`file://`, `gs://`, `s3://`).
    pub artifacts: StoreUrl,
    /// `path_prefix`: Prow's `gcs_configuration.path_prefix` under the
    /// bucket, or empty.
    pub path_prefix: String,
    /// `publish`: where tables and reports are written.
    pub publish: StoreUrl,
    /// `report_url`: the public base URL of `publish`, for links.
    pub report_url: Option<String>,
    /// `dashboards`.
    pub dashboards: Vec<Dashboard>,
    /// `presubmits`.
    pub presubmits: Vec<Presubmit>,
    /// `filters`.
    pub filters: Filters,
    /// `github`.
    pub github: Option<GitHubConfig>,
    /// `history`.
    pub history: Option<HistoryConfig>,
    /// `policy.file` or `policy.inline`: the policy of jobs whose
    /// repository has no policy file (see `repository_policy`).
    pub policy: Option<covlens_policy::PolicyFile>,
    /// The path of the repository's own policy file (`policy.path`,
    /// default `.covlens.yml`) when it is read: `policy.repository` is
    /// true (the default) and `github` is configured. Read at the base
    /// commit of a presubmit and at the tested commit of other jobs; when
    /// the commit has it, it replaces `policy`.
    pub repository_policy: Option<String>,
    /// `junit_threshold`: rows of the junit report of dashboard jobs below
    /// this percentage get a `<failure>` (presubmits use their threshold).
    pub junit_threshold: f64,
    /// `limits`.
    pub limits: Limits,
    /// `selection` (controller).
    pub selection: Selection,
    /// `concurrency` (controller): reports in flight at once.
    pub concurrency: Option<u32>,
    /// `lease` (controller).
    pub lease: Option<Lease>,
    /// `listen` (controller): address of `/healthz`, `/readyz`, `/metrics`.
    pub listen: Option<SocketAddr>,
}

/// A storage location: `file:///dir`, `gs://bucket/prefix`,
/// `s3://bucket/prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreUrl {
    /// As written.
    pub url: String,
    /// What it is.
    pub kind: StoreKind,
}

/// The kind of a [`StoreUrl`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// A local directory (absolute).
    File(PathBuf),
    /// Google Cloud Storage: bucket and prefix.
    Gcs {
        /// Bucket.
        bucket: String,
        /// Prefix inside it (no leading or trailing `/`), or empty.
        prefix: String,
    },
    /// S3: bucket and prefix.
    S3 {
        /// Bucket.
        bucket: String,
        /// Prefix inside it, or empty.
        prefix: String,
    },
}

/// A branch table.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    /// `name`: a directory under `publish`.
    pub name: String,
    /// `depth`: rows per directory of at most this many path elements;
    /// `None`: per package.
    pub depth: Option<usize>,
    /// `mark_threshold`: changes smaller than this many percentage points
    /// get no ▲/▼ (default 0.1).
    pub mark_threshold: f64,
    /// `columns`, newest first.
    pub columns: Vec<DashboardColumn>,
    /// `owners`: a second table with a row per owner or OWNERS label.
    pub owners: Option<DashboardOwners>,
}

/// `owners` of a [`Dashboard`]: where the ownership files are, and what a
/// row is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardOwners {
    /// Where the Kubernetes OWNERS files and/or CODEOWNERS are read, at
    /// each publish.
    pub source: OwnersSource,
    /// `by`: `owner` (approvers, CODEOWNERS owners) or `label` (OWNERS
    /// labels such as `sig/node`).
    pub by: OwnerBy,
    /// `site`: the dashboard's site lists owners or labels at its top
    /// level, each holding the directories of its files (default false:
    /// the site is a directory tree).
    pub site: bool,
}

/// Where a dashboard's ownership files are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnersSource {
    /// `dir`: a checkout of the repository, kept current by the deployment
    /// (a git-sync sidecar, for example).
    Dir(PathBuf),
    /// `github: owner/name` and `ref`: that branch (or tag, or commit),
    /// listed through GitHub's git trees API; ownership files are read by
    /// blob SHA, each content once per reporter process.
    GitHub {
        /// `owner/name`.
        repo: String,
        /// `ref`.
        reference: String,
    },
}

/// A column of a [`Dashboard`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardColumn {
    /// `label`: its heading (a branch).
    pub label: String,
    /// `job`: the periodic or postsubmit job whose latest successful run
    /// fills it.
    pub job: String,
    /// `minus`: jobs whose latest successful runs' coverage is taken out
    /// (`covlens subtract`): the column shows what only `job` covers, such
    /// as e2e coverage no unit test reaches. Never on the first column,
    /// whose job the history and trends follow.
    pub minus: Vec<String>,
}

/// A presubmit job whose runs get a PR comment and a commit status.
#[derive(Clone, Debug, PartialEq)]
pub struct Presubmit {
    /// `job`.
    pub job: String,
    /// `base`: the periodic or postsubmit job compared against.
    pub base: String,
    /// `threshold`: the commit status fails below this total coverage, in
    /// percent (0 to 100).
    pub threshold: f64,
    /// `module`: import path of the repository root (maps the diff's paths
    /// to profile names).
    pub module: Option<String>,
    /// `diff_artifact`: a unified diff the job writes under its artifacts
    /// (default `git.diff`); without it the comment shows packages only.
    pub diff_artifact: String,
    /// `source_files`: the head's sources of at most this many files, read
    /// through GitHub (100 per GraphQL query), for the comment's functions
    /// whose coverage fell and the report's source pages; 0: none.
    pub source_files: usize,
    /// `comment`: when the pull request gets a comment.
    pub comment: CommentWhen,
}

/// When a presubmit's pull request gets a comment (`presubmits[].comment`).
/// The commit status and the report are published every time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CommentWhen {
    /// `always`: every run creates or updates the comment.
    #[default]
    Always,
    /// `changed`: a run whose comment shows no change
    /// ([`Comment::shows_a_change`](covlens_report_templates::Comment::shows_a_change))
    /// starts no comment; an existing one is still updated, so it never
    /// shows an older run's numbers.
    Changed,
    /// `never`: no comment.
    Never,
}

/// Which files count.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    /// `include`: only files matching one of these (unanchored regexes).
    pub include: Option<Regex>,
    /// `exclude`: files matching one of these are dropped.
    pub exclude: Option<Regex>,
    /// The patterns as written.
    pub include_patterns: Vec<String>,
    /// The patterns as written.
    pub exclude_patterns: Vec<String>,
}

/// GitHub access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitHubConfig {
    /// `api`: the API's base URL.
    pub api: String,
    /// `token_file`: the token, read again when it changes.
    pub token_file: PathBuf,
    /// `bot_login`: recognise the bot's comments by this login (GitHub
    /// App tokens) instead of `GET /user`.
    pub bot_login: Option<String>,
    /// `check_runs`: also post a check run with the policy's annotations
    /// (needs a GitHub App token).
    pub check_runs: bool,
}

/// The history store every published run is recorded in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryConfig {
    /// `store`: a SQLite file or a `postgres://` URL.
    pub store: String,
    /// `keep`: runs kept per job (older ones are deleted); `None`: all.
    pub keep: Option<usize>,
    /// `trend`: how many of a job's last recorded runs a dashboard row's
    /// sparkline, and a PR comment's "below its trend" note, draw on
    /// (default 10; 0: none).
    pub trend: usize,
    /// `flaky`: over how many of a job's last recorded runs (this one
    /// included, at least 2) flaky coverage is measured, recorded, and
    /// shown in its dashboards' sites; `None`: not measured.
    pub flaky: Option<usize>,
}

/// The default of [`HistoryConfig::trend`].
pub const DEFAULT_TREND_RUNS: usize = 10;

/// The most files whose sources a presubmit's report may read
/// (`source_files`): each is read from GitHub at every pull-request run.
pub const MAX_SOURCE_FILES: usize = 200;

/// Bounds on what one run may make the reporter read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `max_object_bytes`.
    pub max_object_bytes: u64,
    /// `max_run_bytes`.
    pub max_run_bytes: u64,
    /// `max_objects`.
    pub max_objects: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
            max_run_bytes: DEFAULT_MAX_RUN_BYTES,
            max_objects: DEFAULT_MAX_OBJECTS,
        }
    }
}

/// Which ProwJobs the controller looks at (besides the jobs the config
/// names, see [`Config::configured_jobs`]).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// `selection.jobs`: job names matching this regex (unanchored).
    pub jobs: Option<Regex>,
    /// `selection.labels`: a Kubernetes label selector, as written.
    pub labels: Option<String>,
}

/// The leader-election lease (controller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// `lease.name`: the `coordination.k8s.io` Lease's name.
    pub name: String,
    /// `lease.duration_seconds` (default 15).
    pub duration_seconds: u32,
}

// --- raw YAML model --------------------------------------------------------

type S<T> = Spanned<T>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    name: Option<S<String>>,
    namespace: Option<S<String>>,
    artifacts: S<String>,
    path_prefix: Option<S<String>>,
    publish: S<String>,
    report_url: Option<S<String>>,
    #[serde(default)]
    dashboards: Vec<RawDashboard>,
    #[serde(default)]
    presubmits: Vec<RawPresubmit>,
    #[serde(default)]
    filters: RawFilters,
    github: Option<RawGitHub>,
    history: Option<RawHistory>,
    policy: Option<RawPolicy>,
    junit_threshold: Option<S<f64>>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    selection: RawSelection,
    concurrency: Option<S<u32>>,
    lease: Option<RawLease>,
    listen: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDashboard {
    name: S<String>,
    depth: Option<S<usize>>,
    mark_threshold: Option<S<f64>>,
    columns: S<Vec<RawColumn>>,
    owners: Option<RawOwners>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOwners {
    dir: Option<S<String>>,
    github: Option<S<String>>,
    #[serde(rename = "ref")]
    reference: Option<S<String>>,
    by: S<String>,
    site: Option<S<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    label: S<String>,
    job: S<String>,
    #[serde(default)]
    minus: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPresubmit {
    job: S<String>,
    base: S<String>,
    threshold: Option<S<f64>>,
    module: Option<S<String>>,
    diff_artifact: Option<S<String>>,
    source_files: Option<S<usize>>,
    comment: Option<S<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFilters {
    #[serde(default)]
    include: Vec<S<String>>,
    #[serde(default)]
    exclude: Vec<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGitHub {
    api: Option<S<String>>,
    token_file: S<String>,
    bot_login: Option<S<String>>,
    #[serde(default)]
    check_runs: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHistory {
    store: S<String>,
    keep: Option<S<usize>>,
    trend: Option<S<usize>>,
    flaky: Option<S<usize>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    file: Option<S<String>>,
    inline: Option<S<String>>,
    repository: Option<S<bool>>,
    path: Option<S<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    max_object_bytes: Option<S<u64>>,
    max_run_bytes: Option<S<u64>>,
    max_objects: Option<S<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSelection {
    jobs: Option<S<String>>,
    labels: Option<S<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLease {
    name: S<String>,
    duration_seconds: Option<S<u32>>,
}

impl Config {
    /// Reads and validates the file at `path`. A policy file it names is
    /// read too, relative to the config's directory when relative.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse_in(&text, &path.display().to_string(), path.parent())
    }

    /// Reads and validates a config from its text; `origin` starts every
    /// error message. A relative `policy.file` is relative to the current
    /// directory.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        Config::parse_in(text, origin, None)
    }

    fn parse_in(text: &str, origin: &str, dir: Option<&Path>) -> Result<Config, ConfigError> {
        let raw = covlens_policy::yaml::from_str::<RawConfig>(text).map_err(|e| {
            // The path of an unknown key ends in the key itself, which the
            // message names: keep the map it is in.
            let key = if e.message.starts_with("unknown field") {
                e.key
                    .rfind('.')
                    .map_or(String::new(), |i| e.key[..i].to_string())
            } else {
                e.key
            };
            // Its value was a path before `policy.path` existed.
            let message = if key == "policy.repository" {
                "expected true or false (the file's path is policy.path)".to_string()
            } else {
                e.message
            };
            ConfigError::Invalid {
                origin: origin.to_string(),
                line: e.line,
                column: e.column,
                key,
                message,
            }
        })?;
        Validator { origin, dir }.config(raw)
    }

    /// Every job the config names (dashboard columns, presubmits and
    /// their bases), sorted: the jobs the controller must select.
    pub fn configured_jobs(&self) -> BTreeSet<&str> {
        let mut jobs = BTreeSet::new();
        for d in &self.dashboards {
            for c in &d.columns {
                jobs.insert(c.job.as_str());
                jobs.extend(c.minus.iter().map(String::as_str));
            }
        }
        for p in &self.presubmits {
            jobs.insert(p.job.as_str());
            jobs.insert(p.base.as_str());
        }
        jobs
    }

    /// Whether the controller should report `job`: a job the config names,
    /// or one `selection.jobs` matches.
    pub fn selects(&self, job: &str) -> bool {
        self.configured_jobs().contains(job)
            || self
                .selection
                .jobs
                .as_ref()
                .is_some_and(|re| re.is_match(job))
    }
}

/// The regex crate's message on one line.
fn regex_message(e: &regex::Error) -> String {
    let s = e.to_string();
    let last = s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    last.trim()
        .strip_prefix("error: ")
        .unwrap_or(last.trim())
        .to_string()
}

struct Validator<'a> {
    origin: &'a str,
    dir: Option<&'a Path>,
}

impl Validator<'_> {
    fn err<T>(&self, key: impl Into<String>, at: &S<T>, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin.to_string(),
            line: at.referenced.line() as usize,
            column: at.referenced.column() as usize,
            key: key.into(),
            message: message.into(),
        }
    }

    /// A name used as one path segment or a Kubernetes name.
    /// `owners`' `dir`, or `github` and `ref` (GitHub configured).
    fn owners_source(
        &self,
        key: &str,
        o: &RawOwners,
        github: bool,
    ) -> Result<OwnersSource, ConfigError> {
        let key = |k: &str| format!("{key}.{k}");
        match (&o.dir, &o.github) {
            (Some(d), None) if o.reference.is_none() => {
                Ok(OwnersSource::Dir(PathBuf::from(self.text(&key("dir"), d)?)))
            }
            (Some(d), _) => Err(self.err(
                key("dir"),
                d,
                "give either owners.dir, or owners.github and owners.ref",
            )),
            (None, Some(g)) => {
                let repo = self.text(&key("github"), g)?;
                let valid = repo
                    .split_once('/')
                    .is_some_and(|(owner, name)| Repo::new(owner, name).is_ok());
                if !valid {
                    return Err(self.err(key("github"), g, "expected owner/name"));
                }
                if !github {
                    return Err(self.err(
                        key("github"),
                        g,
                        "ownership is read through GitHub: configure github, or use owners.dir",
                    ));
                }
                let Some(r) = &o.reference else {
                    return Err(self.err(
                        key("github"),
                        g,
                        "owners.github needs owners.ref (the branch whose OWNERS are read)",
                    ));
                };
                let reference = self.text(&key("ref"), r)?;
                let segments = reference.split('/');
                if segments
                    .clone()
                    .any(|p| p.is_empty() || p == "." || p == "..")
                {
                    return Err(self.err(key("ref"), r, "expected a branch, tag or commit"));
                }
                Ok(OwnersSource::GitHub { repo, reference })
            }
            (None, None) => Err(self.err(
                key("by"),
                &o.by,
                "owners needs dir (a checkout), or github and ref",
            )),
        }
    }

    fn name(&self, key: &str, v: &S<String>) -> Result<String, ConfigError> {
        let s = v.value.trim();
        let ok = !s.is_empty()
            && s.len() <= 253
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if ok {
            Ok(s.to_string())
        } else {
            Err(self.err(
                key,
                v,
                "expected a name of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
            ))
        }
    }

    /// `policy.repository` (default true) and `policy.path` (default
    /// `.covlens.yml`): the path of the repository's policy file when it
    /// is read. Without `github` it cannot be: an error when asked for
    /// explicitly, off by default.
    fn repository_policy(
        &self,
        raw: Option<&RawPolicy>,
        github: bool,
    ) -> Result<Option<String>, ConfigError> {
        let repository = raw.and_then(|p| p.repository.as_ref());
        let path = raw.and_then(|p| p.path.as_ref());
        let needs_github = "the repository's policy file is read through GitHub: configure github, or set policy.repository: false";
        if let Some(p) = path {
            let text = self.text("policy.path", p)?;
            if !text
                .split('/')
                .all(|e| !e.is_empty() && e != "." && e != "..")
            {
                return Err(self.err(
                    "policy.path",
                    p,
                    "expected a relative path inside the repository, such as .covlens.yml",
                ));
            }
            if repository.is_some_and(|r| !r.value) {
                return Err(self.err(
                    "policy.path",
                    p,
                    "policy.repository is false: the repository's policy file is not read",
                ));
            }
            if !github {
                return Err(self.err("policy.path", p, needs_github));
            }
        }
        match repository {
            Some(r) if r.value && !github => Err(self.err("policy.repository", r, needs_github)),
            Some(r) if !r.value => Ok(None),
            _ if !github => Ok(None),
            _ => Ok(Some(match path {
                Some(p) => p.value.trim().to_string(),
                None => covlens_policy::DEFAULT_CONFIG.to_string(),
            })),
        }
    }

    fn text(&self, key: &str, v: &S<String>) -> Result<String, ConfigError> {
        let s = v.value.trim();
        if s.is_empty() || s.chars().any(char::is_control) {
            return Err(self.err(key, v, "expected a non-empty value on one line"));
        }
        Ok(s.to_string())
    }

    fn store(&self, key: &str, v: &S<String>) -> Result<StoreUrl, ConfigError> {
        let s = v.value.trim();
        let bad = |m: &str| self.err(key, v, m.to_string());
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            bad("expected a URL: file:///DIR, gs://BUCKET[/PREFIX] or s3://BUCKET[/PREFIX]")
        })?;
        let kind = match scheme {
            "file" => {
                if !rest.starts_with('/') {
                    return Err(bad(
                        "expected an absolute path after file:// (file:///srv/data)",
                    ));
                }
                let path = PathBuf::from(rest);
                if path
                    .components()
                    .any(|c| matches!(c, std::path::Component::ParentDir))
                {
                    return Err(bad("`..` is not allowed in the path"));
                }
                StoreKind::File(path)
            }
            "gs" | "s3" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let bucket_ok = (3..=222).contains(&bucket.len())
                    && bucket.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)
                    });
                if !bucket_ok {
                    return Err(bad(
                        "expected a bucket name (lowercase letters, digits, `-`, `_`, `.`)",
                    ));
                }
                let prefix = prefix.trim_matches('/').to_string();
                if prefix.split('/').any(|p| p == ".." || p == ".") || prefix.contains("//") {
                    return Err(bad(
                        "the prefix must not contain empty, `.` or `..` segments",
                    ));
                }
                if scheme == "gs" {
                    StoreKind::Gcs {
                        bucket: bucket.into(),
                        prefix,
                    }
                } else {
                    StoreKind::S3 {
                        bucket: bucket.into(),
                        prefix,
                    }
                }
            }
            _ => {
                return Err(bad(&format!(
                    "unsupported scheme {scheme}:// (file, gs or s3)"
                )));
            }
        };
        Ok(StoreUrl {
            url: s.to_string(),
            kind,
        })
    }

    fn http_url(&self, key: &str, v: &S<String>) -> Result<String, ConfigError> {
        let s = v.value.trim();
        match url::Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
                Ok(s.trim_end_matches('/').to_string())
            }
            Ok(_) => Err(self.err(key, v, "expected an http:// or https:// URL")),
            Err(e) => Err(self.err(key, v, format!("invalid URL: {e}"))),
        }
    }

    fn regex(&self, key: &str, patterns: &[S<String>]) -> Result<Option<Regex>, ConfigError> {
        for (i, p) in patterns.iter().enumerate() {
            if let Err(e) = Regex::new(&p.value) {
                return Err(self.err(
                    format!("{key}[{i}]"),
                    p,
                    format!("invalid regular expression: {}", regex_message(&e)),
                ));
            }
        }
        let all: Vec<String> = patterns.iter().map(|p| p.value.clone()).collect();
        // Each compiled alone above, so the alternation compiles too
        // (unless it is too big, which names the first pattern).
        covlens_core::path_regex(&all).map_err(|e| match patterns.first() {
            Some(p) => self.err(format!("{key}[0]"), p, e.to_string()),
            None => ConfigError::Invalid {
                origin: self.origin.to_string(),
                line: 1,
                column: 1,
                key: key.to_string(),
                message: e.to_string(),
            },
        })
    }

    fn percent(&self, key: &str, v: &S<f64>) -> Result<f64, ConfigError> {
        if v.value.is_finite() && (0.0..=100.0).contains(&v.value) {
            Ok(v.value)
        } else {
            Err(self.err(key, v, "expected a percentage from 0 to 100"))
        }
    }

    fn positive(&self, key: &str, v: &S<u64>) -> Result<u64, ConfigError> {
        if v.value == 0 {
            Err(self.err(key, v, "expected a number above 0"))
        } else {
            Ok(v.value)
        }
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let name = match &raw.name {
            Some(n) => self.name("name", n)?,
            None => "covlens".to_string(),
        };
        let namespace = match &raw.namespace {
            Some(n) => self.name("namespace", n)?,
            None => "default".to_string(),
        };
        let artifacts = self.store("artifacts", &raw.artifacts)?;
        let publish = self.store("publish", &raw.publish)?;
        let path_prefix = match &raw.path_prefix {
            Some(p) => {
                let s = p.value.trim_matches('/').to_string();
                if s.split('/').any(|x| x == ".." || x == ".") || s.contains("//") {
                    return Err(self.err(
                        "path_prefix",
                        p,
                        "must not contain empty, `.` or `..` segments",
                    ));
                }
                s
            }
            None => String::new(),
        };
        let report_url = raw
            .report_url
            .as_ref()
            .map(|u| self.http_url("report_url", u))
            .transpose()?;

        let mut dashboards = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, d) in raw.dashboards.iter().enumerate() {
            let key = |k: &str| format!("dashboards[{i}].{k}");
            let name = self.name(&key("name"), &d.name)?;
            if RESERVED_DASHBOARD_NAMES.contains(&name.as_str()) {
                return Err(self.err(
                    key("name"),
                    &d.name,
                    format!("{name:?} is reserved for pull-request reports"),
                ));
            }
            if !seen.insert(name.clone()) {
                return Err(self.err(
                    key("name"),
                    &d.name,
                    format!("dashboard {name:?} is defined twice"),
                ));
            }
            let depth = match &d.depth {
                Some(v) if v.value == 0 => {
                    return Err(self.err(key("depth"), v, "expected a depth of 1 or more"));
                }
                Some(v) => Some(v.value),
                None => None,
            };
            let mark_threshold = match &d.mark_threshold {
                Some(v) => self.percent(&key("mark_threshold"), v)?,
                None => 0.1,
            };
            if d.columns.value.is_empty() {
                return Err(self.err(
                    key("columns"),
                    &d.columns,
                    "a dashboard needs at least one column",
                ));
            }
            let mut columns = Vec::new();
            let mut labels = BTreeSet::new();
            for (j, c) in d.columns.value.iter().enumerate() {
                let ckey = |k: &str| format!("dashboards[{i}].columns[{j}].{k}");
                let label = self.text(&ckey("label"), &c.label)?;
                if !labels.insert(label.clone()) {
                    return Err(self.err(
                        ckey("label"),
                        &c.label,
                        format!("column {label:?} appears twice"),
                    ));
                }
                if let (0, Some(m)) = (j, c.minus.first()) {
                    return Err(self.err(
                        ckey("minus"),
                        m,
                        "not on the first column: its job's runs make the history and trends",
                    ));
                }
                let minus = c
                    .minus
                    .iter()
                    .enumerate()
                    .map(|(k, m)| self.name(&ckey(&format!("minus[{k}]")), m))
                    .collect::<Result<Vec<_>, _>>()?;
                columns.push(DashboardColumn {
                    label,
                    job: self.name(&ckey("job"), &c.job)?,
                    minus,
                });
            }
            let owners = match &d.owners {
                Some(o) => Some(DashboardOwners {
                    source: self.owners_source(&key("owners"), o, raw.github.is_some())?,
                    by: match o.by.value.trim() {
                        "owner" => OwnerBy::Owner,
                        "label" => OwnerBy::Label,
                        _ => {
                            return Err(self.err(
                                key("owners.by"),
                                &o.by,
                                "expected owner or label",
                            ));
                        }
                    },
                    site: o.site.as_ref().is_some_and(|s| s.value),
                }),
                None => None,
            };
            dashboards.push(Dashboard {
                name,
                depth,
                mark_threshold,
                columns,
                owners,
            });
        }

        let mut presubmits = Vec::new();
        let mut jobs = BTreeSet::new();
        for (i, p) in raw.presubmits.iter().enumerate() {
            let key = |k: &str| format!("presubmits[{i}].{k}");
            let job = self.name(&key("job"), &p.job)?;
            if !jobs.insert(job.clone()) {
                return Err(self.err(
                    key("job"),
                    &p.job,
                    format!("presubmit {job:?} is configured twice"),
                ));
            }
            let diff_artifact = match &p.diff_artifact {
                Some(v) => {
                    let s = v.value.trim();
                    if s.is_empty()
                        || s.starts_with('/')
                        || s.split('/').any(|x| x.is_empty() || x == "." || x == "..")
                    {
                        return Err(self.err(
                            key("diff_artifact"),
                            v,
                            "expected a relative path under the job's artifacts",
                        ));
                    }
                    s.to_string()
                }
                None => "git.diff".to_string(),
            };
            presubmits.push(Presubmit {
                job,
                base: self.name(&key("base"), &p.base)?,
                threshold: match &p.threshold {
                    Some(v) => self.percent(&key("threshold"), v)?,
                    None => 0.0,
                },
                module: p
                    .module
                    .as_ref()
                    .map(|m| self.text(&key("module"), m))
                    .transpose()?
                    .map(|m| m.trim_end_matches('/').to_string()),
                diff_artifact,
                source_files: match &p.source_files {
                    Some(v) if v.value > MAX_SOURCE_FILES => {
                        return Err(self.err(
                            key("source_files"),
                            v,
                            format!("expected at most {MAX_SOURCE_FILES} files"),
                        ));
                    }
                    Some(v) => v.value,
                    None => covlens_report_templates::MAX_SOURCE_FILES,
                },
                comment: match &p.comment {
                    None => CommentWhen::Always,
                    Some(v) => match v.value.trim() {
                        "always" => CommentWhen::Always,
                        "changed" => CommentWhen::Changed,
                        "never" => CommentWhen::Never,
                        _ => {
                            return Err(self.err(
                                key("comment"),
                                v,
                                "expected always, changed or never",
                            ));
                        }
                    },
                },
            });
        }

        let filters = Filters {
            include: self.regex("filters.include", &raw.filters.include)?,
            exclude: self.regex("filters.exclude", &raw.filters.exclude)?,
            include_patterns: raw
                .filters
                .include
                .iter()
                .map(|p| p.value.clone())
                .collect(),
            exclude_patterns: raw
                .filters
                .exclude
                .iter()
                .map(|p| p.value.clone())
                .collect(),
        };

        let github = match &raw.github {
            Some(g) => Some(GitHubConfig {
                api: match &g.api {
                    Some(a) => self.http_url("github.api", a)?,
                    None => "https://api.github.com".to_string(),
                },
                token_file: PathBuf::from(self.text("github.token_file", &g.token_file)?),
                bot_login: g
                    .bot_login
                    .as_ref()
                    .map(|l| self.text("github.bot_login", l))
                    .transpose()?,
                check_runs: g.check_runs,
            }),
            None => None,
        };

        let history = match &raw.history {
            Some(h) => {
                let store = self.text("history.store", &h.store)?;
                if let Err(e) = covlens_history::Location::parse(&store) {
                    return Err(self.err("history.store", &h.store, e.to_string()));
                }
                Some(HistoryConfig {
                    store,
                    keep: match &h.keep {
                        Some(k) if k.value == 0 => {
                            return Err(self.err(
                                "history.keep",
                                k,
                                "expected 1 or more runs to keep",
                            ));
                        }
                        Some(k) => Some(k.value),
                        None => None,
                    },
                    trend: h.trend.as_ref().map_or(DEFAULT_TREND_RUNS, |t| t.value),
                    flaky: match &h.flaky {
                        Some(f) if f.value < 2 => {
                            return Err(self.err(
                                "history.flaky",
                                f,
                                "expected 2 or more runs to compare",
                            ));
                        }
                        f => f.as_ref().map(|f| f.value),
                    },
                })
            }
            None => None,
        };

        let repository_policy =
            self.repository_policy(raw.policy.as_ref(), raw.github.is_some())?;
        let policy = match &raw.policy {
            None => None,
            Some(RawPolicy {
                file: Some(_),
                inline: Some(i),
                ..
            }) => {
                return Err(self.err(
                    "policy.inline",
                    i,
                    "give either policy.file or policy.inline, not both",
                ));
            }
            Some(RawPolicy {
                file: Some(f),
                inline: None,
                ..
            }) => {
                let path = PathBuf::from(self.text("policy.file", f)?);
                let path = match self.dir {
                    Some(d) if path.is_relative() => d.join(path),
                    _ => path,
                };
                Some(
                    covlens_policy::PolicyFile::read(&path)
                        .map_err(|e| self.err("policy.file", f, format!("{e}")))?,
                )
            }
            Some(RawPolicy {
                file: None,
                inline: Some(i),
                ..
            }) => Some(
                covlens_policy::PolicyFile::parse(&i.value, self.origin).map_err(|e| match e {
                    // A block scalar (`inline: |`): its text starts where
                    // the value is, so positions add up.
                    covlens_policy::Error::Config {
                        line,
                        column,
                        key,
                        message,
                        ..
                    } => ConfigError::Invalid {
                        origin: self.origin.to_string(),
                        line: i.referenced.line() as usize + line - 1,
                        column: i.referenced.column() as usize + column - 1,
                        key: if key.is_empty() {
                            "policy.inline".into()
                        } else {
                            format!("policy.inline.{key}")
                        },
                        message,
                    },
                    e => self.err("policy.inline", i, e.to_string()),
                })?,
            ),
            Some(RawPolicy {
                file: None,
                inline: None,
                repository: None,
                path: None,
            }) => {
                return Err(ConfigError::Invalid {
                    origin: self.origin.to_string(),
                    line: 1,
                    column: 1,
                    key: "policy".into(),
                    message:
                        "expected policy.file, policy.inline, policy.repository or policy.path"
                            .into(),
                });
            }
            Some(RawPolicy {
                file: None,
                inline: None,
                ..
            }) => None,
        };

        let junit_threshold = match &raw.junit_threshold {
            Some(v) => self.percent("junit_threshold", v)?,
            None => 0.0,
        };
        let l = &raw.limits;
        let d = Limits::default();
        let limits = Limits {
            max_object_bytes: l
                .max_object_bytes
                .as_ref()
                .map(|v| self.positive("limits.max_object_bytes", v))
                .transpose()?
                .unwrap_or(d.max_object_bytes),
            max_run_bytes: l
                .max_run_bytes
                .as_ref()
                .map(|v| self.positive("limits.max_run_bytes", v))
                .transpose()?
                .unwrap_or(d.max_run_bytes),
            max_objects: l
                .max_objects
                .as_ref()
                .map(|v| self.positive("limits.max_objects", v))
                .transpose()?
                .unwrap_or(d.max_objects),
        };

        let selection = Selection {
            jobs: match &raw.selection.jobs {
                Some(j) => Some(Regex::new(&j.value).map_err(|e| {
                    self.err(
                        "selection.jobs",
                        j,
                        format!("invalid regular expression: {}", regex_message(&e)),
                    )
                })?),
                None => None,
            },
            labels: raw
                .selection
                .labels
                .as_ref()
                .map(|l| self.text("selection.labels", l))
                .transpose()?,
        };
        let concurrency = match &raw.concurrency {
            Some(c) if c.value == 0 => {
                return Err(self.err("concurrency", c, "expected 1 or more"));
            }
            Some(c) => Some(c.value),
            None => None,
        };
        let lease = match &raw.lease {
            Some(l) => Some(Lease {
                name: self.name("lease.name", &l.name)?,
                duration_seconds: match &l.duration_seconds {
                    Some(d) if d.value == 0 => {
                        return Err(self.err(
                            "lease.duration_seconds",
                            d,
                            "expected 1 or more seconds",
                        ));
                    }
                    Some(d) => d.value,
                    None => 15,
                },
            }),
            None => None,
        };
        let listen = match &raw.listen {
            Some(l) => Some(l.value.trim().parse::<SocketAddr>().map_err(|_| {
                self.err(
                    "listen",
                    l,
                    "expected an address and port (0.0.0.0:8080, [::]:8080)",
                )
            })?),
            None => None,
        };

        // Every presubmit's base and every column's job must be a job of
        // Prow's `logs/` layout; nothing to check here beyond the names.
        Ok(Config {
            name,
            namespace,
            artifacts,
            path_prefix,
            publish,
            report_url,
            dashboards,
            presubmits,
            filters,
            github,
            history,
            policy,
            repository_policy,
            junit_threshold,
            limits,
            selection,
            concurrency,
            lease,
            listen,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUE_EXAMPLE: &str = r#"name: covlens                       # key in prev_report_states
namespace: default
artifacts: file:///srv/prow-artifacts   # or gs://BUCKET, s3://BUCKET: Prow's layout under it
publish: file:///srv/coverage           # where tables and reports are written
dashboards:
  - name: e2e
    depth: 2                          # package depth of the table rows
    columns:                          # newest first; ▲ against the next column
      - {label: master, job: ci-kubernetes-coverage-e2e}
      - {label: "1.12", job: ci-kubernetes-coverage-e2e-1-12}
      - {label: "1.11", job: ci-kubernetes-coverage-e2e-1-11}
presubmits:
  - {job: pull-kubernetes-coverage, base: ci-kubernetes-coverage-e2e, threshold: 0.0}
filters: {exclude: ['/vendor/', 'zz_generated', '/third_party/']}
github: {api: https://api.github.com, token_file: /etc/github/token}
"#;

    fn err(text: &str) -> String {
        Config::parse(text, "reporter.yaml")
            .unwrap_err()
            .to_string()
    }

    /// The issue's example with `extra` appended.
    fn with(extra: &str) -> String {
        format!("{ISSUE_EXAMPLE}{extra}")
    }

    #[test]
    fn the_issue_example() {
        let c = Config::parse(ISSUE_EXAMPLE, "reporter.yaml").unwrap();
        assert_eq!(
            (c.name.as_str(), c.namespace.as_str()),
            ("covlens", "default")
        );
        assert_eq!(
            c.artifacts.kind,
            StoreKind::File("/srv/prow-artifacts".into())
        );
        assert_eq!(c.publish.kind, StoreKind::File("/srv/coverage".into()));
        assert_eq!(c.dashboards.len(), 1);
        let d = &c.dashboards[0];
        assert_eq!(
            (d.name.as_str(), d.depth, d.mark_threshold),
            ("e2e", Some(2), 0.1)
        );
        assert_eq!(
            d.columns[1],
            DashboardColumn {
                label: "1.12".into(),
                job: "ci-kubernetes-coverage-e2e-1-12".into(),
                minus: Vec::new(),
            }
        );
        assert_eq!(c.presubmits[0].base, "ci-kubernetes-coverage-e2e");
        assert_eq!(c.presubmits[0].threshold, 0.0);
        assert_eq!(c.presubmits[0].diff_artifact, "git.diff");
        assert_eq!(c.presubmits[0].source_files, 30);
        let ex = c.filters.exclude.as_ref().unwrap();
        assert!(ex.is_match("k8s.io/kubernetes/vendor/x.go"));
        assert!(ex.is_match("pkg/zz_generated.deepcopy.go"));
        assert!(!ex.is_match("pkg/api/x.go"));
        assert!(c.filters.include.is_none());
        let g = c.github.as_ref().unwrap();
        assert_eq!(
            (g.api.as_str(), g.token_file.as_path()),
            ("https://api.github.com", Path::new("/etc/github/token"))
        );
        assert!(c.history.is_none() && c.policy.is_none() && c.lease.is_none());
        assert_eq!(c.limits, Limits::default());
        assert_eq!(
            c.configured_jobs().into_iter().collect::<Vec<_>>(),
            [
                "ci-kubernetes-coverage-e2e",
                "ci-kubernetes-coverage-e2e-1-11",
                "ci-kubernetes-coverage-e2e-1-12",
                "pull-kubernetes-coverage"
            ]
        );
        assert!(c.selects("pull-kubernetes-coverage") && !c.selects("other"));
    }

    #[test]
    fn every_added_key() {
        let c = Config::parse(
            &with(
                "path_prefix: /pfx/\nreport_url: https://cov.example/c/\nhistory: {store: /var/lib/covlens/history.db, keep: 30}\n\
                 policy:\n  inline: |\n    threshold:\n      package: 40\njunit_threshold: 5\n\
                 limits: {max_object_bytes: 1000, max_run_bytes: 5000, max_objects: 7}\n\
                 selection: {jobs: '-coverage', labels: 'covlens=true'}\nconcurrency: 4\n\
                 lease: {name: covlens-reporter, duration_seconds: 20}\nlisten: 0.0.0.0:8080\n",
            ),
            "reporter.yaml",
        )
        .unwrap();
        assert_eq!(c.path_prefix, "pfx");
        assert_eq!(c.report_url.as_deref(), Some("https://cov.example/c"));
        assert_eq!(
            c.history,
            Some(HistoryConfig {
                store: "/var/lib/covlens/history.db".into(),
                keep: Some(30),
                trend: DEFAULT_TREND_RUNS,
                flaky: None,
            })
        );
        assert_eq!(
            c.policy.as_ref().unwrap().policy.package.unwrap().get(),
            40.0
        );
        assert_eq!(c.junit_threshold, 5.0);
        assert_eq!(
            c.limits,
            Limits {
                max_object_bytes: 1000,
                max_run_bytes: 5000,
                max_objects: 7
            }
        );
        assert!(c.selects("periodic-x-coverage"));
        assert_eq!(c.selection.labels.as_deref(), Some("covlens=true"));
        assert_eq!(c.concurrency, Some(4));
        assert_eq!(
            c.lease,
            Some(Lease {
                name: "covlens-reporter".into(),
                duration_seconds: 20
            })
        );
        assert_eq!(c.listen, Some("0.0.0.0:8080".parse().unwrap()));
        let c = Config::parse(
            "artifacts: gs://kubernetes-ci-logs\npublish: s3://cov-bucket/pre/fix/\n",
            "r.yaml",
        )
        .unwrap();
        assert_eq!(
            c.artifacts.kind,
            StoreKind::Gcs {
                bucket: "kubernetes-ci-logs".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            c.publish.kind,
            StoreKind::S3 {
                bucket: "cov-bucket".into(),
                prefix: "pre/fix".into()
            }
        );
        assert_eq!(c.name, "covlens");
    }

    #[test]
    fn the_repository_policy_file_is_read_by_default_with_github() {
        let no_github = |t: &str| {
            with(t).replace(
                "github: {api: https://api.github.com, token_file: /etc/github/token}\n",
                "",
            )
        };
        let c = Config::parse(&with(""), "r.yaml").unwrap();
        assert_eq!(c.repository_policy.as_deref(), Some(".covlens.yml"));
        assert!(c.policy.is_none());
        let c = Config::parse(&no_github(""), "r.yaml").unwrap();
        assert_eq!(c.repository_policy, None);

        let c = Config::parse(
            &with("policy: {path: ci/.covlens.yml, inline: 'threshold: {total: 5}'}\n"),
            "r.yaml",
        )
        .unwrap();
        assert_eq!(c.repository_policy.as_deref(), Some("ci/.covlens.yml"));
        assert_eq!(c.policy.unwrap().policy.total.unwrap().get(), 5.0);
        let c = Config::parse(&with("policy: {repository: true}\n"), "r.yaml").unwrap();
        assert_eq!(c.repository_policy.as_deref(), Some(".covlens.yml"));
        assert!(c.policy.is_none());
        let c = Config::parse(
            &with("policy: {repository: false, inline: 'threshold: {total: 5}'}\n"),
            "r.yaml",
        )
        .unwrap();
        assert_eq!(c.repository_policy, None);
        assert!(c.policy.is_some());
    }

    #[test]
    fn repository_policy_errors_name_the_key() {
        for bad in ["../x.yml", "/etc/passwd", "a//b", "./a"] {
            let e = err(&with(&format!("policy: {{path: '{bad}'}}\n")));
            assert!(
                e.contains("policy.path") && e.contains("relative path"),
                "{e}"
            );
        }
        let no_github = |t: &str| {
            with(t).replace(
                "github: {api: https://api.github.com, token_file: /etc/github/token}\n",
                "",
            )
        };
        let e = err(&no_github("policy: {repository: true}\n"));
        assert!(
            e.starts_with("reporter.yaml:15:22: policy.repository: ")
                && e.contains("configure github"),
            "{e}"
        );
        let e = err(&no_github("policy: {path: .covlens.yml}\n"));
        assert!(
            e.contains("policy.path") && e.contains("configure github"),
            "{e}"
        );
        let e = err(&with("policy: {repository: false, path: ci/c.yml}\n"));
        assert!(e.contains("policy.path: policy.repository is false"), "{e}");
        // The path went into `repository` before `policy.path`.
        let e = err(&with("policy: {repository: .covlens.yml}\n"));
        assert!(
            e.contains(
                "policy.repository: expected true or false (the file's path is policy.path)"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_policy_file_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.yml"), "threshold:\n  total: 50\n").unwrap();
        let cfg = dir.path().join("reporter.yaml");
        std::fs::write(&cfg, with("policy: {file: policy.yml}\n")).unwrap();
        let c = Config::read(&cfg).unwrap();
        assert_eq!(c.policy.unwrap().policy.total.unwrap().get(), 50.0);
        std::fs::write(dir.path().join("policy.yml"), "threshold:\n  total: 500\n").unwrap();
        let e = Config::read(&cfg).unwrap_err().to_string();
        assert!(
            e.ends_with("policy.file: ".to_string().as_str())
                || e.contains("policy.file: ")
                    && e.contains(
                        "policy.yml:2:10: threshold.total: expected a number from 0 to 100"
                    ),
            "{e}"
        );
    }

    #[test]
    fn the_deploy_example_is_valid() {
        let text = include_str!("../deploy-example/reporter.yaml");
        let c = Config::parse(text, "deploy-example/reporter.yaml").unwrap();
        assert_eq!(c.dashboards.len(), 2);
        assert_eq!(c.presubmits[0].module.as_deref(), Some("k8s.io/kubernetes"));
        assert!(c.policy.is_some() && c.history.is_some() && c.lease.is_some());
        assert!(c.selects("ci-foo-coverage") && c.selects("pull-kubernetes-coverage-unit"));
        let h = c.history.as_ref().unwrap();
        assert_eq!((h.trend, h.flaky), (10, Some(5)));
        let o = c.dashboards[0].owners.as_ref().unwrap();
        assert_eq!(
            (&o.source, o.by, o.site),
            (
                &OwnersSource::Dir("/src/kubernetes".into()),
                OwnerBy::Label,
                false
            )
        );
    }

    /// The config the Deployment mounts (prow-integration/deploy/) is valid
    /// and elects a leader: it runs two replicas.
    #[test]
    fn the_deployed_config_is_valid() {
        let text = include_str!("../deploy/reporter-config.yaml");
        let c = Config::parse(text, "deploy/reporter-config.yaml").unwrap();
        assert!(c.lease.is_some(), "two replicas need a lease");
        assert!(c.listen.is_some() && !c.dashboards.is_empty() && !c.presubmits.is_empty());
        // The per-SIG table reads OWNERS through GitHub: no sidecar.
        let o = c.dashboards[0].owners.as_ref().unwrap();
        assert!(matches!(&o.source, OwnersSource::GitHub { .. }) && c.github.is_some());
        for d in &c.dashboards {
            for col in &d.columns {
                assert!(c.selects(&col.job), "{}", col.job);
            }
        }
    }

    #[test]
    fn unknown_keys_are_named() {
        assert_eq!(
            err("artifacts: file:///a\npublish: file:///b\ndashbords: []\n"),
            "reporter.yaml:3:1: unknown field `dashbords`, expected one of name, namespace, artifacts, path_prefix, publish, report_url, dashboards, presubmits, filters, github, history, policy, junit_threshold, limits, selection, concurrency, lease, listen"
        );
        let e = err(&with("history: {store: x.db, kep: 3}\n"));
        assert!(
            e.starts_with("reporter.yaml:16:") && e.contains("history: unknown field `kep`"),
            "{e}"
        );
        let e = err(
            "artifacts: file:///a\npublish: file:///b\ndashboards:\n  - name: e2e\n    columns:\n      - {label: m, job: j, branch: x}\n",
        );
        assert!(
            e.starts_with("reporter.yaml:6:")
                && e.contains("dashboards[0].columns[0]: unknown field `branch`"),
            "{e}"
        );
    }

    #[test]
    fn type_errors_name_the_key() {
        let e = err(
            "artifacts: file:///a\npublish: file:///b\ndashboards:\n  - name: e2e\n    depth: two\n    columns: [{label: m, job: j}]\n",
        );
        assert!(
            e.starts_with("reporter.yaml:5:12: dashboards[0].depth: "),
            "{e}"
        );
        let e = err("publish: file:///b\n");
        assert!(e.contains("missing field `artifacts`"), "{e}");
    }

    #[test]
    fn every_validation_error() {
        let base = "artifacts: file:///a\npublish: file:///b\n";
        let cases: &[(&str, &str)] = &[
            (
                "artifacts: /srv/x\npublish: file:///b\n",
                "reporter.yaml:1:12: artifacts: expected a URL: file:///DIR, gs://BUCKET[/PREFIX] or s3://BUCKET[/PREFIX]",
            ),
            (
                "artifacts: file://srv/x\npublish: file:///b\n",
                "reporter.yaml:1:12: artifacts: expected an absolute path after file:// (file:///srv/data)",
            ),
            (
                "artifacts: file:///a\npublish: file:///srv/../etc\n",
                "reporter.yaml:2:10: publish: `..` is not allowed in the path",
            ),
            (
                "artifacts: http://x/a\npublish: file:///b\n",
                "reporter.yaml:1:12: artifacts: unsupported scheme http:// (file, gs or s3)",
            ),
            (
                "artifacts: gs://B\npublish: file:///b\n",
                "reporter.yaml:1:12: artifacts: expected a bucket name (lowercase letters, digits, `-`, `_`, `.`)",
            ),
            (
                "artifacts: s3://bucket/a/../b\npublish: file:///b\n",
                "reporter.yaml:1:12: artifacts: the prefix must not contain empty, `.` or `..` segments",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&err(text), want);
        }
        let cases: &[(&str, &str)] = &[
            (
                "name: 'a b'\n",
                "reporter.yaml:3:7: name: expected a name of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
            ),
            (
                "namespace: ..\n",
                "reporter.yaml:3:12: namespace: expected a name of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
            ),
            (
                "path_prefix: a/../b\n",
                "reporter.yaml:3:14: path_prefix: must not contain empty, `.` or `..` segments",
            ),
            (
                "report_url: ftp://x/y\n",
                "reporter.yaml:3:13: report_url: expected an http:// or https:// URL",
            ),
            (
                "report_url: 'https://'\n",
                "reporter.yaml:3:13: report_url: invalid URL: empty host",
            ),
            (
                "dashboards:\n  - {name: pr, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:12: dashboards[0].name: \"pr\" is reserved for pull-request reports",
            ),
            (
                "dashboards:\n  - {name: ../x, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:12: dashboards[0].name: expected a name of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
            ),
            (
                "dashboards:\n  - {name: a, columns: [{label: m, job: j}]}\n  - {name: a, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:5:12: dashboards[1].name: dashboard \"a\" is defined twice",
            ),
            (
                "dashboards:\n  - {name: a, columns: []}\n",
                "reporter.yaml:4:24: dashboards[0].columns: a dashboard needs at least one column",
            ),
            (
                "dashboards:\n  - {name: a, owners: {dir: /r, by: sig}, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:37: dashboards[0].owners.by: expected owner or label",
            ),
            (
                "dashboards:\n  - {name: a, owners: {dir: /r, github: o/r, ref: m, by: label}, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:29: dashboards[0].owners.dir: give either owners.dir, or owners.github and owners.ref",
            ),
            (
                "dashboards:\n  - {name: a, owners: {by: label}, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:28: dashboards[0].owners.by: owners needs dir (a checkout), or github and ref",
            ),
            (
                "dashboards:\n  - {name: a, owners: {github: o/r, ref: m, by: label}, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:32: dashboards[0].owners.github: ownership is read through GitHub: configure github, or use owners.dir",
            ),
            (
                "dashboards:\n  - {name: a, owners: {github: 'o/r/x', ref: m, by: label}, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:32: dashboards[0].owners.github: expected owner/name",
            ),
            (
                "dashboards:\n  - {name: a, depth: 0, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:22: dashboards[0].depth: expected a depth of 1 or more",
            ),
            (
                "dashboards:\n  - {name: a, mark_threshold: -1, columns: [{label: m, job: j}]}\n",
                "reporter.yaml:4:31: dashboards[0].mark_threshold: expected a percentage from 0 to 100",
            ),
            (
                "dashboards:\n  - {name: a, columns: [{label: m, job: j}, {label: m, job: k}]}\n",
                "reporter.yaml:4:53: dashboards[0].columns[1].label: column \"m\" appears twice",
            ),
            (
                "dashboards:\n  - {name: a, columns: [{label: '', job: j}]}\n",
                "reporter.yaml:4:33: dashboards[0].columns[0].label: expected a non-empty value on one line",
            ),
            (
                "dashboards:\n  - {name: a, columns: [{label: m, job: 'j/k'}]}\n",
                "reporter.yaml:4:41: dashboards[0].columns[0].job: expected a name of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
            ),
            (
                "presubmits:\n  - {job: p, base: b, threshold: 101}\n",
                "reporter.yaml:4:34: presubmits[0].threshold: expected a percentage from 0 to 100",
            ),
            (
                "presubmits:\n  - {job: p, base: b}\n  - {job: p, base: c}\n",
                "reporter.yaml:5:11: presubmits[1].job: presubmit \"p\" is configured twice",
            ),
            (
                "dashboards:\n  - {name: a, columns: [{label: m, job: j, minus: [u]}]}\n",
                "reporter.yaml:4:52: dashboards[0].columns[0].minus: not on the first column: its job's runs make the history and trends",
            ),
            (
                "dashboards:\n  - {name: a, columns: [{label: m, job: j}, {label: o, job: j, minus: ['u/v']}]}\n",
                "reporter.yaml:4:72: dashboards[0].columns[1].minus[0]: expected a name of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
            ),
            (
                "presubmits:\n  - {job: p, base: b, source_files: 201}\n",
                "reporter.yaml:4:37: presubmits[0].source_files: expected at most 200 files",
            ),
            (
                "presubmits:\n  - {job: p, base: b, comment: sometimes}\n",
                "reporter.yaml:4:32: presubmits[0].comment: expected always, changed or never",
            ),
            (
                "presubmits:\n  - {job: p, base: b, diff_artifact: ../x}\n",
                "reporter.yaml:4:38: presubmits[0].diff_artifact: expected a relative path under the job's artifacts",
            ),
            (
                "presubmits:\n  - {job: p, base: ''}\n",
                "reporter.yaml:4:20: presubmits[0].base: expected a name of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
            ),
            (
                "filters: {exclude: [ok, '(']}\n",
                "reporter.yaml:3:25: filters.exclude[1]: invalid regular expression: unclosed group",
            ),
            (
                "filters: {include: ['[']}\n",
                "reporter.yaml:3:21: filters.include[0]: invalid regular expression: unclosed character class",
            ),
            (
                "github: {api: 'not a url', token_file: /t}\n",
                "reporter.yaml:3:15: github.api: invalid URL: relative URL without a base",
            ),
            (
                "github: {token_file: ''}\n",
                "reporter.yaml:3:22: github.token_file: expected a non-empty value on one line",
            ),
            (
                "history: {store: x.db, keep: 0}\n",
                "reporter.yaml:3:30: history.keep: expected 1 or more runs to keep",
            ),
            (
                "history: {store: x.db, flaky: 1}\n",
                "reporter.yaml:3:31: history.flaky: expected 2 or more runs to compare",
            ),
            (
                "policy: {file: a, inline: b}\n",
                "reporter.yaml:3:27: policy.inline: give either policy.file or policy.inline, not both",
            ),
            (
                "policy: {}\n",
                "reporter.yaml:1:1: policy: expected policy.file, policy.inline, policy.repository or policy.path",
            ),
            (
                "policy: {file: /nonexistent/covlens-policy.yml}\n",
                "reporter.yaml:3:16: policy.file: /nonexistent/covlens-policy.yml: cannot read the policy",
            ),
            (
                "policy:\n  inline: |\n    threshold: {total: 200}\n",
                "reporter.yaml:5:24: policy.inline.threshold.total: expected a number from 0 to 100",
            ),
            (
                "junit_threshold: 120\n",
                "reporter.yaml:3:18: junit_threshold: expected a percentage from 0 to 100",
            ),
            (
                "limits: {max_object_bytes: 0}\n",
                "reporter.yaml:3:28: limits.max_object_bytes: expected a number above 0",
            ),
            (
                "limits: {max_run_bytes: 0}\n",
                "reporter.yaml:3:25: limits.max_run_bytes: expected a number above 0",
            ),
            (
                "limits: {max_objects: 0}\n",
                "reporter.yaml:3:23: limits.max_objects: expected a number above 0",
            ),
            (
                "selection: {jobs: '(x'}\n",
                "reporter.yaml:3:19: selection.jobs: invalid regular expression: unclosed group",
            ),
            (
                "selection: {labels: ''}\n",
                "reporter.yaml:3:21: selection.labels: expected a non-empty value on one line",
            ),
            (
                "concurrency: 0\n",
                "reporter.yaml:3:14: concurrency: expected 1 or more",
            ),
            (
                "lease: {name: 'a/b'}\n",
                "reporter.yaml:3:15: lease.name: expected a name of letters, digits, `-`, `_` and `.` (not `.` or `..`)",
            ),
            (
                "lease: {name: l, duration_seconds: 0}\n",
                "reporter.yaml:3:36: lease.duration_seconds: expected 1 or more seconds",
            ),
            (
                "listen: localhost\n",
                "reporter.yaml:3:9: listen: expected an address and port (0.0.0.0:8080, [::]:8080)",
            ),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter_map(|(extra, want)| {
                let got = err(&format!("{base}{extra}"));
                (got != *want).then(|| format!("{extra:?}\n  got  {got}\n  want {want}"))
            })
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
