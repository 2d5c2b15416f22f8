//! The seam between the ProwJob controller and what it does when a selected
//! job reaches a final state.
//!
//! The controller (`controller`) watches ProwJobs and decides *when* to
//! report, exactly once per transition; a [`Publish`] implementation decides
//! *what* a report is (branch tables, site, badge, PR comment, status,
//! junit). The controller hands over a [`FinishedJob`]: plain values taken
//! from the ProwJob, so publishing never sees Kubernetes types and the
//! controller never sees coverage.
//!
//! [`Publisher`] is the implementation: [`Publisher::new`] from a
//! [`Config`](crate::config::Config); [`Bucket`] is its object_store access
//! (keys checked, reads bounded), [`read_run`] reads one run's coverage and
//! [`latest_success`] finds a job's latest successful run. [`PublishLog`]
//! only records what would be published, for tests and demos.

mod artifacts;
mod log;
mod owners;
mod policy;
mod publisher;
mod store;

pub use self::artifacts::{
    MAX_CANDIDATES, MAX_COMMIT_SCAN, RunCoverage, Source, latest_success, read_run, success_at,
};
pub use self::log::PublishLog;
pub use self::publisher::{FILTERED_ARTIFACT, JUNIT_ARTIFACT, Publisher};
pub use self::store::{Bucket, Listed, Max};

use std::future::Future;
use std::pin::Pin;

use crate::layout::JobType;

/// A ProwJob that reached a final state, as plain values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FinishedJob {
    /// `metadata.name` (a UUID in Prow).
    pub name: String,
    /// `spec.job`: the job's name in Prow's config.
    pub job: String,
    /// `spec.type`.
    pub job_type: JobType,
    /// `status.build_id`: the run's directory under the job in the artifacts.
    pub build_id: String,
    /// `status.state`.
    pub state: FinalState,
    /// `spec.refs`, for jobs that test a repository.
    pub refs: Option<Refs>,
    /// `status.url`: the run's page in Deck/Spyglass, when Prow set one.
    pub url: Option<String>,
    /// `status.startTime` as written (RFC 3339).
    pub start_time: Option<String>,
    /// `status.completionTime` as written (RFC 3339).
    pub completion_time: Option<String>,
}

/// `spec.refs`: the repository and, for presubmits, the pull requests.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Refs {
    /// `org`.
    pub org: String,
    /// `repo`.
    pub repo: String,
    /// `base_ref` (a branch).
    pub base_ref: String,
    /// `base_sha`.
    pub base_sha: String,
    /// `pulls`: one for a presubmit, several for a batch.
    pub pulls: Vec<PullRef>,
}

/// One entry of `spec.refs.pulls`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PullRef {
    /// `number`.
    pub number: u64,
    /// `sha`: the head commit tested.
    pub sha: String,
    /// `author`.
    pub author: String,
}

/// The final states of a ProwJob (`status.state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FinalState {
    /// `success`.
    Success,
    /// `failure`.
    Failure,
    /// `error`.
    Error,
    /// `aborted`.
    Aborted,
}

impl FinalState {
    /// The state from `status.state`; `None` for a state that is not final
    /// (`triggered`, `pending`, or one Prow adds later).
    pub fn parse(state: &str) -> Option<FinalState> {
        match state {
            "success" => Some(FinalState::Success),
            "failure" => Some(FinalState::Failure),
            "error" => Some(FinalState::Error),
            "aborted" => Some(FinalState::Aborted),
            _ => None,
        }
    }

    /// The name Prow writes.
    pub fn as_str(self) -> &'static str {
        match self {
            FinalState::Success => "success",
            FinalState::Failure => "failure",
            FinalState::Error => "error",
            FinalState::Aborted => "aborted",
        }
    }
}

/// What publishing did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Something was written or posted; a one-line account for logs.
    Published(String),
    /// The job is selected but there was nothing to do (no dashboard or
    /// presubmit uses it, no coverage in its artifacts...); why, for logs.
    Skipped(String),
}

/// Why publishing failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// Worth another try later (storage or GitHub unreachable, rate limited):
    /// the controller does not record the job as reported and retries with
    /// backoff.
    #[error("{0} (will retry)")]
    Transient(String),
    /// Another try would fail the same way (hostile or broken artifacts):
    /// the controller records the job as reported and counts an error.
    #[error("{0}")]
    Permanent(String),
}

/// A boxed future, so that [`Publish`] is object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the controller calls once per final transition of a selected job.
pub trait Publish: Send + Sync {
    /// Publish the reports of `job`. Must be idempotent: after a crash the
    /// controller may call it again for a job whose report it could not
    /// record, and publishing the same runs again must give the same bytes.
    fn publish<'a>(&'a self, job: &'a FinishedJob) -> BoxFuture<'a, Result<Outcome, PublishError>>;
}
