//! The GitHub client's error type.
//!
//! Messages say what failed, not why: the cause is the error's
//! [`source`](std::error::Error::source), which the binary prints after it.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong talking to GitHub.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GitHubError {
    /// The API base URL cannot be used.
    #[error("invalid GitHub API URL {url:?}: {reason}")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    ClientBuild(#[source] reqwest::Error),
    /// The token file cannot be read.
    #[error("cannot read the GitHub token file {}", path.display())]
    TokenRead {
        /// The token file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The token is empty or not usable in a header.
    #[error("the GitHub token{} is empty or not valid in an HTTP header", from.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    TokenInvalid {
        /// The token file, if the token came from one.
        from: Option<PathBuf>,
    },
    /// An owner, repository name or commit SHA that GitHub would not
    /// accept (and that must not reach a URL path).
    #[error("invalid {what} {value:?}")]
    InvalidName {
        /// "owner", "repository" or "commit SHA".
        what: &'static str,
        /// The rejected value (shown escaped).
        value: String,
    },
    /// A repository file's answer from the contents API cannot be used.
    #[error("repository file {path}: {reason}")]
    Contents {
        /// The file's path in the repository.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A tree or blob answer of the git data API cannot be used.
    #[error("{object}: {reason}")]
    Git {
        /// `tree REF` or `blob SHA`.
        object: String,
        /// What is wrong.
        reason: String,
    },
    /// An answer longer than the request reads (a bound on what a
    /// misbehaving server can make the reporter hold).
    #[error("{method} {path}: GitHub's answer is over {max} bytes")]
    AnswerTooLarge {
        /// The HTTP method.
        method: String,
        /// The request's path.
        path: String,
        /// The bytes read at most.
        max: u64,
    },
    /// A request could not be sent or its answer not read, on every
    /// attempt (connection errors, timeouts).
    #[error("{method} {path}: no answer from GitHub after {attempts} attempts")]
    Transport {
        /// The HTTP method.
        method: String,
        /// The request's path.
        path: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last attempt's error.
        #[source]
        source: reqwest::Error,
    },
    /// GitHub answered with an error status (after the retries that
    /// status allows).
    #[error("{method} {path}: GitHub answered {status}: {message}")]
    Status {
        /// The HTTP method.
        method: String,
        /// The request's path.
        path: String,
        /// The HTTP status code.
        status: u16,
        /// GitHub's `message`, made printable and cut short.
        message: String,
    },
    /// GitHub's rate limit would need a longer wait than allowed, or
    /// stayed on over every attempt.
    #[error("{method} {path}: rate limited by GitHub (next try possible in {}s)", wait.as_secs())]
    RateLimited {
        /// The HTTP method.
        method: String,
        /// The request's path.
        path: String,
        /// How long GitHub asked to wait.
        wait: Duration,
    },
    /// An answer that is not the JSON GitHub documents.
    #[error("{method} {path}: unexpected answer from GitHub")]
    Decode {
        /// The HTTP method.
        method: String,
        /// The request's path.
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A pagination `Link` that cannot be followed.
    #[error("{path}: cannot follow the pagination: {reason}")]
    Pagination {
        /// The list's path.
        path: String,
        /// Why not.
        reason: String,
    },
    /// A text over one of GitHub's size limits; nothing was sent.
    #[error("{what} is {len} characters as GitHub counts them, over the limit of {max}")]
    TooLong {
        /// "comment body", "status description", ...
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A comment body without the marker it is to be found by again.
    #[error("comment body does not contain its marker {marker:?}")]
    MissingMarker {
        /// The marker.
        marker: String,
    },
    /// A request the caller built wrongly (e.g. annotations without an
    /// output to carry them).
    #[error("invalid request: {0}")]
    Invalid(&'static str),
    /// The bot's comment kept changing under us (deleted between
    /// listing and editing, again and again).
    #[error("{pr}: the comment kept disappearing while being updated")]
    Contended {
        /// `owner/repo#number`.
        pr: String,
    },
}

impl GitHubError {
    /// The HTTP status GitHub answered with, if that is what failed.
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// GitHub answered 404 (or 410): the object is not (or no longer) there.
    pub fn is_not_found(&self) -> bool {
        matches!(self.status(), Some(404 | 410))
    }
}

/// Makes text from a server printable: control characters become `?`,
/// and it is cut to `max` characters (`…` marks the cut).
pub(crate) fn printable(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4));
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '?' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_replaces_controls_and_cuts() {
        assert_eq!(printable("a\x1b[31mb\n", 100), "a?[31mb?");
        assert_eq!(printable("abcdef", 3), "abc…");
        assert_eq!(printable("", 3), "");
    }

    #[test]
    fn display_leaves_the_source_out() {
        let e = GitHubError::TokenRead {
            path: "/etc/github/token".into(),
            source: std::io::Error::other("boom"),
        };
        assert_eq!(
            e.to_string(),
            "cannot read the GitHub token file /etc/github/token"
        );
        assert!(std::error::Error::source(&e).is_some());
    }
}
