//! The GitHub client and comment upserts against the fake GitHub, over
//! real HTTP on loopback.

use std::time::{Duration, Instant};

use covlens_prow::github::fake::{
    FakeComment, FakeGitHub, FakeOptions, Fault, FaultKind, RecordedRequest,
};
use covlens_prow::github::{
    Annotation, AnnotationLevel, COMMENT_MARKER, CheckConclusion, CheckOutput, CheckRun,
    CheckRunUpdate, CheckStatus, Client, ClientOptions, Comment, Commenter, CommitStatus, GitHub,
    GitHubError, GitHubFuture, PullRequest, Repo, RetryPolicy, StatusState, TokenSource, Upsert,
    User, coverage_status, post_check_run, run_stamp_line,
};

const BOT: &str = "covlens-bot";
const TOKEN: &str = "tok-bot";

async fn fake(page_size: Option<usize>, prefix: &str) -> FakeGitHub {
    FakeGitHub::start(FakeOptions {
        tokens: vec![
            (TOKEN.to_owned(), BOT.to_owned()),
            ("tok-alice".to_owned(), "alice".to_owned()),
        ],
        page_size,
        prefix: prefix.to_owned(),
        ..FakeOptions::default()
    })
    .await
    .expect("fake GitHub starts")
}

fn options(fake: &FakeGitHub, token: TokenSource) -> ClientOptions {
    let mut o = ClientOptions::new(token);
    o.api = fake.url();
    o.timeout = Duration::from_secs(5);
    o.retry = RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        secondary_limit_wait: Duration::from_millis(300),
        max_rate_limit_wait: Duration::from_secs(10),
    };
    o
}

fn client(fake: &FakeGitHub) -> Client {
    Client::new(options(fake, TokenSource::Value(TOKEN.to_owned()))).unwrap()
}

fn commenter(c: Client) -> Commenter<Client> {
    Commenter::new(c).with_settle_delay(Duration::ZERO)
}

fn pr() -> PullRequest {
    PullRequest::new(Repo::new("acme", "widget").unwrap(), 42)
}

fn body(text: &str) -> String {
    format!("{COMMENT_MARKER}\n### Coverage\n{text}\n")
}

/// The bot's comments carrying the marker.
fn bot_comments(fake: &FakeGitHub) -> Vec<FakeComment> {
    fake.comments("acme/widget", 42)
        .into_iter()
        .filter(|c| c.login == BOT && c.body.contains(COMMENT_MARKER))
        .collect()
}

fn count(reqs: &[RecordedRequest], method: &str, path_part: &str) -> usize {
    reqs.iter()
        .filter(|r| r.method == method && r.path.contains(path_part))
        .count()
}

#[tokio::test]
async fn paging_over_four_pages_finds_the_marker_on_the_last() {
    // GitHub Enterprise-style base URL, two comments per page.
    let fake = fake(Some(2), "/api/v3").await;
    assert!(fake.url().ends_with("/api/v3"));
    for i in 0..6 {
        fake.add_comment("acme/widget", 42, "alice", &format!("comment {i}"));
    }
    // Someone else's comment with our marker must be left alone.
    let decoy = fake.add_comment("acme/widget", 42, "alice", &body("not the bot's"));
    let ours = fake.add_comment("acme/widget", 42, BOT, &body("old"));
    let c = commenter(client(&fake));
    let out = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("new"))
        .await
        .unwrap();
    assert_eq!(out.id, ours);
    assert_eq!(out.action, Upsert::Edited);
    assert_eq!(out.removed, 0);

    let reqs = fake.requests();
    let lists: Vec<&RecordedRequest> = reqs
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/comments"))
        .collect();
    assert_eq!(lists.len(), 4, "{lists:#?}");
    assert_eq!(
        lists[0].path,
        "/api/v3/repos/acme/widget/issues/42/comments"
    );
    // Pages 2..4 through GitHub's own link form.
    for (i, r) in lists[1..].iter().enumerate() {
        assert!(r.path.starts_with("/api/v3/repositories/"), "{}", r.path);
        assert_eq!(
            r.query.as_deref(),
            Some(format!("per_page=2&page={}", i + 2).as_str())
        );
    }
    let all = fake.comments("acme/widget", 42);
    assert_eq!(all.len(), 8);
    assert_eq!(
        all.iter().find(|c| c.id == decoy).unwrap().body,
        body("not the bot's")
    );
    assert_eq!(all.iter().find(|c| c.id == ours).unwrap().body, body("new"));
    assert_eq!(count(&reqs, "POST", "/comments"), 0);
}

/// A run that finishes late (a retry) never replaces the comment of a run
/// that started after it; the newer run replaces the older one's.
#[tokio::test]
async fn a_late_older_run_leaves_a_newer_runs_comment() {
    let fake = fake(None, "").await;
    let c = commenter(client(&fake));
    let at = |micros: i128, build: &str, text: &str| {
        format!("{}{}\n", body(text), run_stamp_line(micros, build))
    };
    let newer = at(2_000, "602", "run 602");
    c.upsert_comment(&pr(), COMMENT_MARKER, &newer)
        .await
        .unwrap();
    let out = c
        .upsert_comment(&pr(), COMMENT_MARKER, &at(1_000, "601", "run 601"))
        .await
        .unwrap();
    assert_eq!(out.action, Upsert::KeptNewer);
    assert_eq!(bot_comments(&fake)[0].body, newer);
    // Same start: the higher build number, as a number (10 after 9).
    let nine = at(3_000, "9", "run 9");
    c.upsert_comment(&pr(), COMMENT_MARKER, &nine)
        .await
        .unwrap();
    let ten = at(3_000, "10", "run 10");
    let out = c.upsert_comment(&pr(), COMMENT_MARKER, &ten).await.unwrap();
    assert_eq!(out.action, Upsert::Edited);
    let out = c
        .upsert_comment(&pr(), COMMENT_MARKER, &nine)
        .await
        .unwrap();
    assert_eq!(out.action, Upsert::KeptNewer);
    assert_eq!(bot_comments(&fake)[0].body, ten);
}

#[tokio::test]
async fn five_upserts_and_a_restart_keep_one_comment_edited_in_place() {
    let fake = fake(None, "").await;
    fake.add_comment("acme/widget", 42, "alice", "LGTM");
    let c = commenter(client(&fake));
    let first = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("run 0"))
        .await
        .unwrap();
    assert_eq!(first.action, Upsert::Created);
    for i in 1..5 {
        let out = c
            .upsert_comment(&pr(), COMMENT_MARKER, &body(&format!("run {i}")))
            .await
            .unwrap();
        assert_eq!((out.id, out.action), (first.id, Upsert::Edited));
        assert_eq!(bot_comments(&fake).len(), 1);
    }
    let same = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("run 4"))
        .await
        .unwrap();
    assert_eq!(same.action, Upsert::Unchanged);

    // A restarted reporter: new client, new commenter, nothing remembered.
    drop(c);
    let c = commenter(client(&fake));
    let out = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("after restart"))
        .await
        .unwrap();
    assert_eq!((out.id, out.action), (first.id, Upsert::Edited));

    let mine = bot_comments(&fake);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].body, body("after restart"));
    assert_eq!(fake.comments("acme/widget", 42).len(), 2);
    let reqs = fake.requests();
    assert_eq!(count(&reqs, "POST", "/comments"), 1);
    assert_eq!(count(&reqs, "PATCH", "/issues/comments/"), 5);
    assert_eq!(count(&reqs, "DELETE", ""), 0);
}

/// An update reaches the bot's comment when there is one, and starts none.
#[tokio::test]
async fn an_update_edits_the_comment_and_creates_none() {
    let fake = fake(None, "").await;
    fake.add_comment("acme/widget", 42, "alice", &body("someone else's"));
    let c = commenter(client(&fake));
    let none = c
        .update_comment(&pr(), COMMENT_MARKER, &body("quiet"))
        .await
        .unwrap();
    assert_eq!(none, None);
    assert!(bot_comments(&fake).is_empty());
    assert_eq!(count(&fake.requests(), "POST", "/comments"), 0);

    let first = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("news"))
        .await
        .unwrap();
    let out = c
        .update_comment(&pr(), COMMENT_MARKER, &body("quiet again"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((out.id, out.action), (first.id, Upsert::Edited));
    let mine = bot_comments(&fake);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].body, body("quiet again"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_reporters_end_with_one_comment() {
    let fake = fake(None, "").await;
    // Both listings answer late, so both reporters see no comment and
    // both create one: the race actually happens.
    fake.inject(
        Fault::new(FaultKind::Slow { delay_ms: 800 }, 2)
            .on_method("GET")
            .on_path("/comments"),
    );
    // Two reporters: separate clients, separate locks, separate tasks.
    let spawn = |who: &'static str| {
        let c = commenter(client(&fake));
        tokio::spawn(async move {
            let out = c.upsert_comment(&pr(), COMMENT_MARKER, &body(who)).await;
            (c, out)
        })
    };
    let (ta, tb) = (spawn("from A"), spawn("from B"));
    let ((a, ra), (_, rb)) = (ta.await.unwrap(), tb.await.unwrap());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let p = pr();
    let reqs = fake.requests();
    assert_eq!(
        count(&reqs, "POST", "/comments"),
        2,
        "no race happened: {reqs:#?}"
    );
    let mine = bot_comments(&fake);
    assert_eq!(mine.len(), 1, "{mine:#?}");
    // Both agree on the oldest comment.
    assert_eq!(ra.id, mine[0].id);
    assert_eq!(rb.id, mine[0].id);
    assert!(ra.removed + rb.removed >= 1);
    assert!(mine[0].body == body("from A") || mine[0].body == body("from B"));

    // The next upsert finds that one.
    let out = a
        .upsert_comment(&p, COMMENT_MARKER, &body("later"))
        .await
        .unwrap();
    assert_eq!((out.id, out.action), (mine[0].id, Upsert::Edited));
    assert_eq!(bot_comments(&fake).len(), 1);
}

#[tokio::test]
async fn duplicates_from_an_earlier_race_are_removed_keeping_the_oldest() {
    let fake = fake(None, "").await;
    let oldest = fake.add_comment("acme/widget", 42, BOT, &body("1"));
    fake.add_comment("acme/widget", 42, "alice", "question");
    fake.add_comment("acme/widget", 42, BOT, &body("2"));
    fake.add_comment("acme/widget", 42, BOT, &body("3"));
    // The bot's other comments (no marker) stay.
    fake.add_comment("acme/widget", 42, BOT, "/retest");
    let c = commenter(client(&fake));
    let out = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("now"))
        .await
        .unwrap();
    assert_eq!(out.id, oldest);
    assert_eq!(out.action, Upsert::Edited);
    assert_eq!(out.removed, 2);
    let mine = bot_comments(&fake);
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].id, mine[0].body.as_str()),
        (oldest, body("now").as_str())
    );
    assert_eq!(fake.comments("acme/widget", 42).len(), 3);
}

#[tokio::test]
async fn a_502_is_retried_and_attempts_are_bounded() {
    let fake = fake(None, "").await;
    fake.inject(Fault::new(FaultKind::Status { status: 502 }, 2).on_path("/comments"));
    let c = commenter(client(&fake));
    let out = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("x"))
        .await
        .unwrap();
    assert_eq!(out.action, Upsert::Created);
    let statuses: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/comments"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses[..3], [502, 502, 200]);
    assert_eq!(bot_comments(&fake).len(), 1);

    // Always 502: four attempts, then the error.
    fake.clear_requests();
    fake.inject(Fault::new(FaultKind::Status { status: 502 }, 100).on_path("/user"));
    let err = client(&fake).current_user().await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert_eq!(fake.requests().len(), 4);
    // Display has no cause in it; the fake's message is GitHub's field.
    assert_eq!(
        err.to_string(),
        "GET /user: GitHub answered 502: fake GitHub: injected fault"
    );
}

#[tokio::test]
async fn rate_limit_403_waits_for_the_reset_then_succeeds() {
    let fake = fake(None, "").await;
    // Limited until the reset, 2 s from now (whole epoch seconds).
    fake.inject(Fault::new(FaultKind::RateLimit { reset_in_secs: 2 }, 1000));
    let started = Instant::now();
    let me = client(&fake).current_user().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(me.login, BOT);
    // Reset in (1, 2] s, plus the client's half-second margin.
    assert!(waited >= Duration::from_millis(1400), "{waited:?}");
    assert!(waited < Duration::from_secs(4), "{waited:?}");
    let reqs = fake.requests();
    let statuses: Vec<u16> = reqs.iter().map(|r| r.status).collect();
    // One 403, no early retry, then the answer.
    assert_eq!(statuses, [403, 200]);
    assert!(reqs[1].at_ms - reqs[0].at_ms >= 1400);
}

#[tokio::test]
async fn a_rate_limit_beyond_the_allowed_wait_fails_at_once() {
    let fake = fake(None, "").await;
    fake.inject(Fault::new(FaultKind::RateLimit { reset_in_secs: 60 }, 1000));
    let started = Instant::now();
    let err = client(&fake).current_user().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(err, GitHubError::RateLimited { wait, .. } if wait > Duration::from_secs(50)),
        "{err:?}"
    );
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn retry_after_and_secondary_limits_are_honoured() {
    let fake = fake(None, "").await;
    fake.inject(Fault::new(
        FaultKind::TooManyRequests {
            retry_after_secs: Some(1),
        },
        1,
    ));
    let started = Instant::now();
    client(&fake).current_user().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));

    // A secondary limit naming no time: the configured wait (300 ms here).
    fake.clear_requests();
    fake.inject(Fault::new(
        FaultKind::SecondaryRateLimit {
            retry_after_secs: None,
        },
        1,
    ));
    let started = Instant::now();
    client(&fake).current_user().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [403, 200]);

    // A 403 that is no limit is not retried.
    fake.clear_requests();
    let alice = Client::new(options(&fake, TokenSource::Value("tok-alice".into()))).unwrap();
    let err = alice
        .edit_comment(
            &pr().repo,
            bot_comments(&fake).first().map_or(1, |c| c.id),
            "x",
        )
        .await
        .unwrap_err();
    assert!(matches!(err.status(), Some(403 | 404)), "{err:?}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn a_slow_server_hits_the_timeout_and_is_retried() {
    let fake = fake(None, "").await;
    fake.inject(Fault::new(FaultKind::Slow { delay_ms: 2000 }, 1).on_path("/user"));
    let mut o = options(&fake, TokenSource::Value(TOKEN.to_owned()));
    o.timeout = Duration::from_millis(300);
    let c = Client::new(o.clone()).unwrap();
    let started = Instant::now();
    assert_eq!(c.current_user().await.unwrap().login, BOT);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_eq!(fake.requests().len(), 2);

    // Slow every time: the attempts run out with a transport error.
    fake.clear_requests();
    fake.inject(Fault::new(FaultKind::Slow { delay_ms: 2000 }, 100).on_path("/user"));
    let err = Client::new(o).unwrap().current_user().await.unwrap_err();
    assert!(
        matches!(err, GitHubError::Transport { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(std::error::Error::source(&err).is_some());
    assert_eq!(fake.requests().len(), 4);
}

/// Writes `token` the way the kubelet updates a mounted secret: a new
/// timestamped directory, then `..data` swapped to it by renaming a
/// symlink; `token` itself is a symlink through `..data`.
#[cfg(unix)]
fn kube_secret(dir: &std::path::Path, generation: u32, token: &str) {
    use std::os::unix::fs::symlink;
    let data = format!("..2026_01_01_00_00_0{generation}");
    std::fs::create_dir(dir.join(&data)).unwrap();
    std::fs::write(dir.join(&data).join("token"), format!("{token}\n")).unwrap();
    symlink(&data, dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    if !dir.join("token").exists() {
        symlink("..data/token", dir.join("token")).unwrap();
    }
}

#[cfg(unix)]
#[tokio::test]
async fn a_rotated_token_file_is_used_at_the_next_request() {
    let fake = fake(None, "").await;
    fake.add_token("tok-1", BOT);
    fake.add_token("tok-2", BOT);
    let dir = tempfile::tempdir().unwrap();
    kube_secret(dir.path(), 1, "tok-1");
    let c = Client::new(options(&fake, TokenSource::File(dir.path().join("token")))).unwrap();
    let c = commenter(c);
    c.upsert_comment(&pr(), COMMENT_MARKER, &body("1"))
        .await
        .unwrap();
    let before = fake.requests();
    assert!(
        before
            .iter()
            .all(|r| r.header("authorization") == Some("Bearer tok-1"))
    );

    kube_secret(dir.path(), 2, "tok-2");
    fake.remove_token("tok-1");
    fake.clear_requests();
    let out = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("2"))
        .await
        .unwrap();
    assert_eq!(out.action, Upsert::Edited);
    let after = fake.requests();
    assert!(!after.is_empty());
    for r in &after {
        assert_eq!(r.header("authorization"), Some("Bearer tok-2"), "{r:?}");
        assert_eq!(r.status / 100, 2, "{r:?}");
    }

    // A token file that cannot be read is an error naming the file.
    std::fs::remove_file(dir.path().join("token")).unwrap();
    let err = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("3"))
        .await
        .unwrap_err();
    assert!(matches!(err, GitHubError::TokenRead { .. }), "{err:?}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_without_a_request() {
    let fake = fake(None, "").await;
    let c = commenter(client(&fake));
    let long = body(&"x".repeat(65_536));
    let err = c
        .upsert_comment(&pr(), COMMENT_MARKER, &long)
        .await
        .unwrap_err();
    assert!(
        matches!(err, GitHubError::TooLong { max: 65_536, .. }),
        "{err:?}"
    );
    // Under the limit in bytes, over it as GitHub counts (CRLF newlines).
    let lines = body(&"\n".repeat(33_000));
    assert!(lines.len() < 65_536);
    assert!(
        c.upsert_comment(&pr(), COMMENT_MARKER, &lines)
            .await
            .is_err()
    );
    // Without its marker a body could never be found again.
    let err = c
        .upsert_comment(&pr(), COMMENT_MARKER, "no marker")
        .await
        .unwrap_err();
    assert!(matches!(err, GitHubError::MissingMarker { .. }), "{err:?}");
    // The client refuses too, whoever calls it.
    assert!(client(&fake).create_comment(&pr(), &long).await.is_err());
    assert_eq!(fake.requests(), []);
}

#[tokio::test]
async fn the_coverage_status_is_sent_with_its_fields() {
    let fake = fake(None, "").await;
    let c = client(&fake);
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let status = coverage_status(
        StatusState::from_threshold(71.25, 80.0),
        &format!(
            "71.25% of statements, below the threshold of 80% {}",
            "·".repeat(200)
        ),
        Some("https://prow.example/coverage/acme/widget/42/"),
    );
    c.create_status(&pr().repo, sha, &status).await.unwrap();
    let state = fake.state();
    assert_eq!(state.statuses.len(), 1);
    let s = &state.statuses[0];
    assert_eq!(s.repo, "acme/widget");
    assert_eq!(s.sha, sha);
    assert_eq!(s.state, "failure");
    assert_eq!(s.context, "covlens/coverage");
    assert_eq!(
        s.target_url.as_deref(),
        Some("https://prow.example/coverage/acme/widget/42/")
    );
    let d = s.description.as_deref().unwrap();
    assert!(d.starts_with("71.25% of statements, below the threshold of 80%"));
    assert_eq!(d.chars().count(), 140);
    assert_eq!(s.creator, BOT);
    let reqs = fake.requests();
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].path, format!("/repos/acme/widget/statuses/{sha}"));
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));

    // A description GitHub would refuse is refused here first.
    fake.clear_requests();
    let too_long = CommitStatus {
        description: Some("x".repeat(141)),
        ..status.clone()
    };
    let err = c
        .create_status(&pr().repo, sha, &too_long)
        .await
        .unwrap_err();
    assert!(matches!(err, GitHubError::TooLong { max: 140, .. }));
    // So is a SHA that could change the URL.
    assert!(
        c.create_status(&pr().repo, "../../user", &status)
            .await
            .is_err()
    );
    assert_eq!(fake.requests(), []);
}

#[tokio::test]
async fn a_check_run_with_120_annotations_takes_three_requests() {
    let fake = fake(None, "").await;
    let c = client(&fake);
    let annotations: Vec<Annotation> = (1..=120)
        .map(|i| Annotation {
            path: format!("pkg/f{i}.go"),
            start_line: i,
            end_line: i + 2,
            start_column: None,
            end_column: None,
            annotation_level: AnnotationLevel::Warning,
            message: "not covered by tests".into(),
            title: Some("uncovered lines".into()),
            raw_details: None,
        })
        .collect();
    let run = CheckRun {
        name: "covlens/coverage".into(),
        head_sha: "0123456789abcdef0123456789abcdef01234567".into(),
        details_url: Some("https://prow.example/coverage/".into()),
        external_id: Some("pj-1".into()),
        status: Some(CheckStatus::Completed),
        conclusion: Some(CheckConclusion::Failure),
        output: Some(CheckOutput {
            title: "71.3% of changed statements covered".into(),
            summary: "3 files with uncovered changes".into(),
            text: None,
            annotations,
        }),
    };
    let id = post_check_run(&c, &pr().repo, &run).await.unwrap();
    let state = fake.state();
    assert_eq!(state.check_runs.len(), 1);
    let r = &state.check_runs[0];
    assert_eq!(r.id, id);
    assert_eq!(r.annotations.len(), 120);
    assert_eq!(r.annotations[119]["path"], "pkg/f120.go");
    assert_eq!(r.annotations[0]["annotation_level"], "warning");
    assert_eq!(r.requests, 3);
    assert_eq!(r.status, "completed");
    assert_eq!(r.conclusion.as_deref(), Some("failure"));
    let reqs = fake.requests();
    let methods: Vec<&str> = reqs.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PATCH", "PATCH"]);
    // Not finished before its last annotations.
    let first: serde_json::Value = serde_json::from_str(&reqs[0].body).unwrap();
    assert_eq!(first["status"], "in_progress");
    assert!(first.get("conclusion").is_none());
    assert_eq!(first["output"]["annotations"].as_array().unwrap().len(), 50);
    let last: serde_json::Value = serde_json::from_str(&reqs[2].body).unwrap();
    assert_eq!(last["conclusion"], "failure");
    assert_eq!(last["output"]["annotations"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn requests_carry_githubs_headers() {
    let fake = fake(None, "").await;
    client(&fake).current_user().await.unwrap();
    let r = &fake.requests()[0];
    assert_eq!(r.header("accept"), Some("application/vnd.github+json"));
    assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
    assert!(r.header("user-agent").unwrap().starts_with("covlens/"));
    assert_eq!(r.header("authorization"), Some("Bearer tok-bot"));

    // A token the server does not know: 401, not retried.
    let bad = Client::new(options(&fake, TokenSource::Value("nope".into()))).unwrap();
    let err = bad.current_user().await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(fake.requests().len(), 2);
}

/// The `covlens-fake-github` binary as a script uses it: prints its URL,
/// is controlled over `/_fake/`, keeps its state in a file across restarts.
#[tokio::test]
async fn the_binary_serves_scripts_and_keeps_its_state() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};

    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let start = || {
        let mut child = Command::new(env!("CARGO_BIN_EXE_covlens-fake-github"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--prefix",
                "/api/v3",
                "--page-size",
                "1",
            ])
            .arg("--state")
            .arg(&state)
            .args(["--token", &format!("{TOKEN}={BOT}")])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        (child, line.trim().to_owned())
    };
    let client_for = |url: &str| {
        let mut o = ClientOptions::new(TokenSource::Value(TOKEN.to_owned()));
        o.api = url.to_owned();
        commenter(Client::new(o).unwrap())
    };

    let (mut child, url) = start();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/api/v3"),
        "{url}"
    );
    let first = client_for(&url)
        .upsert_comment(&pr(), COMMENT_MARKER, &body("one"))
        .await
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, url) = start();
    // Another user's comment before ours, seeded through the control API:
    // with one comment per page, ours is on page 2.
    let control = url.trim_end_matches("/api/v3");
    let seeded = reqwest::Client::new()
        .post(format!("{control}/_fake/comments"))
        .body(r#"{"repo":"acme/widget","issue":42,"login":"alice","body":"hi"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 201);
    let out = client_for(&url)
        .upsert_comment(&pr(), COMMENT_MARKER, &body("two"))
        .await
        .unwrap();
    assert_eq!((out.id, out.action), (first.id, Upsert::Edited));
    child.kill().unwrap();
    child.wait().unwrap();

    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let bodies: Vec<&str> = saved["comments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["login"] == BOT)
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, [body("two").as_str()]);
    assert_eq!(saved["comments"].as_array().unwrap().len(), 2);
}

/// A client whose first edit finds the comment just deleted (by a user,
/// or by a racing reporter).
struct VanishingComment {
    inner: Client,
    armed: std::sync::atomic::AtomicBool,
}

impl GitHub for VanishingComment {
    fn current_user(&self) -> GitHubFuture<'_, User> {
        self.inner.current_user()
    }
    fn list_comments<'a>(&'a self, pr: &'a PullRequest) -> GitHubFuture<'a, Vec<Comment>> {
        self.inner.list_comments(pr)
    }
    fn create_comment<'a>(
        &'a self,
        pr: &'a PullRequest,
        body: &'a str,
    ) -> GitHubFuture<'a, Comment> {
        self.inner.create_comment(pr, body)
    }
    fn edit_comment<'a>(
        &'a self,
        repo: &'a Repo,
        id: u64,
        body: &'a str,
    ) -> GitHubFuture<'a, Comment> {
        Box::pin(async move {
            if self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
                self.inner.delete_comment(repo, id).await?;
            }
            self.inner.edit_comment(repo, id, body).await
        })
    }
    fn delete_comment<'a>(&'a self, repo: &'a Repo, id: u64) -> GitHubFuture<'a, ()> {
        self.inner.delete_comment(repo, id)
    }
    fn create_status<'a>(
        &'a self,
        repo: &'a Repo,
        sha: &'a str,
        status: &'a CommitStatus,
    ) -> GitHubFuture<'a, ()> {
        self.inner.create_status(repo, sha, status)
    }
    fn create_check_run<'a>(&'a self, repo: &'a Repo, run: &'a CheckRun) -> GitHubFuture<'a, u64> {
        self.inner.create_check_run(repo, run)
    }
    fn update_check_run<'a>(
        &'a self,
        repo: &'a Repo,
        id: u64,
        update: &'a CheckRunUpdate,
    ) -> GitHubFuture<'a, ()> {
        self.inner.update_check_run(repo, id, update)
    }
    fn get_file<'a>(
        &'a self,
        repo: &'a Repo,
        path: &'a str,
        reference: &'a str,
    ) -> GitHubFuture<'a, Option<Vec<u8>>> {
        self.inner.get_file(repo, path, reference)
    }
    fn list_tree<'a>(
        &'a self,
        repo: &'a Repo,
        reference: &'a str,
        recursive: bool,
    ) -> GitHubFuture<'a, covlens_prow::github::Tree> {
        self.inner.list_tree(repo, reference, recursive)
    }
    fn get_blob<'a>(&'a self, repo: &'a Repo, sha: &'a str) -> GitHubFuture<'a, Vec<u8>> {
        self.inner.get_blob(repo, sha)
    }
}

#[tokio::test]
async fn a_comment_deleted_under_the_edit_is_created_again() {
    let fake = fake(None, "").await;
    let old = fake.add_comment("acme/widget", 42, BOT, &body("old"));
    let gh: std::sync::Arc<dyn GitHub> = std::sync::Arc::new(VanishingComment {
        inner: client(&fake),
        armed: true.into(),
    });
    let c = Commenter::new(gh).with_settle_delay(Duration::ZERO);
    let out = c
        .upsert_comment(&pr(), COMMENT_MARKER, &body("new"))
        .await
        .unwrap();
    assert_eq!(out.action, Upsert::Created);
    assert_ne!(out.id, old);
    let mine = bot_comments(&fake);
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].id, mine[0].body.as_str()),
        (out.id, body("new").as_str())
    );
}

/// A branch's files through the git trees API, and a file's bytes by its
/// blob SHA; a branch with `/` is path segments, `..` never reaches a URL.
#[tokio::test]
async fn list_tree_and_get_blob_read_a_branch_without_a_checkout() {
    let fake = fake(None, "").await;
    let c = client(&fake);
    let repo = Repo::new("acme", "widget").unwrap();
    let owners = b"approvers:\n  - alice\n".repeat(100);
    fake.add_file("acme/widget", "release/1.2", "pkg/a/OWNERS", &owners);
    fake.add_file(
        "acme/widget",
        "release/1.2",
        "go.mod",
        b"module acme.io/w\n",
    );
    let tree = c.list_tree(&repo, "release/1.2", true).await.unwrap();
    let mut files = tree.files.clone();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let paths: Vec<&str> = files.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["go.mod", "pkg/a/OWNERS"]);
    let mut dirs: Vec<&str> = tree.dirs.iter().map(|e| e.path.as_str()).collect();
    dirs.sort();
    assert_eq!(dirs, ["pkg", "pkg/a"]);
    assert!(!tree.truncated);
    assert_eq!(files[1].size, owners.len() as u64);
    let reqs = fake.requests();
    let r = reqs.last().unwrap();
    assert_eq!(r.path, "/repos/acme/widget/git/trees/release/1.2");
    assert_eq!(r.query.as_deref(), Some("recursive=1"));
    assert_eq!(c.get_blob(&repo, &files[1].sha).await.unwrap(), owners);
    assert!(
        fake.requests()
            .last()
            .unwrap()
            .path
            .ends_with(&format!("/git/blobs/{}", files[1].sha))
    );
    // One level, and a directory by its SHA.
    let top = c.list_tree(&repo, "release/1.2", false).await.unwrap();
    assert_eq!(top.files.len(), 1, "{top:?}");
    assert_eq!(fake.requests().last().unwrap().query, None);
    let pkg = &top.dirs[0];
    assert_eq!(pkg.path, "pkg");
    let below = c.list_tree(&repo, &pkg.sha, true).await.unwrap();
    let paths: Vec<&str> = below.files.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["a/OWNERS"],
        "paths are relative to the directory listed"
    );
    // GitHub's cut: a listing over the limit says so.
    fake.set_tree_limit(Some(2));
    assert!(
        c.list_tree(&repo, "release/1.2", true)
            .await
            .unwrap()
            .truncated
    );
    fake.set_tree_limit(None);

    let e = c.list_tree(&repo, "main", true).await.unwrap_err();
    assert!(e.is_not_found(), "{e}");
    for bad in ["../../user", "a//b", ""] {
        let e = c.list_tree(&repo, bad, true).await.unwrap_err();
        assert!(matches!(e, GitHubError::InvalidName { .. }), "{bad}: {e}");
    }
    let e = c.get_blob(&repo, "../x").await.unwrap_err();
    assert!(matches!(e, GitHubError::InvalidName { .. }), "{e}");
    let big = vec![b'#'; (1 << 20) + 1];
    fake.add_file("acme/widget", "big", "OWNERS", &big);
    let sha = c.list_tree(&repo, "big", true).await.unwrap().files[0]
        .sha
        .clone();
    let e = c.get_blob(&repo, &sha).await.unwrap_err().to_string();
    assert!(
        e.contains(&format!("blob {sha}")) && e.contains("more than"),
        "{e}"
    );
}

/// Blobs by the hundred through GraphQL (at `/graphql`, or `/api/graphql`
/// beside an Enterprise `/api/v3`), the same bytes as the REST API gives one
/// by one; what GraphQL cannot give as text (binary, over 1 MiB) is read
/// through REST, bounds and errors included. Files at a commit likewise.
#[tokio::test]
async fn get_blobs_and_files_read_a_hundred_per_graphql_query() {
    for prefix in ["", "/api/v3"] {
        let fake = fake(None, prefix).await;
        let c = client(&fake);
        let repo = Repo::new("acme", "widget").unwrap();
        for i in 0..150 {
            let text = format!("approvers:\n  - user{i}\n# é\n");
            fake.add_file(
                "acme/widget",
                "main",
                &format!("d{i}/OWNERS"),
                text.as_bytes(),
            );
        }
        fake.add_file("acme/widget", "main", "bin/OWNERS", b"\xff\xfe binary");
        let files = c.list_tree(&repo, "main", true).await.unwrap().files;
        let shas: Vec<String> = files.iter().map(|f| f.sha.clone()).collect();
        assert_eq!(shas.len(), 151);
        fake.clear_requests();
        let got = c.get_blobs(&repo, &shas).await.unwrap();
        let reqs = fake.requests();
        let graphql = if prefix.is_empty() {
            "/graphql"
        } else {
            "/api/graphql"
        };
        assert_eq!(count(&reqs, "POST", graphql), 2, "{prefix}");
        assert_eq!(count(&reqs, "GET", "/git/blobs/"), 1, "the binary one");
        for (sha, bytes) in shas.iter().zip(&got) {
            assert_eq!(*bytes, c.get_blob(&repo, sha).await.unwrap());
        }
    }

    let fake = fake(None, "").await;
    let c = client(&fake);
    let repo = Repo::new("acme", "widget").unwrap();
    fake.add_file("acme/widget", "big", "OWNERS", &vec![b'#'; (1 << 20) + 1]);
    let sha = c.list_tree(&repo, "big", true).await.unwrap().files[0]
        .sha
        .clone();
    let e = c.get_blobs(&repo, &[sha]).await.unwrap_err().to_string();
    assert!(e.contains("more than"), "{e}");
    let other = Repo::new("acme", "gone").unwrap();
    let e = c
        .get_blobs(&other, &["ab12".into()])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("Could not resolve to a Repository"), "{e}");
    let e = c.get_blobs(&repo, &["../x".into()]).await.unwrap_err();
    assert!(matches!(e, GitHubError::InvalidName { .. }), "{e}");

    // Files at a commit by path: a missing one is None, a binary one is
    // read through the contents API, a large one fails as it does there.
    let at = "c0ffee00";
    fake.add_file("acme/widget", at, "a/x.go", b"package a\n");
    fake.add_file(
        "acme/widget",
        at,
        "a/b:c \"q\".go",
        b"package a // odd name\n",
    );
    fake.add_file("acme/widget", at, "a/bin.go", b"\xff");
    let paths: Vec<String> = ["a/x.go", "a/b:c \"q\".go", "a/none.go", "a/bin.go"]
        .map(String::from)
        .into();
    fake.clear_requests();
    let got = c.get_files(&repo, &paths, at).await.unwrap();
    assert_eq!(
        got,
        [
            Some(b"package a\n".to_vec()),
            Some(b"package a // odd name\n".to_vec()),
            None,
            Some(b"\xff".to_vec())
        ]
    );
    let reqs = fake.requests();
    assert_eq!(
        (
            count(&reqs, "POST", "/graphql"),
            count(&reqs, "GET", "/contents/")
        ),
        (1, 1)
    );
    fake.add_file("acme/widget", at, "big.go", &vec![b'/'; (1 << 20) + 1]);
    let e = c
        .get_files(&repo, &["big.go".into()], at)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("big.go"), "{e}");
    let e = c.get_files(&repo, &["../x".into()], at).await.unwrap_err();
    assert!(matches!(e, GitHubError::InvalidName { .. }), "{e}");
}

/// The contents API: a file at a commit (base64 in GitHub's lines of 60),
/// none at another commit or path, GitHub's answer for a file over 1 MiB,
/// a 5xx retried as any call, an endless answer cut at 2 MiB.
#[tokio::test]
async fn get_file_reads_a_file_at_a_commit() {
    let fake = fake(None, "").await;
    let c = client(&fake);
    let repo = Repo::new("acme", "widget").unwrap();
    let text = b"threshold:\n  total: 60\n  package: 40\n# \xc3\xa9\n".repeat(20);
    fake.add_file("acme/widget", "b0b0b0b0", "ci/.covlens.yml", &text);
    let got = c.get_file(&repo, "ci/.covlens.yml", "b0b0b0b0").await;
    assert_eq!(got.unwrap().as_deref(), Some(&text[..]));
    // The request GitHub documents (the fake answers in lines of 60).
    let reqs = fake.requests();
    let r = reqs.last().unwrap();
    assert_eq!(r.path, "/repos/acme/widget/contents/ci/.covlens.yml");
    assert_eq!(r.query.as_deref(), Some("ref=b0b0b0b0"));
    // 404: the commit has no such file.
    for (path, sha) in [
        ("ci/.covlens.yml", "c0ffee00"),
        (".covlens.yml", "b0b0b0b0"),
    ] {
        assert_eq!(c.get_file(&repo, path, sha).await.unwrap(), None, "{path}");
    }

    // Exactly 1 MiB is read; one byte more is refused, naming the file.
    let mib = vec![b'#'; 1 << 20];
    fake.add_file("acme/widget", "b0b0b0b0", "big.yml", &mib);
    assert_eq!(
        c.get_file(&repo, "big.yml", "b0b0b0b0")
            .await
            .unwrap()
            .unwrap()
            .len(),
        1 << 20
    );
    fake.add_file(
        "acme/widget",
        "b0b0b0b1",
        "big.yml",
        &[mib, b"#".to_vec()].concat(),
    );
    let e = c.get_file(&repo, "big.yml", "b0b0b0b1").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "repository file big.yml: 1048577 bytes, more than the 1048576 read"
    );

    // A 502 is retried; a 403 is not, and is no 404.
    fake.clear_requests();
    fake.inject(Fault::new(FaultKind::Status { status: 502 }, 1).on_path("/contents/"));
    assert!(
        c.get_file(&repo, "ci/.covlens.yml", "b0b0b0b0")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(count(&fake.requests(), "GET", "/contents/"), 2);
    fake.inject(Fault::new(FaultKind::Status { status: 403 }, 1).on_path("/contents/"));
    let e = c
        .get_file(&repo, "ci/.covlens.yml", "b0b0b0b0")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(403), "{e}");

    // An answer that goes on is read to 2 MiB, then refused, not retried.
    fake.clear_requests();
    fake.inject(Fault::new(FaultKind::Oversized { bytes: 64 << 20 }, 1).on_path("/contents/"));
    let e = c
        .get_file(&repo, "ci/.covlens.yml", "b0b0b0b0")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "repository file ci/.covlens.yml: GitHub's answer is over 2097152 bytes"
    );
    assert_eq!(count(&fake.requests(), "GET", "/contents/"), 1);

    // Paths and commits are checked before anything is sent.
    fake.clear_requests();
    for (path, sha) in [
        ("../x", "b0b0b0b0"),
        ("/etc/passwd", "b0b0b0b0"),
        (".covlens.yml", "main"),
    ] {
        let e = c.get_file(&repo, path, sha).await.unwrap_err();
        assert!(matches!(e, GitHubError::InvalidName { .. }), "{e}");
    }
    assert!(fake.requests().is_empty());
}
