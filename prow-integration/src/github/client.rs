//! [`Client`]: the [`GitHub`] trait over HTTPS (reqwest, rustls).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::warn;
use url::Url;

use super::checks::{CheckRun, CheckRunId, CheckRunUpdate, MAX_ANNOTATIONS_PER_REQUEST};
use super::comment::check_body;
use super::contents::{MAX_CONTENTS_ANSWER, check_path, decode_contents};
use super::error::printable;
use super::paging::{next_link, same_api};
use super::retry::{RetryPolicy, rate_limit_wait, retry_after};
use super::status::{CommitStatus, check_description};
use super::tree::{
    BLOBS_PER_QUERY, Blob, BlobsBy, MAX_BLOB_ANSWER, MAX_GRAPHQL_ANSWER, MAX_TREE_ANSWER, Tree,
    blobs_query, decode_blob, decode_blobs, decode_tree,
};
use super::{
    Comment, CommentId, GitHub, GitHubError, GitHubFuture, PullRequest, Repo, User, check_sha,
};

/// Where the token comes from.
#[derive(Clone)]
pub enum TokenSource {
    /// A file holding the token (surrounding whitespace ignored), read
    /// for every request, so a rotated secret is used at once: Kubernetes
    /// updates a mounted secret by swapping a symlink.
    File(PathBuf),
    /// A token given directly.
    Value(String),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::File(p) => f.debug_tuple("File").field(p).finish(),
            TokenSource::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

/// Settings of a [`Client`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The API's base URL: `https://api.github.com` (default), or GitHub
    /// Enterprise's `https://HOST/api/v3`.
    pub api: String,
    /// The token.
    pub token: TokenSource,
    /// Time limit of one attempt, answer included.
    pub timeout: Duration,
    /// Time limit of connecting.
    pub connect_timeout: Duration,
    /// Retries and waits.
    pub retry: RetryPolicy,
    /// Comments asked for per page (GitHub allows up to 100).
    pub per_page: u32,
    /// Pages followed at most when listing (a bound on a misbehaving
    /// server's `Link` chain).
    pub max_pages: u32,
    /// The `User-Agent` (GitHub refuses requests without one).
    pub user_agent: String,
}

impl ClientOptions {
    /// Defaults for api.github.com with `token`.
    pub fn new(token: TokenSource) -> ClientOptions {
        ClientOptions {
            api: "https://api.github.com".to_owned(),
            token,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            per_page: 100,
            max_pages: 100,
            user_agent: concat!("covlens/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// The [`GitHub`] trait over HTTPS. Cheap to clone (shares one
/// connection pool).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    token: TokenSource,
    retry: RetryPolicy,
    per_page: u32,
    max_pages: u32,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("token", &self.inner.token)
            .finish_non_exhaustive()
    }
}

/// An answer read in full.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// What to do after a failed attempt.
enum Next {
    /// Try again after the wait (5xx, connection errors, a rotated token).
    Retry(Duration),
    /// A rate limit: wait as asked, if that is not too long.
    RateLimit(Duration),
    /// Give up.
    Fail,
}

impl Client {
    /// A client with `options`. Installs rustls' ring provider as the
    /// process default if no provider is installed yet (the reporter
    /// installs it first, for kube; reqwest is built without a provider
    /// of its own).
    pub fn new(options: ClientOptions) -> Result<Client, GitHubError> {
        let base = parse_base(&options.api)?;
        ensure_crypto_provider();
        let mut defaults = HeaderMap::new();
        defaults.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/vnd.github+json"),
        );
        defaults.insert(
            "x-github-api-version",
            HeaderValue::from_static("2022-11-28"),
        );
        let http = reqwest::Client::builder()
            .user_agent(options.user_agent)
            .default_headers(defaults)
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .build()
            .map_err(GitHubError::ClientBuild)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                token: options.token,
                retry: options.retry,
                per_page: options.per_page.clamp(1, 100),
                max_pages: options.max_pages.max(1),
            }),
        })
    }

    /// The API base URL in use.
    pub fn api(&self) -> &str {
        self.inner.base.as_str()
    }

    /// `base/seg/seg/...`, each segment percent-encoded.
    /// The blobs named by `values`, [`BLOBS_PER_QUERY`] per GraphQL query;
    /// an answer over [`MAX_GRAPHQL_ANSWER`] leaves its blobs to REST.
    async fn graphql_blobs(
        &self,
        repo: &Repo,
        by: BlobsBy,
        values: &[String],
    ) -> Result<Vec<Blob>, GitHubError> {
        let mut out = Vec::with_capacity(values.len());
        for batch in values.chunks(BLOBS_PER_QUERY) {
            let body = blobs_query(repo.owner(), repo.name(), by, batch);
            match self
                .call_bounded(Method::POST, self.graphql(), Some(body), MAX_GRAPHQL_ANSWER)
                .await
            {
                Ok(answer) => out.extend(decode_blobs(&answer.body, batch.len())?),
                Err(GitHubError::AnswerTooLarge { .. }) => {
                    out.extend(std::iter::repeat_n(Blob::Other, batch.len()));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The GraphQL endpoint: `/graphql` at github.com's API, `/api/graphql`
    /// beside an Enterprise server's `/api/v3`.
    fn graphql(&self) -> Url {
        let mut url = self.inner.base.clone();
        let path = url.path().trim_end_matches('/');
        let path = match path.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{path}/graphql"),
        };
        url.set_path(&path);
        url
    }

    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            // parse_base refused URLs that cannot be a base.
            .expect("API URL checked to be a base")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// The token as it is now, and its `Authorization` header.
    async fn token(&self) -> Result<(String, HeaderValue), GitHubError> {
        let (token, from) = match &self.inner.token {
            TokenSource::Value(t) => (t.trim().to_owned(), None),
            TokenSource::File(path) => {
                let text = tokio::fs::read_to_string(path).await.map_err(|source| {
                    GitHubError::TokenRead {
                        path: path.clone(),
                        source,
                    }
                })?;
                (text.trim().to_owned(), Some(path.clone()))
            }
        };
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .ok()
            .filter(|_| !token.is_empty())
            .ok_or(GitHubError::TokenInvalid { from })?;
        value.set_sensitive(true);
        Ok((token, value))
    }

    /// One API call with retries; `Ok` only for a 2xx answer.
    async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, GitHubError> {
        self.call_bounded(method, url, body, usize::MAX).await
    }

    /// [`call`](Self::call), reading at most `max_body` bytes of an
    /// answer: a longer one fails with [`GitHubError::AnswerTooLarge`]
    /// once that much has arrived, without a retry.
    async fn call_bounded(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        max_body: usize,
    ) -> Result<Answer, GitHubError> {
        let policy = &self.inner.retry;
        let max_attempts = policy.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (token, auth) = self.token().await?;
            let mut req = self
                .inner
                .http
                .request(method.clone(), url.clone())
                .header(header::AUTHORIZATION, auth);
            if let Some(body) = &body {
                req = req
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let sent = async {
                let mut resp = req.send().await?;
                let status = resp.status();
                let headers = resp.headers().clone();
                let mut body = Vec::new();
                while let Some(chunk) = resp.chunk().await? {
                    if chunk.len() > max_body - body.len() {
                        return Ok(None);
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok::<_, reqwest::Error>(Some(Answer {
                    status,
                    headers,
                    body,
                }))
            }
            .await;
            let answer = match sent {
                Ok(Some(answer)) => answer,
                Ok(None) => {
                    return Err(GitHubError::AnswerTooLarge {
                        method: method.to_string(),
                        path: url.path().to_owned(),
                        max: max_body as u64,
                    });
                }
                Err(e) if attempt < max_attempts && retryable(&e) => {
                    let wait = policy.backoff(attempt);
                    warn!(
                        method = %method, path = url.path(), attempt, wait_ms = wait.as_millis() as u64,
                        error = %e, "GitHub request failed; retrying"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Err(source) => {
                    return Err(GitHubError::Transport {
                        method: method.to_string(),
                        path: url.path().to_owned(),
                        attempts: attempt,
                        source,
                    });
                }
            };
            if answer.status.is_success() {
                return Ok(answer);
            }
            let next = if answer.status.is_server_error() {
                Next::Retry(
                    retry_after(&answer.headers)
                        .map(|w| w.min(policy.max_rate_limit_wait))
                        .unwrap_or_else(|| policy.backoff(attempt)),
                )
            } else if answer.status == StatusCode::UNAUTHORIZED && self.rotated(&token).await {
                Next::Retry(Duration::ZERO)
            } else {
                match rate_limit_wait(
                    answer.status,
                    &answer.headers,
                    &answer.body,
                    SystemTime::now(),
                    policy,
                    attempt,
                ) {
                    Some(wait) => Next::RateLimit(wait),
                    None => Next::Fail,
                }
            };
            let wait = match next {
                Next::Retry(wait) if attempt < max_attempts => wait,
                Next::RateLimit(wait)
                    if attempt < max_attempts && wait <= policy.max_rate_limit_wait =>
                {
                    wait
                }
                Next::RateLimit(wait) => {
                    return Err(GitHubError::RateLimited {
                        method: method.to_string(),
                        path: url.path().to_owned(),
                        wait,
                    });
                }
                Next::Retry(_) | Next::Fail => {
                    return Err(status_error(&method, &url, &answer));
                }
            };
            warn!(
                method = %method, path = url.path(), attempt, status = answer.status.as_u16(),
                wait_ms = wait.as_millis() as u64, "GitHub answered an error; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Whether the token file now holds another token than `used`.
    async fn rotated(&self, used: &str) -> bool {
        matches!(&self.inner.token, TokenSource::File(_))
            && self.token().await.is_ok_and(|(now, _)| now != used)
    }

    async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<T, GitHubError> {
        let body = body.map(|b| serde_json::to_vec(b).expect("request bodies serialise"));
        let answer = self.call(method.clone(), url.clone(), body).await?;
        decode(&method, &url, &answer)
    }
}

fn decode<T: DeserializeOwned>(
    method: &Method,
    url: &Url,
    answer: &Answer,
) -> Result<T, GitHubError> {
    serde_json::from_slice(&answer.body).map_err(|source| GitHubError::Decode {
        method: method.to_string(),
        path: url.path().to_owned(),
        source,
    })
}

/// Connection errors and timeouts are worth another attempt; a request
/// reqwest could not even build is not.
fn retryable(e: &reqwest::Error) -> bool {
    !(e.is_builder() || e.is_redirect() || e.is_status())
}

/// GitHub's error document: `{"message": ..., "errors": [...]}`.
#[derive(serde::Deserialize)]
struct ErrorDoc {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
}

fn status_error(method: &Method, url: &Url, answer: &Answer) -> GitHubError {
    let mut message = match serde_json::from_slice::<ErrorDoc>(&answer.body) {
        Ok(doc) => {
            let mut m = doc.message;
            // 422s explain themselves in `errors`.
            for e in doc.errors.iter().take(3) {
                let detail = e
                    .get("message")
                    .or_else(|| e.get("code"))
                    .and_then(|v| v.as_str());
                if let Some(detail) = detail {
                    m.push_str("; ");
                    m.push_str(detail);
                }
            }
            m
        }
        Err(_) => String::new(),
    };
    if message.trim().is_empty() {
        message = answer
            .status
            .canonical_reason()
            .unwrap_or("no message")
            .to_owned();
    }
    GitHubError::Status {
        method: method.to_string(),
        path: url.path().to_owned(),
        status: answer.status.as_u16(),
        message: printable(&message, 300),
    }
}

fn parse_base(api: &str) -> Result<Url, GitHubError> {
    let bad = |reason| GitHubError::BaseUrl {
        url: printable(api, 200),
        reason,
    };
    let url = Url::parse(api).map_err(|_| bad("not a URL"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("the scheme must be https or http"));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(bad("no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("a query or fragment is not allowed"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials belong in the token file"));
    }
    Ok(url)
}

/// reqwest is built without a rustls provider of its own (the reporter
/// runs on ring, kube's): install ring's unless one is installed.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race against another installer is fine: either way a
        // provider is in place.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The JSON body of a comment.
#[derive(Serialize)]
struct CommentBody<'a> {
    body: &'a str,
}

/// GitHub's answer to creating a check run (only the id matters).
#[derive(serde::Deserialize)]
struct Created {
    id: u64,
}

impl GitHub for Client {
    fn current_user(&self) -> GitHubFuture<'_, User> {
        Box::pin(async move {
            let url = self.endpoint(&["user"]);
            self.send_json::<(), _>(Method::GET, url, None).await
        })
    }

    fn list_comments<'a>(&'a self, pr: &'a PullRequest) -> GitHubFuture<'a, Vec<Comment>> {
        Box::pin(async move {
            let number = pr.number.to_string();
            let first = self.endpoint(&[
                "repos",
                pr.repo.owner(),
                pr.repo.name(),
                "issues",
                &number,
                "comments",
            ]);
            let mut url = first.clone();
            url.query_pairs_mut()
                .append_pair("per_page", &self.inner.per_page.to_string());
            let paging_error = |reason: String| GitHubError::Pagination {
                path: first.path().to_owned(),
                reason,
            };
            let mut all: Vec<Comment> = Vec::new();
            let mut pages = 0;
            loop {
                pages += 1;
                if pages > self.inner.max_pages {
                    return Err(paging_error(format!(
                        "more than {} pages",
                        self.inner.max_pages
                    )));
                }
                let answer = self.call(Method::GET, url.clone(), None).await?;
                let page: Vec<Comment> = decode(&Method::GET, &url, &answer)?;
                all.extend(page);
                let next = answer
                    .headers
                    .get(header::LINK)
                    .and_then(|v| v.to_str().ok())
                    .and_then(next_link);
                let Some(next) = next else { break };
                let next = url
                    .join(next)
                    .map_err(|_| paging_error("the next link is not a URL".to_owned()))?;
                if !same_api(&self.inner.base, &next) {
                    return Err(paging_error(format!(
                        "the next link leaves the API ({})",
                        printable(next.as_str(), 200)
                    )));
                }
                if next == url {
                    return Err(paging_error("the next link points to itself".to_owned()));
                }
                url = next;
            }
            // Pages shift when comments come and go while listing.
            all.sort_by_key(|c| c.id);
            all.dedup_by_key(|c| c.id);
            Ok(all)
        })
    }

    fn create_comment<'a>(
        &'a self,
        pr: &'a PullRequest,
        body: &'a str,
    ) -> GitHubFuture<'a, Comment> {
        Box::pin(async move {
            check_body(body)?;
            let number = pr.number.to_string();
            let url = self.endpoint(&[
                "repos",
                pr.repo.owner(),
                pr.repo.name(),
                "issues",
                &number,
                "comments",
            ]);
            self.send_json(Method::POST, url, Some(&CommentBody { body }))
                .await
        })
    }

    fn edit_comment<'a>(
        &'a self,
        repo: &'a Repo,
        id: CommentId,
        body: &'a str,
    ) -> GitHubFuture<'a, Comment> {
        Box::pin(async move {
            check_body(body)?;
            let id = id.to_string();
            let url = self.endpoint(&[
                "repos",
                repo.owner(),
                repo.name(),
                "issues",
                "comments",
                &id,
            ]);
            self.send_json(Method::PATCH, url, Some(&CommentBody { body }))
                .await
        })
    }

    fn delete_comment<'a>(&'a self, repo: &'a Repo, id: CommentId) -> GitHubFuture<'a, ()> {
        Box::pin(async move {
            let id = id.to_string();
            let url = self.endpoint(&[
                "repos",
                repo.owner(),
                repo.name(),
                "issues",
                "comments",
                &id,
            ]);
            self.call(Method::DELETE, url, None).await.map(drop)
        })
    }

    fn create_status<'a>(
        &'a self,
        repo: &'a Repo,
        sha: &'a str,
        status: &'a CommitStatus,
    ) -> GitHubFuture<'a, ()> {
        Box::pin(async move {
            check_sha(sha)?;
            if let Some(d) = &status.description {
                check_description(d)?;
            }
            let url = self.endpoint(&["repos", repo.owner(), repo.name(), "statuses", sha]);
            let body = serde_json::to_vec(status).expect("statuses serialise");
            self.call(Method::POST, url, Some(body)).await.map(drop)
        })
    }

    fn create_check_run<'a>(
        &'a self,
        repo: &'a Repo,
        run: &'a CheckRun,
    ) -> GitHubFuture<'a, CheckRunId> {
        Box::pin(async move {
            check_sha(&run.head_sha)?;
            if let Some(output) = &run.output {
                output.check()?;
            }
            let url = self.endpoint(&["repos", repo.owner(), repo.name(), "check-runs"]);
            let created: Created = self.send_json(Method::POST, url, Some(run)).await?;
            Ok(created.id)
        })
    }

    fn update_check_run<'a>(
        &'a self,
        repo: &'a Repo,
        id: CheckRunId,
        update: &'a CheckRunUpdate,
    ) -> GitHubFuture<'a, ()> {
        Box::pin(async move {
            if let Some(output) = &update.output {
                output.check()?;
            }
            debug_assert!(
                update
                    .output
                    .as_ref()
                    .is_none_or(|o| o.annotations.len() <= MAX_ANNOTATIONS_PER_REQUEST)
            );
            let id = id.to_string();
            let url = self.endpoint(&["repos", repo.owner(), repo.name(), "check-runs", &id]);
            let body = serde_json::to_vec(update).expect("check runs serialise");
            self.call(Method::PATCH, url, Some(body)).await.map(drop)
        })
    }

    fn get_file<'a>(
        &'a self,
        repo: &'a Repo,
        path: &'a str,
        reference: &'a str,
    ) -> GitHubFuture<'a, Option<Vec<u8>>> {
        Box::pin(async move {
            check_sha(reference)?;
            let parts = check_path(path)?;
            let mut segments = vec!["repos", repo.owner(), repo.name(), "contents"];
            segments.extend(parts);
            let mut url = self.endpoint(&segments);
            url.query_pairs_mut().append_pair("ref", reference);
            match self
                .call_bounded(Method::GET, url, None, MAX_CONTENTS_ANSWER)
                .await
            {
                Ok(answer) => decode_contents(&answer.body, path).map(Some),
                Err(e) if e.is_not_found() => Ok(None),
                Err(GitHubError::AnswerTooLarge { max, .. }) => Err(GitHubError::Contents {
                    path: path.to_owned(),
                    reason: format!("GitHub's answer is over {max} bytes"),
                }),
                Err(e) => Err(e),
            }
        })
    }

    fn list_tree<'a>(
        &'a self,
        repo: &'a Repo,
        reference: &'a str,
        recursive: bool,
    ) -> GitHubFuture<'a, Tree> {
        Box::pin(async move {
            // A branch may hold `/`: its parts are segments, never `..`.
            let parts = check_path(reference)?;
            let mut segments = vec!["repos", repo.owner(), repo.name(), "git", "trees"];
            segments.extend(parts);
            let mut url = self.endpoint(&segments);
            if recursive {
                url.query_pairs_mut().append_pair("recursive", "1");
            }
            let answer = self
                .call_bounded(Method::GET, url, None, MAX_TREE_ANSWER)
                .await?;
            decode_tree(&answer.body, reference)
        })
    }

    fn get_blobs<'a>(
        &'a self,
        repo: &'a Repo,
        shas: &'a [String],
    ) -> GitHubFuture<'a, Vec<Vec<u8>>> {
        Box::pin(async move {
            for sha in shas {
                check_sha(sha)?;
            }
            let got = self.graphql_blobs(repo, BlobsBy::Oid, shas).await?;
            let mut out = Vec::with_capacity(shas.len());
            for (sha, blob) in shas.iter().zip(got) {
                out.push(match blob {
                    Blob::Text(t) => t,
                    // The REST answer says why (not found, too large).
                    Blob::Missing | Blob::Other => self.get_blob(repo, sha).await?,
                });
            }
            Ok(out)
        })
    }

    fn get_files<'a>(
        &'a self,
        repo: &'a Repo,
        paths: &'a [String],
        reference: &'a str,
    ) -> GitHubFuture<'a, Vec<Option<Vec<u8>>>> {
        Box::pin(async move {
            check_sha(reference)?;
            for p in paths {
                check_path(p)?;
            }
            let exprs: Vec<String> = paths.iter().map(|p| format!("{reference}:{p}")).collect();
            let got = self
                .graphql_blobs(repo, BlobsBy::Expression, &exprs)
                .await?;
            let mut out = Vec::with_capacity(paths.len());
            for (path, blob) in paths.iter().zip(got) {
                out.push(match blob {
                    Blob::Text(t) => Some(t),
                    Blob::Missing => None,
                    Blob::Other => self.get_file(repo, path, reference).await?,
                });
            }
            Ok(out)
        })
    }

    fn get_blob<'a>(&'a self, repo: &'a Repo, sha: &'a str) -> GitHubFuture<'a, Vec<u8>> {
        Box::pin(async move {
            check_sha(sha)?;
            let segments = ["repos", repo.owner(), repo.name(), "git", "blobs", sha];
            let url = self.endpoint(&segments);
            match self
                .call_bounded(Method::GET, url, None, MAX_BLOB_ANSWER)
                .await
            {
                Ok(answer) => decode_blob(&answer.body, sha),
                Err(GitHubError::AnswerTooLarge { max, .. }) => Err(GitHubError::Git {
                    object: format!("blob {sha}"),
                    reason: format!("GitHub's answer is over {max} bytes"),
                }),
                Err(e) => Err(e),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        for ok in [
            "https://api.github.com",
            "https://api.github.com/",
            "https://ghe.example.com/api/v3",
            "http://127.0.0.1:8080/api/v3/",
        ] {
            assert!(parse_base(ok).is_ok(), "{ok}");
        }
        for bad in [
            "api.github.com",
            "ftp://x",
            "https://api.github.com/?x=1",
            "https://u:p@api.github.com",
            "mailto:x@y",
        ] {
            assert!(parse_base(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_keep_the_enterprise_prefix_and_encode_segments() {
        let mut o = ClientOptions::new(TokenSource::Value("t".into()));
        o.api = "https://ghe.example.com/api/v3/".into();
        let c = Client::new(o).unwrap();
        assert_eq!(
            c.endpoint(&["repos", "o", "r", "issues", "7", "comments"])
                .as_str(),
            "https://ghe.example.com/api/v3/repos/o/r/issues/7/comments"
        );
        assert_eq!(
            c.endpoint(&["a/b?c"]).as_str(),
            "https://ghe.example.com/api/v3/a%2Fb%3Fc"
        );
        assert_eq!(c.graphql().as_str(), "https://ghe.example.com/api/graphql");
        let c = Client::new(ClientOptions::new(TokenSource::Value("t".into()))).unwrap();
        assert_eq!(c.graphql().as_str(), "https://api.github.com/graphql");
    }

    #[test]
    fn tokens_are_not_printed() {
        let o = ClientOptions::new(TokenSource::Value("ghp_secret".into()));
        assert!(!format!("{o:?}").contains("ghp_secret"));
        let c = Client::new(o).unwrap();
        assert!(!format!("{c:?}").contains("ghp_secret"));
    }
}
