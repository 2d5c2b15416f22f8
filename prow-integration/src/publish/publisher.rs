//! [`Publisher`]: what a report is, for a job that reached a final state.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use covlens_core::flaky::{FlakyFold, FlakyReport};
use covlens_core::git::is_commit;
use covlens_core::owners::OwnersTree;
use covlens_core::{ModePolicy, OnConflict, Profile, SetOp, set_op};
use covlens_history::{History, Trends};
use covlens_report_templates::{
    Badge, Column, Comment, DiffFile, MemorySink, Origin, Provenance, PullBase, SiteExtras,
    SiteOptions, SourceFile, Stat, Table, TableFormat, TrendRule, group_rows, parse_diff,
    source_files, table_rows, write_badge, write_comment, write_site_with_extras, write_table,
};
use serde::Serialize;
use tracing::{info, warn};

use super::artifacts::{RunCoverage, latest_success, read_run, run_started, success_at};
use super::owners::OwnersReader;
use super::policy::{INVALID, JobPolicy, PolicyCache, UNREADABLE, from_file, short};
use super::store::{Bucket, Max};
use super::{FinalState, FinishedJob, Outcome, Publish, PublishError, Refs};
use crate::config::{CommentWhen, Config, Dashboard, OwnersSource, Presubmit};
use crate::github::{
    COMMENT_MARKER, COVERAGE_CONTEXT, CheckConclusion, CheckOutput, CheckRun, CheckStatus, Client,
    ClientOptions, Commenter, GitHub, GitHubError, MAX_COMMENT_CHARS, PullRequest, Repo,
    StatusState, TokenSource, coverage_status, post_check_run, run_stamp_line,
};
use crate::layout::{JobType, Pull, Run, segment};

/// The publisher: reads a finished job's artifacts and writes the branch
/// tables, reports, badge, PR comment, commit status, junit and history
/// record the config asks for.
///
/// Layout under the publish root (`publish`):
/// - `<dashboard>/latest/`: `table.md`, `table.html`, `table.json`,
///   `owners.{md,html,json}` (with `owners`: a row per owner or label),
///   `runs.json` (which run fills each column), `badge.svg` and `site/`
///   (the report of the newest column; files of an older report that the
///   new one lacks are deleted);
/// - `<dashboard>/runs/<job>/<build>/`: the same tables, `runs.json` and
///   badge as published after that run (no site);
/// - `pr/<org>_<repo>/<pr>/<job>/<build>/`: `comment.md`, `status.json`
///   and `site/` (head and base).
///
/// Into the finished run's own artifacts: `artifacts/filtered.cov` and
/// `artifacts/junit_coverage.xml`.
pub struct Publisher {
    config: Config,
    artifacts: Bucket,
    publish: Bucket,
    commenter: Option<Commenter<Arc<dyn GitHub>>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Repository policy files read.
    repo_policies: PolicyCache,
    /// Dashboards' ownership, and the ownership files read through GitHub.
    owners: OwnersReader,
}

/// The file name of the junit report written into a run's artifacts
/// (Kubernetes' coverage jobs' name; TestGrid reads `junit*.xml`).
pub const JUNIT_ARTIFACT: &str = "junit_coverage.xml";
/// The filtered profile written into a run's artifacts (Spyglass'
/// coverage lens reads it).
pub const FILTERED_ARTIFACT: &str = "filtered.cov";

/// Which run filled a column of a branch table (`runs.json`).
#[derive(Clone, Debug, Serialize)]
struct ColumnRun {
    label: String,
    job: String,
    /// `None`: no successful run with coverage was found.
    build: Option<String>,
    /// Where the coverage came from, or why the column is empty.
    source: String,
}

/// What `status.json` records of a presubmit's status.
#[derive(Serialize)]
struct StatusRecord<'a> {
    state: StatusState,
    description: &'a str,
    target_url: Option<&'a str>,
    base_job: &'a str,
    base_build: Option<&'a str>,
}

/// The largest diff artifact read: the whole of it is in memory while it
/// is parsed, and a pull request's diff is a few MB even at Kubernetes
/// scale.
const MAX_DIFF_BYTES: u64 = 64 << 20;

fn gh_error(what: &str, e: GitHubError) -> PublishError {
    let transient = matches!(
        e,
        GitHubError::Transport { .. }
            | GitHubError::RateLimited { .. }
            | GitHubError::TokenRead { .. }
            | GitHubError::Contended { .. } // 401: an expired or rotating token; the next try may have a new one.
    ) || e
        .status()
        .is_some_and(|s| s >= 500 || s == 429 || s == 403 || s == 401);
    let msg = format!("{what}: {e}");
    if transient {
        PublishError::Transient(msg)
    } else {
        PublishError::Permanent(msg)
    }
}

fn render(
    what: &str,
    f: impl FnOnce(&mut Vec<u8>) -> Result<(), covlens_report_templates::Error>,
) -> Result<Vec<u8>, PublishError> {
    let mut out = Vec::new();
    f(&mut out).map_err(|e| PublishError::Permanent(format!("cannot render {what}: {e}")))?;
    Ok(out)
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

impl Publisher {
    /// A publisher for `config`: opens the artifacts and publish locations
    /// (creating a local publish directory) and, with `github`, a GitHub
    /// client reading its token from `token_file`.
    pub fn new(config: &Config) -> Result<Publisher, PublishError> {
        let artifacts = Bucket::open(&config.artifacts, false)?;
        let publish = Bucket::open(&config.publish, true)?;
        let github: Option<Arc<dyn GitHub>> = match &config.github {
            Some(g) => {
                let mut o = ClientOptions::new(TokenSource::File(g.token_file.clone()));
                o.api = g.api.clone();
                let client =
                    Client::new(o).map_err(|e| PublishError::Permanent(format!("github: {e}")))?;
                Some(Arc::new(client))
            }
            None => None,
        };
        Ok(Publisher::with_parts(config, artifacts, publish, github))
    }

    /// A publisher over given stores and GitHub client (tests, or stores
    /// built by the caller).
    pub fn with_parts(
        config: &Config,
        artifacts: Bucket,
        publish: Bucket,
        github: Option<Arc<dyn GitHub>>,
    ) -> Publisher {
        let commenter = github.map(|gh| {
            let c = Commenter::new(gh);
            match config.github.as_ref().and_then(|g| g.bot_login.as_deref()) {
                Some(login) => c.with_bot_login(login),
                None => c,
            }
        });
        Publisher {
            config: config.clone(),
            artifacts,
            publish,
            commenter,
            locks: Mutex::new(HashMap::new()),
            repo_policies: PolicyCache::default(),
            owners: OwnersReader::default(),
        }
    }

    /// How long to wait after creating a PR comment before looking for a
    /// racing reporter's (default 1 s).
    pub fn with_comment_settle(mut self, settle: Duration) -> Publisher {
        self.commenter = self.commenter.map(|c| c.with_settle_delay(settle));
        self
    }

    /// The publish location.
    pub fn publish_bucket(&self) -> &Bucket {
        &self.publish
    }

    async fn lock(&self, name: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            locks.entry(name.to_string()).or_default().clone()
        };
        m.lock_owned().await
    }

    /// Prow's directory of `job`'s run.
    fn run_dir(&self, job: &FinishedJob) -> Result<String, PublishError> {
        let number;
        let pull = match (job.job_type, &job.refs) {
            (JobType::Presubmit, Some(r)) => {
                let p = r.pulls.first().ok_or_else(|| {
                    PublishError::Permanent(format!(
                        "presubmit {} has no pull request in its refs",
                        job.name
                    ))
                })?;
                number = p.number.to_string();
                Some(Pull {
                    org: &r.org,
                    repo: &r.repo,
                    number: &number,
                })
            }
            (JobType::Presubmit, None) => {
                return Err(PublishError::Permanent(format!(
                    "presubmit {} has no refs: its artifacts cannot be found",
                    job.name
                )));
            }
            _ => None,
        };
        Ok(Run {
            job_type: job.job_type,
            job: &job.job,
            build_id: &job.build_id,
            pull,
            path_prefix: &self.config.path_prefix,
        }
        .dir())
    }

    fn logs_dir(&self, job: &str, build: &str) -> String {
        Run {
            path_prefix: &self.config.path_prefix,
            ..Run::new(JobType::Periodic, job, build)
        }
        .dir()
    }

    /// Run `build` of `job` (in `run_dir`) as a report names it: the
    /// commit it tested (`commit`, else its `started.json`'s) and when it
    /// started.
    async fn origin(
        &self,
        job: &str,
        build: &str,
        run_dir: &str,
        commit: Option<&str>,
    ) -> Result<Origin, PublishError> {
        let started = run_started(&self.artifacts, run_dir).await?;
        let commit = commit.or(started.commit.as_deref());
        let origin = Origin::new(job, Some(build), commit);
        Ok(match started.timestamp {
            Some(t) => origin.started_at(t),
            None => origin,
        })
    }

    async fn publish_job(&self, job: &FinishedJob) -> Result<Outcome, PublishError> {
        let cfg = &self.config;
        let dashboards: Vec<&Dashboard> = cfg
            .dashboards
            .iter()
            .filter(|d| {
                d.columns
                    .iter()
                    .any(|c| c.job == job.job || c.minus.contains(&job.job))
            })
            .collect();
        let presubmit = cfg.presubmits.iter().find(|p| p.job == job.job);
        // A job only `selection.jobs` selects (or a presubmit's base) still
        // gets its junit, filtered profile, policy status and history.
        if dashboards.is_empty() && presubmit.is_none() && !cfg.selects(&job.job) {
            return Ok(Outcome::Skipped(format!(
                "{} is not selected: no dashboard or presubmit uses it, selection.jobs does not match",
                job.job
            )));
        }
        if job.state != FinalState::Success {
            return Ok(Outcome::Skipped(format!(
                "{} {} ended in {}: nothing to publish",
                job.job,
                job.build_id,
                job.state.as_str()
            )));
        }
        if job.build_id.is_empty() {
            return Err(PublishError::Permanent(format!(
                "{} has no build id",
                job.name
            )));
        }
        let run_dir = self.run_dir(job)?;
        let Some(cov) = read_run(&self.artifacts, &run_dir, &cfg.limits, &cfg.filters).await?
        else {
            return Ok(Outcome::Skipped(format!(
                "no coverage in {}/{run_dir}artifacts/",
                self.artifacts.url()
            )));
        };
        let mut done = vec![format!(
            "{} {}: {} ({} files)",
            job.job,
            job.build_id,
            cov.source.as_str(),
            cov.profile.files().len()
        )];
        let policy = self.job_policy(job).await?;
        let threshold = presubmit.map_or(cfg.junit_threshold, |p| p.threshold);
        self.write_job_artifacts(&run_dir, &cov.profile, threshold)
            .await?;
        done.push(format!("{FILTERED_ARTIFACT} and {JUNIT_ARTIFACT} written"));
        // Recorded before the tables and the comment are drawn, so that
        // their trends end with this run.
        let recorded = self.record_history(job, &cov.profile).await?;
        let (flaky, said) = self.measure_flaky(job, &cov).await?;
        done.extend(said);
        for d in dashboards {
            let flaky = flaky.as_ref().filter(|_| d.columns[0].job == job.job);
            done.push(self.publish_dashboard(d, job, &cov, &policy, flaky).await?);
        }
        if let Some(p) = presubmit {
            done.push(
                self.publish_presubmit(p, job, &run_dir, &cov, &policy)
                    .await?,
            );
        } else if let Some(s) = self.postsubmit_policy(job, &cov.profile, &policy).await? {
            done.push(s);
        }
        done.extend(recorded);
        Ok(Outcome::Published(done.join("; ")))
    }

    async fn write_job_artifacts(
        &self,
        run_dir: &str,
        p: &Profile,
        threshold: f64,
    ) -> Result<(), PublishError> {
        let mut filtered = Vec::new();
        covlens_core::write_profile(&mut filtered, p).map_err(|e| {
            PublishError::Permanent(format!("cannot write {FILTERED_ARTIFACT}: {e}"))
        })?;
        let mut junit = Vec::new();
        covlens_core::write_junit(&mut junit, p, (threshold / 100.0) as f32)
            .map_err(|e| PublishError::Permanent(format!("cannot write {JUNIT_ARTIFACT}: {e}")))?;
        let dir = format!("{run_dir}artifacts/");
        self.artifacts
            .put(&format!("{dir}{FILTERED_ARTIFACT}"), filtered)
            .await?;
        self.artifacts
            .put(&format!("{dir}{JUNIT_ARTIFACT}"), junit)
            .await
    }

    /// The coverage of `job`'s latest successful run (`own` when that is
    /// the run that just finished).
    async fn column_run(
        &self,
        job: &str,
        own: Option<(&str, &RunCoverage)>,
    ) -> Result<(Option<String>, Option<Profile>, String), PublishError> {
        let build = latest_success(
            &self.artifacts,
            &self.config.path_prefix,
            job,
            own.map(|o| o.0),
        )
        .await?;
        let Some(build) = build else {
            return Ok((None, None, "no successful run found".into()));
        };
        if let Some((b, cov)) = own
            && b == build
        {
            return Ok((
                Some(build),
                Some(cov.profile.clone()),
                cov.source.as_str().into(),
            ));
        }
        let dir = self.logs_dir(job, &build);
        match read_run(
            &self.artifacts,
            &dir,
            &self.config.limits,
            &self.config.filters,
        )
        .await
        {
            Ok(Some(c)) => Ok((Some(build), Some(c.profile), c.source.as_str().into())),
            Ok(None) => Ok((Some(build), None, "no coverage in its artifacts".into())),
            // Another job's broken run must not stop this one's report:
            // its column stays empty and runs.json says why.
            Err(PublishError::Permanent(e)) => {
                warn!(job, build, error = %e, "column left empty");
                Ok((Some(build), None, format!("unreadable: {e}")))
            }
            Err(e) => Err(e),
        }
    }

    async fn publish_dashboard(
        &self,
        d: &Dashboard,
        job: &FinishedJob,
        cov: &RunCoverage,
        policy: &JobPolicy,
        flaky: Option<&FlakyReport>,
    ) -> Result<String, PublishError> {
        let _held = self.lock(&d.name).await;
        let owners = match &d.owners {
            Some(o) => {
                let github = self.commenter.as_ref().map(|c| c.github());
                let tree = self.owners.read(&o.source, github, None).await?;
                Some((Arc::new(tree), o.by))
            }
            None => None,
        };
        let mut owner_columns: Vec<Column> = Vec::new();
        let mut owner_totals = Vec::new();
        let mut columns: Vec<Column> = Vec::new();
        let mut runs: Vec<ColumnRun> = Vec::new();
        let mut origins = Vec::new();
        let mut newest: Option<Profile> = None;
        for (i, c) in d.columns.iter().enumerate() {
            let own = (c.job == job.job).then_some((job.build_id.as_str(), cov));
            let (build, mut profile, mut source) = self.column_run(&c.job, own).await?;
            // What only this column's job covers: the `minus` jobs' latest
            // runs taken out, each as `covlens subtract` takes it out.
            for m in &c.minus {
                let Some(p) = profile.take() else {
                    break;
                };
                let own = (*m == job.job).then_some((job.build_id.as_str(), cov));
                let (mb, mp, _) = self.column_run(m, own).await?;
                let Some(mp) = mp else {
                    source = format!("{m} has no coverage to take out");
                    break;
                };
                let (rest, conflicts) = set_op(SetOp::Subtract, (&c.job, p), (m, &mp));
                for conflict in conflicts {
                    warn!(dashboard = %d.name, column = %c.label, "{conflict}");
                }
                profile = Some(rest);
                source = format!("{source}, minus {m} run {}", mb.unwrap_or_default());
            }
            let rows = profile
                .as_ref()
                .map(|p| table_rows(p, d.depth))
                .unwrap_or_default();
            columns.push((c.label.clone(), rows));
            if let Some((tree, by)) = &owners {
                let rows = profile.as_ref().map(|p| group_rows(p, tree, *by));
                let all = profile.as_ref().map(|p| p.statements()).unwrap_or_default();
                owner_columns.push((c.label.clone(), rows.unwrap_or_default()));
                owner_totals.push((all.covered, all.total));
            }
            origins.push(match build.as_deref() {
                Some(b) => {
                    self.origin(&c.job, b, &self.logs_dir(&c.job, b), None)
                        .await?
                }
                None => Origin::missing(&c.job),
            });
            runs.push(ColumnRun {
                label: c.label.clone(),
                job: c.job.clone(),
                build,
                source,
            });
            if i == 0 {
                newest = profile;
            }
        }
        let mut table = Table::build(Table::heading_for(d.depth), columns, d.mark_threshold);
        table.origins = origins.clone();
        if let Some(pf) = policy.rules() {
            table.mark_below(|name| pf.policy.package_threshold(name).map(|(p, _)| p.get()));
        }
        // Trends of the newest column's job, per package for the site and
        // per row for the table (rows are full import paths, as the
        // history's are).
        let job0 = &d.columns[0].job;
        let per_package = self.trends(job0, |t| t.history(None)).await?;
        let per_row = match d.depth {
            Some(depth) => self.trends(job0, move |t| t.history(Some(depth))).await?,
            None => None,
        };
        if let Some(h) = per_row.as_ref().or(per_package.as_ref()) {
            table.set_trends_by_path(h.runs.len(), h.percents(), Some(h.total_percents()));
        }
        let mut files: Vec<(String, Vec<u8>)> = vec![
            (
                "table.md".into(),
                render("table.md", |w| {
                    write_table(w, &table, TableFormat::Markdown)
                })?,
            ),
            (
                "table.html".into(),
                render("table.html", |w| write_table(w, &table, TableFormat::Html))?,
            ),
            (
                "table.json".into(),
                render("table.json", |w| write_table(w, &table, TableFormat::Json))?,
            ),
            ("runs.json".into(), json(&runs)),
        ];
        let mut per_group = None;
        if let Some((tree, by)) = &owners {
            let (tree, by) = (tree.clone(), *by);
            let mut t = Table::of_groups(owner_columns, &owner_totals, by, d.mark_threshold);
            t.origins = origins;
            let grouped = self.trends(job0, move |t| t.history_grouped(&tree, by));
            per_group = grouped.await?;
            if let Some(h) = &per_group {
                t.set_trends_by_path(h.runs.len(), h.percents(), Some(h.total_percents()));
            }
            for (name, format) in [
                ("owners.md", TableFormat::Markdown),
                ("owners.html", TableFormat::Html),
                ("owners.json", TableFormat::Json),
            ] {
                files.push((name.into(), render(name, |w| write_table(w, &t, format))?));
            }
        }
        let mut site = MemorySink::default();
        if let Some(p) = newest {
            let label = d.columns[0].label.clone();
            let stat: Stat = p.statements().into();
            files.push((
                "badge.svg".into(),
                render("badge.svg", |w| {
                    write_badge(w, &Badge::coverage("coverage", &stat))
                })?,
            ));
            let title = format!("{} coverage: {label}", d.name);
            let mut extras = SiteExtras::default();
            if let Some(h) = per_package {
                extras.trends = Some((h.runs.len(), h.into_counts()));
            }
            if let Some(f) = flaky {
                extras.set_flaky(f.clone());
            }
            let columns = vec![(label, p)];
            // `owners.site`: the tree's top level lists the groups.
            if d.owners.as_ref().is_some_and(|o| o.site)
                && let Some((tree, by)) = &owners
            {
                extras.set_groups(&columns, tree, *by);
                extras.group_trends = per_group.map(|h| h.into_counts());
            }
            site = render_site(title, columns, extras, BTreeMap::new()).await?;
        }
        let name = segment(&d.name);
        let per_run = format!(
            "{name}/runs/{}/{}/",
            segment(&job.job),
            segment(&job.build_id)
        );
        for (f, bytes) in &files {
            self.publish
                .put(&format!("{per_run}{f}"), bytes.clone())
                .await?;
        }
        let site_dir = format!("{name}/latest/site/");
        let old = if site.files.is_empty() {
            Vec::new()
        } else {
            self.publish.list(&site_dir, u64::MAX).await?
        };
        // Pages of files the new report lacks would still be served.
        for o in old.iter().filter(|o| !site.files.contains_key(&o.rel)) {
            self.publish.delete(&format!("{site_dir}{}", o.rel)).await?;
        }
        for (f, bytes) in site.files {
            self.publish.put(&format!("{site_dir}{f}"), bytes).await?;
        }
        for (f, bytes) in files {
            self.publish
                .put(&format!("{name}/latest/{f}"), bytes)
                .await?;
        }
        info!(dashboard = %d.name, job = %job.job, build = %job.build_id, "branch table published");
        Ok(format!("dashboard {} published", d.name))
    }

    /// The policy of `job`: the repository's policy file (`policy.path`)
    /// at the job's base commit, which for a presubmit is the commit the
    /// pull request goes into, so a pull request cannot loosen its own
    /// gate; else the configured policy.
    async fn job_policy(&self, job: &FinishedJob) -> Result<JobPolicy, PublishError> {
        let configured = match &self.config.policy {
            Some(p) => JobPolicy::Rules(Arc::new(p.clone())),
            None => JobPolicy::None,
        };
        let (Some(path), Some(commenter), Some(refs)) = (
            &self.config.repository_policy,
            &self.commenter,
            job.refs.as_ref(),
        ) else {
            return Ok(configured);
        };
        // A periodic's refs may name a branch and no commit.
        let sha = &refs.base_sha;
        if sha.is_empty() {
            return Ok(configured);
        }
        let repo = repo_of(refs)?;
        let repo_name = repo.to_string();
        if let Some(p) = self.repo_policies.get(&repo_name, sha) {
            return Ok(p);
        }
        let found = match commenter.github().get_file(&repo, path, sha).await {
            Ok(Some(bytes)) => from_file(path, sha, &bytes),
            Ok(None) => configured,
            // Too large, a directory, not base64: the file's fault.
            Err(GitHubError::Contents { reason, .. }) => JobPolicy::Unusable {
                title: INVALID,
                why: format!("{}:{path}: {reason}", short(sha)),
            },
            // No permission to read contents (rate limits were waited
            // out by the client): said on the status, not cached, so the
            // next job reads again once the token is fixed.
            Err(e) if e.status() == Some(403) => {
                warn!(repo = %repo_name, sha = %sha, error = %e, "cannot read the repository's policy file");
                return Ok(JobPolicy::Unusable {
                    title: UNREADABLE,
                    why: format!(
                        "{}:{path}: {e} (the token needs read access to contents, or set policy.repository: false)",
                        short(sha)
                    ),
                });
            }
            Err(e) => return Err(gh_error("repository policy file", e)),
        };
        self.repo_policies.insert(&repo_name, sha, found.clone());
        Ok(found)
    }

    /// The rules of `pf` for what is available: rules needing a base, a
    /// diff or ownership are left out without them. `None`: nothing to
    /// check. `exclude.annotations` is the job's to apply (`covlens filter
    /// --ignore-annotations` before its profile is collected): the
    /// reporter reads no pull request's whole source tree.
    fn policy_for(
        pf: &covlens_policy::PolicyFile,
        has_base: bool,
        has_diff: bool,
        has_owners: bool,
    ) -> Option<covlens_policy::Policy> {
        let mut p = pf.policy.clone();
        p.exclude_annotations = false;
        if !has_diff {
            p.patch = None;
        }
        if !has_base {
            p.max_drop = None;
        }
        if !has_owners {
            p.owner = None;
            p.label = None;
        }
        (!p.is_empty()).then_some(p)
    }

    /// The ownership a policy's owner and label rules are checked with: that
    /// of the first dashboard with `owners` showing one of `jobs`. `None`
    /// when the policy has no such rule or no dashboard has ownership.
    /// When the dashboard reads ownership through GitHub from the job's
    /// repository, it is read at the job's base commit, where the policy
    /// file is read too: a pull request cannot move its files to other
    /// owners, and a dashboard's branch moving on changes no verdict.
    async fn policy_owners(
        &self,
        policy: &JobPolicy,
        jobs: &[&str],
        refs: Option<&Refs>,
    ) -> Result<Option<OwnersTree>, PublishError> {
        if !policy.rules().is_some_and(|f| f.policy.needs_owners()) {
            return Ok(None);
        }
        let source = self.config.dashboards.iter().find_map(|d| {
            let shows = d.columns.iter().any(|c| jobs.contains(&c.job.as_str()));
            d.owners.as_ref().filter(|_| shows)
        });
        let Some(o) = source else {
            return Ok(None);
        };
        // A checkout is taken to be the job's repository: git refuses a
        // commit it does not hold, and the checkout is then read as it is.
        let at = refs
            .filter(|r| is_commit(&r.base_sha))
            .and_then(|r| match &o.source {
                OwnersSource::GitHub { repo, .. }
                    if !repo.eq_ignore_ascii_case(&format!("{}/{}", r.org, r.repo)) =>
                {
                    None
                }
                _ => Some(r.base_sha.as_str()),
            });
        let github = self.commenter.as_ref().map(|c| c.github());
        Ok(Some(self.owners.read(&o.source, github, at).await?))
    }

    fn module<'a>(&'a self, p: Option<&'a Presubmit>, policy: &'a JobPolicy) -> Option<&'a str> {
        p.and_then(|p| p.module.as_deref())
            .or_else(|| policy.rules().and_then(|f| f.module.as_deref()))
    }

    fn evaluate(
        policy: &JobPolicy,
        head: &Profile,
        base: Option<&Profile>,
        diff: Option<&[DiffFile]>,
        module: Option<&str>,
        owners: Option<&OwnersTree>,
    ) -> Result<Option<covlens_policy::Outcome>, PublishError> {
        let Some(pf) = policy.rules() else {
            return Ok(None);
        };
        let Some(rules) = Self::policy_for(pf, base.is_some(), diff.is_some(), owners.is_some())
        else {
            return Ok(None);
        };
        let inputs = covlens_policy::Inputs {
            head,
            base,
            diff,
            module,
            owners,
            left_out: None,
        };
        rules
            .evaluate(&inputs)
            .map(Some)
            .map_err(|e| PublishError::Permanent(format!("policy: {e}")))
    }

    /// For postsubmits (and periodics with refs): the policy's verdict as
    /// the commit status of the tested commit.
    async fn postsubmit_policy(
        &self,
        job: &FinishedJob,
        head: &Profile,
        policy: &JobPolicy,
    ) -> Result<Option<String>, PublishError> {
        let (passed, verdict) = match policy.unusable() {
            Some(why) => (false, why),
            None => match Self::evaluate(
                policy,
                head,
                None,
                None,
                None,
                self.policy_owners(policy, &[job.job.as_str()], job.refs.as_ref())
                    .await?
                    .as_ref(),
            )? {
                Some(o) => (o.passed, policy_description(&o)),
                None => return Ok(None),
            },
        };
        let (Some(commenter), Some(refs)) = (&self.commenter, &job.refs) else {
            return Ok(Some(verdict));
        };
        if refs.base_sha.is_empty() {
            return Ok(Some(verdict));
        }
        let repo = repo_of(refs)?;
        let state = if passed {
            StatusState::Success
        } else {
            StatusState::Failure
        };
        let link = self.dashboard_link(job);
        let status = coverage_status(state, &verdict, link.as_deref());
        commenter
            .github()
            .create_status(&repo, &refs.base_sha, &status)
            .await
            .map_err(|e| gh_error("commit status", e))?;
        Ok(Some(format!("status {}: {verdict}", refs.base_sha)))
    }

    fn dashboard_link(&self, job: &FinishedJob) -> Option<String> {
        let base = self.config.report_url.as_ref()?;
        let d = self
            .config
            .dashboards
            .iter()
            .find(|d| d.columns.iter().any(|c| c.job == job.job))?;
        Some(format!("{base}/{}/latest/table.html", segment(&d.name)))
    }

    async fn publish_presubmit(
        &self,
        p: &Presubmit,
        job: &FinishedJob,
        run_dir: &str,
        head: &RunCoverage,
        policy: &JobPolicy,
    ) -> Result<String, PublishError> {
        let refs = job.refs.as_ref().ok_or_else(|| {
            PublishError::Permanent(format!("presubmit {} has no refs", job.name))
        })?;
        let pull = refs.pulls.first().ok_or_else(|| {
            PublishError::Permanent(format!("presubmit {} has no pull request", job.name))
        })?;
        let limits = &self.config.limits;
        // The base: the base job's successful run that tested the pull
        // request's base commit, else its latest successful run, if any.
        let base_build = success_at(
            &self.artifacts,
            &self.config.path_prefix,
            &p.base,
            &refs.base_sha,
        )
        .await?;
        let base = match &base_build {
            Some(b) => read_run(
                &self.artifacts,
                &self.logs_dir(&p.base, b),
                limits,
                &self.config.filters,
            )
            .await?
            .map(|c| c.profile),
            None => None,
        };
        let got = self
            .artifacts
            .get(
                &format!("{run_dir}artifacts/{}", p.diff_artifact),
                Max::fixed(MAX_DIFF_BYTES.min(limits.max_object_bytes)),
            )
            .await;
        // A diff too large or that does not parse is left out, as a
        // missing one is: the rules and rows that need it are too.
        let diff = match got {
            Ok(d) => d.and_then(|d| match parse_diff(&String::from_utf8_lossy(&d)) {
                Ok(files) => Some(files),
                Err(e) => {
                    warn!(artifact = %p.diff_artifact, "diff left out: line {e}");
                    None
                }
            }),
            Err(PublishError::Permanent(e)) => {
                warn!(artifact = %p.diff_artifact, "diff left out: {e}");
                None
            }
            Err(e) => return Err(e),
        };
        let module = self.module(Some(p), policy);
        let key = format!(
            "pr/{}/{}/{}/{}/",
            segment(&format!("{}_{}", refs.org, refs.repo)),
            pull.number,
            segment(&job.job),
            segment(&job.build_id)
        );
        let link = self
            .config
            .report_url
            .as_ref()
            .map(|u| format!("{u}/{key}site/index.html"));
        let empty = Profile::new(head.profile.mode().cloned());
        let base_p = base.as_ref().unwrap_or(&empty);
        let mut comment =
            Comment::build(base_p, &head.profile, diff.as_deref(), module, link.clone());
        let base_origin = match &base_build {
            Some(b) => {
                let dir = self.logs_dir(&p.base, b);
                self.origin(&p.base, b, &dir, None).await?
            }
            None => Origin::missing(&p.base),
        };
        comment.provenance = Some(Provenance {
            head: self
                .origin(&job.job, &job.build_id, run_dir, Some(&pull.sha))
                .await?,
            pull_base: PullBase::of(&refs.base_sha, &base_origin),
            base: base_origin,
        });
        // The head's sources of the files that matter most: for the
        // comment's functions and the report's source pages.
        let mut sources = BTreeMap::new();
        if let Some(commenter) = &self.commenter
            && p.source_files > 0
        {
            let (diff, repo) = (diff.as_deref(), repo_of(refs)?);
            // Files with no path in the repository are other modules'.
            let mut files = source_files(base_p, &head.profile, diff, module, p.source_files);
            files.retain(|f| f.path.is_some());
            sources = head_sources(commenter.github(), &repo, &pull.sha, &files).await;
            if base.is_some() {
                comment.set_functions(base_p, &head.profile, diff, module, &files, &sources);
            }
        }
        // Packages of the pull request below their trend on the base job,
        // and each package's flaky statements in the base job's newest run
        // (which is read even when no trend is drawn).
        let history = self.config.history.as_ref();
        let trend = history.map_or(0, |h| h.trend);
        let last = match history.and_then(|h| h.flaky) {
            Some(_) => trend.max(1),
            None => trend,
        };
        if let Some(h) = self.last_runs(&p.base, last, |t| t.history(None)).await? {
            if trend > 0 {
                let mut by_pkg = h.percents();
                comment.set_trends(&head.profile, TrendRule::default(), |p| by_pkg.remove(p));
            }
            if let Some((runs, flaky)) = h.newest_flaky() {
                comment.set_flaky(runs, |p| flaky.get(p).copied());
            }
        }
        // Which run the comment shows, so a run finishing late (a retry)
        // never replaces a newer run's comment.
        let stamp = job
            .start_time
            .as_deref()
            .and_then(|t| covlens_history::Timestamp::parse_rfc3339(t).ok())
            .map(|t| run_stamp_line(i128::from(t.micros()), &job.build_id))
            .unwrap_or_default();
        let mut body = Vec::new();
        write_comment(&mut body, &comment, MAX_COMMENT_CHARS - 2 * stamp.len())
            .map_err(|e| PublishError::Permanent(format!("cannot render the comment: {e}")))?;
        let mut body = String::from_utf8_lossy(&body).into_owned();
        if !stamp.is_empty() {
            if !body.ends_with('\n') {
                body.push('\n');
            }
            body.push_str(&stamp);
            body.push('\n');
        }
        let owners = self
            .policy_owners(policy, &[&p.base, &job.job], Some(refs))
            .await?;
        let outcome = Self::evaluate(
            policy,
            &head.profile,
            base.as_ref(),
            diff.as_deref(),
            module,
            owners.as_ref(),
        )?;

        let total: Stat = head.profile.statements().into();
        let mut state = StatusState::from_threshold(total.value(), p.threshold);
        let mut description = match &base {
            Some(b) => {
                let bs: Stat = b.statements().into();
                format!(
                    "{}% of statements (base {}%), threshold {}%",
                    total.percent, bs.percent, p.threshold
                )
            }
            None => format!(
                "{}% of statements (no base run), threshold {}%",
                total.percent, p.threshold
            ),
        };
        if let Some(o) = &outcome
            && !o.passed
        {
            state = StatusState::Failure;
            description = policy_description(o);
        }
        if let Some(why) = policy.unusable() {
            state = StatusState::Failure;
            description = why;
        }

        // The report first, so the links in the comment and status work.
        let mut cols = vec![("head".to_string(), head.profile.clone())];
        if let Some(b) = base.clone() {
            cols.push(("base".to_string(), b));
        }
        let title = format!("{} #{}", job.job, pull.number);
        let extras = SiteExtras {
            lost_functions: comment.functions.clone(),
            lost_unread: comment.functions_unread,
            ..SiteExtras::default()
        };
        let site = render_site(title, cols, extras, sources).await?;
        for (f, bytes) in site.files {
            self.publish.put(&format!("{key}site/{f}"), bytes).await?;
        }
        self.publish
            .put(&format!("{key}comment.md"), body.clone().into_bytes())
            .await?;
        let record = StatusRecord {
            state,
            description: &description,
            target_url: link.as_deref(),
            base_job: &p.base,
            base_build: base_build.as_deref(),
        };
        self.publish
            .put(&format!("{key}status.json"), json(&record))
            .await?;

        let Some(commenter) = &self.commenter else {
            return Ok(format!("presubmit report at {key} (no GitHub configured)"));
        };
        let repo = repo_of(refs)?;
        let pr = PullRequest::new(repo.clone(), pull.number);
        let up = match p.comment {
            CommentWhen::Always => Some(commenter.upsert_comment(&pr, COMMENT_MARKER, &body).await),
            CommentWhen::Changed if comment.shows_a_change() => {
                Some(commenter.upsert_comment(&pr, COMMENT_MARKER, &body).await)
            }
            // Nothing new: an earlier comment still gets this run's numbers.
            CommentWhen::Changed => commenter
                .update_comment(&pr, COMMENT_MARKER, &body)
                .await
                .transpose(),
            CommentWhen::Never => None,
        }
        .transpose()
        .map_err(|e| gh_error("PR comment", e))?;
        let status = coverage_status(state, &description, link.as_deref());
        commenter
            .github()
            .create_status(&repo, &pull.sha, &status)
            .await
            .map_err(|e| gh_error("commit status", e))?;
        let check = match (&outcome, policy) {
            (_, JobPolicy::Unusable { title, why }) => Some((
                false,
                CheckOutput {
                    title: title.to_string(),
                    summary: covlens_report_templates::md_escape(why),
                    text: None,
                    annotations: Vec::new(),
                },
            )),
            (Some(o), _) => Some((
                o.passed,
                CheckOutput {
                    title: o.headline(),
                    summary: policy_summary(o),
                    text: None,
                    annotations: o.annotations(),
                },
            )),
            (None, _) => None,
        };
        if let (Some((passed, output)), Some(g)) = (check, &self.config.github)
            && g.check_runs
        {
            let run = CheckRun {
                name: COVERAGE_CONTEXT.to_string(),
                head_sha: pull.sha.clone(),
                details_url: link.clone(),
                external_id: Some(job.name.clone()),
                status: Some(CheckStatus::Completed),
                conclusion: Some(if passed {
                    CheckConclusion::Success
                } else {
                    CheckConclusion::Failure
                }),
                output: Some(output),
            };
            post_check_run(commenter.github(), &repo, &run)
                .await
                .map_err(|e| gh_error("check run", e))?;
        }
        let said = match up {
            Some(up) => format!("{:?}", up.action),
            None => "none".to_string(),
        };
        Ok(format!(
            "PR {}#{}: comment {said}, status {:?}",
            repo, pull.number, state
        ))
    }

    /// The last `history.trend` recorded runs of `job`, as `rows` reads
    /// them (per package, directory, owner or label); `None` without a
    /// history or with `trend: 0`. A job with no recorded run has empty
    /// trends.
    async fn trends<F>(&self, job: &str, rows: F) -> Result<Option<History>, PublishError>
    where
        F: FnOnce(&Trends<'_>) -> covlens_history::Result<History> + Send + 'static,
    {
        let last = self.config.history.as_ref().map_or(0, |h| h.trend);
        self.last_runs(job, last, rows).await
    }

    /// The history of `job`'s last `last` recorded runs (`None` without a
    /// history, or for 0 runs).
    async fn last_runs<F>(
        &self,
        job: &str,
        last: usize,
        rows: F,
    ) -> Result<Option<History>, PublishError>
    where
        F: FnOnce(&Trends<'_>) -> covlens_history::Result<History> + Send + 'static,
    {
        let Some(h) = self.config.history.clone().filter(|_| last > 0) else {
            return Ok(None);
        };
        let job = job.to_string();
        tokio::task::spawn_blocking(move || {
            let t = Trends {
                store: &h.store,
                job: &job,
                last,
            };
            rows(&t).map_err(|e| {
                let at = covlens_history::redacted(&h.store);
                PublishError::Transient(format!("history {at}: {e}"))
            })
        })
        .await
        .map_err(|e| PublishError::Transient(format!("history: {e}")))?
        .map(Some)
    }

    /// Flaky coverage over the job's last `history.flaky` recorded runs
    /// (this one, just recorded, included), recorded with this run, and
    /// what was done. Runs whose artifacts are gone or unreadable are left
    /// out, as are files the runs describe differently (the source changed
    /// between them) or that not every run measured; fewer than 2 readable
    /// runs measure nothing. Presubmits are not measured.
    async fn measure_flaky(
        &self,
        job: &FinishedJob,
        cov: &RunCoverage,
    ) -> Result<(Option<FlakyReport>, Option<String>), PublishError> {
        let Some(h) = self.config.history.clone() else {
            return Ok((None, None));
        };
        let Some(n) = h.flaky.filter(|_| job.job_type != JobType::Presubmit) else {
            return Ok((None, None));
        };
        let at = covlens_history::redacted(&h.store);
        let unreachable =
            move |e: covlens_history::Error| PublishError::Transient(format!("history {at}: {e}"));
        let (store, name) = (h.store.clone(), job.job.clone());
        let runs = tokio::task::spawn_blocking({
            let unreachable = unreachable.clone();
            move || {
                covlens_history::Store::open(&store)
                    .and_then(|mut s| s.runs(&name, n))
                    .map_err(unreachable)
            }
        })
        .await
        .map_err(|e| PublishError::Transient(format!("history: {e}")))??;
        let mut fold = FlakyFold::new(ModePolicy::Upgrade, OnConflict::SkipFile);
        let mut unread = Vec::new();
        for r in &runs {
            let input = format!("{} {}", job.job, r.build);
            let profile = if r.build == job.build_id {
                cov.profile.clone()
            } else {
                let dir = self.logs_dir(&job.job, &r.build);
                let limits = &self.config.limits;
                match read_run(&self.artifacts, &dir, limits, &self.config.filters).await {
                    Ok(Some(c)) => c.profile,
                    Ok(None) => {
                        unread.push(r.build.clone());
                        continue;
                    }
                    Err(PublishError::Permanent(e)) => {
                        warn!(job = %job.job, build = %r.build, error = %e, "left out of flaky coverage");
                        unread.push(r.build.clone());
                        continue;
                    }
                    Err(e) => return Err(e),
                }
            };
            // Folding a Kubernetes-sized run is CPU work: off the async
            // workers, one run in memory at a time.
            fold = tokio::task::spawn_blocking(move || fold.add(&input, profile).map(|()| fold))
                .await
                .map_err(|e| PublishError::Transient(format!("flaky coverage: {e}")))?
                .map_err(|e| PublishError::Permanent(format!("flaky coverage: {e}")))?;
        }
        let (report, conflicts) = fold.finish();
        if report.runs < 2 {
            let said = format!("flaky coverage not measured: {} run(s)", report.runs);
            return Ok((None, Some(said)));
        }
        let (store, name, build) = (h.store.clone(), job.job.clone(), job.build_id.clone());
        let counts: Vec<(String, u64, u64)> = report
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.statements, p.blocks))
            .collect();
        let runs_n = report.runs;
        tokio::task::spawn_blocking(move || {
            let packages =
                counts.iter().map(
                    |(package, statements, blocks)| covlens_history::FlakyCounts {
                        package,
                        statements: *statements,
                        blocks: *blocks,
                    },
                );
            covlens_history::Store::open(&store)
                .and_then(|mut s| s.record_flaky(&name, &build, runs_n, packages))
                .map_err(unreachable)
        })
        .await
        .map_err(|e| PublishError::Transient(format!("history: {e}")))??;
        let files = |n: usize| {
            if n == 1 {
                "1 file".to_string()
            } else {
                format!("{n} files")
            }
        };
        let mut said = format!(
            "flaky coverage over {} runs: {} statements in {}",
            report.runs,
            report.flaky,
            files(report.files.len())
        );
        let changed: std::collections::HashSet<&str> =
            conflicts.iter().map(|c| c.file.as_str()).collect();
        if !changed.is_empty() {
            said.push_str(&format!(", {} changed between runs", files(changed.len())));
        }
        if report.partial_files > 0 {
            let n = usize::try_from(report.partial_files).unwrap_or(usize::MAX);
            said.push_str(&format!(", {} not in every run", files(n)));
        }
        if !unread.is_empty() {
            said.push_str(&format!(
                ", runs without readable coverage: {}",
                unread.join(" ")
            ));
        }
        Ok((Some(report), Some(said)))
    }

    async fn record_history(
        &self,
        job: &FinishedJob,
        p: &Profile,
    ) -> Result<Option<String>, PublishError> {
        let Some(h) = self.config.history.clone() else {
            return Ok(None);
        };
        let refs = job.refs.clone().unwrap_or_default();
        let branch = if refs.base_ref.is_empty() {
            // A periodic without refs: the column's label names its branch.
            self.config
                .dashboards
                .iter()
                .flat_map(|d| &d.columns)
                .find(|c| c.job == job.job)
                .map(|c| c.label.clone())
        } else {
            Some(refs.base_ref.clone())
        };
        let commit = match refs.pulls.first() {
            Some(pull) if job.job_type == JobType::Presubmit => Some(pull.sha.clone()),
            _ => (!refs.base_sha.is_empty()).then(|| refs.base_sha.clone()),
        };
        let time = job
            .completion_time
            .as_deref()
            .or(job.start_time.as_deref())
            .and_then(|t| covlens_history::Timestamp::parse_rfc3339(t).ok())
            .unwrap_or_else(covlens_history::Timestamp::now);
        let files: Vec<(String, covlens_core::Counts)> = p
            .files()
            .iter()
            .map(|f| (f.name().to_string(), f.statements()))
            .collect();
        let (job_name, build) = (job.job.clone(), job.build_id.clone());
        tokio::task::spawn_blocking(move || -> Result<String, PublishError> {
            let location = covlens_history::redacted(&h.store);
            let unreachable =
                |e: covlens_history::Error| PublishError::Transient(format!("history {location}: {e}"));
            let mut store = covlens_history::Store::open(&h.store).map_err(unreachable)?;
            let run = covlens_history::NewRun {
                job: &job_name,
                build: &build,
                branch: branch.as_deref(),
                commit: commit.as_deref(),
                time,
                source: covlens_history::Source::Prow,
            };
            let counts = files.iter().map(|(name, counts)| covlens_history::FileCounts {
                name,
                counts: *counts,
            });
            let mut said = match store.record(&run, counts) {
                Ok(covlens_history::Recorded::New { .. }) => "recorded in the history".to_string(),
                Ok(covlens_history::Recorded::Unchanged) => "already in the history".to_string(),
                // The same run with other numbers (filters changed since):
                // the first recording stands.
                Err(e @ covlens_history::Error::Conflict { .. }) => {
                    warn!(job = %job_name, build = %build, error = %e, "history kept its earlier record");
                    "history kept its earlier record".to_string()
                }
                Err(e) => return Err(unreachable(e)),
            };
            if let Some(keep) = h.keep {
                let n = store.prune(&job_name, keep).map_err(unreachable)?;
                if n > 0 {
                    said.push_str(&format!(", {n} older runs pruned"));
                }
            }
            Ok(said)
        })
        .await
        .map_err(|e| PublishError::Transient(format!("history: {e}")))?
        .map(Some)
    }
}

/// The report site of `columns`, rendered off the async workers.
/// The static site of `columns`, with source pages for the files whose
/// source is in `sources` (by profile name).
async fn render_site(
    title: String,
    columns: Vec<(String, Profile)>,
    extras: SiteExtras,
    sources: BTreeMap<String, Vec<u8>>,
) -> Result<MemorySink, PublishError> {
    tokio::task::spawn_blocking(move || {
        let mut site = MemorySink::default();
        let opts = SiteOptions {
            title: &title,
            root: "",
        };
        write_site_with_extras(&mut site, &opts, &columns, &sources, &extras).map(|_| site)
    })
    .await
    .map_err(|e| PublishError::Transient(format!("rendering the site stopped: {e}")))?
    .map_err(|e| PublishError::Permanent(format!("cannot render the site: {e}")))
}

/// The sources of `files` at the pull request's head commit, in as few
/// GraphQL queries as GitHub allows. When that fails, each file is read on
/// its own, and one that cannot be read is left out (the comment counts
/// it): sources add to a report and must never hold it back.
async fn head_sources(
    gh: &Arc<dyn GitHub>,
    repo: &Repo,
    sha: &str,
    files: &[SourceFile],
) -> BTreeMap<String, Vec<u8>> {
    let (names, paths): (Vec<String>, Vec<String>) = files
        .iter()
        .filter_map(|f| Some((f.name.clone(), f.path.clone()?)))
        .unzip();
    let got = match gh.get_files(repo, &paths, sha).await {
        Ok(got) => got,
        Err(e) => {
            warn!("sources of the pull request, one by one: {e:#}");
            let mut got = Vec::with_capacity(paths.len());
            for path in &paths {
                got.push(gh.get_file(repo, path, sha).await.unwrap_or_else(|e| {
                    warn!(path, "source of the pull request left out: {e:#}");
                    None
                }));
            }
            got
        }
    };
    names
        .into_iter()
        .zip(got)
        .filter_map(|(name, src)| Some((name, src?)))
        .collect()
}

fn repo_of(refs: &Refs) -> Result<Repo, PublishError> {
    Repo::new(&refs.org, &refs.repo).map_err(|e| PublishError::Permanent(format!("refs: {e}")))
}

/// The headline and the first violation: which rule failed, in one line.
fn policy_description(o: &covlens_policy::Outcome) -> String {
    match o.violations.first() {
        Some(v) if !o.passed => format!("{}: {}", o.headline(), v.message()),
        _ => o.headline(),
    }
}

/// Every violation, one per line, for a check run's summary.
fn policy_summary(o: &covlens_policy::Outcome) -> String {
    let mut s = format!("{}\n", o.headline());
    for v in &o.violations {
        s.push_str(&format!(
            "\n- {}",
            covlens_report_templates::md_escape(&v.message())
        ));
    }
    s
}

impl Publish for Publisher {
    fn publish<'a>(
        &'a self,
        job: &'a FinishedJob,
    ) -> super::BoxFuture<'a, Result<Outcome, PublishError>> {
        Box::pin(self.publish_job(job))
    }
}

#[cfg(test)]
mod tests {
    use super::Publisher;

    /// A 401 is a token that expired or is being rotated: retried, never
    /// recorded as reported (that lost the pull request's report).
    #[test]
    fn an_unauthorised_answer_is_retried() {
        let status = |status| crate::github::GitHubError::Status {
            method: "POST".into(),
            path: "/repos/o/r/issues/1/comments".into(),
            status,
            message: String::new(),
        };
        for (code, transient) in [
            (401, true),
            (403, true),
            (502, true),
            (404, false),
            (422, false),
        ] {
            let e = super::gh_error("comment", status(code));
            assert_eq!(
                matches!(e, super::PublishError::Transient(_)),
                transient,
                "{code}"
            );
        }
    }

    #[test]
    fn the_reporter_checks_rules_it_has_the_inputs_of_and_no_annotations() {
        let pf = covlens_policy::PolicyFile::parse(
            "threshold: {total: 50, patch: 80}\nmax-drop: 1\nexclude: {annotations: true}\n",
            "p.yml",
        )
        .unwrap();
        let all = Publisher::policy_for(&pf, true, true, false).unwrap();
        assert!(all.patch.is_some() && all.max_drop.is_some());
        assert!(!all.exclude_annotations);
        let head_only = Publisher::policy_for(&pf, false, false, false).unwrap();
        assert!(head_only.patch.is_none() && head_only.max_drop.is_none());
        assert!(head_only.total.is_some());
    }
}
