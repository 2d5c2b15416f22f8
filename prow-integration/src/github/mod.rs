/*!
GitHub: the reporter's PR comments, commit statuses and check runs, and
the repository's policy file.

[`GitHub`] is the small interface the reporter needs (issue comments,
the authenticated user, commit statuses, check runs, a file at a commit
through the contents API, at most [`MAX_FILE_BYTES`], a tree's file listing
and blobs by SHA); [`Client`] implements
it over HTTPS with reqwest and rustls: a configurable API base URL (GitHub
Enterprise's `https://HOST/api/v3` works), the token read from a file and
read again when it changes (Kubernetes swaps mounted secrets by symlink),
retries with exponential backoff and jitter on 5xx and connection errors,
GitHub's rate limits honoured (`Retry-After`, `X-RateLimit-Reset`,
secondary limits), timeouts, and a bounded number of attempts.

On top of it:
- [`Commenter::upsert_comment`] keeps exactly one comment per PR, found by
  its hidden marker ([`COMMENT_MARKER`]) among the bot's own comments and
  edited in place, also when two reporters race and after restarts;
- [`coverage_status`] builds the `covlens/coverage` commit status;
- [`post_check_run`] creates a check run with any number of annotations,
  50 per request as GitHub allows.

The trait is async (the reporter runs on tokio; a blocking client would
hold a worker thread through every backoff and rate-limit wait, and
reqwest's blocking client cannot run inside a runtime) and object safe, so
the publisher can hold an `Arc<dyn GitHub>`: its methods return boxed
futures instead of using `async fn`.

With the `fake-github` feature, [`fake`] is a fake GitHub API server on
loopback for tests and demos (also as the `covlens-fake-github` binary).

```no_run
# async fn example() -> Result<(), covlens_prow::github::GitHubError> {
use covlens_prow::github::{
    Client, ClientOptions, Commenter, PullRequest, Repo, StatusState, TokenSource,
    coverage_status, COMMENT_MARKER, GitHub,
};

let client = Client::new(ClientOptions::new(TokenSource::File("/etc/github/token".into())))?;
let pr = PullRequest::new(Repo::new("kubernetes", "kubernetes")?, 12345);
let commenter = Commenter::new(client.clone());
let body = format!("{COMMENT_MARKER}\n### Coverage\n...");
commenter.upsert_comment(&pr, COMMENT_MARKER, &body).await?;
let status = coverage_status(
    StatusState::from_threshold(81.5, 80.0),
    "81.5% of statements (base 80.9%)",
    Some("https://prow.example/coverage/12345/"),
);
client.create_status(&pr.repo, "0123456789abcdef0123456789abcdef01234567", &status).await?;
# Ok(()) }
```
*/

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

mod checks;
mod client;
mod comment;
mod contents;
mod error;
mod paging;
mod retry;
mod status;
mod tree;

#[cfg(feature = "fake-github")]
pub mod fake;

pub use self::checks::{
    Annotation, AnnotationLevel, CheckConclusion, CheckOutput, CheckRun, CheckRunId,
    CheckRunUpdate, CheckStatus, MAX_ANNOTATIONS_PER_REQUEST, post_check_run,
};
pub use self::client::{Client, ClientOptions, TokenSource};
pub use self::comment::{
    COMMENT_MARKER, Commenter, MAX_COMMENT_CHARS, RUN_STAMP, Upsert, UpsertOutcome, run_stamp_line,
};
pub use self::contents::MAX_FILE_BYTES;
pub use self::error::GitHubError;
pub use self::retry::RetryPolicy;
pub use self::status::{
    COVERAGE_CONTEXT, CommitStatus, MAX_DESCRIPTION_CHARS, StatusState, coverage_status,
};
pub use self::tree::{BLOBS_PER_QUERY, Tree, TreeEntry};

/// The future a [`GitHub`] method returns.
pub type GitHubFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, GitHubError>> + Send + 'a>>;

/// The GitHub operations the reporter needs.
///
/// Every method is one logical API call; implementations retry as they
/// see fit. [`list_comments`](GitHub::list_comments) returns every page.
pub trait GitHub: Send + Sync {
    /// The user the token belongs to (to recognise the bot's comments).
    fn current_user(&self) -> GitHubFuture<'_, User>;

    /// Every comment of a PR's conversation, oldest first (all pages).
    fn list_comments<'a>(&'a self, pr: &'a PullRequest) -> GitHubFuture<'a, Vec<Comment>>;

    /// Adds a comment to a PR's conversation.
    fn create_comment<'a>(
        &'a self,
        pr: &'a PullRequest,
        body: &'a str,
    ) -> GitHubFuture<'a, Comment>;

    /// Replaces the body of a comment.
    fn edit_comment<'a>(
        &'a self,
        repo: &'a Repo,
        id: CommentId,
        body: &'a str,
    ) -> GitHubFuture<'a, Comment>;

    /// Deletes a comment (an error with [`GitHubError::is_not_found`] when
    /// it is already gone).
    fn delete_comment<'a>(&'a self, repo: &'a Repo, id: CommentId) -> GitHubFuture<'a, ()>;

    /// Sets a commit status on `sha`.
    fn create_status<'a>(
        &'a self,
        repo: &'a Repo,
        sha: &'a str,
        status: &'a CommitStatus,
    ) -> GitHubFuture<'a, ()>;

    /// Creates a check run (at most
    /// [`MAX_ANNOTATIONS_PER_REQUEST`] annotations; see [`post_check_run`]).
    fn create_check_run<'a>(
        &'a self,
        repo: &'a Repo,
        run: &'a CheckRun,
    ) -> GitHubFuture<'a, CheckRunId>;

    /// Updates a check run; annotations in `update` are added to the
    /// run's existing ones.
    fn update_check_run<'a>(
        &'a self,
        repo: &'a Repo,
        id: CheckRunId,
        update: &'a CheckRunUpdate,
    ) -> GitHubFuture<'a, ()>;

    /// The bytes of the file at `path` in the commit `reference`; `None`
    /// when the commit has no such file. At most [`MAX_FILE_BYTES`].
    fn get_file<'a>(
        &'a self,
        repo: &'a Repo,
        path: &'a str,
        reference: &'a str,
    ) -> GitHubFuture<'a, Option<Vec<u8>>>;

    /// The files and directories of the tree at `reference` (a branch,
    /// tag or commit, or a directory's [`TreeEntry::sha`]), all of them
    /// (`recursive`: GitHub may cut the listing short, see
    /// [`Tree::truncated`]) or one level.
    fn list_tree<'a>(
        &'a self,
        repo: &'a Repo,
        reference: &'a str,
        recursive: bool,
    ) -> GitHubFuture<'a, Tree>;

    /// The bytes of the blob `sha` (a [`TreeEntry::sha`]), at most
    /// [`MAX_FILE_BYTES`].
    fn get_blob<'a>(&'a self, repo: &'a Repo, sha: &'a str) -> GitHubFuture<'a, Vec<u8>>;

    /// The bytes of blobs `shas`, in their order, each as
    /// [`get_blob`](GitHub::get_blob) gives it, for many at once. This
    /// default reads them one by one; the client reads up to
    /// [`BLOBS_PER_QUERY`] per GraphQL query.
    fn get_blobs<'a>(
        &'a self,
        repo: &'a Repo,
        shas: &'a [String],
    ) -> GitHubFuture<'a, Vec<Vec<u8>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(shas.len());
            for sha in shas {
                out.push(self.get_blob(repo, sha).await?);
            }
            Ok(out)
        })
    }

    /// The files at `paths` in the commit `reference`, in their order, each
    /// as [`get_file`](GitHub::get_file) gives it, for many at once. This
    /// default reads them one by one; the client reads up to
    /// [`BLOBS_PER_QUERY`] per GraphQL query.
    fn get_files<'a>(
        &'a self,
        repo: &'a Repo,
        paths: &'a [String],
        reference: &'a str,
    ) -> GitHubFuture<'a, Vec<Option<Vec<u8>>>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(paths.len());
            for p in paths {
                out.push(self.get_file(repo, p, reference).await?);
            }
            Ok(out)
        })
    }
}

impl<T: GitHub + ?Sized> GitHub for Arc<T> {
    fn current_user(&self) -> GitHubFuture<'_, User> {
        (**self).current_user()
    }
    fn list_comments<'a>(&'a self, pr: &'a PullRequest) -> GitHubFuture<'a, Vec<Comment>> {
        (**self).list_comments(pr)
    }
    fn create_comment<'a>(
        &'a self,
        pr: &'a PullRequest,
        body: &'a str,
    ) -> GitHubFuture<'a, Comment> {
        (**self).create_comment(pr, body)
    }
    fn edit_comment<'a>(
        &'a self,
        repo: &'a Repo,
        id: CommentId,
        body: &'a str,
    ) -> GitHubFuture<'a, Comment> {
        (**self).edit_comment(repo, id, body)
    }
    fn delete_comment<'a>(&'a self, repo: &'a Repo, id: CommentId) -> GitHubFuture<'a, ()> {
        (**self).delete_comment(repo, id)
    }
    fn create_status<'a>(
        &'a self,
        repo: &'a Repo,
        sha: &'a str,
        status: &'a CommitStatus,
    ) -> GitHubFuture<'a, ()> {
        (**self).create_status(repo, sha, status)
    }
    fn create_check_run<'a>(
        &'a self,
        repo: &'a Repo,
        run: &'a CheckRun,
    ) -> GitHubFuture<'a, CheckRunId> {
        (**self).create_check_run(repo, run)
    }
    fn update_check_run<'a>(
        &'a self,
        repo: &'a Repo,
        id: CheckRunId,
        update: &'a CheckRunUpdate,
    ) -> GitHubFuture<'a, ()> {
        (**self).update_check_run(repo, id, update)
    }
    fn get_file<'a>(
        &'a self,
        repo: &'a Repo,
        path: &'a str,
        reference: &'a str,
    ) -> GitHubFuture<'a, Option<Vec<u8>>> {
        (**self).get_file(repo, path, reference)
    }
    fn list_tree<'a>(
        &'a self,
        repo: &'a Repo,
        reference: &'a str,
        recursive: bool,
    ) -> GitHubFuture<'a, Tree> {
        (**self).list_tree(repo, reference, recursive)
    }
    fn get_blob<'a>(&'a self, repo: &'a Repo, sha: &'a str) -> GitHubFuture<'a, Vec<u8>> {
        (**self).get_blob(repo, sha)
    }

    fn get_blobs<'a>(
        &'a self,
        repo: &'a Repo,
        shas: &'a [String],
    ) -> GitHubFuture<'a, Vec<Vec<u8>>> {
        (**self).get_blobs(repo, shas)
    }

    fn get_files<'a>(
        &'a self,
        repo: &'a Repo,
        paths: &'a [String],
        reference: &'a str,
    ) -> GitHubFuture<'a, Vec<Option<Vec<u8>>>> {
        (**self).get_files(repo, paths, reference)
    }
}

/// A repository, `owner/name`, both checked against GitHub's rules for
/// names so they are safe as URL path segments.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Repo {
    owner: String,
    name: String,
}

impl Repo {
    /// Checks and wraps `owner/name`.
    pub fn new(owner: &str, name: &str) -> Result<Repo, GitHubError> {
        check_name("owner", owner)?;
        check_name("repository", name)?;
        Ok(Repo {
            owner: owner.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The owner (user or organisation).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The repository's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for Repo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Owner and repository names: ASCII letters, digits, `-`, `_`, `.`, at
/// most 100 characters, not `.` or `..`.
fn check_name(what: &'static str, s: &str) -> Result<(), GitHubError> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(GitHubError::InvalidName {
            what,
            value: error::printable(s, 120),
        })
    }
}

/// A commit SHA: 4 to 64 hexadecimal digits.
pub(crate) fn check_sha(sha: &str) -> Result<(), GitHubError> {
    if (4..=64).contains(&sha.len()) && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(GitHubError::InvalidName {
            what: "commit SHA",
            value: error::printable(sha, 80),
        })
    }
}

/// A pull request (its conversation is an issue's).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PullRequest {
    /// The repository.
    pub repo: Repo,
    /// The PR's number.
    pub number: u64,
}

impl PullRequest {
    /// `repo#number`.
    pub fn new(repo: Repo, number: u64) -> PullRequest {
        PullRequest { repo, number }
    }
}

impl fmt::Display for PullRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.repo, self.number)
    }
}

/// A GitHub account, as GitHub sends it (fields not listed are ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The login.
    pub login: String,
    /// The numeric id (stable across renames).
    pub id: u64,
    /// `User`, `Bot` or `Organization`.
    #[serde(rename = "type", default)]
    pub kind: String,
}

/// An issue comment's id.
pub type CommentId = u64;

/// An issue comment, as GitHub sends it (fields not listed are ignored).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    /// Its id.
    pub id: CommentId,
    /// The author; `None` for a deleted account ("ghost").
    pub user: Option<User>,
    /// The Markdown body.
    #[serde(default)]
    pub body: String,
    /// ISO 8601 creation time.
    #[serde(default)]
    pub created_at: String,
    /// ISO 8601 time of the last edit.
    #[serde(default)]
    pub updated_at: String,
    /// The comment's page.
    #[serde(default)]
    pub html_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_change_a_url_path_are_refused() {
        assert!(Repo::new("kubernetes", "test-infra").is_ok());
        assert!(Repo::new("my.org", "repo_1.go").is_ok());
        for bad in ["", ".", "..", "a/b", "a%2Fb", "a?b", "a b", "ü"] {
            assert!(Repo::new(bad, "r").is_err(), "{bad:?}");
            assert!(Repo::new("o", bad).is_err(), "{bad:?}");
        }
        assert!(check_sha("0123abcdef").is_ok());
        assert!(check_sha("xyz").is_err());
        assert!(check_sha("../../x").is_err());
    }
}
