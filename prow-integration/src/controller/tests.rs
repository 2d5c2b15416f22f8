//! The reporting decision against a mock API server (tower-test): what is
//! read, published and patched, in which order.

use std::sync::Mutex;

use ::http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock::{Handle, SendResponse};

use super::*;
use crate::publish::{BoxFuture, FinishedJob};

struct Recording {
    calls: Mutex<Vec<String>>,
    answer: fn() -> Result<Outcome, PublishError>,
}

impl Publish for Recording {
    fn publish<'a>(&'a self, job: &'a FinishedJob) -> BoxFuture<'a, Result<Outcome, PublishError>> {
        self.calls
            .lock()
            .unwrap()
            .push(format!("{} {}", job.name, job.state.as_str()));
        let answer = (self.answer)();
        Box::pin(async move { answer })
    }
}

fn new_core(
    client: Client,
    answer: fn() -> Result<Outcome, PublishError>,
) -> (Arc<Core>, Arc<Recording>) {
    let publisher = Arc::new(Recording {
        calls: Mutex::default(),
        answer,
    });
    let mut settings = ControllerSettings::new("covlens", "default");
    settings.job_pattern = Some(whole_name_pattern("ci-.*-coverage").unwrap());
    let core = Arc::new(Core {
        api: Api::namespaced(client, "default"),
        settings,
        publisher: publisher.clone(),
        metrics: Arc::new(Metrics::default()),
        published: Mutex::default(),
        candidates: Mutex::default(),
        attempts: Mutex::default(),
        current: Mutex::default(),
    });
    (core, publisher)
}

fn prowjob(rv: &str, state: &str, reported: Option<&str>) -> Value {
    let mut pj = json!({
        "apiVersion": "prow.k8s.io/v1", "kind": "ProwJob",
        "metadata": {"name": "pj1", "namespace": "default", "uid": "u1", "resourceVersion": rv},
        "spec": {"type": "periodic", "job": "ci-e2e-coverage", "agent": "kubernetes"},
        "status": {"state": state, "startTime": "2026-01-01T00:00:00Z",
                   "completionTime": "2026-01-01T00:10:00Z", "build_id": "17"}
    });
    if let Some(r) = reported {
        pj["status"]["prev_report_states"] = json!({"covlens": r, "gcsreporter": "success"});
    }
    pj
}

fn status(code: u16, reason: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": reason, "reason": reason, "code": code})
}

type Mock = Handle<Request<Body>, Response<Body>>;

async fn expect(handle: &mut Mock, method: Method) -> (Value, SendResponse<Response<Body>>) {
    let (req, send) = tokio::time::timeout(Duration::from_secs(5), handle.next_request())
        .await
        .expect("a request in time")
        .expect("a request");
    assert_eq!(req.method(), method, "{}", req.uri());
    assert_eq!(
        req.uri().path(),
        "/apis/prow.k8s.io/v1/namespaces/default/prowjobs/pj1"
    );
    if method == Method::PATCH {
        assert_eq!(
            req.headers()["content-type"],
            "application/merge-patch+json"
        );
    }
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap()
    };
    (body, send)
}

fn reply(send: SendResponse<Response<Body>>, code: u16, body: &Value) {
    let res = Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    send.send_response(res);
}

fn mock() -> (Client, Mock) {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    (Client::new(svc, "default"), handle)
}

fn published() -> Result<Outcome, PublishError> {
    Ok(Outcome::Published("tables".into()))
}

#[tokio::test]
async fn publishes_then_records_with_resource_version() {
    let (client, mut h) = mock();
    let (core, rec) = new_core(client, published);
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "success", None));
        let (patch, send) = expect(&mut h, Method::PATCH).await;
        assert_eq!(
            patch,
            json!({"metadata": {"resourceVersion": "10"},
                   "status": {"prev_report_states": {"covlens": "success"}}})
        );
        reply(send, 200, &prowjob("11", "success", Some("success")));
    });
    assert!(matches!(core.process("pj1").await, Step::Done));
    server.await.unwrap();
    assert_eq!(*rec.calls.lock().unwrap(), ["pj1 success"]);
    assert_eq!(core.metrics.reports_with_outcome("published"), 1);
    assert!(core.published.lock().unwrap().is_empty());
}

#[tokio::test]
async fn already_recorded_is_not_published() {
    let (client, mut h) = mock();
    let (core, rec) = new_core(client, published);
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "failure", Some("failure")));
    });
    assert!(matches!(core.process("pj1").await, Step::Done));
    server.await.unwrap();
    assert!(rec.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn not_final_or_not_selected_is_left_alone() {
    let (client, mut h) = mock();
    let (core, rec) = new_core(client, published);
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "pending", None));
        let (_, send) = expect(&mut h, Method::GET).await;
        let mut other = prowjob("10", "success", None);
        other["spec"]["job"] = json!("ci-e2e-coverage-not");
        reply(send, 200, &other);
    });
    assert!(matches!(core.process("pj1").await, Step::Done));
    assert!(matches!(core.process("pj1").await, Step::Done));
    server.await.unwrap();
    assert!(rec.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn conflict_rereads_and_records_without_publishing_again() {
    let (client, mut h) = mock();
    let (core, rec) = new_core(client, published);
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "success", None));
        let (_, send) = expect(&mut h, Method::PATCH).await;
        reply(send, 409, &status(409, "Conflict"));
        // Someone changed something else (a label): still unreported.
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("12", "success", None));
        let (patch, send) = expect(&mut h, Method::PATCH).await;
        assert_eq!(patch["metadata"]["resourceVersion"], "12");
        reply(send, 200, &prowjob("13", "success", Some("success")));
    });
    assert!(matches!(core.process("pj1").await, Step::Done));
    server.await.unwrap();
    assert_eq!(rec.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn conflict_with_another_reporter_stops() {
    let (client, mut h) = mock();
    let (core, rec) = new_core(client, published);
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "success", None));
        let (_, send) = expect(&mut h, Method::PATCH).await;
        reply(send, 409, &status(409, "Conflict"));
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("12", "success", Some("success")));
    });
    assert!(matches!(core.process("pj1").await, Step::Done));
    server.await.unwrap();
    assert_eq!(rec.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn deleted_before_recording_is_fine() {
    let (client, mut h) = mock();
    let (core, rec) = new_core(client, published);
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "aborted", None));
        let (_, send) = expect(&mut h, Method::PATCH).await;
        reply(send, 404, &status(404, "NotFound"));
    });
    assert!(matches!(core.process("pj1").await, Step::Done));
    server.await.unwrap();
    assert_eq!(*rec.calls.lock().unwrap(), ["pj1 aborted"]);
    assert!(
        core.metrics
            .render()
            .contains("covlens_prow_deleted_before_recorded_total 1\n")
    );
}

#[tokio::test]
async fn transient_is_retried_unrecorded_permanent_is_recorded() {
    let (client, mut h) = mock();
    let (core, rec) = new_core(client, || {
        Err(PublishError::Transient("bucket away".into()))
    });
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "error", None));
        h
    });
    assert!(matches!(core.process("pj1").await, Step::Retry));
    let mut h = server.await.unwrap();
    assert_eq!(rec.calls.lock().unwrap().len(), 1);
    assert!(core.published.lock().unwrap().is_empty());
    let first = core.backoff("pj1");
    let second = core.backoff("pj1");
    assert!(
        first >= Duration::from_secs(1) && first <= Duration::from_millis(1250),
        "{first:?}"
    );
    assert!(
        second >= Duration::from_secs(2) && second <= Duration::from_millis(2500),
        "{second:?}"
    );

    let (client, h2) = mock();
    drop(h);
    h = h2;
    let (core, rec) = new_core(client, || {
        Err(PublishError::Permanent("hostile profile".into()))
    });
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "error", None));
        let (patch, send) = expect(&mut h, Method::PATCH).await;
        assert_eq!(patch["status"]["prev_report_states"]["covlens"], "error");
        reply(send, 200, &prowjob("11", "error", Some("error")));
    });
    assert!(matches!(core.process("pj1").await, Step::Done));
    server.await.unwrap();
    assert_eq!(rec.calls.lock().unwrap().len(), 1);
    let text = core.metrics.render();
    assert!(
        text.contains("covlens_prow_errors_total{kind=\"publish_permanent\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("covlens_prow_reports_total{state=\"error\",outcome=\"error\"} 1\n"),
        "{text}"
    );
}

#[tokio::test]
async fn failed_record_is_retried_without_publishing_again() {
    let (client, mut h) = mock();
    let (core, rec) = new_core(client, published);
    let server = tokio::spawn(async move {
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "success", None));
        let (_, send) = expect(&mut h, Method::PATCH).await;
        reply(send, 503, &status(503, "ServiceUnavailable"));
        let (_, send) = expect(&mut h, Method::GET).await;
        reply(send, 200, &prowjob("10", "success", None));
        let (_, send) = expect(&mut h, Method::PATCH).await;
        reply(send, 200, &prowjob("11", "success", Some("success")));
    });
    assert!(matches!(core.process("pj1").await, Step::Retry));
    assert!(matches!(core.process("pj1").await, Step::Done));
    server.await.unwrap();
    assert_eq!(rec.calls.lock().unwrap().len(), 1);
}

#[test]
fn settings_are_checked() {
    let mut s = ControllerSettings::new("covlens", "default");
    assert!(s.validate().is_ok());
    s.concurrency = 0;
    assert!(
        s.validate()
            .unwrap_err()
            .to_string()
            .contains("concurrency")
    );
    s.concurrency = 1;
    let mut l = LeaseSettings::new("covlens", "default", "me");
    l.renew_deadline = l.lease_duration;
    s.leader_election = Some(l);
    assert!(
        s.validate()
            .unwrap_err()
            .to_string()
            .contains("renew deadline")
    );
    let re = whole_name_pattern("ci-.*|pull-x").unwrap();
    assert!(re.is_match("ci-a") && re.is_match("pull-x") && !re.is_match("pull-xy"));
}

fn settings_of(yaml: &str) -> ControllerSettings {
    let c = Config::parse(
        &format!("artifacts: file:///a\npublish: file:///p\n{yaml}"),
        "reporter.yaml",
    )
    .unwrap();
    ControllerSettings::from_config(&c).unwrap()
}

#[test]
fn settings_from_config_name_and_select_jobs_and_the_lease() {
    let s = settings_of(
        "name: cov\nnamespace: prow\n\
         dashboards: [{name: e2e, columns: [{label: master, job: ci-a.b}]}]\n\
         selection: {jobs: '^pull-.*-coverage$', labels: created-by-prow=true}\n\
         concurrency: 8\nlisten: 127.0.0.1:9090\nlease: {name: l, duration_seconds: 3}\n",
    );
    let re = s.job_pattern.unwrap();
    assert!(re.is_match("ci-a.b") && re.is_match("pull-x-coverage"));
    // Named jobs match whole, dots literally.
    assert!(!re.is_match("ci-aXb") && !re.is_match("ci-a.b-2"));
    assert_eq!(s.label_selector.as_deref(), Some("created-by-prow=true"));
    assert_eq!((s.concurrency, s.reporter_name.as_str()), (8, "cov"));
    let l = s.leader_election.unwrap();
    assert_eq!((l.name.as_str(), l.namespace.as_str()), ("l", "prow"));
    assert_eq!(l.renew_deadline, Duration::from_secs(2));
    assert_eq!(l.retry_period, Duration::from_millis(500));
}

#[test]
fn settings_from_config_without_a_lease_one_replica_reports() {
    let s = settings_of("name: cov\n");
    assert!(s.leader_election.is_none());
    assert!(!s.job_pattern.unwrap().is_match("anything"));
}
