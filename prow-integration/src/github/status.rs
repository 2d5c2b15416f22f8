//! Commit statuses, and the reporter's `covlens/coverage` status.

use serde::{Deserialize, Serialize};

use super::GitHubError;

/// The context of the reporter's commit status.
pub const COVERAGE_CONTEXT: &str = "covlens/coverage";

/// GitHub refuses longer status descriptions.
pub const MAX_DESCRIPTION_CHARS: usize = 140;

/// A commit status's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusState {
    /// The check could not run.
    Error,
    /// The check failed.
    Failure,
    /// Still running.
    Pending,
    /// Passed.
    Success,
}

impl StatusState {
    /// `Success` when `coverage_percent` reaches `threshold_percent`,
    /// else `Failure` (also for a NaN coverage).
    pub fn from_threshold(coverage_percent: f64, threshold_percent: f64) -> StatusState {
        if coverage_percent >= threshold_percent {
            StatusState::Success
        } else {
            StatusState::Failure
        }
    }
}

/// A commit status, as GitHub's API takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitStatus {
    /// The state.
    pub state: StatusState,
    /// Link shown as "Details".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_url: Option<String>,
    /// Short text (at most [`MAX_DESCRIPTION_CHARS`] characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The status's name; a newer status with the same context replaces
    /// the older one.
    pub context: String,
}

/// The reporter's status: context [`COVERAGE_CONTEXT`], `description`
/// cut to GitHub's limit (with `…`; it is a one-line summary, the full
/// numbers are behind `target_url`).
pub fn coverage_status(
    state: StatusState,
    description: &str,
    target_url: Option<&str>,
) -> CommitStatus {
    CommitStatus {
        state,
        target_url: target_url.map(str::to_owned),
        description: Some(shorten(description, MAX_DESCRIPTION_CHARS)),
        context: COVERAGE_CONTEXT.to_owned(),
    }
}

/// One line of at most `max` characters.
fn shorten(s: &str, max: usize) -> String {
    let line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.chars().count() <= max {
        return line.to_owned();
    }
    let mut out: String = line.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Refuses a description GitHub would refuse (GitHub counts characters).
pub(crate) fn check_description(d: &str) -> Result<(), GitHubError> {
    let len = d.chars().count();
    if len > MAX_DESCRIPTION_CHARS {
        return Err(GitHubError::TooLong {
            what: "status description",
            len,
            max: MAX_DESCRIPTION_CHARS,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold() {
        assert_eq!(
            StatusState::from_threshold(80.0, 80.0),
            StatusState::Success
        );
        assert_eq!(
            StatusState::from_threshold(79.99, 80.0),
            StatusState::Failure
        );
        assert_eq!(
            StatusState::from_threshold(f64::NAN, 0.0),
            StatusState::Failure
        );
    }

    #[test]
    fn coverage_status_fits_githubs_limit() {
        let long = "ü".repeat(500);
        let s = coverage_status(StatusState::Failure, &long, Some("https://x/r/"));
        let d = s.description.as_deref().unwrap();
        assert_eq!(d.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(d.ends_with('…'));
        assert!(check_description(d).is_ok());
        assert_eq!(s.context, "covlens/coverage");
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["state"], "failure");
        assert_eq!(json["target_url"], "https://x/r/");

        let s = coverage_status(StatusState::Success, " 81.2%\n(base 80%) ", None);
        assert_eq!(s.description.as_deref(), Some("81.2% (base 80%)"));
        assert!(
            serde_json::to_value(&s)
                .unwrap()
                .get("target_url")
                .is_none()
        );
    }
}
