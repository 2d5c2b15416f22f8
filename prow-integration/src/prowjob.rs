//! ProwJob (`prow.k8s.io/v1`, kind `ProwJob`) with the field names Prow
//! writes (`pkg/apis/prowjobs/v1/types.go`: snake_case, except
//! `startTime`, `pendingTime` and `completionTime`).
//!
//! Only what the reporter reads is typed; every other field (`pod_spec`,
//! `decoration_config`, fields a newer Prow adds) is kept in an `extra` map,
//! so an object read and written back loses nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::layout::JobType;
use crate::publish::{FinalState, FinishedJob, PullRef, Refs};

/// Fields the types do not name, kept as read.
pub type Extra = BTreeMap<String, Value>;

/// A ProwJob.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProwJob {
    /// `apiVersion`: `prow.k8s.io/v1`.
    #[serde(rename = "apiVersion", default = "api_version")]
    pub api_version: String,
    /// `kind`: `ProwJob`.
    #[serde(default = "kind")]
    pub kind: String,
    /// `metadata`.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// `spec`.
    #[serde(default)]
    pub spec: ProwJobSpec,
    /// `status`.
    #[serde(default)]
    pub status: ProwJobStatus,
    /// Anything else at the top level.
    #[serde(flatten)]
    pub extra: Extra,
}

fn api_version() -> String {
    "prow.k8s.io/v1".to_string()
}

fn kind() -> String {
    "ProwJob".to_string()
}

/// `spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProwJobSpec {
    /// `type`: presubmit, postsubmit, periodic or batch (kept as a string:
    /// an unknown type is not selected, but the object still reads).
    #[serde(rename = "type", default)]
    pub job_type: String,
    /// `agent`: kubernetes, jenkins, tekton-pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// `cluster`: the build cluster's alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// `namespace`: where the job's pod runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `job`: the job's name in Prow's config.
    #[serde(default)]
    pub job: String,
    /// `refs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refs: Option<ProwRefs>,
    /// `extra_refs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_refs: Option<Vec<ProwRefs>>,
    /// `report`: whether Crier reports it (to GitHub).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<bool>,
    /// `context`: the GitHub status context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// `rerun_command`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_command: Option<String>,
    /// Everything else (`pod_spec`, `decoration_config`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `spec.refs` and `spec.extra_refs[]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProwRefs {
    /// `org`.
    #[serde(default)]
    pub org: String,
    /// `repo`.
    #[serde(default)]
    pub repo: String,
    /// `base_ref`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ref: Option<String>,
    /// `base_sha`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_sha: Option<String>,
    /// `pulls`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pulls: Option<Vec<ProwPull>>,
    /// Everything else (`path_alias`, `repo_link`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `spec.refs.pulls[]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProwPull {
    /// `number`.
    #[serde(default)]
    pub number: u64,
    /// `author`.
    #[serde(default)]
    pub author: String,
    /// `sha`.
    #[serde(default)]
    pub sha: String,
    /// Everything else (`title`, `ref`, `link`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProwJobStatus {
    /// `state`: scheduling, triggered, pending, success, failure, aborted,
    /// error.
    #[serde(default)]
    pub state: String,
    /// `startTime` (RFC 3339, as written).
    #[serde(rename = "startTime", default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    /// `pendingTime`.
    #[serde(
        rename = "pendingTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pending_time: Option<String>,
    /// `completionTime`: set when the job is complete.
    #[serde(
        rename = "completionTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub completion_time: Option<String>,
    /// `description`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `url`: the run's page in Deck/Spyglass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `pod_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_name: Option<String>,
    /// `build_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_id: Option<String>,
    /// `prev_report_states`: reporter name -> the state it last reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev_report_states: Option<BTreeMap<String, String>>,
    /// Everything else (`jenkins_build_id`, `pod_revival_count`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl Resource for ProwJob {
    type DynamicType = ();
    type Scope = NamespaceResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        "ProwJob".into()
    }
    fn group(_: &()) -> Cow<'_, str> {
        "prow.k8s.io".into()
    }
    fn version(_: &()) -> Cow<'_, str> {
        "v1".into()
    }
    fn plural(_: &()) -> Cow<'_, str> {
        "prowjobs".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Why a ProwJob is not a [`FinishedJob`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotFinished {
    /// `status.state` is not a final state.
    #[error("state {0:?} is not final")]
    State(String),
    /// `spec.type` is not one of Prow's.
    #[error("unknown job type {0:?}")]
    JobType(String),
    /// `metadata.name` is missing.
    #[error("no metadata.name")]
    NoName,
}

impl ProwJob {
    /// `metadata.name`, or "" (objects from the API server always have one).
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }

    /// `status.state` when it is final.
    pub fn final_state(&self) -> Option<FinalState> {
        FinalState::parse(&self.status.state)
    }

    /// What `reporter` recorded in `status.prev_report_states`.
    pub fn reported_state(&self, reporter: &str) -> Option<&str> {
        self.status
            .prev_report_states
            .as_ref()?
            .get(reporter)
            .map(String::as_str)
    }

    /// The job as plain values for publishing; only for final states.
    pub fn to_finished(&self) -> Result<FinishedJob, NotFinished> {
        let state = self
            .final_state()
            .ok_or_else(|| NotFinished::State(self.status.state.clone()))?;
        let job_type = self
            .spec
            .job_type
            .parse::<JobType>()
            .map_err(|_| NotFinished::JobType(self.spec.job_type.clone()))?;
        let name = self.metadata.name.clone().ok_or(NotFinished::NoName)?;
        let refs = self.spec.refs.as_ref().map(|r| Refs {
            org: r.org.clone(),
            repo: r.repo.clone(),
            base_ref: r.base_ref.clone().unwrap_or_default(),
            base_sha: r.base_sha.clone().unwrap_or_default(),
            pulls: r
                .pulls
                .iter()
                .flatten()
                .map(|p| PullRef {
                    number: p.number,
                    sha: p.sha.clone(),
                    author: p.author.clone(),
                })
                .collect(),
        });
        Ok(FinishedJob {
            name,
            job: self.spec.job.clone(),
            job_type,
            // Prow sets build_id when it schedules the pod; a job aborted
            // before that has none.
            build_id: self.status.build_id.clone().unwrap_or_default(),
            state,
            refs,
            url: self.status.url.clone(),
            start_time: self.status.start_time.clone(),
            completion_time: self.status.completion_time.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "apiVersion": "prow.k8s.io/v1",
            "kind": "ProwJob",
            "metadata": {"name": "3f1c-demo", "namespace": "default",
                "labels": {"created-by-prow": "true", "prow.k8s.io/type": "presubmit"},
                "annotations": {"prow.k8s.io/job": "pull-widget-coverage"}},
            "spec": {"type": "presubmit", "agent": "kubernetes", "cluster": "default",
                "job": "pull-widget-coverage", "report": true,
                "context": "pull-widget-coverage", "rerun_command": "/test pull-widget-coverage",
                "refs": {"org": "acme", "repo": "widget", "base_ref": "main", "base_sha": "abc123",
                    "path_alias": "example.com/widget",
                    "pulls": [{"number": 42, "author": "alice", "sha": "def456", "title": "Fix"}]},
                "decoration_config": {"timeout": "2h", "gcs_configuration": {"bucket": "b"}},
                "pod_spec": {"containers": [{"image": "golang", "command": ["make"]}]}},
            "status": {"state": "success", "startTime": "2026-01-01T00:00:00Z",
                "pendingTime": "2026-01-01T00:01:00Z",
                "completionTime": "2026-01-01T00:10:00Z", "description": "Job succeeded.",
                "url": "https://prow.example/view/1", "pod_name": "3f1c-demo",
                "build_id": "1790000000000000000", "pod_revival_count": 1,
                "prev_report_states": {"gcsreporter": "success"}},
            "a_future_top_level_field": {"x": [1, 2]}
        })
    }

    #[test]
    fn round_trip_keeps_unknown_fields() {
        let v = sample();
        let pj: ProwJob = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(pj.spec.job, "pull-widget-coverage");
        assert_eq!(pj.status.build_id.as_deref(), Some("1790000000000000000"));
        assert_eq!(pj.reported_state("gcsreporter"), Some("success"));
        assert!(pj.spec.extra.contains_key("pod_spec"));
        assert_eq!(serde_json::to_value(&pj).unwrap(), v);
    }

    #[test]
    fn finished_job_from_final_state_only() {
        let mut pj: ProwJob = serde_json::from_value(sample()).unwrap();
        let f = pj.to_finished().unwrap();
        assert_eq!(f.state, FinalState::Success);
        assert_eq!(f.job_type, JobType::Presubmit);
        let refs = f.refs.unwrap();
        assert_eq!(
            (refs.org.as_str(), refs.base_ref.as_str()),
            ("acme", "main")
        );
        assert_eq!(refs.pulls[0].number, 42);
        assert_eq!(refs.pulls[0].author, "alice");
        assert_eq!(f.completion_time.as_deref(), Some("2026-01-01T00:10:00Z"));
        pj.status.state = "pending".into();
        assert_eq!(pj.to_finished(), Err(NotFinished::State("pending".into())));
        pj.status.state = "aborted".into();
        pj.spec.job_type = "nightly".into();
        assert_eq!(
            pj.to_finished(),
            Err(NotFinished::JobType("nightly".into()))
        );
    }
}
