/*!
A fake GitHub API on loopback, for tests and demos (feature `fake-github`).

Real HTTP (hyper 1, HTTP/1.1; the client cannot tell it from GitHub
except by the address): the authenticated user, issue comments with
GitHub's pagination (`Link` headers pointing at `/repositories/{id}/...`
as GitHub's do; the page size can be made small so tests page), commit
statuses and check runs, with GitHub's validation of sizes and fields,
and repository files per commit through the contents API (base64 in
lines of 60, as GitHub sends them; [`FakeGitHub::add_file`]) and through
the git trees and blobs APIs (a reference's files, recursively; the fake's
blob SHAs are stable hashes, not git's).
Tokens map to accounts; a request with an unknown token gets 401, one
without `User-Agent` gets 403, as from GitHub.

Every API request is recorded ([`FakeGitHub::requests`]: method, path,
headers, body, arrival time, answer), and faults can be injected for the
next N matching requests ([`Fault`]): any status (502), the primary rate
limit (403 with `X-RateLimit-Remaining: 0` and a reset, until the reset),
a secondary rate limit, 429, or a slow answer. A slow request is carried
out at once, also when the client gives up waiting, as on GitHub.

The binary `covlens-fake-github` serves the same for scripts; the
`/_fake/` endpoints (outside the API prefix, not recorded) control it:
`GET /_fake/state`, `GET /_fake/requests`, `POST /_fake/faults` (a
[`Fault`] or a list), `POST /_fake/tokens` (`{"token":..,"login":..}`),
`POST /_fake/comments` (`{"repo":"o/r","issue":1,"login":..,"body":..}`),
`POST /_fake/files` (`{"repo":"o/r","ref":SHA,"path":..,"content":..}`).

```no_run
# async fn example() -> std::io::Result<()> {
use covlens_prow::github::fake::{FakeGitHub, FakeOptions, Fault, FaultKind};

let fake = FakeGitHub::start(FakeOptions {
    tokens: vec![("t0k3n".into(), "covlens-bot".into())],
    page_size: Some(2),
    ..FakeOptions::default()
})
.await?;
fake.inject(Fault::new(FaultKind::Status { status: 502 }, 1));
println!("{}", fake.url()); // http://127.0.0.1:PORT
# Ok(()) }
```
*/

mod state;

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use self::state::{
    FakeCheckRun, FakeComment, FakeFile, FakeRepo, FakeState, FakeStatus, FakeUser,
};
use self::state::{Req, Resp};

/// The account any token maps to when no tokens are configured.
pub const DEFAULT_LOGIN: &str = "covlens-bot";

/// How to start a [`FakeGitHub`].
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// Where to listen (default `127.0.0.1:0`, a free port).
    pub listen: SocketAddr,
    /// Path prefix of the API (e.g. `/api/v3` as on GitHub Enterprise;
    /// default none).
    pub prefix: String,
    /// Largest page of a listing (default: GitHub's 100).
    pub page_size: Option<usize>,
    /// Accepted tokens and their logins; none: any token is
    /// [`DEFAULT_LOGIN`].
    pub tokens: Vec<(String, String)>,
    /// Where to load the state from at start (if it exists) and save it
    /// after every change.
    pub state_file: Option<PathBuf>,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            prefix: String::new(),
            page_size: None,
            tokens: Vec::new(),
            state_file: None,
        }
    }
}

/// A fault to answer with instead of (or before) the real answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// What happens.
    #[serde(flatten)]
    pub kind: FaultKind,
    /// For how many matching requests (default 1).
    #[serde(default = "one")]
    pub times: u32,
    /// Only requests whose path contains this.
    #[serde(default)]
    pub path: Option<String>,
    /// Only requests with this method.
    #[serde(default)]
    pub method: Option<String>,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// `kind` for the next `times` requests.
    pub fn new(kind: FaultKind, times: u32) -> Fault {
        Fault {
            kind,
            times,
            path: None,
            method: None,
        }
    }

    /// Only for requests whose path contains `path`.
    pub fn on_path(self, path: &str) -> Fault {
        Fault {
            path: Some(path.to_owned()),
            ..self
        }
    }

    /// Only for requests with `method`.
    pub fn on_method(self, method: &str) -> Fault {
        Fault {
            method: Some(method.to_owned()),
            ..self
        }
    }
}

/// The kinds of [`Fault`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer this status (e.g. 502) with a GitHub-style message.
    Status {
        /// The status.
        status: u16,
    },
    /// The primary rate limit: 403, `X-RateLimit-Remaining: 0`, and
    /// `X-RateLimit-Reset` this many seconds after the fault is injected;
    /// answered until then (and at most `times` times).
    RateLimit {
        /// Seconds until the reset.
        reset_in_secs: u64,
    },
    /// A secondary rate limit: 403 with GitHub's message.
    SecondaryRateLimit {
        /// `Retry-After`, if any.
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// 429 Too Many Requests.
    TooManyRequests {
        /// `Retry-After`, if any.
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// Answer 200 with a JSON document of this many bytes (a server
    /// that sends more than any answer should hold).
    Oversized {
        /// The body's length.
        bytes: u64,
    },
    /// Carry the request out at once but answer only after this delay
    /// (a slow network; a listing answered late is out of date).
    Slow {
        /// The delay in milliseconds.
        delay_ms: u64,
    },
}

/// A request the fake received.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Method.
    pub method: String,
    /// Path (with the prefix).
    pub path: String,
    /// Query string, if any.
    pub query: Option<String>,
    /// Headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// Body (lossy UTF-8).
    pub body: String,
    /// Arrival, in milliseconds since the fake started.
    pub at_ms: u64,
    /// The status answered (0 while still being answered).
    pub status: u16,
}

impl RecordedRequest {
    /// The first header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct ActiveFault {
    fault: Fault,
    /// For rate limits: the reset, in epoch seconds.
    reset: u64,
}

struct Shared {
    started: Instant,
    prefix: String,
    page_size: Option<usize>,
    state_file: Option<PathBuf>,
    inner: Mutex<Inner>,
}

struct Inner {
    state: FakeState,
    tokens: BTreeMap<String, String>,
    faults: Vec<ActiveFault>,
    requests: Vec<RecordedRequest>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running fake GitHub; stops when dropped.
pub struct FakeGitHub {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGitHub {
    /// Binds and starts serving on the current tokio runtime.
    pub async fn start(options: FakeOptions) -> io::Result<FakeGitHub> {
        let state = match &options.state_file {
            Some(path) => load_state(path)?,
            None => FakeState::default(),
        };
        let listener = TcpListener::bind(options.listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            started: Instant::now(),
            prefix: options.prefix.trim_end_matches('/').to_owned(),
            page_size: options.page_size,
            state_file: options.state_file,
            inner: Mutex::new(Inner {
                state,
                tokens: options.tokens.into_iter().collect(),
                faults: Vec::new(),
                requests: Vec::new(),
            }),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));
        Ok(FakeGitHub {
            addr,
            shared,
            server,
        })
    }

    /// The API's base URL, `http://ADDR` plus the prefix.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.addr, self.shared.prefix)
    }

    /// The address listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts `token` as `login` from now on.
    pub fn add_token(&self, token: &str, login: &str) {
        self.shared
            .lock()
            .tokens
            .insert(token.to_owned(), login.to_owned());
    }

    /// Refuses `token` from now on (401).
    pub fn remove_token(&self, token: &str) {
        self.shared.lock().tokens.remove(token);
    }

    /// Adds a fault (faults are tried in the order added).
    pub fn inject(&self, fault: Fault) {
        add_fault(&self.shared, fault);
    }

    /// Every API request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// A copy of the state.
    pub fn state(&self) -> FakeState {
        self.shared.lock().state.clone()
    }

    /// The comments on `repo` (`owner/name`) issue `issue`, oldest first.
    pub fn comments(&self, repo: &str, issue: u64) -> Vec<FakeComment> {
        let inner = self.shared.lock();
        inner
            .state
            .comments
            .iter()
            .filter(|c| c.repo == repo && c.issue == issue)
            .cloned()
            .collect()
    }

    /// Serves `content` as the file `path` of `repo` (`owner/name`) at
    /// commit `reference` through the contents API.
    pub fn add_file(&self, repo: &str, reference: &str, path: &str, content: &[u8]) {
        let mut inner = self.shared.lock();
        let files = &mut inner.state.files;
        files.retain(|f| !(f.repo == repo && f.reference == reference && f.path == path));
        files.push(FakeFile::new(repo, reference, path, content.to_vec()));
        drop(inner);
        save(&self.shared);
    }

    /// Cuts recursive tree listings of more than `max` entries short, as
    /// GitHub does past 100,000 entries or 7 MB (`None`: never).
    pub fn set_tree_limit(&self, max: Option<usize>) {
        self.shared.lock().state.tree_entries_max = max;
        save(&self.shared);
    }

    /// Adds a comment by `login` (another user's, or an old one of the
    /// bot's); returns its id.
    pub fn add_comment(&self, repo: &str, issue: u64, login: &str, body: &str) -> u64 {
        let id = self
            .shared
            .lock()
            .state
            .add_comment(repo, issue, login, body);
        save(&self.shared);
        id
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // Out of file descriptors and the like: try again shortly.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, hyper::Error>(answer(shared, req).await) }
            });
            // A client that gave up mid-answer is no error of the fake's.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    // Carried out in a task of its own, so a client that times out does
    // not cancel the work (GitHub finishes what it started).
    let handled = tokio::spawn(async move { route(&shared, &parts, &body).await }).await;
    let resp = handled.unwrap_or_else(|_| Resp::message(500, "fake GitHub: handler panicked"));
    let mut builder = Response::builder()
        .status(resp.status)
        .header("content-type", "application/json; charset=utf-8");
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder
        .body(Full::new(Bytes::from(resp.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"{}"))))
}

async fn route(shared: &Shared, parts: &hyper::http::request::Parts, body: &[u8]) -> Resp {
    let path = parts.uri.path();
    if let Some(control) = path.strip_prefix("/_fake/") {
        return control_endpoint(shared, parts.method.as_str(), control, body);
    }
    let at_ms = shared.started.elapsed().as_millis() as u64;
    let record = RecordedRequest {
        method: parts.method.to_string(),
        path: path.to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(body).into_owned(),
        at_ms,
        status: 0,
    };
    let (index, fault) = {
        let mut inner = shared.lock();
        inner.requests.push(record);
        let index = inner.requests.len() - 1;
        (index, take_fault(&mut inner, parts.method.as_str(), path))
    };
    let mut resp = match fault {
        Some(FaultKind::Slow { delay_ms }) => {
            let resp = api(shared, parts, body);
            tokio::time::sleep(Duration::from_millis(delay_ms)).await;
            resp
        }
        Some(kind) => fault_answer(&kind, now_epoch()),
        None => api(shared, parts, body),
    };
    if resp.status != 403 && resp.status != 429 {
        let reset = now_epoch() + 3600;
        resp.headers.extend([
            ("x-ratelimit-limit".to_owned(), "5000".to_owned()),
            ("x-ratelimit-remaining".to_owned(), "4999".to_owned()),
            ("x-ratelimit-reset".to_owned(), reset.to_string()),
        ]);
    }
    if let Some(r) = shared.lock().requests.get_mut(index) {
        r.status = resp.status;
    }
    resp
}

/// The first matching fault, used up by one.
fn take_fault(inner: &mut Inner, method: &str, path: &str) -> Option<FaultKind> {
    let now = now_epoch();
    inner.faults.retain(|f| {
        f.fault.times > 0
            && !(matches!(f.fault.kind, FaultKind::RateLimit { .. }) && now >= f.reset)
    });
    let f = inner.faults.iter_mut().find(|f| {
        f.fault
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && f.fault.path.as_deref().is_none_or(|p| path.contains(p))
    })?;
    f.fault.times -= 1;
    Some(match f.fault.kind {
        // The reset fixed at injection.
        FaultKind::RateLimit { .. } => FaultKind::RateLimit {
            reset_in_secs: f.reset,
        },
        ref k => k.clone(),
    })
}

/// The answer of a fault; for `RateLimit`, `reset_in_secs` holds the
/// reset's epoch seconds here.
fn fault_answer(kind: &FaultKind, now: u64) -> Resp {
    let retry_after = |resp: &mut Resp, secs: Option<u64>| {
        if let Some(s) = secs {
            resp.headers.push(("retry-after".to_owned(), s.to_string()));
        }
    };
    match *kind {
        FaultKind::Status { status } => {
            let mut resp = Resp::message(status, "fake GitHub: injected fault");
            resp.status = status;
            resp
        }
        FaultKind::RateLimit {
            reset_in_secs: reset,
        } => {
            let mut resp = Resp::message(403, "API rate limit exceeded for user ID 100.");
            resp.headers.extend([
                ("x-ratelimit-limit".to_owned(), "5000".to_owned()),
                ("x-ratelimit-remaining".to_owned(), "0".to_owned()),
                ("x-ratelimit-used".to_owned(), "5000".to_owned()),
                ("x-ratelimit-reset".to_owned(), reset.to_string()),
                ("x-ratelimit-resource".to_owned(), "core".to_owned()),
            ]);
            resp
        }
        FaultKind::SecondaryRateLimit { retry_after_secs } => {
            let mut resp = Resp::message(
                403,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            resp.headers.extend([
                ("x-ratelimit-limit".to_owned(), "5000".to_owned()),
                ("x-ratelimit-remaining".to_owned(), "4000".to_owned()),
                ("x-ratelimit-reset".to_owned(), (now + 3600).to_string()),
            ]);
            retry_after(&mut resp, retry_after_secs);
            resp
        }
        FaultKind::TooManyRequests { retry_after_secs } => {
            let mut resp = Resp::message(429, "Too Many Requests");
            retry_after(&mut resp, retry_after_secs);
            resp
        }
        FaultKind::Oversized { bytes } => {
            let pad = usize::try_from(bytes)
                .unwrap_or(usize::MAX)
                .saturating_sub(9);
            let mut body = Vec::with_capacity(pad + 9);
            body.extend_from_slice(b"{\"p\":\"");
            body.resize(body.len() + pad, b'x');
            body.extend_from_slice(b"\"}");
            Resp {
                status: 200,
                headers: Vec::new(),
                body,
            }
        }
        FaultKind::Slow { .. } => Resp::message(500, "fake GitHub: slow is no answer"),
    }
}

/// An API request: GitHub's checks of the headers, then the endpoint.
fn api(shared: &Shared, parts: &hyper::http::request::Parts, body: &[u8]) -> Resp {
    let path = parts.uri.path();
    // GraphQL sits beside an Enterprise server's REST prefix.
    let graphql = match shared.prefix.strip_suffix("/api/v3") {
        Some(host) => format!("{host}/api/graphql"),
        None => format!("{}/graphql", shared.prefix.trim_end_matches('/')),
    };
    let rest = if path == graphql {
        "/graphql"
    } else {
        match path.strip_prefix(shared.prefix.as_str()) {
            Some(rest) => rest,
            None => return Resp::message(404, "Not Found"),
        }
    };
    if parts.headers.get("user-agent").is_none() {
        return Resp::message(
            403,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
        );
    }
    let token = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let mut inner = shared.lock();
    let login = match token {
        Some(t) if inner.tokens.is_empty() => {
            let _ = t;
            DEFAULT_LOGIN.to_owned()
        }
        Some(t) => match inner.tokens.get(t) {
            Some(login) => login.clone(),
            None => return Resp::message(401, "Bad credentials"),
        },
        None => return Resp::message(401, "Requires authentication"),
    };
    let mut query: BTreeMap<String, String> = parts
        .uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if let Some(max) = shared.page_size {
        let asked = query
            .get("per_page")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(max);
        query.insert("per_page".to_owned(), asked.min(max).max(1).to_string());
    }
    let host = parts
        .headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let base = format!("http://{host}{}", shared.prefix);
    let req = Req {
        method: parts.method.as_str(),
        segments: rest.split('/').filter(|s| !s.is_empty()).collect(),
        query,
        body,
        login: &login,
        base: &base,
    };
    let before = inner.state.clone();
    let resp = inner.state.handle(&req);
    let changed = inner.state != before;
    drop(inner);
    if changed {
        save(shared);
    }
    resp
}

fn control_endpoint(shared: &Shared, method: &str, what: &str, body: &[u8]) -> Resp {
    let bad = |e: serde_json::Error| Resp::message(400, &format!("fake GitHub: {e}"));
    match (method, what) {
        ("GET", "state") => {
            let state = shared.lock().state.clone();
            Resp::json(200, &serde_json::to_value(state).expect("state serialises"))
        }
        ("GET", "requests") => {
            let requests = shared.lock().requests.clone();
            Resp::json(
                200,
                &serde_json::to_value(requests).expect("requests serialise"),
            )
        }
        ("POST", "faults") => {
            #[derive(Deserialize)]
            #[serde(untagged)]
            enum OneOrMany {
                One(Fault),
                Many(Vec<Fault>),
            }
            match serde_json::from_slice::<OneOrMany>(body) {
                Ok(OneOrMany::One(f)) => add_fault(shared, f),
                Ok(OneOrMany::Many(fs)) => fs.into_iter().for_each(|f| add_fault(shared, f)),
                Err(e) => return bad(e),
            }
            Resp::json(200, &json!({}))
        }
        ("POST", "tokens") => {
            #[derive(Deserialize)]
            struct Token {
                token: String,
                login: String,
            }
            match serde_json::from_slice::<Token>(body) {
                Ok(t) => {
                    shared.lock().tokens.insert(t.token, t.login);
                    Resp::json(200, &json!({}))
                }
                Err(e) => bad(e),
            }
        }
        ("POST", "comments") => {
            #[derive(Deserialize)]
            struct Seed {
                repo: String,
                issue: u64,
                login: String,
                body: String,
            }
            match serde_json::from_slice::<Seed>(body) {
                Ok(s) => {
                    let id = shared
                        .lock()
                        .state
                        .add_comment(&s.repo, s.issue, &s.login, &s.body);
                    save(shared);
                    Resp::json(201, &json!({"id": id}))
                }
                Err(e) => bad(e),
            }
        }
        ("POST", "files") => {
            #[derive(Deserialize)]
            struct Seed {
                repo: String,
                #[serde(rename = "ref")]
                reference: String,
                path: String,
                content: String,
            }
            match serde_json::from_slice::<Seed>(body) {
                Ok(s) => {
                    let mut inner = shared.lock();
                    let files = &mut inner.state.files;
                    files.retain(|f| {
                        !(f.repo == s.repo && f.reference == s.reference && f.path == s.path)
                    });
                    files.push(FakeFile::new(
                        &s.repo,
                        &s.reference,
                        &s.path,
                        s.content.into_bytes(),
                    ));
                    drop(inner);
                    save(shared);
                    Resp::json(201, &json!({}))
                }
                Err(e) => bad(e),
            }
        }
        _ => Resp::message(404, "fake GitHub: no such control endpoint"),
    }
}

fn add_fault(shared: &Shared, fault: Fault) {
    let reset = match fault.kind {
        FaultKind::RateLimit { reset_in_secs } => now_epoch() + reset_in_secs,
        _ => 0,
    };
    shared.lock().faults.push(ActiveFault { fault, reset });
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn load_state(path: &Path) -> io::Result<FakeState> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(FakeState::default()),
        Err(e) => Err(e),
    }
}

/// Writes the state file (temporary file, then rename), if there is one.
fn save(shared: &Shared) {
    let Some(path) = &shared.state_file else {
        return;
    };
    // Written under the lock, so saves do not interleave.
    let inner = shared.lock();
    let json = serde_json::to_vec_pretty(&inner.state).expect("state serialises");
    let tmp = path.with_extension("tmp");
    // A fake for tests: a failed save shows in the test that reads it.
    if std::fs::write(&tmp, json).is_ok() {
        let _ = std::fs::rename(&tmp, path);
    }
    drop(inner);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_read_from_json() {
        let f: Fault =
            serde_json::from_str(r#"{"kind":"status","status":502,"times":2,"path":"/comments"}"#)
                .unwrap();
        assert_eq!(
            f,
            Fault::new(FaultKind::Status { status: 502 }, 2).on_path("/comments")
        );
        let f: Fault = serde_json::from_str(r#"{"kind":"rate_limit","reset_in_secs":2}"#).unwrap();
        assert_eq!(f.times, 1);
        let f: Fault =
            serde_json::from_str(r#"{"kind":"slow","delay_ms":100,"method":"GET"}"#).unwrap();
        assert_eq!(f.kind, FaultKind::Slow { delay_ms: 100 });
    }
}
