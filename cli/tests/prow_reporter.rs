//! `covlens prow reporter` against a real kube-apiserver with Prow's
//! ProwJob CRD (scripts/kube-testenv.sh): ProwJobs are created and moved
//! through their states here, the reporter runs as a subprocess with its
//! test publisher (`--publish-log`, one "NAME STATE" line per publish),
//! and what it published is compared with what it recorded in
//! `status.prev_report_states`.
//!
//! Each test has its own namespace (and so its own Lease); they run one at
//! a time, as one restarts the API server.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use covlens_prow::prowjob::ProwJob;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{
    ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::{Api, Client};
use serde_json::{Value, json};

const NEEDS: &str = "needs a cluster: scripts/kube-testenv.sh";
const REPORTER: &str = "covlens";

/// One test at a time: one of them restarts the API server. (An async
/// mutex: a failed test does not poison it, and it is held across awaits.)
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn kubeconfig() -> PathBuf {
    match std::env::var_os("KUBECONFIG") {
        Some(k) if !k.is_empty() => PathBuf::from(k),
        _ => panic!(
            "KUBECONFIG is not set: start the test cluster with `scripts/kube-testenv.sh start` \
             and `eval \"$(scripts/kube-testenv.sh env)\"` (scripts/test.sh does both)"
        ),
    }
}

async fn client() -> Client {
    covlens_prow::controller::install_crypto_provider();
    let path = kubeconfig();
    covlens_prow::reporter::client(Some(&path))
        .await
        .unwrap_or_else(|e| panic!("a client from {}: {e}", path.display()))
}

/// A fresh namespace for one test.
struct Ns {
    name: String,
    client: Client,
    jobs: Api<ProwJob>,
}

impl Ns {
    async fn new(prefix: &str) -> Ns {
        let client = client().await;
        let name = format!("{prefix}-{:08x}", fastrand_u32());
        let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot create namespace {name} (is the test cluster up?): {e}")
            });
        let jobs = Api::namespaced(client.clone(), &name);
        Ns { name, client, jobs }
    }

    async fn cleanup(&self) {
        let _ = self
            .jobs
            .delete_collection(&DeleteParams::default(), &ListParams::default())
            .await;
        let _ = Api::<Namespace>::all(self.client.clone())
            .delete(&self.name, &DeleteParams::default())
            .await;
    }

    async fn create(&self, name: &str, job: &str, job_type: &str, state: &str) {
        let mut v = prowjob_json(name, &self.name, job, job_type, state);
        if state != "triggered" && state != "pending" {
            v["status"]["completionTime"] = json!(now());
        }
        let pj: ProwJob = serde_json::from_value(v).unwrap();
        self.create_pj(&pj).await;
    }

    async fn create_pj(&self, pj: &ProwJob) {
        for attempt in 0.. {
            match self.jobs.create(&PostParams::default(), pj).await {
                Ok(_) => return,
                Err(e) if attempt < 20 => {
                    eprintln!("create {}: {e}; again", pj.name());
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("cannot create ProwJob {}: {e}", pj.name()),
            }
        }
    }

    /// Moves a job to `state` as Prow's controllers do (a merge patch of
    /// status; completionTime with a final state).
    async fn set_state(&self, name: &str, state: &str) {
        let mut status = json!({"state": state});
        match state {
            "pending" => status["pendingTime"] = json!(now()),
            "triggered" => {}
            _ => status["completionTime"] = json!(now()),
        }
        let patch = json!({ "status": status });
        for attempt in 0.. {
            match self
                .jobs
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => return,
                Err(e) if attempt < 20 => {
                    eprintln!("set {name} {state}: {e}; again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("cannot set {name} to {state}: {e}"),
            }
        }
    }

    /// name -> what this reporter recorded in prev_report_states.
    async fn recorded(&self) -> BTreeMap<String, String> {
        let list = self.jobs.list(&ListParams::default()).await;
        let Ok(list) = list else {
            return BTreeMap::new();
        };
        list.items
            .iter()
            .filter_map(|pj| {
                Some((
                    pj.name().to_string(),
                    pj.reported_state(REPORTER)?.to_string(),
                ))
            })
            .collect()
    }

    /// Waits until every job of `want` has its state recorded.
    async fn wait_recorded(
        &self,
        want: &BTreeMap<String, String>,
        timeout: Duration,
        logs: &[&Reporter],
    ) {
        let t0 = Instant::now();
        loop {
            let got = self.recorded().await;
            if want.iter().all(|(k, v)| got.get(k) == Some(v)) {
                return;
            }
            if t0.elapsed() > timeout {
                let missing: Vec<_> = want
                    .iter()
                    .filter(|(k, v)| got.get(*k) != Some(*v))
                    .collect();
                let logs: String = logs.iter().map(|r| r.log_tail()).collect();
                panic!(
                    "not recorded after {timeout:?}: {} of {} missing, e.g. {:?}\n{logs}",
                    missing.len(),
                    want.len(),
                    &missing[..missing.len().min(5)]
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn fastrand_u32() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    t.subsec_nanos() ^ std::process::id().rotate_left(16)
}

fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .round(k8s_openapi::jiff::Unit::Second)
        .unwrap()
        .to_string()
}

/// A ProwJob as Prow's plank writes it (the fields the CRD requires and
/// the usual labels).
fn prowjob_json(name: &str, ns: &str, job: &str, job_type: &str, state: &str) -> Value {
    let mut v = json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": name, "namespace": ns,
            "labels": {"created-by-prow": "true", "prow.k8s.io/type": job_type,
                       "prow.k8s.io/job": job},
            "annotations": {"prow.k8s.io/job": job}},
        "spec": {"type": job_type, "agent": "kubernetes", "cluster": "default", "job": job,
                 "namespace": "test-pods", "report": true},
        "status": {"state": state, "startTime": now(), "build_id": format!("17{:08}", fastrand_u32() % 100_000_000)}
    });
    let refs = json!({"org": "acme", "repo": "widget", "base_ref": "main", "base_sha": "abc123"});
    match job_type {
        "periodic" => {
            v["spec"]["extra_refs"] = json!([refs]);
        }
        "presubmit" => {
            let mut r = refs;
            r["pulls"] = json!([{"number": 42, "author": "alice", "sha": "def456"}]);
            v["spec"]["refs"] = r;
        }
        _ => v["spec"]["refs"] = refs,
    }
    v
}

/// The reporter as a subprocess.
struct Reporter {
    child: Child,
    port: u16,
    log: PathBuf,
}

struct ReporterOpts<'a> {
    ns: &'a str,
    dir: &'a Path,
    tag: &'a str,
    publish_log: &'a Path,
    publish_delay_ms: u64,
    leader_election: bool,
    concurrency: usize,
}

impl Reporter {
    fn start(o: &ReporterOpts<'_>) -> Reporter {
        let port = free_port();
        let config = o.dir.join(format!("reporter-{}.yaml", o.tag));
        // Lease timings are 2/3 and 1/6 of its duration: 2 s, 500 ms.
        let le = if o.leader_election {
            "lease: {name: covlens-reporter, duration_seconds: 3}"
        } else {
            ""
        };
        std::fs::write(
            &config,
            format!(
                "name: {REPORTER}\nnamespace: {}\nartifacts: file://{}/artifacts\npublish: file://{}/publish\n\
                 selection: {{jobs: '^(ci|pull)-.*-coverage$', labels: created-by-prow=true}}\n\
                 concurrency: {}\nlisten: 127.0.0.1:{port}\n{le}\n",
                o.ns,
                o.dir.display(),
                o.dir.display(),
                o.concurrency
            ),
        )
        .unwrap();
        let log = o.dir.join(format!("reporter-{}.log", o.tag));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = common::covlens()
            .env("COVLENS_LOG", "info")
            .args(["prow", "reporter", "--kubeconfig"])
            .arg(kubeconfig())
            .arg("--config")
            .arg(&config)
            .arg("--publish-log")
            .arg(o.publish_log)
            .arg("--publish-delay-ms")
            .arg(o.publish_delay_ms.to_string())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("covlens runs");
        Reporter { child, port, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- {} (last 40 lines)\n{}\n",
            self.log.display(),
            lines[lines.len().saturating_sub(40)..].join("\n")
        )
    }

    /// GET path on the reporter's HTTP server: (status, body).
    fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        let code = out.split(' ').nth(1)?.parse().ok()?;
        let body = out.split_once("\r\n\r\n")?.1.to_string();
        Some((code, body))
    }

    /// The value of a metric line without labels (or with the exact labels).
    fn metric(&self, series: &str) -> Option<f64> {
        let (_, body) = self.get("/metrics")?;
        body.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    async fn wait_ready(&self) {
        let t0 = Instant::now();
        while self.get("/readyz").map(|r| r.0) != Some(200) {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "not ready after 60 s\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set size (VmHWM), in KiB.
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    }

    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and the exit status.
    fn terminate(&mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let t0 = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "did not stop on SIGTERM\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The "NAME STATE" lines of publish logs.
fn published(logs: &[&Path]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for log in logs {
        for line in std::fs::read_to_string(log).unwrap_or_default().lines() {
            let (n, s) = line.split_once(' ').expect("NAME STATE");
            out.push((n.to_string(), s.to_string()));
        }
    }
    out.sort();
    out
}

fn as_lines(m: &BTreeMap<String, String>) -> Vec<(String, String)> {
    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("covlens-prow-")
        .tempdir()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
async fn prowjob_types_round_trip_through_the_real_crd() {
    let _serial = SERIAL.lock().await;
    let _ = NEEDS;
    let ns = Ns::new("pj-roundtrip").await;
    let mut v = prowjob_json(
        "rt-1",
        &ns.name,
        "pull-widget-coverage",
        "presubmit",
        "success",
    );
    v["spec"]["context"] = json!("pull-widget-coverage");
    v["spec"]["rerun_command"] = json!("/test pull-widget-coverage");
    v["spec"]["refs"]["path_alias"] = json!("example.com/widget");
    v["spec"]["refs"]["pulls"][0]["title"] = json!("Fix the widget");
    v["spec"]["refs"]["pulls"][0]["link"] = json!("https://github.com/acme/widget/pull/42");
    v["spec"]["extra_refs"] = json!([{"org": "acme", "repo": "tools", "base_ref": "main"}]);
    v["spec"]["max_concurrency"] = json!(1);
    v["spec"]["decoration_config"] = json!({"timeout": "2h0m0s", "grace_period": "15m0s",
        "gcs_configuration": {"bucket": "acme-prow", "path_strategy": "explicit"}});
    v["spec"]["pod_spec"] = json!({"containers": [{"name": "test", "image": "golang:1.26",
        "command": ["make", "test"], "env": [{"name": "GOCOVERDIR", "value": "/tmp/cov"}]}]});
    v["status"] = json!({"state": "success", "startTime": "2026-01-01T00:00:00Z",
        "pendingTime": "2026-01-01T00:01:00Z", "completionTime": "2026-01-01T00:10:00Z",
        "description": "Job succeeded.", "url": "https://prow.example/view/gs/acme-prow/pr-logs/1",
        "pod_name": "rt-1", "build_id": "1790000000000000000", "jenkins_build_id": "7",
        "prev_report_states": {"gcsreporter": "success", "github-reporter": "success"}});
    let pj: ProwJob = serde_json::from_value(v.clone()).unwrap();
    ns.create_pj(&pj).await;

    // Field names the CRD does not know would be pruned: all came back.
    let back = ns.jobs.get("rt-1").await.unwrap();
    assert_eq!(
        back.spec.refs.as_ref().unwrap().base_sha.as_deref(),
        Some("abc123")
    );
    let pull = &back.spec.refs.as_ref().unwrap().pulls.as_ref().unwrap()[0];
    assert_eq!(
        (pull.number, pull.author.as_str(), pull.sha.as_str()),
        (42, "alice", "def456")
    );
    assert_eq!(pull.extra["title"], "Fix the widget");
    assert_eq!(back.spec.job_type, "presubmit");
    assert_eq!(back.spec.agent.as_deref(), Some("kubernetes"));
    assert_eq!(back.spec.cluster.as_deref(), Some("default"));
    assert_eq!(back.spec.extra["pod_spec"], v["spec"]["pod_spec"]);
    assert_eq!(
        back.spec.extra["decoration_config"],
        v["spec"]["decoration_config"]
    );
    assert_eq!(
        back.status.start_time.as_deref(),
        Some("2026-01-01T00:00:00Z")
    );
    assert_eq!(
        back.status.completion_time.as_deref(),
        Some("2026-01-01T00:10:00Z")
    );
    assert_eq!(back.status.build_id.as_deref(), Some("1790000000000000000"));
    assert_eq!(back.status.pod_name.as_deref(), Some("rt-1"));
    assert_eq!(back.status.url, pj.status.url);
    assert_eq!(back.status.extra["jenkins_build_id"], "7");
    assert_eq!(back.reported_state("gcsreporter"), Some("success"));
    assert_eq!(back.spec, pj.spec);
    assert_eq!(back.status, pj.status);

    // The typed object serialises to exactly what the server holds.
    let ar = ApiResource::erase::<ProwJob>(&());
    let raw: Api<DynamicObject> = Api::namespaced_with(ns.client.clone(), &ns.name, &ar);
    let raw = serde_json::to_value(raw.get("rt-1").await.unwrap()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), raw);

    // Written back through the types (a replace, guarded by its
    // resourceVersion), nothing is lost.
    let mut edited = back.clone();
    edited.status.description = Some("reported".into());
    let after = ns
        .jobs
        .replace("rt-1", &PostParams::default(), &edited)
        .await
        .unwrap();
    assert_eq!(after.spec, pj.spec);
    assert_eq!(after.status.extra, pj.status.extra);
    assert_eq!(after.status.description.as_deref(), Some("reported"));

    let f = after.to_finished().unwrap();
    assert_eq!(f.build_id, "1790000000000000000");
    assert_eq!(f.refs.unwrap().pulls[0].number, 42);
    ns.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
async fn one_report_per_transition_into_a_final_state() {
    let _serial = SERIAL.lock().await;
    let ns = Ns::new("pj-transitions").await;
    let dir = tempdir();
    let plog = dir.path().join("published");
    let r = Reporter::start(&ReporterOpts {
        ns: &ns.name,
        dir: dir.path(),
        tag: "r",
        publish_log: &plog,
        publish_delay_ms: 0,
        leader_election: true,
        concurrency: 4,
    });
    r.wait_ready().await;
    assert_eq!(r.get("/healthz").unwrap().0, 200);

    let jobs = [
        ("per-ok", "ci-widget-coverage", "periodic", "success"),
        ("pre-fail", "pull-widget-coverage", "presubmit", "failure"),
        (
            "post-abort",
            "ci-widget-post-coverage",
            "postsubmit",
            "aborted",
        ),
        ("per-error", "ci-widget-coverage", "periodic", "error"),
        ("unit-ok", "ci-widget-unit", "periodic", "success"),
        ("flip", "ci-widget-coverage", "periodic", "failure"),
    ];
    for (name, job, ty, _) in jobs {
        ns.create(name, job, ty, "triggered").await;
    }
    // Not created by Prow (no created-by-prow label): not watched.
    let mut foreign = prowjob_json(
        "foreign-ok",
        &ns.name,
        "ci-widget-coverage",
        "periodic",
        "triggered",
    );
    foreign["metadata"]["labels"] = json!({"team": "x"});
    ns.create_pj(&serde_json::from_value(foreign).unwrap())
        .await;
    // Already reported by an earlier covlens: stays as it is.
    let mut earlier = prowjob_json(
        "earlier-ok",
        &ns.name,
        "ci-widget-coverage",
        "periodic",
        "success",
    );
    earlier["status"]["completionTime"] = json!(now());
    earlier["status"]["prev_report_states"] = json!({REPORTER: "success"});
    ns.create_pj(&serde_json::from_value(earlier).unwrap())
        .await;

    for (name, _, _, _) in jobs {
        ns.set_state(name, "pending").await;
    }
    // Another reporter of Crier's has recorded something: kept.
    let p = json!({"status": {"prev_report_states": {"gcsreporter": "pending"}}});
    ns.jobs
        .patch("per-ok", &PatchParams::default(), &Patch::Merge(&p))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        published(&[&plog]).is_empty(),
        "published before a final state"
    );
    for (name, _, _, state) in jobs {
        ns.set_state(name, state).await;
    }
    ns.set_state("foreign-ok", "success").await;
    let want: BTreeMap<String, String> = jobs
        .iter()
        .filter(|j| j.1.ends_with("-coverage"))
        .map(|j| (j.0.to_string(), j.3.to_string()))
        .collect();
    ns.wait_recorded(&want, Duration::from_secs(30), &[&r])
        .await;

    // Later changes of reported jobs (a label, the description) are no new
    // transitions.
    for name in ["per-ok", "pre-fail"] {
        let p = json!({"metadata": {"labels": {"touched": "yes"}}, "status": {"description": "touched"}});
        ns.jobs
            .patch(name, &PatchParams::default(), &Patch::Merge(&p))
            .await
            .unwrap();
    }
    // A job that is set to another final state is a new transition.
    ns.set_state("flip", "success").await;
    let mut want2 = want.clone();
    want2.insert("flip".into(), "success".into());
    ns.wait_recorded(&want2, Duration::from_secs(30), &[&r])
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let mut expected = as_lines(&want);
    expected.push(("flip".into(), "success".into()));
    expected.sort();
    assert_eq!(published(&[&plog]), expected, "{}", r.log_tail());
    let recorded = ns.recorded().await;
    assert_eq!(recorded.get("unit-ok"), None);
    assert_eq!(recorded.get("foreign-ok"), None);
    assert_eq!(
        recorded.get("earlier-ok").map(String::as_str),
        Some("success")
    );
    // Crier's other reporters' keys are kept by the merge patch.
    let per_ok = ns.jobs.get("per-ok").await.unwrap();
    assert_eq!(per_ok.reported_state("gcsreporter"), Some("pending"));
    assert_eq!(per_ok.reported_state(REPORTER), Some("success"));
    assert_eq!(
        r.metric("covlens_prow_reports_total{state=\"success\",outcome=\"published\"}"),
        Some(2.0),
        "{}",
        r.get("/metrics").unwrap().1
    );
    assert_eq!(
        r.metric("covlens_prow_reports_total{state=\"failure\",outcome=\"published\"}"),
        Some(2.0)
    );
    assert_eq!(r.metric("covlens_prow_leader"), Some(1.0));
    assert_eq!(r.metric("covlens_prow_report_lag_seconds_count"), Some(6.0));
    assert_eq!(r.get("/readyz").unwrap().0, 200);
    ns.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
async fn reporter_killed_and_restarted_reports_each_job_once() {
    let _serial = SERIAL.lock().await;
    let ns = Ns::new("pj-restart").await;
    let dir = tempdir();
    let plog = dir.path().join("published");
    let opts = |tag, delay| ReporterOpts {
        ns: &ns.name,
        dir: dir.path(),
        tag,
        publish_log: &plog,
        publish_delay_ms: delay,
        leader_election: true,
        concurrency: 4,
    };
    let names: Vec<String> = (0..30).map(|i| format!("job-{i:02}")).collect();
    for n in &names {
        ns.create(n, "ci-widget-coverage", "periodic", "pending")
            .await;
    }
    let mut r1 = Reporter::start(&opts("1", 0));
    r1.wait_ready().await;
    // The first ten finish and are reported; the reporter is killed idle.
    let first: BTreeMap<String, String> = names[..10]
        .iter()
        .map(|n| (n.clone(), "success".into()))
        .collect();
    for n in first.keys() {
        ns.set_state(n, "success").await;
    }
    ns.wait_recorded(&first, Duration::from_secs(30), &[&r1])
        .await;
    r1.kill9();
    // Ten more finish while no reporter runs.
    let mut all = first.clone();
    for n in &names[10..20] {
        ns.set_state(n, "failure").await;
        all.insert(n.clone(), "failure".into());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(published(&[&plog]), as_lines(&first));

    // The restarted reporter (a new identity: it waits for the dead one's
    // lease to expire) reports those ten, not the first ten again.
    let mut r2 = Reporter::start(&opts("2", 1000));
    ns.wait_recorded(&all, Duration::from_secs(60), &[&r2])
        .await;
    assert_eq!(published(&[&plog]), as_lines(&all), "{}", r2.log_tail());

    // Killed while publishing (each publish takes 1 s): what was being
    // published may be published again after the restart (publishing is
    // idempotent), nothing else.
    for n in &names[20..] {
        ns.set_state(n, "success").await;
        all.insert(n.clone(), "success".into());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    r2.kill9();
    let recorded_at_kill = ns.recorded().await;
    let in_flight: BTreeSet<String> = names[20..]
        .iter()
        .filter(|n| !recorded_at_kill.contains_key(*n))
        .cloned()
        .collect();
    assert!(!in_flight.is_empty(), "killed too late to test anything");
    let r3 = Reporter::start(&opts("3", 0));
    ns.wait_recorded(&all, Duration::from_secs(60), &[&r3])
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let lines = published(&[&plog]);
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (n, s) in &lines {
        assert_eq!(all.get(n), Some(s), "{n} published as {s}");
        *count.entry(n).or_default() += 1;
    }
    assert_eq!(count.len(), names.len(), "every job published");
    for (n, c) in &count {
        assert!(
            *c == 1 || (*c == 2 && in_flight.contains(*n)),
            "{n} published {c} times; in flight at the kill: {in_flight:?}"
        );
    }
    eprintln!(
        "killed with {} jobs unrecorded; republished after the restart: {}",
        in_flight.len(),
        count.values().filter(|c| **c > 1).count()
    );
    ns.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
async fn job_deleted_while_being_reported() {
    let _serial = SERIAL.lock().await;
    let ns = Ns::new("pj-deleted").await;
    let dir = tempdir();
    let plog = dir.path().join("published");
    let r = Reporter::start(&ReporterOpts {
        ns: &ns.name,
        dir: dir.path(),
        tag: "r",
        publish_log: &plog,
        publish_delay_ms: 3000,
        leader_election: false,
        concurrency: 2,
    });
    r.wait_ready().await;
    ns.create("doomed", "ci-widget-coverage", "periodic", "pending")
        .await;
    ns.create("next", "ci-widget-coverage", "periodic", "pending")
        .await;
    ns.set_state("doomed", "success").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    ns.jobs
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    // The publish ends, the record finds no job: logged, counted, no retry.
    let t0 = Instant::now();
    while r.metric("covlens_prow_deleted_before_recorded_total") != Some(1.0) {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.log_tail());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(r.log_tail().contains("deleted while being reported"));
    ns.set_state("next", "failure").await;
    let want = BTreeMap::from([("next".to_string(), "failure".to_string())]);
    ns.wait_recorded(&want, Duration::from_secs(20), &[&r])
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        published(&[&plog]),
        [
            ("doomed".into(), "success".into()),
            ("next".into(), "failure".into())
        ]
    );
    ns.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
async fn two_replicas_report_once() {
    let _serial = SERIAL.lock().await;
    let ns = Ns::new("pj-replicas").await;
    let dir = tempdir();
    let (log_a, log_b) = (
        dir.path().join("published-a"),
        dir.path().join("published-b"),
    );
    let opts = |tag, log| ReporterOpts {
        ns: &ns.name,
        dir: dir.path(),
        tag,
        publish_log: log,
        publish_delay_ms: 50,
        leader_election: true,
        concurrency: 4,
    };
    let mut a = Reporter::start(&opts("a", &log_a));
    let mut b = Reporter::start(&opts("b", &log_b));
    a.wait_ready().await;
    b.wait_ready().await;
    let mut all = BTreeMap::new();
    for i in 0..30 {
        let n = format!("rep-{i:02}");
        ns.create(&n, "ci-widget-coverage", "periodic", "pending")
            .await;
        all.insert(n, "success".to_string());
    }
    for n in all.keys() {
        ns.set_state(n, "success").await;
    }
    ns.wait_recorded(&all, Duration::from_secs(60), &[&a, &b])
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(published(&[&log_a, &log_b]), as_lines(&all));
    let leaders = (
        a.metric("covlens_prow_leader"),
        b.metric("covlens_prow_leader"),
    );
    assert!(
        leaders == (Some(1.0), Some(0.0)) || leaders == (Some(0.0), Some(1.0)),
        "leader gauges {leaders:?}"
    );
    // One replica published everything (unless the lease changed hands on
    // this busy machine, which its log says).
    assert!(
        published(&[&log_a]).is_empty()
            || published(&[&log_b]).is_empty()
            || (a.log_text() + &b.log_text()).contains("stopped reporting"),
        "both replicas published\n{}{}",
        a.log_tail(),
        b.log_tail()
    );

    // The leader stops (SIGTERM: it releases the lease); the other takes
    // over and reports what finishes next.
    let (leader, other, other_log) = if leaders.0 == Some(1.0) {
        (&mut a, &mut b, &log_b)
    } else {
        (&mut b, &mut a, &log_a)
    };
    let before_other = published(&[other_log]).len();
    assert!(leader.terminate().success(), "{}", leader.log_tail());
    assert!(
        leader.log_tail().contains("released the lease"),
        "{}",
        leader.log_tail()
    );
    for i in 30..40 {
        let n = format!("rep-{i:02}");
        ns.create(&n, "ci-widget-coverage", "periodic", "pending")
            .await;
        ns.set_state(&n, "failure").await;
        all.insert(n, "failure".to_string());
    }
    ns.wait_recorded(&all, Duration::from_secs(60), &[other])
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(published(&[&log_a, &log_b]), as_lines(&all));
    assert_eq!(published(&[other_log]).len(), before_other + 10);
    assert_eq!(other.metric("covlens_prow_leader"), Some(1.0));
    assert!(other.alive());
    ns.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
async fn api_server_and_etcd_restarted_mid_watch() {
    let _serial = SERIAL.lock().await;
    let testenv = std::env::var("COVLENS_KUBE_TESTENV")
        .expect("COVLENS_KUBE_TESTENV is not set: eval \"$(scripts/kube-testenv.sh env)\"");
    let etcd = std::env::var("COVLENS_ETCD_ENDPOINT")
        .expect("COVLENS_ETCD_ENDPOINT is not set: eval \"$(scripts/kube-testenv.sh env)\"");
    let ns = Ns::new("pj-apiserver").await;
    let dir = tempdir();
    let plog = dir.path().join("published");
    let mut r = Reporter::start(&ReporterOpts {
        ns: &ns.name,
        dir: dir.path(),
        tag: "r",
        publish_log: &plog,
        publish_delay_ms: 0,
        leader_election: true,
        concurrency: 4,
    });
    r.wait_ready().await;
    let mut all = BTreeMap::new();
    for i in 0..5 {
        let n = format!("before-{i}");
        ns.create(&n, "ci-widget-coverage", "periodic", "pending")
            .await;
        ns.set_state(&n, "success").await;
        all.insert(n, "success".to_string());
    }
    ns.wait_recorded(&all, Duration::from_secs(30), &[&r]).await;
    // Jobs created and changed after the reporter's last event, then etcd's
    // history compacted: the reporter's watch cannot resume from where it
    // was (410 Gone) and must list again.
    for i in 0..5 {
        ns.create(
            &format!("during-{i}"),
            "ci-widget-coverage",
            "periodic",
            "pending",
        )
        .await;
    }
    compact_etcd(&etcd);
    let restart = Command::new(&testenv)
        .args(["restart", "all"])
        .output()
        .unwrap();
    assert!(
        restart.status.success(),
        "{}",
        String::from_utf8_lossy(&restart.stderr)
    );
    assert!(
        r.alive(),
        "the reporter died with the API server\n{}",
        r.log_tail()
    );
    for i in 0..5 {
        let n = format!("during-{i}");
        ns.set_state(&n, "failure").await;
        all.insert(n, "failure".to_string());
    }
    ns.wait_recorded(&all, Duration::from_secs(90), &[&r]).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(published(&[&plog]), as_lines(&all), "{}", r.log_tail());
    assert!(r.metric("covlens_prow_watch_errors_total").unwrap_or(0.0) >= 1.0);
    // The compacted history made it list again (410 Gone), not resume.
    let log = std::fs::read_to_string(&r.log).unwrap();
    assert!(
        log.matches("listed ProwJobs").count() >= 2,
        "{}",
        r.log_tail()
    );
    eprintln!("{}", r.log_tail());
    assert_eq!(r.get("/readyz").map(|x| x.0), Some(200));
    ns.cleanup().await;
}

/// Compacts etcd's whole history (its JSON gateway).
fn compact_etcd(endpoint: &str) {
    let curl = |path: &str, body: &str| {
        let out = Command::new("curl")
            .args([
                "-sS",
                "--fail",
                "--max-time",
                "10",
                "-X",
                "POST",
                "-d",
                body,
            ])
            .arg(format!("{endpoint}{path}"))
            .output()
            .expect("curl runs");
        assert!(
            out.status.success(),
            "{path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    // "AA==" is the key "\0": any key gives the current revision.
    let rev = curl("/v3/kv/range", r#"{"key": "AA=="}"#)["header"]["revision"]
        .as_str()
        .expect("a revision")
        .to_string();
    curl(
        "/v3/kv/compaction",
        &format!(r#"{{"revision": "{rev}", "physical": true}}"#),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
async fn five_hundred_jobs_finishing_together() {
    let _serial = SERIAL.lock().await;
    let n: usize = std::env::var("COVLENS_BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let ns = Ns::new("pj-many").await;
    let dir = tempdir();
    let plog = dir.path().join("published");
    let names: Vec<String> = (0..n).map(|i| format!("many-{i:04}")).collect();
    let t0 = Instant::now();
    parallel(&ns, &names, 16, |ns, name| async move {
        ns.create(&name, "ci-widget-coverage", "periodic", "pending")
            .await;
    })
    .await;
    eprintln!(
        "created {n} pending ProwJobs in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let r = Reporter::start(&ReporterOpts {
        ns: &ns.name,
        dir: dir.path(),
        tag: "r",
        publish_log: &plog,
        publish_delay_ms: 0,
        leader_election: true,
        concurrency: 8,
    });
    r.wait_ready().await;
    let rss_idle = r.peak_rss_kib();
    let t0 = Instant::now();
    parallel(&ns, &names, 16, |ns, name| async move {
        ns.set_state(&name, "success").await;
    })
    .await;
    let finished = t0.elapsed();
    let all: BTreeMap<String, String> = names
        .iter()
        .map(|n| (n.clone(), "success".into()))
        .collect();
    ns.wait_recorded(&all, Duration::from_secs(300), &[&r])
        .await;
    let recorded = t0.elapsed();
    let rss = r.peak_rss_kib();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(published(&[&plog]), as_lines(&all));
    eprintln!(
        "BENCH prow-reporter: {n} ProwJobs set to success in {:.1} s; all recorded {:.1} s after the first; \
         reporter peak RSS {} KiB (after listing, before: {} KiB)",
        finished.as_secs_f64(),
        recorded.as_secs_f64(),
        rss.unwrap_or(0),
        rss_idle.unwrap_or(0),
    );
    ns.cleanup().await;
}

/// Runs `f` on every name, `width` at a time.
async fn parallel<F, Fut>(ns: &Ns, names: &[String], width: usize, f: F)
where
    F: Fn(Ns, String) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for name in names {
        while set.len() >= width {
            set.join_next().await.unwrap().unwrap();
        }
        let handle = Ns {
            name: ns.name.clone(),
            client: ns.client.clone(),
            jobs: ns.jobs.clone(),
        };
        set.spawn(f(handle, name.clone()));
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a cluster: scripts/kube-testenv.sh"]
async fn losing_the_lease_stops_reporting() {
    use k8s_openapi::api::coordination::v1::Lease;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
    let _serial = SERIAL.lock().await;
    let ns = Ns::new("pj-lease").await;
    let dir = tempdir();
    let plog = dir.path().join("published");
    let r = Reporter::start(&ReporterOpts {
        ns: &ns.name,
        dir: dir.path(),
        tag: "r",
        publish_log: &plog,
        publish_delay_ms: 0,
        leader_election: true,
        concurrency: 4,
    });
    r.wait_ready().await;
    let t0 = Instant::now();
    while r.metric("covlens_prow_leader") != Some(1.0) {
        assert!(t0.elapsed() < Duration::from_secs(20), "{}", r.log_tail());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Another holder takes the lease over and keeps renewing it.
    let leases: Api<Lease> = Api::namespaced(ns.client.clone(), &ns.name);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let thief = tokio::spawn({
        let (leases, stop) = (leases.clone(), stop.clone());
        async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(mut l) = leases.get("covlens-reporter").await {
                    let spec = l.spec.get_or_insert_with(Default::default);
                    spec.holder_identity = Some("thief".into());
                    spec.renew_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::now()));
                    spec.lease_duration_seconds = Some(3);
                    let _ = leases
                        .replace("covlens-reporter", &PostParams::default(), &l)
                        .await;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    });
    let t0 = Instant::now();
    while r.metric("covlens_prow_leader") != Some(0.0) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "still leading\n{}",
            r.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut all = BTreeMap::new();
    for i in 0..5 {
        let n = format!("stolen-{i}");
        ns.create(&n, "ci-widget-coverage", "periodic", "pending")
            .await;
        ns.set_state(&n, "success").await;
        all.insert(n, "success".to_string());
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(ns.recorded().await.is_empty(), "reported without the lease");
    assert!(
        published(&[&plog]).is_empty(),
        "published without the lease"
    );
    // The other holder goes away: once its lease expires, the reporter
    // takes it back and reports what finished meanwhile.
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    thief.await.unwrap();
    ns.wait_recorded(&all, Duration::from_secs(30), &[&r]).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(published(&[&plog]), as_lines(&all));
    let lease = leases.get("covlens-reporter").await.unwrap().spec.unwrap();
    assert_ne!(lease.holder_identity.as_deref(), Some("thief"));
    assert!(lease.lease_transitions.unwrap_or(0) >= 1);
    ns.cleanup().await;
}
