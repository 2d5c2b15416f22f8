//! The publisher on a `file://` artifacts tree in Prow's layout, built in a
//! temporary directory from the repository's Go-generated fixtures, with
//! the fake GitHub for comments and statuses.
//!
//! Expected numbers come from covlens-core reading the same fixtures, never
//! from the publisher's own code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use covlens_core::input::{LoadOptions, Loader};
use covlens_core::{Counts, OnConflict, ParseOptions, Profile, package_of, parse_path};
use covlens_prow::config::Config;
use covlens_prow::github::fake::{FakeGitHub, FakeOptions, Fault, FaultKind};
use covlens_prow::github::{
    COMMENT_MARKER, COVERAGE_CONTEXT, Client, ClientOptions, GitHub, RetryPolicy, TokenSource,
};
use covlens_prow::layout::JobType;
use covlens_prow::publish::{
    Bucket, FinalState, FinishedJob, Outcome, Publish, PublishError, Publisher, PullRef, Refs,
};

const BOT: &str = "covlens-bot";
const TOKEN: &str = "tok-bot";

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(rel)
}

/// A publisher that comments at once (no settling wait).
fn commenting(config: &Config) -> Publisher {
    Publisher::new(config)
        .unwrap()
        .with_comment_settle(Duration::ZERO)
}

/// Every file below fixture directory `rel`: path relative to it, bytes.
fn fixture_files(rel: &str) -> BTreeMap<String, Vec<u8>> {
    let tree = fixture(rel);
    let mut out = BTreeMap::new();
    walk(&tree, &tree, &mut out);
    out
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let env = Env {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(env.artifacts()).unwrap();
        env
    }

    fn artifacts(&self) -> PathBuf {
        self.dir.path().join("artifacts")
    }

    fn publish(&self) -> PathBuf {
        self.dir.path().join("publish")
    }

    /// Copies `fixture` to `key` under the artifacts root.
    fn put_fixture(&self, key: &str, fixture_rel: &str) {
        let dest = self.artifacts().join(key);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(fixture(fixture_rel), dest).unwrap();
    }

    fn put(&self, key: &str, bytes: &[u8]) {
        let dest = self.artifacts().join(key);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }

    /// A finished periodic run: `started.json` (its commit: the build
    /// number, 40 digits), `finished.json` and `latest-build.txt`.
    fn finish(&self, job: &str, build: &str, result: &str) {
        self.put(
            &format!("logs/{job}/{build}/started.json"),
            format!(r#"{{"timestamp":1789990000,"repo-commit":"{build:0>40}"}}"#).as_bytes(),
        );
        self.put(
            &format!("logs/{job}/{build}/finished.json"),
            format!(
                r#"{{"timestamp":1790000000,"passed":{},"result":"{result}"}}"#,
                result == "SUCCESS"
            )
            .as_bytes(),
        );
        self.put(&format!("logs/{job}/latest-build.txt"), build.as_bytes());
    }

    fn config(&self, extra: &str) -> Config {
        let text = format!(
            "artifacts: file://{}\npublish: file://{}\nreport_url: https://cov.example/c\n{extra}",
            self.artifacts().display(),
            self.publish().display()
        );
        Config::parse(&text, "reporter.yaml").unwrap()
    }

    /// The fake GitHub, knowing the bot's token, and the config's
    /// `github:` line for it (the token in a file).
    async fn github(&self) -> (FakeGitHub, String) {
        let fake = FakeGitHub::start(FakeOptions {
            tokens: vec![(TOKEN.into(), BOT.into())],
            ..FakeOptions::default()
        })
        .await
        .unwrap();
        let token = self.dir.path().join("token");
        std::fs::write(&token, TOKEN).unwrap();
        let line = format!(
            "github: {{api: '{}', token_file: {}}}\n",
            fake.url(),
            token.display()
        );
        (fake, line)
    }

    /// Every file under the publish root and its bytes.
    fn published(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        walk(&self.publish(), &self.publish(), &mut out);
        out
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.publish().join(rel)).unwrap()
    }
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.insert(rel, std::fs::read(&p).unwrap());
        }
    }
}

fn periodic(job: &str, build: &str) -> FinishedJob {
    FinishedJob {
        name: format!("uid-{job}-{build}"),
        job: job.into(),
        job_type: JobType::Periodic,
        build_id: build.into(),
        state: FinalState::Success,
        refs: None,
        url: None,
        start_time: Some("2026-12-01T00:00:00Z".into()),
        completion_time: Some(format!("2026-12-01T01:00:{:02}Z", build.len())),
    }
}

/// Publishes run `build` of the periodic `job` with a new publisher.
async fn publish_periodic(config: &Config, job: &str, build: &str) -> Outcome {
    Publisher::new(config)
        .unwrap()
        .publish(&periodic(job, build))
        .await
        .unwrap()
}

fn presubmit(build: &str, sha: &str) -> FinishedJob {
    FinishedJob {
        job_type: JobType::Presubmit,
        refs: Some(Refs {
            org: "acme".into(),
            repo: "widget".into(),
            base_ref: "master".into(),
            base_sha: "b0b0b0b0".into(),
            pulls: vec![PullRef {
                number: 42,
                sha: sha.into(),
                author: "alice".into(),
            }],
        }),
        ..periodic("pull-goprog-coverage", build)
    }
}

/// The `covlens/coverage` status and check run the fake holds for `sha`,
/// with the status' description.
fn verdict(fake: &FakeGitHub, sha: &str) -> (String, String, Option<String>, Option<String>) {
    let state = fake.state();
    let status = state.statuses.iter().find(|s| s.sha == sha).unwrap();
    let run = state.check_runs.iter().find(|r| r.head_sha == sha);
    (
        status.state.clone(),
        status.description.clone().unwrap_or_default(),
        run.and_then(|r| r.conclusion.clone()),
        run.and_then(|r| r.summary.clone()),
    )
}

/// Per package (covered, total) of a profile, from core's counts.
fn packages(p: &Profile) -> BTreeMap<String, (u64, u64)> {
    let mut m: BTreeMap<String, Counts> = BTreeMap::new();
    for f in p.files() {
        m.entry(package_of(f.name()).to_string())
            .or_default()
            .add(f.statements());
    }
    m.into_iter()
        .map(|(k, c)| (k, (c.covered, c.total)))
        .collect()
}

fn load(rel: &str) -> Profile {
    parse_path(&fixture(rel), &ParseOptions::default()).unwrap()
}

/// The numbers of one column of `table.json`: per row, (covered, total).
fn column(table: &serde_json::Value, i: usize) -> BTreeMap<String, (u64, u64)> {
    table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| {
            let c = &r["cells"][i];
            (!c.is_null()).then(|| {
                (
                    r["name"].as_str().unwrap().to_string(),
                    (c["covered"].as_u64().unwrap(), c["total"].as_u64().unwrap()),
                )
            })
        })
        .collect()
}

const DASHBOARD: &str = "dashboards:\n  - name: goprog\n    columns:\n      - {label: master, job: ci-goprog}\n      - {label: '1.1', job: ci-goprog-1-1}\nfilters: {exclude: ['/internal/']}\n";

/// master: cmd-goprog.out (build 100); 1.1: calc-advanced.out (build 50),
/// and a later failed 1.1 run (51) with other numbers that must not count.
/// Pull request 42's run 7 of `pull-goprog-coverage`, with `fixture` as
/// its profile.
fn put_pull_request_7(env: &Env, fixture: &str) {
    env.put_fixture(
        "pr-logs/pull/acme_widget/42/pull-goprog-coverage/7/artifacts/cover.out",
        fixture,
    );
}

fn branches(env: &Env) {
    env.put_fixture(
        "logs/ci-goprog/100/artifacts/combined-coverage.out",
        "demo/cmd-goprog.out",
    );
    env.finish("ci-goprog", "100", "SUCCESS");
    env.put_fixture(
        "logs/ci-goprog-1-1/50/artifacts/cover.out",
        "demo/calc-advanced.out",
    );
    env.finish("ci-goprog-1-1", "50", "SUCCESS");
    env.put_fixture("logs/ci-goprog-1-1/51/artifacts/cover.out", "demo/calc.out");
    env.finish("ci-goprog-1-1", "51", "FAILURE");
}

#[tokio::test(flavor = "multi_thread")]
async fn branch_table_from_the_latest_successful_runs() {
    let env = Env::new();
    branches(&env);
    let config = env.config(DASHBOARD);
    let publisher = Publisher::new(&config).unwrap();
    let out = publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    assert!(
        matches!(&out, Outcome::Published(s) if s.contains("dashboard goprog published")),
        "{out:?}"
    );

    let table: serde_json::Value =
        serde_json::from_str(&env.read("goprog/latest/table.json")).unwrap();
    assert_eq!(table["columns"], serde_json::json!(["master", "1.1"]));
    let mut master = load("demo/cmd-goprog.out");
    covlens_core::filter(&mut master, None, config.filters.exclude.as_ref());
    let want = packages(&master);
    assert!(!want.keys().any(|k| k.contains("/internal/")));
    assert_eq!(column(&table, 0), want);
    assert_eq!(column(&table, 1), packages(&load("demo/calc-advanced.out")));
    let runs: serde_json::Value =
        serde_json::from_str(&env.read("goprog/latest/runs.json")).unwrap();
    assert_eq!(runs[1]["build"], "50");

    let md = env.read("goprog/latest/table.md");
    insta::assert_snapshot!("goprog_table_md", md);
    assert_eq!(md, env.read("goprog/runs/ci-goprog/100/table.md"));
    assert!(env.read("goprog/latest/table.html").contains("<table>"));
    assert!(env.read("goprog/latest/badge.svg").starts_with("<svg"));
    assert!(
        env.publish()
            .join("goprog/latest/site/index.html")
            .is_file()
    );
    let site: Vec<String> = env
        .published()
        .into_keys()
        .filter(|k| k.starts_with("goprog/latest/site/"))
        .collect();

    // Junit and the filtered profile went into the run's own artifacts.
    let filtered = parse_path(
        &env.artifacts()
            .join("logs/ci-goprog/100/artifacts/filtered.cov"),
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(packages(&filtered), want);
    let junit = std::fs::read_to_string(
        env.artifacts()
            .join("logs/ci-goprog/100/artifacts/junit_coverage.xml"),
    )
    .unwrap();
    assert!(junit.contains(r#"<property name="coverage""#) && junit.contains(r#"name="OVERALL""#));

    // The other column's end rebuilds the same table: same bytes.
    let before = env.published();
    publisher
        .publish(&periodic("ci-goprog-1-1", "50"))
        .await
        .unwrap();
    let after = env.published();
    for (k, v) in &before {
        if k.starts_with("goprog/latest/") {
            assert_eq!(Some(v), after.get(k), "{k} changed");
        }
    }
    assert!(after.contains_key("goprog/runs/ci-goprog-1-1/50/table.json"));

    // A newer master run with fewer files: the old report's extra pages go.
    env.put_fixture(
        "logs/ci-goprog/101/artifacts/combined-coverage.out",
        "demo/calc.out",
    );
    env.finish("ci-goprog", "101", "SUCCESS");
    publisher
        .publish(&periodic("ci-goprog", "101"))
        .await
        .unwrap();
    let now: Vec<String> = env
        .published()
        .into_keys()
        .filter(|k| k.starts_with("goprog/latest/site/"))
        .collect();
    assert!(now.len() < site.len(), "{now:?}");
    assert!(now.iter().all(|k| !k.contains("calcx")), "{now:?}");
}

/// A column with `minus` shows what only its job covers: core's
/// `set_op(Subtract)` of the two jobs' latest runs; a run of the job taken
/// out republishes the dashboard; a job with nothing to take out empties
/// the column and says why.
#[tokio::test(flavor = "multi_thread")]
async fn a_minus_column_shows_what_only_its_job_covers() {
    let env = Env::new();
    branches(&env);
    let config = env.config(
        "dashboards:\n  - name: goprog\n    columns:\n      - {label: master, job: ci-goprog}\n      \
         - {label: master only, job: ci-goprog, minus: [ci-goprog-1-1]}\n      \
         - {label: none taken, job: ci-goprog, minus: [ci-gone]}\n",
    );
    let publisher = Publisher::new(&config).unwrap();
    // The job taken out finishing republishes the dashboard.
    let out = publisher
        .publish(&periodic("ci-goprog-1-1", "50"))
        .await
        .unwrap();
    assert!(
        matches!(&out, Outcome::Published(s) if s.contains("dashboard goprog published")),
        "{out:?}"
    );
    let table: serde_json::Value =
        serde_json::from_str(&env.read("goprog/latest/table.json")).unwrap();
    let (only, _) = covlens_core::set_op(
        covlens_core::SetOp::Subtract,
        ("master", load("demo/cmd-goprog.out")),
        ("1.1", &load("demo/calc-advanced.out")),
    );
    let want = packages(&only);
    assert_ne!(
        want,
        packages(&load("demo/cmd-goprog.out")),
        "something is taken out"
    );
    assert_eq!(column(&table, 1), want);
    assert!(column(&table, 2).is_empty());
    let runs: serde_json::Value =
        serde_json::from_str(&env.read("goprog/latest/runs.json")).unwrap();
    assert!(
        runs[1]["source"]
            .as_str()
            .unwrap()
            .ends_with("minus ci-goprog-1-1 run 50"),
        "{runs}"
    );
    assert_eq!(runs[2]["source"], "ci-gone has no coverage to take out");
    assert!(config.configured_jobs().contains("ci-goprog-1-1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn republishing_gives_the_same_bytes() {
    let env = Env::new();
    branches(&env);
    let publisher = Publisher::new(&env.config(DASHBOARD)).unwrap();
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    let first = env.published();
    let filtered = std::fs::read(
        env.artifacts()
            .join("logs/ci-goprog/100/artifacts/filtered.cov"),
    )
    .unwrap();
    assert!(first.len() > 8, "{:?}", first.keys().collect::<Vec<_>>());
    // A second publisher (a restarted reporter) and the same run.
    let again = Publisher::new(&env.config(DASHBOARD)).unwrap();
    again.publish(&periodic("ci-goprog", "100")).await.unwrap();
    assert_eq!(env.published(), first);
    assert_eq!(
        std::fs::read(
            env.artifacts()
                .join("logs/ci-goprog/100/artifacts/filtered.cov")
        )
        .unwrap(),
        filtered
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn collector_snapshots_are_read_as_core_reads_them() {
    let env = Env::new();
    let root = "logs/ci-sample/7/artifacts/coverage/e2e-0/server/";
    for f in std::fs::read_dir(fixture("covdata-go1.23/gocoverdir")).unwrap() {
        let f = f.unwrap();
        env.put_fixture(
            &format!("{root}covdata/{}", f.file_name().to_string_lossy()),
            &format!(
                "covdata-go1.23/gocoverdir/{}",
                f.file_name().to_string_lossy()
            ),
        );
    }
    env.put_fixture(&format!("{root}metadata/covdata/x.json"), "demo/README.md");
    env.put_fixture(
        "logs/ci-sample/7/artifacts/coverage/e2e-0/kubelet/text/0000-calc.cov",
        "demo/calc.out",
    );
    env.put_fixture(
        "logs/ci-sample/7/artifacts/coverage/e2e-0/kubelet/text/0001-calc.cov",
        "demo/calc-advanced.out",
    );
    // Plain profiles next to them are not counted twice.
    env.put_fixture("logs/ci-sample/7/artifacts/e2e.cov", "demo/pkg-a.out");
    env.finish("ci-sample", "7", "SUCCESS");
    let config = env.config(
        "dashboards:\n  - {name: sample, depth: 2, columns: [{label: main, job: ci-sample}]}\n",
    );
    publish_periodic(&config, "ci-sample", "7").await;

    let mut opts = LoadOptions::default();
    opts.parse.mode_policy = covlens_core::ModePolicy::Upgrade;
    let mut loader = Loader::new(opts);
    let (want, _) = loader
        .merge(
            &[
                fixture("covdata-go1.23/gocoverdir").display().to_string(),
                fixture("demo/calc.out").display().to_string(),
                fixture("demo/calc-advanced.out").display().to_string(),
            ],
            OnConflict::Error,
        )
        .unwrap();
    let rows: BTreeMap<String, (u64, u64)> = covlens_report_templates::table_rows(&want, Some(2))
        .into_iter()
        .map(|(n, c, t)| (n, (c, t)))
        .collect();
    let table: serde_json::Value =
        serde_json::from_str(&env.read("sample/latest/table.json")).unwrap();
    assert_eq!(column(&table, 0), rows);
    assert!(!column(&table, 0).keys().any(|k| k.contains("pkg")));
    let runs = env.read("sample/latest/runs.json");
    assert!(runs.contains("collector snapshots"), "{runs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn before_and_after_dumps_are_diffed() {
    let env = Env::new();
    // The same dump before and after: nothing ran in between.
    env.put_fixture(
        "logs/ci-e2e/3/artifacts/before/node-1/kubelet.cov",
        "demo/calc.out",
    );
    env.put_fixture(
        "logs/ci-e2e/3/artifacts/after/node-1/kubelet.cov",
        "demo/calc.out",
    );
    env.finish("ci-e2e", "3", "SUCCESS");
    let config =
        env.config("dashboards:\n  - {name: e2e, columns: [{label: main, job: ci-e2e}]}\n");
    publish_periodic(&config, "ci-e2e", "3").await;
    let table: serde_json::Value =
        serde_json::from_str(&env.read("e2e/latest/table.json")).unwrap();
    let total = packages(&load("demo/calc.out"))["example.com/goprog/calc"].1;
    assert_eq!(column(&table, 0)["example.com/goprog/calc"], (0, total));
}

/// A base run's `started.json` that cannot be used (over 1 MiB, a link
/// out of the store) only leaves its commit out, and a `finished.json`
/// that cannot be read does not make a run the base: the report goes on.
#[tokio::test(flavor = "multi_thread")]
async fn unusable_started_json_leaves_the_commit_out() {
    let env = Env::new();
    branches(&env);
    put_pull_request_7(&env, "demo/calc.out");
    let config = env
        .config("presubmits:\n  - {job: pull-goprog-coverage, base: ci-goprog, threshold: 10}\n");
    let started = env.artifacts().join("logs/ci-goprog/100/started.json");
    let outside = env.dir.path().join("secret.json");
    std::fs::write(&outside, r#"{"repo-commit":"5ec2e75ec2e7"}"#).unwrap();
    // A newer base run whose finished.json cannot be read is no success:
    // run 100 stays the base.
    env.put(
        "logs/ci-goprog/101/finished.json",
        &vec![b' '; (1 << 20) + 1],
    );
    env.put("logs/ci-goprog/latest-build.txt", b"101");
    for unusable in ["large", "link"] {
        std::fs::remove_file(&started).unwrap();
        match unusable {
            "large" => std::fs::write(&started, vec![b' '; (1 << 20) + 1]).unwrap(),
            _ => std::os::unix::fs::symlink(&outside, &started).unwrap(),
        }
        let publisher = Publisher::new(&config).unwrap();
        publisher
            .publish(&presubmit("7", "abcdef01"))
            .await
            .unwrap();
        let comment = env.read("pr/acme_widget/42/pull-goprog-coverage/7/comment.md");
        let said = "<sub>Head: `pull-goprog-coverage` run `7` at abcdef01. \
                    Base: `ci-goprog` run `100`.</sub>";
        assert_eq!(comment.lines().nth(3), Some(said), "{unusable}: {comment}");
    }
}

/// Peers' survey B.11 and B.12: the base a pull request is compared with
/// is the base job's successful run that tested the pull request's base
/// commit, not merely its latest one; when none did, the latest is used and
/// the comment says the base branch's own changes show too.
#[tokio::test(flavor = "multi_thread")]
async fn presubmit_base_is_the_run_at_the_pull_requests_base() {
    let env = Env::new();
    // Run 99 tested commit 0…099, run 100 (the latest) 0…0100.
    env.put_fixture("logs/ci-goprog/99/artifacts/cover.out", "demo/calc.out");
    env.finish("ci-goprog", "99", "SUCCESS");
    env.put_fixture(
        "logs/ci-goprog/100/artifacts/cover.out",
        "demo/cmd-goprog.out",
    );
    env.finish("ci-goprog", "100", "SUCCESS");
    let config = env
        .config("presubmits:\n  - {job: pull-goprog-coverage, base: ci-goprog, threshold: 10}\n");
    let status_base = |build: &str| -> String {
        let p = load(&format!(
            "demo/{}",
            if build == "99" {
                "calc.out"
            } else {
                "cmd-goprog.out"
            }
        ));
        let c: Counts = p.statements();
        format!("(base {:.1}%)", 100.0 * c.covered as f64 / c.total as f64)
    };
    let key = "pr/acme_widget/42/pull-goprog-coverage/7/";
    for (base_sha, build, note) in [
        (format!("{:0>40}", 99), "99", false),
        // A prefix of the tested commit does too.
        ("0".repeat(38), "99", false),
        ("b0b0b0b0".to_string(), "100", true),
    ] {
        let job = pr_on(&env, "7", &base_sha, "abcdef01");
        Publisher::new(&config)
            .unwrap()
            .publish(&job)
            .await
            .unwrap();
        let comment = env.read(&format!("{key}comment.md"));
        let line = comment.lines().nth(3).unwrap_or_default();
        assert!(
            line.contains(&format!("Base: `ci-goprog` run `{build}`")),
            "{base_sha}: {line}"
        );
        assert_eq!(line.contains(", the pull request's base."), !note, "{line}");
        assert_eq!(
            line.contains(&format!(
                "The pull request's base is {base_sha}, not the commit"
            )),
            note,
            "{line}"
        );
        let status = env.read(&format!("{key}status.json"));
        assert!(status.contains(&status_base(build)), "{status}");
    }
}

/// A base job with no successful run: the comment says so under its
/// heading, and the status' description too.
#[tokio::test(flavor = "multi_thread")]
async fn presubmit_without_a_base_run_says_so() {
    let env = Env::new();
    put_pull_request_7(&env, "demo/calc.out");
    let config =
        env.config("presubmits:\n  - {job: pull-goprog-coverage, base: ci-none, threshold: 10}\n");
    let publisher = Publisher::new(&config).unwrap();
    publisher
        .publish(&presubmit("7", "abcdef01"))
        .await
        .unwrap();
    let key = "pr/acme_widget/42/pull-goprog-coverage/7/";
    let comment = env.read(&format!("{key}comment.md"));
    let said = "<sub>Head: `pull-goprog-coverage` run `7` at abcdef01. \
                Base: `ci-none` (no successful run found).</sub>";
    assert_eq!(comment.lines().nth(3), Some(said), "{comment}");
    let status = env.read(&format!("{key}status.json"));
    assert!(status.contains("(no base run)"), "{status}");
}

/// The rows of a comment's "Functions that lost coverage" table.
fn function_rows(comment: &str) -> Vec<&str> {
    comment
        .lines()
        .skip_while(|l| !l.contains("Functions that lost coverage"))
        .take_while(|l| *l != "</details>")
        .filter(|l| l.starts_with("| `"))
        .collect()
}

/// Peers' survey B.14, through the reporter: the head's sources are read
/// at the pull request's commit through GitHub's GraphQL API, in one query
/// (no checkout), the base's rebuilt from the job's diff; the functions listed
/// are those the library lists from the same sources on disk.
#[tokio::test(flavor = "multi_thread")]
async fn presubmit_comment_lists_functions_that_lost_coverage() {
    const HEAD: &str = "0123456789abcdef0123456789abcdef01234567";
    let env = Env::new();
    env.put_fixture("logs/ci-shop/100/artifacts/cover.out", "funcdelta/base.out");
    env.finish("ci-shop", "100", "SUCCESS");
    let pr = "pr-logs/pull/acme_widget/42/pull-goprog-coverage/7/artifacts";
    env.put_fixture(&format!("{pr}/cover.out"), "funcdelta/head.out");
    env.put_fixture(&format!("{pr}/git.diff"), "funcdelta/pr.diff");
    // The head: `head/` over `base/`.
    let mut sources = BTreeMap::new();
    for side in ["base", "head"] {
        for f in ["shop/shop.go", "shop/format.go", "shop/shop_test.go"] {
            if let Ok(b) = std::fs::read(fixture(&format!("funcdelta/{side}/{f}"))) {
                sources.insert(f.to_string(), b);
            }
        }
    }
    let (fake, github) = env.github().await;
    for (path, bytes) in &sources {
        fake.add_file("acme/widget", HEAD, path, bytes);
    }
    let presubmit_line =
        "presubmits:\n  - {job: pull-goprog-coverage, base: ci-shop, module: example.com/funcdelta";
    let env = &env;
    let publish = |extra: &'static str| {
        let config = env.config(&format!("{presubmit_line}{extra}}}\n{github}"));
        async move {
            let publisher = commenting(&config);
            publisher.publish(&presubmit("7", HEAD)).await.unwrap();
            env.read("pr/acme_widget/42/pull-goprog-coverage/7/comment.md")
        }
    };
    let comment = publish("").await;

    // The library, with the sources on disk.
    let (base, head) = (load("funcdelta/base.out"), load("funcdelta/head.out"));
    let diff = covlens_report_templates::parse_diff(
        &std::fs::read_to_string(fixture("funcdelta/pr.diff")).unwrap(),
    )
    .expect("the job's diff parses");
    let module = Some("example.com/funcdelta");
    let mut want =
        covlens_report_templates::Comment::build(&base, &head, Some(&diff), module, None);
    let files = covlens_report_templates::source_files(&base, &head, Some(&diff), module, 30);
    let by_name = files
        .iter()
        .map(|f| {
            let path = f.path.as_deref().unwrap();
            (f.name.clone(), sources[path].clone())
        })
        .collect();
    want.set_functions(&base, &head, Some(&diff), module, &files, &by_name);
    let mut text = Vec::new();
    covlens_report_templates::write_comment(&mut text, &want, 65536).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert_eq!(function_rows(&comment), function_rows(&text), "{comment}");
    let names: Vec<&str> = want.functions.iter().map(|f| f.row.name.as_str()).collect();
    assert_eq!(names, ["Cents", "Label", "Discount"], "{text}");
    assert!(!comment.contains("could not be compared"), "{comment}");
    // The same sources give the report its source pages.
    let site = env.published();
    let pages: Vec<&String> = site
        .iter()
        .filter(|(k, v)| {
            k.contains("/site/data/") && String::from_utf8_lossy(v).contains("Discount")
        })
        .map(|(k, _)| k)
        .collect();
    assert!(!pages.is_empty(), "{:?}", site.keys().collect::<Vec<_>>());
    // The report lists every function the comment does, each linked to
    // its line on its file's page.
    let index = env.read("pr/acme_widget/42/pull-goprog-coverage/7/site/index.html");
    let section = &index[index.find("<section id=\"lost\">").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    let listed: Vec<(String, u32)> = section
        .split("<tr><td class=\"name\">")
        .skip(1)
        .map(|row| {
            let name = row[..row.find('<').unwrap()].to_string();
            let href = &row[row.find("href=\"#f").unwrap() + 7..];
            let line = href[href.find("/L").unwrap() + 2..href.find('"').unwrap()].parse();
            (name, line.unwrap())
        })
        .collect();
    let want_listed: Vec<(String, u32)> = want
        .functions
        .iter()
        .map(|f| (f.row.name.clone(), f.line))
        .collect();
    assert_eq!(listed, want_listed, "{index}");
    // One GraphQL query for both files, at the head; nothing one by one.
    let queries = || -> Vec<String> {
        let reqs = fake.requests();
        assert!(
            !reqs
                .iter()
                .any(|r| r.query.as_deref() == Some(&format!("ref={HEAD}")))
        );
        reqs.iter()
            .filter(|r| r.path == "/graphql")
            .map(|r| r.body.clone())
            .collect()
    };
    let q = queries();
    assert_eq!(q.len(), 1, "{q:?}");
    for f in ["shop/shop.go", "shop/format.go"] {
        assert!(q[0].contains(&format!("{HEAD}:{f}")), "{}", q[0]);
    }

    // GraphQL refused: the files are read one by one, the same rows.
    fake.clear_requests();
    fake.inject(Fault::new(FaultKind::Status { status: 400 }, 1).on_path("/graphql"));
    let again = publish("").await;
    assert_eq!(function_rows(&again), function_rows(&text), "{again}");
    let one_by_one = fake
        .requests()
        .iter()
        .filter(|r| r.query.as_deref() == Some(&format!("ref={HEAD}")))
        .count();
    assert_eq!(one_by_one, 2);
    fake.clear_requests();

    // `source_files: 0`: no section and no reads.
    let comment = publish(", source_files: 0").await;
    assert!(function_rows(&comment).is_empty(), "{comment}");
    assert!(queries().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn presubmit_comment_status_and_one_comment_per_pr() {
    let env = Env::new();
    branches(&env);
    put_pull_request_7(&env, "demo/cmd-goprog.out");
    env.put(
        "pr-logs/pull/acme_widget/42/pull-goprog-coverage/7/artifacts/git.diff",
        b"diff --git a/calc/calc.go b/calc/calc.go\n--- a/calc/calc.go\n+++ b/calc/calc.go\n@@ -9,0 +10,4 @@\n+a\n+b\n+c\n+d\n",
    );
    env.put_fixture(
        "pr-logs/pull/acme_widget/42/pull-goprog-coverage/8/artifacts/cover.out",
        "demo/calc.out",
    );
    let (fake, github) = env.github().await;
    let config = env.config(&format!(
        "{DASHBOARD}presubmits:\n  - {{job: pull-goprog-coverage, base: ci-goprog, threshold: 60, module: example.com/goprog}}\n{github}"
    ));
    let publisher = commenting(&config);
    let out = publisher
        .publish(&presubmit("7", "abcdef01"))
        .await
        .unwrap();
    assert!(
        matches!(&out, Outcome::Published(s) if s.contains("comment Created")),
        "{out:?}"
    );
    let comment = env.read("pr/acme_widget/42/pull-goprog-coverage/7/comment.md");
    assert!(comment.starts_with(COMMENT_MARKER), "{comment}");
    // Which runs were compared: the base's commit from its started.json.
    // (1789990000 s, the fixtures' started.json, is 2026-09-21 11:26:40 UTC.)
    let base = format!(
        "`ci-goprog` run `100` at {:0>40}, started 2026-09-21 11:26 UTC",
        100
    );
    // The pull request's base (b0b0b0b0) is not what the base run tested.
    let said = format!(
        "<sub>Head: `pull-goprog-coverage` run `7` at abcdef01. Base: {base}. \
         The pull request's base is b0b0b0b0, not the commit the base run tested: \
         changes made on the base branch between the two show here as the pull request's.</sub>"
    );
    assert_eq!(comment.lines().nth(3), Some(said.as_str()), "{comment}");
    assert!(comment.contains(
        "https://cov.example/c/pr/acme_widget/42/pull-goprog-coverage/7/site/index.html"
    ));
    assert!(comment.contains("calc/calc.go"), "{comment}");
    assert!(
        env.publish()
            .join("pr/acme_widget/42/pull-goprog-coverage/7/site/index.html")
            .is_file()
    );

    // Published again (a restart), then a new build of the PR: still one comment.
    publisher
        .publish(&presubmit("7", "abcdef01"))
        .await
        .unwrap();
    let other = commenting(&config);
    other.publish(&presubmit("8", "abcdef02")).await.unwrap();
    let ours: Vec<_> = fake
        .comments("acme/widget", 42)
        .into_iter()
        .filter(|c| c.login == BOT && c.body.contains(COMMENT_MARKER))
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(
        ours[0].body,
        env.read("pr/acme_widget/42/pull-goprog-coverage/8/comment.md")
    );

    let statuses = fake.state().statuses;
    let of = |sha: &str| {
        statuses
            .iter()
            .rfind(|s| s.sha == sha && s.context == COVERAGE_CONTEXT)
            .cloned()
            .unwrap()
    };
    // Head coverage against the 60% threshold, as core counts it.
    let pct = |p: &Profile| {
        let c = p.statements();
        100.0 * c.covered as f64 / c.total as f64
    };
    let (head7, head8) = (
        pct(&load("demo/cmd-goprog.out")),
        pct(&load("demo/calc.out")),
    );
    let want = |p: f64| if p >= 60.0 { "success" } else { "failure" };
    assert_eq!(of("abcdef01").state, want(head7));
    assert_eq!(of("abcdef02").state, want(head8));
    assert_ne!(
        want(head7),
        want(head8),
        "the fixtures should straddle the threshold"
    );
    assert_eq!(
        of("abcdef01").target_url.as_deref(),
        Some("https://cov.example/c/pr/acme_widget/42/pull-goprog-coverage/7/site/index.html")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_marks_the_table_and_fails_the_status() {
    let env = Env::new();
    branches(&env);
    put_pull_request_7(&env, "demo/cmd-goprog.out");
    let fake = FakeGitHub::start(FakeOptions::default()).await.unwrap();
    let token = env.dir.path().join("token");
    std::fs::write(&token, "t").unwrap();
    let config = env.config(&format!(
        "{DASHBOARD}presubmits:\n  - {{job: pull-goprog-coverage, base: ci-goprog}}\ngithub: {{api: '{}', token_file: {}, check_runs: true}}\npolicy:\n  inline: |\n    threshold:\n      package: 100\n",
        fake.url(),
        token.display()
    ));
    let publisher = commenting(&config);
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    let md = env.read("goprog/latest/table.md");
    // Every package under 100% is marked; fully covered ones are not.
    let master = load("demo/cmd-goprog.out");
    for (name, (c, t)) in packages(&master) {
        if name.contains("/internal/") {
            continue;
        }
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap();
        assert_eq!(line.contains('✗'), c < t, "{line}");
    }
    publisher
        .publish(&presubmit("7", "abcdef01"))
        .await
        .unwrap();
    let (state, d, conclusion, _) = verdict(&fake, "abcdef01");
    assert_eq!(state, "failure");
    assert!(
        d.starts_with("coverage policy not met") && d.contains("package"),
        "{d}"
    );
    assert_eq!(conclusion.as_deref(), Some("failure"));
}

/// A policy's label rule runs with the ownership of the dashboard that
/// shows the presubmit's base job; the first label below its threshold is
/// the one core's rollup puts there. Without a dashboard with `owners`, the
/// rule is left out (as rules needing a diff or a base are without them).
#[tokio::test(flavor = "multi_thread")]
async fn policy_label_threshold_with_the_dashboards_ownership() {
    let env = Env::new();
    branches(&env);
    put_pull_request_7(&env, "demo/cmd-goprog.out");
    let owners = fixture("owners");
    let fake = FakeGitHub::start(FakeOptions::default()).await.unwrap();
    let token = env.dir.path().join("token");
    std::fs::write(&token, "t").unwrap();
    let presubmit_and_policy = format!(
        "presubmits:\n  - {{job: pull-goprog-coverage, base: ci-goprog, threshold: 1}}\n\
         github: {{api: '{}', token_file: {}}}\npolicy:\n  repository: false\n  inline: |\n    threshold:\n      label: 99\n",
        fake.url(),
        token.display()
    );
    let with_owners = format!(
        "dashboards:\n  - name: goprog\n    owners: {{dir: {}, by: label}}\n    columns:\n      - {{label: master, job: ci-goprog}}\n{presubmit_and_policy}",
        owners.display()
    );
    let tree = covlens_core::owners::OwnersTree::load(&owners).unwrap();
    let head = load("demo/cmd-goprog.out");
    let below: Vec<String> =
        covlens_core::owners::rollup(&head, &tree, covlens_core::owners::OwnerBy::Label)
            .into_iter()
            .filter(|r| {
                r.name != covlens_core::owners::UNOWNED
                    && r.counts.total > 0
                    && r.counts.covered * 100 < r.counts.total * 99
            })
            .map(|r| r.name)
            .collect();
    assert!(!below.is_empty());
    for (config, fails, sha) in [
        (with_owners, true, "abcdef01"),
        (
            format!("{DASHBOARD}{presubmit_and_policy}"),
            false,
            "abcdef02",
        ),
    ] {
        let config = env.config(&config);
        let publisher = commenting(&config);
        publisher
            .publish(&periodic("ci-goprog", "100"))
            .await
            .unwrap();
        publisher.publish(&presubmit("7", sha)).await.unwrap();
        let (state, d, _, _) = verdict(&fake, sha);
        if fails {
            assert_eq!(state, "failure", "{d}");
            assert!(
                d.starts_with("coverage policy not met")
                    && d.contains(&format!("label {}", below[0])),
                "{d}"
            );
        } else {
            assert_eq!(state, "success", "the label rule is left out: {d}");
        }
    }
}

/// `comment: changed` starts a comment only when the pull request changes
/// coverage, and keeps an existing one current; `never` posts none. The
/// status and the report come every time.
#[tokio::test(flavor = "multi_thread")]
async fn comments_only_on_change_when_asked() {
    let env = Env::new();
    branches(&env);
    let pr = "pr-logs/pull/acme_widget/42/pull-goprog-coverage";
    // Builds 7 and 9 equal the base run; build 8 does not.
    for (build, fixture) in [
        ("7", "demo/cmd-goprog.out"),
        ("8", "demo/calc.out"),
        ("9", "demo/cmd-goprog.out"),
    ] {
        env.put_fixture(&format!("{pr}/{build}/artifacts/cover.out"), fixture);
    }
    let (fake, github) = env.github().await;
    let publisher = |when: &str| {
        commenting(&env.config(&format!(
            "{DASHBOARD}presubmits:\n  - {{job: pull-goprog-coverage, base: ci-goprog, comment: {when}}}\n{github}"
        )))
    };
    let comments = || fake.comments("acme/widget", 42);
    let changed = publisher("changed");
    changed
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();

    let out = changed.publish(&presubmit("7", "abcdef07")).await.unwrap();
    assert!(comments().is_empty(), "{out:?}");
    assert_eq!(verdict(&fake, "abcdef07").0, "success");
    assert!(
        env.read("pr/acme_widget/42/pull-goprog-coverage/7/comment.md")
            .contains("Coverage")
    );

    changed.publish(&presubmit("8", "abcdef08")).await.unwrap();
    let c = comments();
    assert_eq!(c.len(), 1);
    assert!(c[0].body.contains("▲"), "{}", c[0].body);

    // No change again: the comment now says so, not build 8's rise.
    changed.publish(&presubmit("9", "abcdef09")).await.unwrap();
    let again = comments();
    assert_eq!((again.len(), again[0].id), (1, c[0].id));
    assert_eq!(
        again[0].body,
        env.read("pr/acme_widget/42/pull-goprog-coverage/9/comment.md")
    );
    assert!(!again[0].body.contains("▲"), "{}", again[0].body);

    // `never`: the comment stays as it was; the status still comes.
    publisher("never")
        .publish(&presubmit("8", "abcdef18"))
        .await
        .unwrap();
    assert_eq!(comments()[0].body, again[0].body);
    assert_eq!(verdict(&fake, "abcdef18").0, "success");
}

/// A dashboard of master with owner labels from `owners` (the rest of its
/// flow map), the presubmit against it, and an inline policy of 99% per
/// label; `github` is the config's `github:` line.
fn label_policy(env: &Env, owners: &str, github: &str) -> Config {
    env.config(&format!(
        "dashboards:\n  - name: goprog\n    owners: {{{owners}, by: label}}\n    \
         columns:\n      - {{label: master, job: ci-goprog}}\n\
         presubmits:\n  - {{job: pull-goprog-coverage, base: ci-goprog, threshold: 1}}\n\
         policy:\n  repository: false\n  inline: |\n    threshold:\n      label: 99\n{github}"
    ))
}

/// A pull request's label rules use the OWNERS files of the pull request's
/// base commit, where its policy is read too, not the dashboard's branch;
/// what the branch's listing found is reused for the commit.
#[tokio::test(flavor = "multi_thread")]
async fn policy_ownership_is_the_pull_requests_base_commits() {
    let env = Env::new();
    branches(&env);
    put_pull_request_7(&env, "demo/cmd-goprog.out");
    let (fake, github) = env.github().await;
    // master has the fixture's OWNERS; the base commit relabels calc/.
    for (rel, mut bytes) in fixture_files("owners") {
        fake.add_file("acme/widget", "master", &rel, &bytes);
        if rel == "calc/OWNERS" {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("sig/calc"), "{text}");
            bytes = text.replace("sig/calc", "sig/at-base").into_bytes();
        }
        fake.add_file("acme/widget", "b0b0b0b0", &rel, &bytes);
    }
    let config = label_policy(&env, "github: acme/widget, ref: master", &github);
    let publisher = commenting(&config);
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    let labels = env.read("goprog/latest/owners.json");
    assert!(labels.contains("sig/calc") && !labels.contains("sig/at-base"));
    fake.clear_requests();

    let sha = "abcdef03";
    publisher.publish(&presubmit("7", sha)).await.unwrap();
    let (state, d, _, _) = verdict(&fake, sha);
    assert_eq!(state, "failure", "{d}");
    assert!(d.contains("label sig/at-base"), "{d}");
    // The commit's root, then calc/, the one top-level directory that
    // differs from master; its OWNERS file read in one query.
    let reqs = fake.requests();
    let n = |what: &str| reqs.iter().filter(|r| r.path.contains(what)).count();
    assert_eq!((n("/git/trees/"), n("/graphql")), (2, 1), "{reqs:?}");
}

/// The same with ownership from a git checkout (`owners.dir`) whose work
/// tree moved on: the pull request's rules read the base commit's OWNERS
/// from git's objects, the dashboard's table the checkout as it is; a base
/// commit the checkout does not hold falls back to the checkout.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs git"]
async fn policy_ownership_from_a_checkout_is_the_base_commits() {
    let env = Env::new();
    branches(&env);
    put_pull_request_7(&env, "demo/cmd-goprog.out");
    let (fake, github) = env.github().await;
    let checkout = env.dir.path().join("checkout");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&checkout)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("this test needs git");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let put = |relabel: bool| {
        for (rel, bytes) in fixture_files("owners") {
            let p = checkout.join(&rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let text = String::from_utf8(bytes).unwrap();
            let text = match relabel && rel == "calc/OWNERS" {
                true => text.replace("sig/calc", "sig/at-base"),
                false => text,
            };
            std::fs::write(p, text).unwrap();
        }
    };
    std::fs::create_dir_all(&checkout).unwrap();
    git(&["init", "-q"]);
    put(true);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "base"]);
    let base = git(&["rev-parse", "HEAD"]);
    put(false);
    git(&["commit", "-qam", "master moved on"]);

    let owners = format!("dir: {}", checkout.display());
    let config = label_policy(&env, &owners, &github);
    let publisher = commenting(&config);
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    let labels = env.read("goprog/latest/owners.json");
    assert!(labels.contains("sig/calc") && !labels.contains("sig/at-base"));

    let mut job = presubmit("7", "abcdef03");
    job.refs.as_mut().unwrap().base_sha = base[..12].to_string();
    publisher.publish(&job).await.unwrap();
    let (state, d, _, _) = verdict(&fake, "abcdef03");
    assert_eq!(state, "failure", "{d}");
    assert!(d.contains("label sig/at-base"), "{d}");

    // A base commit the checkout does not hold: the checkout as it is.
    let mut job = presubmit("8", "abcdef04");
    job.refs.as_mut().unwrap().base_sha = "0123456789abcdef".into();
    env.put_fixture(
        "pr-logs/pull/acme_widget/42/pull-goprog-coverage/8/artifacts/cover.out",
        "demo/cmd-goprog.out",
    );
    publisher.publish(&job).await.unwrap();
    let (_, d, _, _) = verdict(&fake, "abcdef04");
    assert!(
        d.contains("label sig/") && !d.contains("sig/at-base"),
        "{d}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn history_records_every_run_and_keeps_n() {
    let env = Env::new();
    branches(&env);
    env.put_fixture(
        "logs/ci-goprog/101/artifacts/combined-coverage.out",
        "demo/calc.out",
    );
    env.finish("ci-goprog", "101", "SUCCESS");
    let db = env.dir.path().join("history.db");
    let config = env.config(&format!(
        "{DASHBOARD}history: {{store: {}, keep: 1}}\n",
        db.display()
    ));
    let publisher = Publisher::new(&config).unwrap();
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    let mut store = covlens_history::Store::open(&db.display().to_string()).unwrap();
    let runs = store.runs("ci-goprog", 10).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].build.as_str(), runs[0].branch.as_deref()),
        ("100", Some("master"))
    );
    drop(store);
    let mut later = periodic("ci-goprog", "101");
    later.completion_time = Some("2026-12-02T00:00:00Z".into());
    publisher.publish(&later).await.unwrap();
    let mut store = covlens_history::Store::open(&db.display().to_string()).unwrap();
    let runs = store.runs("ci-goprog", 10).unwrap();
    assert_eq!(
        runs.iter().map(|r| r.build.as_str()).collect::<Vec<_>>(),
        ["101"]
    );
}

/// Three later master runs (builds 101-103), oldest first.
const MASTER_RUNS: [&str; 3] = ["demo/calc-advanced.out", "demo/calc.out", "demo/calc.out"];

/// Puts [`MASTER_RUNS`] into ci-goprog's artifacts.
fn put_master_runs(env: &Env) {
    for (i, f) in MASTER_RUNS.iter().enumerate() {
        env.put_fixture(
            &format!("logs/ci-goprog/{}/artifacts/combined-coverage.out", 101 + i),
            f,
        );
    }
}

/// Finishes and publishes [`MASTER_RUNS`] one by one, a day apart.
async fn publish_master_runs(env: &Env, publisher: &Publisher) -> Vec<Outcome> {
    let mut outs = Vec::new();
    for i in 0..MASTER_RUNS.len() {
        let build = (101 + i).to_string();
        env.finish("ci-goprog", &build, "SUCCESS");
        let mut run = periodic("ci-goprog", &build);
        run.completion_time = Some(format!("2026-12-0{}T00:00:00Z", i + 2));
        outs.push(publisher.publish(&run).await.unwrap());
    }
    outs
}

/// [`MASTER_RUNS`] published by a commenting publisher whose history
/// (`history.db` in `env`) has `history` besides its store, and the pull
/// request's profile (`cmd-goprog.out`) put for presubmit 7. The fake
/// GitHub must live as long as the publisher.
async fn master_and_pull_request(
    env: &Env,
    history: &str,
) -> (FakeGitHub, Publisher, std::path::PathBuf) {
    branches(env);
    put_master_runs(env);
    put_pull_request_7(env, "demo/cmd-goprog.out");
    let (fake, github) = env.github().await;
    let db = env.dir.path().join("history.db");
    let config = env.config(&format!(
        "{DASHBOARD}presubmits:\n  - {{job: pull-goprog-coverage, base: ci-goprog, threshold: 10}}\n\
         {github}history: {{store: {}, {history}}}\n",
        db.display()
    ));
    let publisher = commenting(&config);
    publish_master_runs(env, &publisher).await;
    (fake, publisher, db)
}

/// With a history, the branch table and its site draw each package's
/// trend over the newest column's recorded runs (the run just published
/// included), and the PR comment lists packages of the pull request below
/// their trend on the base job. Expected percentages come from core's
/// counts of the fixtures.
#[tokio::test(flavor = "multi_thread")]
async fn trends_from_the_history_in_tables_sites_and_comments() {
    let env = Env::new();
    let master = MASTER_RUNS;
    let (_fake, publisher, _) = master_and_pull_request(&env, "trend: 5").await;

    let pct = |f: &str| {
        let (c, t) = packages(&load(f))["example.com/goprog/calc"];
        c as f64 * 100.0 / t as f64
    };
    let table: serde_json::Value =
        serde_json::from_str(&env.read("goprog/latest/table.json")).unwrap();
    assert_eq!(table["trend_runs"], 3, "{table}");
    let calc = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "example.com/goprog/calc")
        .unwrap();
    let trend: Vec<f64> = calc["trend"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let want: Vec<f64> = master.iter().map(|f| pct(f)).collect();
    assert_eq!(trend.len(), want.len());
    for (got, want) in trend.iter().zip(&want) {
        assert!((got - want).abs() < 1e-9, "{trend:?} against {want:?}");
    }
    assert!(env.read("goprog/latest/table.md").contains("last 3 runs"));
    assert!(env.read("goprog/latest/table.html").contains("<svg"));
    let site = env.read("goprog/latest/site/index.html");
    assert!(site.contains(r#""trend":3"#), "no trend column in the site");

    // The pull request's calc package (cmd-goprog.out) is far below the
    // mean of master's three runs.
    assert!(pct("demo/cmd-goprog.out") < want.iter().sum::<f64>() / 3.0 - 1.0);
    publisher
        .publish(&presubmit("7", "abcdef01"))
        .await
        .unwrap();
    let comment = env.read("pr/acme_widget/42/pull-goprog-coverage/7/comment.md");
    let below = comment
        .split("Below their recent trend")
        .nth(1)
        .and_then(|s| s.split("</details>").next())
        .unwrap_or_else(|| panic!("no trend section: {comment}"));
    assert!(below.contains("| example.com/goprog/calc |"), "{comment}");
    assert!(!below.contains("example.com/goprog/calcx"), "{comment}");

    // `trend: 0`: none of it.
    let env0 = Env::new();
    branches(&env0);
    let db0 = env0.dir.path().join("history.db");
    let config = env0.config(&format!(
        "{DASHBOARD}history: {{store: {}, trend: 0}}\n",
        db0.display()
    ));
    publish_periodic(&config, "ci-goprog", "100").await;
    let table: serde_json::Value =
        serde_json::from_str(&env0.read("goprog/latest/table.json")).unwrap();
    assert!(table.get("trend_runs").is_none(), "{table}");
    assert!(!env0.read("goprog/latest/table.md").contains("runs |"));
}

/// `history.flaky: 3`: flaky coverage over the job's last three recorded
/// runs, read back from their artifacts, recorded with the run and drawn
/// in the dashboard's site; the expected report is core's fold of the same
/// fixtures, filtered as the config filters.
#[tokio::test(flavor = "multi_thread")]
async fn flaky_coverage_over_the_last_recorded_runs() {
    let env = Env::new();
    branches(&env);
    // calc-advanced.out also measures calc/advanced, which calc.out does
    // not: those files are left out, not flaky.
    let master = MASTER_RUNS;
    put_master_runs(&env);
    let db = env.dir.path().join("history.db");
    let config = env.config(&format!(
        "{DASHBOARD}history: {{store: {}, flaky: 3}}\n",
        db.display()
    ));
    let publisher = Publisher::new(&config).unwrap();
    let outs = publish_master_runs(&env, &publisher).await;
    let said = |o: &Outcome| match o {
        Outcome::Published(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    assert!(said(&outs[0]).contains("flaky coverage not measured: 1 run(s)"));

    let mut fold = covlens_core::flaky::FlakyFold::new(
        covlens_core::ModePolicy::Upgrade,
        OnConflict::SkipFile,
    );
    for (i, f) in master.iter().enumerate() {
        let mut p = load(f);
        covlens_core::filter(&mut p, None, config.filters.exclude.as_ref());
        fold.add(&i.to_string(), p).unwrap();
    }
    let (want, conflicts) = fold.finish();
    assert!(conflicts.is_empty());
    assert!(want.flaky > 0 && want.partial_files > 0, "{want:?}");
    let last = said(&outs[2]);
    let files = |n: u64| match n {
        1 => "1 file".to_string(),
        n => format!("{n} files"),
    };
    let want_said = format!(
        "flaky coverage over 3 runs: {} statements in {}, {} not in every run",
        want.flaky,
        files(want.files.len() as u64),
        files(want.partial_files)
    );
    assert!(last.contains(&want_said), "{last}");

    let mut store = covlens_history::Store::open(&db.display().to_string()).unwrap();
    let h = store
        .history(&covlens_history::HistoryQuery {
            job: "ci-goprog",
            path: None,
            depth: None,
            root: Some(""),
            last: 3,
        })
        .unwrap();
    for p in &want.packages {
        let row = h.rows.iter().find(|r| r.name == p.name).unwrap();
        assert_eq!(row.flaky.last(), Some(&Some(p.statements)), "{}", p.name);
    }
    let site = env.read("goprog/latest/site/index.html");
    assert!(
        site.contains(r#""flaky":true"#),
        "no flaky column in the site"
    );
}

/// With `history.flaky`, the PR comment's packages table has each
/// package's flaky statements as recorded with the base job's newest run.
#[tokio::test(flavor = "multi_thread")]
async fn pull_request_comment_shows_the_base_jobs_flaky_statements() {
    let env = Env::new();
    // No trends drawn: the base job's newest run is read for its flaky
    // coverage alone.
    let (_fake, publisher, db) = master_and_pull_request(&env, "flaky: 3, trend: 0").await;
    publisher
        .publish(&presubmit("7", "abcdef01"))
        .await
        .unwrap();

    let mut store = covlens_history::Store::open(&db.display().to_string()).unwrap();
    let h = store
        .history(&covlens_history::HistoryQuery {
            job: "ci-goprog",
            path: None,
            depth: None,
            root: Some(""),
            last: 1,
        })
        .unwrap();
    let (runs, flaky) = h.newest_flaky().unwrap();
    assert_eq!(runs, 3);
    let calc = flaky["example.com/goprog/calc"];
    assert!(calc > 0, "{flaky:?}");
    let comment = env.read("pr/acme_widget/42/pull-goprog-coverage/7/comment.md");
    let table = comment
        .split("Packages with changed coverage")
        .nth(1)
        .unwrap_or_else(|| panic!("{comment}"));
    assert!(table.contains("| Flaky on base |"), "{comment}");
    assert!(table.contains("base job's last 3 runs"), "{comment}");
    let row = table
        .lines()
        .find(|l| l.starts_with("| example.com/goprog/calc |"))
        .unwrap_or_else(|| panic!("{comment}"));
    assert!(row.ends_with(&format!("| {calc} |")), "{row}");
}

/// Per OWNERS label of `tree`, the statements of `p` (core's rollup).
fn label_rollup(
    p: &covlens_core::Profile,
    tree: &covlens_core::owners::OwnersTree,
) -> BTreeMap<String, (u64, u64)> {
    covlens_core::owners::rollup(p, tree, covlens_core::owners::OwnerBy::Label)
        .into_iter()
        .map(|r| (r.name, (r.counts.covered, r.counts.total)))
        .collect()
}

/// Publishes master's run 100 on a dashboard with `owners: {OWNERS, by:
/// label}` (`owners` is the rest of the map), columns master and 1.1,
/// `/internal/` filtered out, a history at `db`; the config.
async fn publish_by_label(env: &Env, owners: &str, db: &std::path::Path) -> Config {
    let config = env.config(&format!(
        "dashboards:\n  - name: goprog\n    owners: {{{owners}, by: label}}\n    columns:\n      \
         - {{label: master, job: ci-goprog}}\n      - {{label: '1.1', job: ci-goprog-1-1}}\n\
         filters: {{exclude: ['/internal/']}}\nhistory: {{store: {}}}\n",
        db.display()
    ));
    publish_periodic(&config, "ci-goprog", "100").await;
    config
}

/// `owners: {dir, by: label}`: a second table per OWNERS label, each
/// column's rows as core's rollup counts them over the same (filtered)
/// fixtures, with the labels' trends from the history.
#[tokio::test(flavor = "multi_thread")]
async fn owners_table_per_label_with_trends() {
    let env = Env::new();
    branches(&env);
    let tree = fixture("owners");
    let db = env.dir.path().join("history.db");
    let dir = format!("dir: {}", tree.display());
    let config = publish_by_label(&env, &dir, &db).await;

    let owners = covlens_core::owners::OwnersTree::load(&tree).unwrap();
    let by_label = |f: &str, filtered: bool| {
        let mut p = load(f);
        if filtered {
            covlens_core::filter(&mut p, None, config.filters.exclude.as_ref());
        }
        label_rollup(&p, &owners)
    };
    let table: serde_json::Value =
        serde_json::from_str(&env.read("goprog/latest/owners.json")).unwrap();
    assert_eq!(table["columns"], serde_json::json!(["master", "1.1"]));
    let master = by_label("demo/cmd-goprog.out", true);
    assert!(master.keys().any(|k| k.starts_with("sig/")), "{master:?}");
    assert_eq!(column(&table, 0), master);
    assert_eq!(column(&table, 1), by_label("demo/calc-advanced.out", false));
    // One recorded run of master: each label's trend has one point.
    assert_eq!(table["trend_runs"], 1, "{table}");
    let md = env.read("goprog/latest/owners.md");
    assert!(md.starts_with("| Label |"), "{md}");
    assert!(md.contains("Total (each file once)"), "{md}");
    assert_eq!(md, env.read("goprog/runs/ci-goprog/100/owners.md"));
    // The site stays a directory tree unless `site: true`.
    let top = |env: &Env| -> BTreeMap<String, (u64, u64)> {
        let js = env.read("goprog/latest/site/data/d0.js");
        let json = js
            .strip_prefix("covlens.dir(\"d0\",")
            .and_then(|r| r.strip_suffix(");\n"))
            .unwrap_or_else(|| panic!("{js}"));
        let root: serde_json::Value = serde_json::from_str(json).unwrap();
        let kids = root["kids"].as_array().unwrap().iter();
        kids.map(|k| {
            let c = &k["c"][0];
            let n = k["n"].as_str().unwrap().to_string();
            (n, (c[0].as_u64().unwrap(), c[1].as_u64().unwrap()))
        })
        .collect()
    };
    assert!(!top(&env).keys().any(|k| k.starts_with("sig/")));
    publish_by_label(&env, &format!("{dir}, site: true"), &db).await;
    // The top level lists master's labels with their rollup counts.
    assert_eq!(top(&env), master);

    // A checkout that is not there yet: retried, not recorded as reported.
    let none = format!("dir: {}/none", env.dir.path().display());
    let err = owners_unreadable(&env, &none, "").await;
    assert!(err.contains("ownership in"), "{err}");
}

/// Publishing master's run 100 with `owners: {OWNERS, by: owner}` fails:
/// how.
async fn owners_failure(env: &Env, owners: &str, more: &str) -> PublishError {
    let config = env.config(&format!(
        "dashboards:\n  - name: goprog\n    owners: {{{owners}, by: owner}}\n    columns:\n      \
         - {{label: master, job: ci-goprog}}\n{more}"
    ));
    let publisher = Publisher::new(&config).unwrap();
    match publisher.publish(&periodic("ci-goprog", "100")).await {
        Err(e) => e,
        other => panic!("{other:?}"),
    }
}

/// [`owners_failure`], transient (retried later, not recorded as
/// reported): its message.
async fn owners_unreadable(env: &Env, owners: &str, more: &str) -> String {
    match owners_failure(env, owners, more).await {
        PublishError::Transient(m) => m,
        other => panic!("{other:?}"),
    }
}

/// `owners: {github, ref}`: the ownership files of a branch read through
/// GitHub's git data API, no checkout: the same table as from the tree's
/// files on disk; later publishes list the tree again and read only the
/// files whose content changed.
#[tokio::test(flavor = "multi_thread")]
async fn owners_read_through_github_without_a_checkout() {
    let env = Env::new();
    branches(&env);
    let (fake, github) = env.github().await;
    let tree = fixture("owners");
    let mut files = 0;
    for (rel, bytes) in fixture_files("owners") {
        files += covlens_core::owners::is_ownership_file(&rel) as usize;
        fake.add_file("acme/widget", "master", &rel, &bytes);
    }
    let config = env.config(&format!(
        "dashboards:\n  - name: goprog\n    owners: {{github: acme/widget, ref: master, by: label}}\n    \
         columns:\n      - {{label: master, job: ci-goprog}}\n{github}"
    ));
    let publisher = Publisher::new(&config).unwrap();
    // Tree listings and GraphQL queries (of up to 100 blobs each) since the
    // last call; no blob is read on its own.
    let requests = || {
        let reqs = fake.requests();
        let n = |what: &str| reqs.iter().filter(|r| r.path.contains(what)).count();
        fake.clear_requests();
        assert_eq!(n("/git/blobs/"), 0);
        (n("/git/trees/"), n("/graphql"))
    };
    let labels = |env: &Env| -> BTreeMap<String, (u64, u64)> {
        let table = env.read("goprog/latest/owners.json");
        column(&serde_json::from_str(&table).unwrap(), 0)
    };
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    let owners = covlens_core::owners::OwnersTree::load(&tree).unwrap();
    let want = label_rollup(&load("demo/cmd-goprog.out"), &owners);
    assert!(want.keys().any(|k| k.starts_with("sig/")), "{want:?}");
    assert_eq!(labels(&env), want);
    // The root listed, then each top-level directory; the ownership files
    // read in one query.
    let top_dirs = std::fs::read_dir(&tree)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count();
    assert!(files >= 5 && top_dirs >= 3, "{files} {top_dirs}");
    assert_eq!(requests(), (1 + top_dirs, 1));
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    assert_eq!(
        requests(),
        (1, 0),
        "nothing changed: the root's listing says so"
    );

    // One OWNERS file changes on the branch: its top-level directory is
    // listed again and only the file is read again.
    let calc = std::fs::read_to_string(tree.join("calc/OWNERS")).unwrap();
    let changed = calc.replace("labels:", "labels:\n  - sig/moved");
    assert_ne!(calc, changed, "calc/OWNERS has labels");
    fake.add_file("acme/widget", "master", "calc/OWNERS", changed.as_bytes());
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    assert_eq!(requests(), (2, 1));
    assert!(labels(&env).contains_key("sig/moved"));

    // GitHub cuts the listing short: the directories are listed one by
    // one, deeper as needed, and the table is the same.
    let whole = labels(&env);
    // (calc/ holds OWNERS, advanced/ and advanced/OWNERS: 3 entries.)
    fake.set_tree_limit(Some(2));
    let fresh = Publisher::new(&config).unwrap();
    fresh.publish(&periodic("ci-goprog", "100")).await.unwrap();
    let (trees, queries) = requests();
    assert!(
        trees > 1 + top_dirs && queries == 1,
        "{trees} listings, {queries} queries"
    );
    assert_eq!(labels(&env), whole);
    fake.set_tree_limit(None);

    // A branch GitHub does not have: retried later, not recorded.
    let err = owners_unreadable(&env, "github: acme/widget, ref: gone", &github).await;
    assert!(err.contains("ownership from acme/widget at gone"), "{err}");
    // A token without read access to contents: said so.
    fake.inject(Fault::new(FaultKind::Status { status: 403 }, 1).on_path("/git/trees/"));
    let err = owners_unreadable(&env, "github: acme/widget, ref: master", &github).await;
    assert!(err.contains("needs read access to contents"), "{err}");
}

/// [`owners_failure`] through GitHub, for good (not retried): its message.
async fn owners_refused(env: &Env, github: &str) -> String {
    match owners_failure(env, "github: acme/widget, ref: master", github).await {
        PublishError::Permanent(m) => m,
        other => panic!("{other:?}"),
    }
}

/// The bounds of ownership read through GitHub: at most 64 MiB of
/// ownership files, and at most 500 listings when GitHub cuts them short.
/// Past either, the dashboard fails for good, saying which bound, and its
/// table is not published.
#[tokio::test(flavor = "multi_thread")]
async fn owners_through_github_are_bounded() {
    let env = Env::new();
    branches(&env);
    let (fake, github) = env.github().await;
    // 70 OWNERS files of 1,000,000 bytes each: 70 MB, over 64 MiB.
    for i in 0..70 {
        let mut text = format!("# {i}\nlabels:\n  - sig/x\n").into_bytes();
        text.resize(1_000_000, b'#');
        fake.add_file("acme/widget", "master", &format!("d{i}/OWNERS"), &text);
    }
    let err = owners_refused(&env, &github).await;
    assert!(
        err.contains(
            "70 ownership files of 70000000 bytes, more than the 20000 files or 67108864 bytes"
        ),
        "{err}"
    );
    assert!(!env.publish().join("goprog/latest/owners.json").exists());

    // 260 directories of 3 entries, and listings cut at 2 entries: each
    // directory takes 2 listings, 521 in all.
    let env = Env::new();
    branches(&env);
    let (fake, github) = env.github().await;
    for i in 0..260 {
        for f in ["OWNERS", "a.go", "b.go"] {
            fake.add_file(
                "acme/widget",
                "master",
                &format!("d{i}/{f}"),
                format!("# {i}\n").as_bytes(),
            );
        }
    }
    fake.set_tree_limit(Some(2));
    let err = owners_refused(&env, &github).await;
    assert!(
        err.contains("GitHub cuts the listing short even after 500 listings"),
        "{err}"
    );
    let listings = fake
        .requests()
        .iter()
        .filter(|r| r.path.contains("/git/trees/"))
        .count();
    assert_eq!(listings, 500, "the 501st is not made");
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_artifacts_are_refused_and_nothing_leaves_the_roots() {
    let env = Env::new();
    branches(&env);
    let outside = env.dir.path().join("secret.out");
    std::fs::copy(fixture("demo/calc.out"), &outside).unwrap();
    // A link in a run's artifacts pointing outside the artifacts root.
    let run = env.artifacts().join("logs/ci-goprog/102/artifacts");
    std::fs::create_dir_all(&run).unwrap();
    std::os::unix::fs::symlink(&outside, run.join("combined-coverage.out")).unwrap();

    env.finish("ci-goprog", "102", "SUCCESS");
    let config = env.config(DASHBOARD);
    let publisher = Publisher::new(&config).unwrap();
    match publisher.publish(&periodic("ci-goprog", "102")).await {
        Err(PublishError::Permanent(e)) => assert!(e.contains("outside the root"), "{e}"),
        other => panic!("{other:?}"),
    }

    // Also under a name object_store percent-encodes.
    let run = env.artifacts().join("logs/ci-goprog/105/artifacts");
    std::fs::create_dir_all(&run).unwrap();
    std::os::unix::fs::symlink(&outside, run.join("odd%name #1.cov")).unwrap();
    env.finish("ci-goprog", "105", "SUCCESS");
    match publisher.publish(&periodic("ci-goprog", "105")).await {
        Err(PublishError::Permanent(e)) => assert!(e.contains("outside the root"), "{e}"),
        other => panic!("{other:?}"),
    }

    // A build id that tries to climb stays one segment: no run there.
    let climb = periodic("ci-goprog", "../../../../escape");
    let out = publisher.publish(&climb).await.unwrap();
    assert!(
        matches!(&out, Outcome::Skipped(s) if s.contains("logs/ci-goprog/.._.._.._.._escape/")),
        "{out:?}"
    );

    // A run whose artifacts are a link to another run's, inside the root:
    // never read nor written through (a presubmit could rewrite another
    // job's results).
    let linked = env.artifacts().join("logs/ci-goprog/106");
    std::fs::create_dir_all(&linked).unwrap();
    std::os::unix::fs::symlink("../100/artifacts", linked.join("artifacts")).unwrap();
    env.finish("ci-goprog", "106", "SUCCESS");
    let out = publisher.publish(&periodic("ci-goprog", "106")).await;
    assert!(
        matches!(&out, Err(PublishError::Permanent(e)) if e.contains("through a symbolic link"))
            || matches!(&out, Ok(Outcome::Skipped(s)) if s.contains("no coverage")),
        "{out:?}"
    );

    // FIFOs (a profile, the run's started.json, read by name): refused or
    // skipped, never waited on (a worker used to block for ever).
    let fifo_run = env.artifacts().join("logs/ci-goprog/107/artifacts");
    std::fs::create_dir_all(&fifo_run).unwrap();
    env.finish("ci-goprog", "107", "SUCCESS");
    let started = env.artifacts().join("logs/ci-goprog/107/started.json");
    std::fs::remove_file(&started).unwrap();
    for fifo in [fifo_run.join("combined-coverage.out"), started] {
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
    }
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        publisher.publish(&periodic("ci-goprog", "107")),
    )
    .await
    .expect("a FIFO blocked the publish");
    assert!(
        matches!(&out, Err(PublishError::Permanent(e)) if e.contains("not a regular file"))
            || matches!(&out, Ok(Outcome::Skipped(s)) if s.contains("no coverage")),
        "{out:?}"
    );

    // A link loop among the artifacts fails the listing for good: a lasting
    // error, not a retry every few minutes for ever.
    let looped = env.artifacts().join("logs/ci-goprog/110/artifacts");
    std::fs::create_dir_all(&looped).unwrap();
    std::os::unix::fs::symlink("loop", looped.join("loop")).unwrap();
    env.finish("ci-goprog", "110", "SUCCESS");
    match publisher.publish(&periodic("ci-goprog", "110")).await {
        Err(PublishError::Permanent(e)) => assert!(e.contains("symbolic links"), "{e}"),
        other => panic!("{other:?}"),
    }

    // The collector's GOCOVERDIR with a meta-data file that is none and a
    // sparse counter file of 600 MB that is none either: refused from
    // their first bytes, never read whole (they were: 3.3 GB for three).
    let cov = env
        .artifacts()
        .join("logs/ci-goprog/109/artifacts/coverage/pod/c/covdata");
    std::fs::create_dir_all(&cov).unwrap();
    let h = "ab".repeat(16);
    std::fs::write(cov.join(format!("covmeta.{h}")), b"junk").unwrap();
    let big = cov.join(format!("covcounters.{h}.1.1"));
    std::fs::File::create(&big)
        .unwrap()
        .set_len(600 << 20)
        .unwrap();
    env.finish("ci-goprog", "109", "SUCCESS");
    match publisher.publish(&periodic("ci-goprog", "109")).await {
        Err(PublishError::Permanent(e)) => assert!(e.contains("magic"), "{e}"),
        other => panic!("{other:?}"),
    }
    // Over 1 GiB in all: refused before anything is read.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    match publisher.publish(&periodic("ci-goprog", "109")).await {
        Err(PublishError::Permanent(e)) => assert!(e.contains("read into memory"), "{e}"),
        other => panic!("{other:?}"),
    }

    // A profile that is not one.
    env.put(
        "logs/ci-goprog/103/artifacts/combined-coverage.out",
        b"mode: set\nnot a block\n",
    );
    env.finish("ci-goprog", "103", "SUCCESS");
    match publisher.publish(&periodic("ci-goprog", "103")).await {
        Err(PublishError::Permanent(e)) => {
            assert!(
                e.contains("logs/ci-goprog/103/artifacts/combined-coverage.out"),
                "{e}"
            );
            assert!(!e.contains("covlens-run-"), "staging paths leak: {e}");
        }
        other => panic!("{other:?}"),
    }

    // A run over the size limit.
    let small = env.config(&format!("{DASHBOARD}limits: {{max_run_bytes: 100}}\n"));
    match Publisher::new(&small)
        .unwrap()
        .publish(&periodic("ci-goprog", "100"))
        .await
    {
        Err(PublishError::Permanent(e)) => assert!(e.contains("limits.max_run_bytes"), "{e}"),
        other => panic!("{other:?}"),
    }

    // An object over the size limit.
    let small = env.config(&format!("{DASHBOARD}limits: {{max_object_bytes: 100}}\n"));
    match Publisher::new(&small)
        .unwrap()
        .publish(&periodic("ci-goprog", "100"))
        .await
    {
        Err(PublishError::Permanent(e)) => assert!(e.contains("limits.max_object_bytes"), "{e}"),
        other => panic!("{other:?}"),
    }
    // Nothing was written next to the roots.
    let mut names: Vec<String> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["artifacts", "publish", "secret.out"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_runs_and_other_jobs_are_skipped() {
    let env = Env::new();
    branches(&env);
    let publisher = Publisher::new(&env.config(DASHBOARD)).unwrap();
    let mut failed = periodic("ci-goprog", "100");
    failed.state = FinalState::Failure;
    assert!(matches!(
        publisher.publish(&failed).await.unwrap(),
        Outcome::Skipped(_)
    ));
    assert!(matches!(
        publisher.publish(&periodic("ci-other", "1")).await.unwrap(),
        Outcome::Skipped(_)
    ));
    // No coverage in the artifacts.
    env.put("logs/ci-goprog/104/artifacts/build-log.txt", b"ok\n");
    env.finish("ci-goprog", "104", "SUCCESS");
    assert!(matches!(
        publisher.publish(&periodic("ci-goprog", "104")).await.unwrap(),
        Outcome::Skipped(s) if s.contains("no coverage")
    ));
    assert!(env.published().is_empty());
}

#[test]
fn publisher_is_shareable() {
    fn is<T: Send + Sync>() {}
    is::<Publisher>();
    let _: Option<Arc<dyn Publish>> = None;
}

/// The table's total against `go tool cover -func`'s, on the module the
/// fixture profile was made from.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs go"]
async fn table_total_matches_go_tool_cover() {
    let env = Env::new();
    env.put_fixture(
        "logs/ci-goprog/100/artifacts/combined-coverage.out",
        "demo/cmd-goprog.out",
    );
    env.finish("ci-goprog", "100", "SUCCESS");
    let config =
        env.config("dashboards:\n  - {name: goprog, columns: [{label: master, job: ci-goprog}]}\n");
    publish_periodic(&config, "ci-goprog", "100").await;
    let table: serde_json::Value =
        serde_json::from_str(&env.read("goprog/latest/table.json")).unwrap();

    let out = std::process::Command::new("go")
        .current_dir(fixture("goprog"))
        .env("GOTOOLCHAIN", "local")
        .env("GOWORK", "off")
        .env_remove("GOFLAGS")
        .args(["tool", "cover"])
        .arg(format!(
            "-func={}",
            fixture("demo/cmd-goprog.out").display()
        ))
        .output()
        .expect("go runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let total = stdout
        .lines()
        .find(|l| l.starts_with("total:"))
        .and_then(|l| l.split_whitespace().last())
        .unwrap();
    assert_eq!(
        format!(
            "{}%",
            table["total"]["cells"][0]["percent"].as_str().unwrap()
        ),
        total
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn github_down_is_transient_and_a_retry_succeeds() {
    let env = Env::new();
    branches(&env);
    put_pull_request_7(&env, "demo/calc.out");
    let fake = FakeGitHub::start(FakeOptions::default()).await.unwrap();
    let config = env.config(&format!(
        "{DASHBOARD}presubmits:\n  - {{job: pull-goprog-coverage, base: ci-goprog}}\ngithub: {{api: '{}', token_file: /unused}}\n",
        fake.url()
    ));
    let mut o = ClientOptions::new(TokenSource::Value("t".into()));
    o.api = fake.url();
    o.retry = RetryPolicy {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        secondary_limit_wait: Duration::from_millis(20),
        max_rate_limit_wait: Duration::from_millis(20),
    };
    let gh: Arc<dyn GitHub> = Arc::new(Client::new(o).unwrap());
    let publisher = Publisher::with_parts(
        &config,
        Bucket::open(&config.artifacts, false).unwrap(),
        Bucket::open(&config.publish, true).unwrap(),
        Some(gh),
    )
    .with_comment_settle(Duration::ZERO);
    // Both attempts of the client fail.
    fake.inject(Fault::new(FaultKind::Status { status: 502 }, 2).on_path("/statuses/"));
    match publisher.publish(&presubmit("7", "abcdef01")).await {
        Err(PublishError::Transient(e)) => assert!(e.contains("502"), "{e}"),
        other => panic!("{other:?}"),
    }
    // The controller retries later: the status is set, the comment is
    // not doubled.
    assert!(matches!(
        publisher
            .publish(&presubmit("7", "abcdef01"))
            .await
            .unwrap(),
        Outcome::Published(_)
    ));
    let state = fake.state();
    assert_eq!(state.comments.len(), 1);
    assert_eq!(state.statuses.len(), 1);
}

/// History in PostgreSQL, recorded from the publisher's async context.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs postgres"]
async fn history_in_postgres() {
    let url = std::env::var("COVLENS_TEST_POSTGRES").expect(
        "COVLENS_TEST_POSTGRES is not set: run scripts/test.sh or scripts/postgres-testenv.sh",
    );
    let env = Env::new();
    let job = format!("ci-goprog-pg-{}", std::process::id());
    env.put_fixture(
        &format!("logs/{job}/100/artifacts/combined-coverage.out"),
        "demo/calc.out",
    );
    env.finish(&job, "100", "SUCCESS");
    env.put_fixture(
        &format!("logs/{job}/101/artifacts/combined-coverage.out"),
        "demo/calc-advanced.out",
    );
    env.finish(&job, "101", "SUCCESS");
    let config = env.config(&format!(
        "dashboards:\n  - {{name: pg, columns: [{{label: main, job: {job}}}]}}\nhistory: {{store: '{url}', keep: 1}}\n"
    ));
    let publisher = Publisher::new(&config).unwrap();
    publisher.publish(&periodic(&job, "100")).await.unwrap();
    let mut later = periodic(&job, "101");
    later.completion_time = Some("2026-12-02T00:00:00Z".into());
    publisher.publish(&later).await.unwrap();
    let (url2, job2) = (url.clone(), job.clone());
    let runs = tokio::task::spawn_blocking(move || {
        covlens_history::Store::open(&url2)
            .unwrap()
            .runs(&job2, 10)
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(
        runs.iter().map(|r| r.build.as_str()).collect::<Vec<_>>(),
        ["101"]
    );
    let want = load("demo/calc-advanced.out").statements();
    assert_eq!(runs[0].counts, want);
}

/// A public Kubernetes profile through the issue's example filters and
/// `depth: 2`, with a presubmit against it: numbers as core counts them.
#[tokio::test(flavor = "multi_thread")]
async fn kubernetes_profile_with_the_issue_filters() {
    let env = Env::new();
    env.put_fixture(
        "logs/ci-kubernetes-coverage-unit/1/artifacts/combined-coverage.out",
        "public/kubernetes-v1.32.0.coverage.txt",
    );
    env.finish("ci-kubernetes-coverage-unit", "1", "SUCCESS");
    let config = env.config(
        "dashboards:\n  - {name: unit, depth: 2, columns: [{label: master, job: ci-kubernetes-coverage-unit}]}\nfilters: {exclude: ['/vendor/', 'zz_generated', '/third_party/']}\n",
    );
    let t = std::time::Instant::now();
    publish_periodic(&config, "ci-kubernetes-coverage-unit", "1").await;
    eprintln!("published in {:?}", t.elapsed());
    let mut want = load("public/kubernetes-v1.32.0.coverage.txt");
    covlens_core::filter(&mut want, None, config.filters.exclude.as_ref());
    // Depth 2 rows: the first two elements of each package path.
    let mut rows: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (pkg, (c, t)) in packages(&want) {
        let key: Vec<&str> = pkg.split('/').take(2).collect();
        let e = rows.entry(key.join("/")).or_default();
        e.0 += c;
        e.1 += t;
    }
    let table: serde_json::Value =
        serde_json::from_str(&env.read("unit/latest/table.json")).unwrap();
    assert_eq!(column(&table, 0), rows);
    let total = want.statements();
    assert_eq!(table["total"]["cells"][0]["covered"], total.covered);
    assert_eq!(table["total"]["cells"][0]["total"], total.total);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_only_selection_selects_gets_junit_and_history() {
    let env = Env::new();
    env.put_fixture(
        "logs/ci-misc-coverage/5/artifacts/cover.out",
        "demo/pkg-a.out",
    );
    env.finish("ci-misc-coverage", "5", "SUCCESS");
    let db = env.dir.path().join("h.db");
    let config = env.config(&format!(
        "selection: {{jobs: '-coverage$'}}\nhistory: {{store: {}}}\n",
        db.display()
    ));
    let out = publish_periodic(&config, "ci-misc-coverage", "5").await;
    assert!(
        matches!(&out, Outcome::Published(s) if s.contains("recorded in the history")),
        "{out:?}"
    );
    assert!(
        env.artifacts()
            .join("logs/ci-misc-coverage/5/artifacts/junit_coverage.xml")
            .is_file()
    );
    assert!(env.published().is_empty());
}

/// The presubmit's base commit and the commits of postsubmits below.
const BASE: &str = "b0b0b0b0";
const MISSPELT: &str = "c0ffee00";
const NO_FILE: &str = "d00d0000";

/// A PR build `build` of cmd-goprog.out on `base` with head `head`.
fn pr_on(env: &Env, build: &str, base: &str, head: &str) -> FinishedJob {
    env.put_fixture(
        &format!("pr-logs/pull/acme_widget/42/pull-goprog-coverage/{build}/artifacts/cover.out"),
        "demo/cmd-goprog.out",
    );
    let mut job = presubmit(build, head);
    job.refs.as_mut().unwrap().base_sha = base.into();
    job
}

/// The repository's files: at [`BASE`] a total of 99% (which cmd-goprog
/// misses), at [`MISSPELT`] a misspelt key, at [`NO_FILE`] none.
fn repository_files(fake: &FakeGitHub) {
    fake.add_file(
        "acme/widget",
        BASE,
        ".covlens.yml",
        b"threshold:\n  total: 99\n",
    );
    fake.add_file(
        "acme/widget",
        MISSPELT,
        ".covlens.yml",
        b"threshold:\n  packge: 100\n",
    );
}

/// The status description of the total rule failing on cmd-goprog, the
/// numbers from core (with the dashboard's `/internal/` filter).
fn total_below_99() -> String {
    let mut c = Counts::default();
    for f in load("demo/cmd-goprog.out").files() {
        if !f.name().contains("/internal/") {
            c.add(f.statements());
        }
    }
    let pct = format!("{:.1}", 100.0 * c.covered as f64 / c.total as f64);
    format!(
        "coverage policy not met: 1 violation (threshold-total 1): total: {pct}% ({}/{} statements) is below the required 99%",
        c.covered, c.total
    )
}

/// Contents reads of the policy file at `sha`.
fn reads(fake: &FakeGitHub, sha: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| {
            r.path == "/repos/acme/widget/contents/.covlens.yml"
                && r.query.as_deref() == Some(&format!("ref={sha}"))
        })
        .count()
}

async fn github_env(policy: &str) -> (Env, FakeGitHub, Publisher) {
    let env = Env::new();
    branches(&env);
    let fake = FakeGitHub::start(FakeOptions::default()).await.unwrap();
    repository_files(&fake);
    let token = env.dir.path().join("token");
    std::fs::write(&token, "t").unwrap();
    let config = env.config(&format!(
        "{DASHBOARD}presubmits:\n  - {{job: pull-goprog-coverage, base: ci-goprog}}\ngithub: {{api: '{}', token_file: {}, check_runs: true}}\n{policy}",
        fake.url(),
        token.display()
    ));
    let publisher = commenting(&config);
    publisher
        .publish(&periodic("ci-goprog", "100"))
        .await
        .unwrap();
    (env, fake, publisher)
}

/// By default (`policy.repository: true`, `policy.path: .covlens.yml`) the
/// repository's own policy file applies, read through GitHub's contents
/// API at the presubmit's base commit: the pull request's head cannot
/// loosen it. Read once per commit; a malformed file fails the status and
/// check run with the line and key at fault; no file, no policy.
#[tokio::test(flavor = "multi_thread")]
async fn repository_policy_at_the_base_commit() {
    let (env, fake, publisher) = github_env("").await;
    // The periodic has no refs: nothing to read.
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.path.contains("/contents/"))
            .count(),
        0
    );
    // The PR's head would drop the rule.
    fake.add_file(
        "acme/widget",
        "abcdef01",
        ".covlens.yml",
        b"threshold:\n  total: 0\n",
    );
    publisher
        .publish(&pr_on(&env, "7", BASE, "abcdef01"))
        .await
        .unwrap();
    let (state, d, conclusion, summary) = verdict(&fake, "abcdef01");
    assert_eq!((state.as_str(), d), ("failure", total_below_99()));
    assert_eq!(conclusion.as_deref(), Some("failure"));
    assert!(summary.unwrap().contains("is below the required 99%"));
    assert_eq!((reads(&fake, BASE), reads(&fake, "abcdef01")), (1, 0));
    // The same base again (another PR, a retest): from the cache.
    publisher
        .publish(&pr_on(&env, "8", BASE, "abcdef02"))
        .await
        .unwrap();
    assert_eq!(verdict(&fake, "abcdef02").1, total_below_99());
    assert_eq!(reads(&fake, BASE), 1);

    // A malformed file: published all the same, the status says why.
    let out = publisher
        .publish(&pr_on(&env, "9", MISSPELT, "abcdef03"))
        .await
        .unwrap();
    assert!(
        matches!(&out, Outcome::Published(s) if s.contains("comment")),
        "{out:?}"
    );
    let (state, d, conclusion, summary) = verdict(&fake, "abcdef03");
    assert_eq!(state, "failure");
    assert!(
        d.starts_with("coverage policy file invalid: c0ffee00:.covlens.yml:2:3: threshold.packge: unknown field `packge`"),
        "{d}"
    );
    assert_eq!(conclusion.as_deref(), Some("failure"));
    assert!(summary.unwrap().contains("threshold.packge"));
    let state = fake.state();
    let run = state.check_runs.iter().rfind(|r| r.head_sha == "abcdef03");
    assert_eq!(
        run.unwrap().title.as_deref(),
        Some("coverage policy file invalid")
    );

    // No file at the base: no policy (none configured), the threshold
    // alone decides.
    publisher
        .publish(&pr_on(&env, "10", NO_FILE, "abcdef04"))
        .await
        .unwrap();
    let (state, d, _, _) = verdict(&fake, "abcdef04");
    assert_eq!(state, "success", "{d}");
    assert!(!d.contains("policy"), "{d}");
    assert_eq!(reads(&fake, NO_FILE), 1);
}

/// Precedence: the repository's file where the commit has one, the
/// configured policy where not; `policy.repository: false` reads nothing.
/// A token GitHub refuses the file to fails the status, and the file is
/// read again next time.
#[tokio::test(flavor = "multi_thread")]
async fn repository_policy_before_the_configured_one() {
    let strict = "policy:\n  inline: |\n    threshold:\n      total: 99\n";
    let (env, fake, publisher) = github_env(strict).await;
    fake.add_file(
        "acme/widget",
        "ba5e0001",
        ".covlens.yml",
        b"threshold:\n  total: 1\n",
    );
    publisher
        .publish(&pr_on(&env, "7", "ba5e0001", "abcdef01"))
        .await
        .unwrap();
    let (state, d, conclusion, _) = verdict(&fake, "abcdef01");
    assert_eq!(
        (state.as_str(), conclusion.as_deref()),
        ("success", Some("success")),
        "{d}"
    );
    publisher
        .publish(&pr_on(&env, "8", NO_FILE, "abcdef02"))
        .await
        .unwrap();
    assert_eq!(verdict(&fake, "abcdef02").1, total_below_99());

    // 403 (no contents permission): unreadable, not remembered, so once
    // the token may read contents the file applies.
    fake.add_file(
        "acme/widget",
        "ba5e0002",
        ".covlens.yml",
        b"threshold:\n  total: 1\n",
    );
    fake.inject(Fault::new(FaultKind::Status { status: 403 }, 1).on_path("/contents/"));
    publisher
        .publish(&pr_on(&env, "9", "ba5e0002", "abcdef03"))
        .await
        .unwrap();
    let (state, d, _, _) = verdict(&fake, "abcdef03");
    assert_eq!(state, "failure");
    assert!(
        d.starts_with("coverage policy file unreadable: ba5e0002:.covlens.yml: GET /repos/acme/widget/contents/.covlens.yml: GitHub answered 403"),
        "{d}"
    );
    publisher
        .publish(&pr_on(&env, "10", "ba5e0002", "abcdef04"))
        .await
        .unwrap();
    assert_eq!(verdict(&fake, "abcdef04").0, "success");
    assert_eq!(reads(&fake, "ba5e0002"), 2);

    // Off: the configured policy, even where the repository has a file.
    let (env, fake, publisher) = github_env(&format!("{strict}  repository: false\n")).await;
    fake.add_file(
        "acme/widget",
        "ba5e0001",
        ".covlens.yml",
        b"threshold:\n  total: 1\n",
    );
    publisher
        .publish(&pr_on(&env, "7", "ba5e0001", "abcdef01"))
        .await
        .unwrap();
    assert_eq!(verdict(&fake, "abcdef01").1, total_below_99());
    assert_eq!(
        fake.requests()
            .iter()
            .filter(|r| r.path.contains("/contents/"))
            .count(),
        0
    );
}

/// A postsubmit (and a periodic with refs) is held to the file at the
/// commit it tested: its status there names the rule and the first package
/// below it (the rest is cut at GitHub's 140 characters), and the branch
/// table marks the packages below the file's package threshold.
#[tokio::test(flavor = "multi_thread")]
async fn postsubmit_policy_at_the_tested_commit() {
    let (env, fake, publisher) = github_env("").await;
    fake.add_file(
        "acme/widget",
        "5e7c0de0",
        ".covlens.yml",
        b"threshold:\n  package: 100\n",
    );
    let post = |build: &str, sha: &str| FinishedJob {
        job_type: JobType::Postsubmit,
        refs: Some(Refs {
            org: "acme".into(),
            repo: "widget".into(),
            base_ref: "master".into(),
            base_sha: sha.into(),
            pulls: Vec::new(),
        }),
        ..periodic("ci-goprog", build)
    };
    env.put_fixture(
        "logs/ci-goprog/101/artifacts/combined-coverage.out",
        "demo/cmd-goprog.out",
    );
    env.finish("ci-goprog", "101", "SUCCESS");
    publisher.publish(&post("101", "5e7c0de0")).await.unwrap();
    let state = fake.state();
    let status = state.statuses.iter().find(|s| s.sha == "5e7c0de0").unwrap();
    assert_eq!(status.state, "failure");
    let d = status.description.as_deref().unwrap();
    assert!(
        d.starts_with("coverage policy not met: ")
            && d.contains("(threshold-package ")
            && d.contains("): package example.com/goprog/"),
        "{d}"
    );
    assert_eq!(reads(&fake, "5e7c0de0"), 1);
    let md = env.read("goprog/latest/table.md");
    for (name, (c, t)) in packages(&load("demo/cmd-goprog.out")) {
        if name.contains("/internal/") {
            continue;
        }
        let line = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap();
        assert_eq!(line.contains('✗'), c < t, "{line}");
    }

    // A malformed file at the next commit: the table is still published
    // (unmarked), the status says why.
    env.put_fixture(
        "logs/ci-goprog/102/artifacts/combined-coverage.out",
        "demo/cmd-goprog.out",
    );
    env.finish("ci-goprog", "102", "SUCCESS");
    publisher.publish(&post("102", MISSPELT)).await.unwrap();
    let state = fake.state();
    let status = state.statuses.iter().find(|s| s.sha == MISSPELT).unwrap();
    assert_eq!(status.state, "failure");
    assert!(
        status.description.as_deref().unwrap().starts_with(
            "coverage policy file invalid: c0ffee00:.covlens.yml:2:3: threshold.packge"
        ),
        "{status:?}"
    );
    assert!(!env.read("goprog/latest/table.md").contains('✗'));
}
