/*!
covlens' Prow integration.

[`layout`] is the one place that knows where Prow puts a job run's files
(`logs/<job>/<build>/` and the `pr-logs/` paths, their `artifacts/`
directory), which marker files a decorated job's containers wait for, what
Prow's environment says about the run, and the collector's own layout under
the artifacts: `coverage/<pod>/<container>/` with `covdata/`, `text/` and a
[`SnapshotMetadata`](layout::SnapshotMetadata) document per snapshot in
`metadata/`. The collector sidecar writes by it and the ProwJob reporter
reads by it, so the two cannot disagree.

With the `reporter` feature, `github` is the reporter's GitHub client: PR
comments kept to one per PR and edited in place, commit statuses, check
runs (and, with `fake-github`, a fake GitHub API for tests and scripts);
`config` reads and validates the reporter's YAML file; and `publish` holds
the seam between the ProwJob controller and publishing (`Publish`,
`FinishedJob`) and its implementation, `Publisher`, which reads a finished
job's coverage from Prow's artifacts through object_store (`file://`; `gs://`
and `s3://` with the `cloud` feature) and writes branch tables, report
sites, badges, PR comments, commit statuses, junit and history records
(docs/prow.md). `prowjob` has the ProwJob type (Prow's field names, unknown fields kept),
`controller` the Crier-style loop that watches ProwJobs and calls a
`publish::Publish` once per transition into a final state, recorded in
`status.prev_report_states` (with leader election, probes and metrics).
`covlens prow reporter` wires them: `Config::read` → `Publisher::new` and
`ControllerSettings::from_config` → `controller::run`.

```
use covlens_prow::layout::{JobType, Run, coverage_root};

let run = Run::new(JobType::Periodic, "ci-kubernetes-coverage-e2e", "1790");
let root = coverage_root(&run.artifacts_dir(), "e2e-0", "kube-apiserver");
assert_eq!(
    root,
    "logs/ci-kubernetes-coverage-e2e/1790/artifacts/coverage/e2e-0/kube-apiserver/"
);
```
*/
#![deny(missing_docs)]

#[cfg(feature = "reporter")]
pub mod config;
#[cfg(feature = "reporter")]
pub mod controller;
#[cfg(feature = "reporter")]
pub mod github;
pub mod layout;
#[cfg(feature = "reporter")]
pub mod prowjob;
#[cfg(feature = "reporter")]
pub mod publish;
#[cfg(feature = "reporter")]
pub mod reporter;
