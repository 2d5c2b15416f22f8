//! Check runs with annotations (GitHub's Checks API).
//!
//! GitHub takes at most 50 annotations per request and appends the
//! annotations of every update to the run's; [`post_check_run`] does the
//! batching. Check runs need a GitHub App's installation token.

use covlens_report_templates::github_len;
pub use covlens_report_templates::{Annotation, AnnotationLevel};
use serde::{Deserialize, Serialize};

use super::{GitHub, GitHubError, Repo};

/// Annotations GitHub accepts in one request.
pub const MAX_ANNOTATIONS_PER_REQUEST: usize = 50;

/// Longest `summary` or `text` of a check run's output.
pub const MAX_OUTPUT_CHARS: usize = 65_535;

/// A check run's id.
pub type CheckRunId = u64;

/// Where a check run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Not started.
    Queued,
    /// Running.
    InProgress,
    /// Finished (a [`CheckConclusion`] is then required).
    Completed,
}

/// How a completed check run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckConclusion {
    /// Passed.
    Success,
    /// Failed.
    Failure,
    /// Neither.
    Neutral,
    /// Cancelled.
    Cancelled,
    /// Skipped.
    Skipped,
    /// Timed out.
    TimedOut,
    /// Needs a person.
    ActionRequired,
}

/// What a check run shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckOutput {
    /// Title.
    pub title: String,
    /// Markdown summary.
    pub summary: String,
    /// Markdown details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Annotations ([`post_check_run`] sends any number of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub annotations: Vec<Annotation>,
}

impl CheckOutput {
    /// GitHub's limits for one request.
    pub(crate) fn check(&self) -> Result<(), GitHubError> {
        if self.annotations.len() > MAX_ANNOTATIONS_PER_REQUEST {
            return Err(GitHubError::Invalid(
                "more than 50 annotations in one check-run request",
            ));
        }
        let texts = [
            ("check run summary", Some(&self.summary)),
            ("check run text", self.text.as_ref()),
        ];
        for (what, text) in texts {
            if let Some(text) = text {
                let len = github_len(text);
                if len > MAX_OUTPUT_CHARS {
                    return Err(GitHubError::TooLong {
                        what,
                        len,
                        max: MAX_OUTPUT_CHARS,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A check run to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRun {
    /// The check's name (e.g. `covlens/coverage`).
    pub name: String,
    /// The commit.
    pub head_sha: String,
    /// Link to the full report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
    /// Our own reference (e.g. the ProwJob's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CheckStatus>,
    /// Conclusion (sets the status to completed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<CheckConclusion>,
    /// What it shows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckOutput>,
}

/// Changes to a check run; annotations are added to the existing ones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRunUpdate {
    /// New status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<CheckStatus>,
    /// New conclusion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<CheckConclusion>,
    /// New output (title and summary are required by GitHub).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckOutput>,
}

/// Creates `run` with all its annotations: the first 50 with the run
/// (still in progress when more follow), then 50 per update, and the
/// status and conclusion with the last one, so the run does not show as
/// finished before all its annotations are there.
pub async fn post_check_run<G: GitHub + ?Sized>(
    gh: &G,
    repo: &Repo,
    run: &CheckRun,
) -> Result<CheckRunId, GitHubError> {
    let Some(output) = &run.output else {
        return gh.create_check_run(repo, run).await;
    };
    // Refuse before the first request what a later one would refuse.
    CheckOutput {
        annotations: Vec::new(),
        ..output.clone()
    }
    .check()?;
    let mut batches = output.annotations.chunks(MAX_ANNOTATIONS_PER_REQUEST);
    let first = batches.next().unwrap_or_default();
    let rest: Vec<&[Annotation]> = batches.collect();
    let with = |annotations: &[Annotation]| CheckOutput {
        annotations: annotations.to_vec(),
        ..output.clone()
    };
    let mut create = run.clone();
    create.output = Some(with(first));
    if !rest.is_empty() {
        create.status = Some(CheckStatus::InProgress);
        create.conclusion = None;
    }
    let id = gh.create_check_run(repo, &create).await?;
    for (i, batch) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let update = CheckRunUpdate {
            status: if last { run.status } else { None },
            conclusion: if last { run.conclusion } else { None },
            output: Some(with(batch)),
        };
        gh.update_check_run(repo, id, &update).await?;
    }
    Ok(id)
}
