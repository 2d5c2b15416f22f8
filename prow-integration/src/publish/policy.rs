//! The policy a job is held to: the repository's policy file at the job's
//! base commit when it has one, else the configured policy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use covlens_policy::PolicyFile;

/// The title of a status or check run whose policy file cannot be used.
pub(super) const INVALID: &str = "coverage policy file invalid";
/// The same when GitHub would not give the file.
pub(super) const UNREADABLE: &str = "coverage policy file unreadable";

/// The policy a job is held to.
#[derive(Clone, Debug)]
pub(super) enum JobPolicy {
    /// No policy applies.
    None,
    /// These rules, from the repository or from the configuration.
    Rules(Arc<PolicyFile>),
    /// The repository's policy file cannot be used: the job fails with
    /// `title` and why (the file, commit, and the line, column and key of
    /// the error).
    Unusable {
        /// [`INVALID`] or [`UNREADABLE`].
        title: &'static str,
        /// What is wrong.
        why: String,
    },
}

impl JobPolicy {
    pub(super) fn rules(&self) -> Option<&PolicyFile> {
        match self {
            JobPolicy::Rules(p) => Some(p),
            _ => None,
        }
    }

    /// The status description when the policy file cannot be used.
    pub(super) fn unusable(&self) -> Option<String> {
        match self {
            JobPolicy::Unusable { title, why } => Some(format!("{title}: {why}")),
            _ => None,
        }
    }
}

/// `sha` as messages show it: the first 12 characters, as GitHub does.
pub(super) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

/// The policy of the file `path` at commit `sha` holding `bytes`. Errors
/// are named `<sha>:<path>:<line>:<column>` (git's name of a file at a
/// commit) with the key at fault.
pub(super) fn from_file(path: &str, sha: &str, bytes: &[u8]) -> JobPolicy {
    let origin = format!("{}:{path}", short(sha));
    let invalid = |why: String| JobPolicy::Unusable {
        title: INVALID,
        why,
    };
    let Ok(text) = std::str::from_utf8(bytes) else {
        return invalid(format!("{origin}: not UTF-8 text"));
    };
    match PolicyFile::parse(text, &origin) {
        Ok(p) => JobPolicy::Rules(Arc::new(p)),
        Err(e) => invalid(chain(&e)),
    }
}

/// An error and its causes on one line (a regex's own message is its
/// source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(&format!(": {c}"));
        cause = c.source();
    }
    s.lines().map(str::trim).collect::<Vec<_>>().join(" ")
}

/// Repository policies remembered at most (a batch of jobs on one commit
/// reads its file once).
const CACHE_ENTRIES: usize = 256;

/// Policy files read, per (`owner/name`, commit): a commit's file never
/// changes, so the answer (a file, its errors, or none) is kept.
#[derive(Default)]
pub(super) struct PolicyCache {
    read: Mutex<HashMap<(String, String), JobPolicy>>,
}

impl PolicyCache {
    pub(super) fn get(&self, repo: &str, sha: &str) -> Option<JobPolicy> {
        let read = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        read.get(&(repo.to_string(), sha.to_string())).cloned()
    }

    pub(super) fn insert(&self, repo: &str, sha: &str, policy: JobPolicy) {
        let mut read = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        // Commits come and go in order: forgetting all at once is enough.
        if read.len() >= CACHE_ENTRIES {
            read.clear();
        }
        read.insert((repo.to_string(), sha.to_string()), policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

    fn why(p: JobPolicy) -> String {
        match p {
            JobPolicy::Unusable { title, why } => {
                assert_eq!(title, INVALID);
                why
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_valid_file_gives_its_rules() {
        let p = from_file(".covlens.yml", SHA, b"threshold:\n  package: 70\n");
        let rules = p.rules().unwrap();
        assert_eq!(rules.policy.package.unwrap().get(), 70.0);
        // An empty file is an empty policy, which replaces the configured one.
        let p = from_file(".covlens.yml", SHA, b"# nothing yet\n");
        assert!(p.rules().unwrap().policy.is_empty());
    }

    #[test]
    fn errors_name_commit_file_line_and_key() {
        assert_eq!(
            why(from_file(
                ".covlens.yml",
                SHA,
                b"threshold:\n  packge: 100\n"
            )),
            "c0ffee00c0ff:.covlens.yml:2:3: threshold.packge: unknown field `packge`, expected one of total, package, file, patch, owner, label"
        );
        let w = why(from_file("ci/p.yml", SHA, b"threshold:\n  total: 170\n"));
        assert!(
            w.starts_with("c0ffee00c0ff:ci/p.yml:2:10: threshold.total: "),
            "{w}"
        );
        let w = why(from_file("p.yml", SHA, b"threshold: [\n"));
        assert!(w.starts_with("c0ffee00c0ff:p.yml:"), "{w}");
        let w = why(from_file(
            "p.yml",
            SHA,
            b"override:\n  - {path: '(', threshold: 5}\n",
        ));
        assert_eq!(
            w,
            "c0ffee00c0ff:p.yml:2:12: override[0].path: invalid regular expression: unclosed group"
        );
        assert!(!w.contains('\n'), "{w}");
        assert_eq!(
            why(from_file("p.yml", "abc", b"\xff\xfe")),
            "abc:p.yml: not UTF-8 text"
        );
    }

    #[test]
    fn the_description_starts_with_the_title() {
        let p = from_file("p.yml", "abc", b"\xff");
        assert_eq!(
            p.unusable().as_deref(),
            Some("coverage policy file invalid: abc:p.yml: not UTF-8 text")
        );
        assert_eq!(JobPolicy::None.unusable(), None);
    }

    #[test]
    fn the_cache_is_per_repository_and_commit_and_bounded() {
        let c = PolicyCache::default();
        c.insert("a/b", "1", JobPolicy::None);
        assert!(c.get("a/b", "1").is_some());
        assert!(c.get("a/b", "2").is_none() && c.get("a/c", "1").is_none());
        for i in 0..CACHE_ENTRIES {
            c.insert("a/b", &format!("x{i}"), JobPolicy::None);
        }
        let n = c.read.lock().unwrap().len();
        assert!(n <= CACHE_ENTRIES, "{n}");
    }
}
