/*!
covlens' coverage policy: which coverage numbers a change must reach, as one
file (`.covlens.yml`) that the `covlens check` command and the Prow reporter
read alike.

A [`Policy`] holds the rules: thresholds for the total, every package and
every file (with regex overrides, first match wins), files excluded before
anything is counted, a threshold for the changed statements of a diff, and a
ratchet against a base profile. [`PolicyFile`] reads and validates the YAML
file, naming the key and the line of every error. [`Policy::evaluate`] checks
a head profile (with an optional base and diff) and returns an [`Outcome`]:
typed [`Violation`]s (rule, target, actual, required) and the uncovered
changed lines as GitHub Checks [`Annotation`]s. The numbers come from
`covlens-core` and the changed statements from the report library's diff
parser and its pull-request comment logic
([`covlens_report_templates::changed_statements`]), so a check, a comment and
a table never disagree.

Writers: [`write_text`] (safe for a terminal), [`write_json`],
[`write_workflow_commands`] (GitHub Actions' `::error` lines) and
[`annotation_batches`] (check-run outputs of at most 50 annotations).

```
use covlens_core::{parse_bytes, ParseOptions};
use covlens_policy::{Inputs, PolicyFile};

let head = parse_bytes(
    b"mode: set\nm/a/x.go:1.1,2.2 3 1\nm/a/x.go:3.1,4.2 1 0\nm/b/y.go:1.1,2.2 1 0\n",
    "head.out",
    &ParseOptions::default(),
)?;
let file = PolicyFile::parse(
    "threshold:\n  package: 50\nexclude:\n  paths: ['^m/b/']\n",
    ".covlens.yml",
)?;
let outcome = file.policy.evaluate(&Inputs::new(&head))?;
assert!(outcome.passed); // m/a has 3 of 4 statements; m/b is excluded
# Ok::<(), Box<dyn std::error::Error>>(())
```
*/
#![deny(missing_docs)]

mod annotate;
mod annotated;
mod config;
mod eval;
mod model;
mod write;
pub mod yaml;

pub use covlens_report_templates::{Annotation, AnnotationLevel};

pub use crate::annotate::{
    AnnotationBatch, MAX_ANNOTATIONS_PER_REQUEST, annotation_batches, read_diff,
    uncovered_change_batches, uncovered_changes, write_uncovered_change_batches,
};
pub use crate::annotated::LeftOut;
pub use crate::config::{DEFAULT_CONFIG, PolicyFile};
pub use crate::eval::{Checked, Inputs, Location, OWNERS_NEEDED, Outcome, Rule, Target, Violation};
pub use crate::model::{GroupOverride, Override, Pattern, Percent, Points, Policy};
pub use crate::write::{
    OutcomeFormat, escape_data, escape_property, write_json, write_outcome, write_text,
    write_workflow_commands,
};

/// What can go wrong with a policy: all of it a mistake in the policy or in
/// what it was given, none in the profiles.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file could not be read.
    #[error("{path}: cannot read the policy")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The config file is wrong: where, which key, and what was expected.
    #[error("{origin}:{line}:{column}: {}{message}", key_prefix(key))]
    Config {
        /// The file (or what the text came from).
        origin: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The key (`threshold.package`, `override[1].path`), or empty.
        key: String,
        /// What was expected.
        message: String,
    },
    /// A value given outside a file (a percentage, an override) is wrong.
    #[error("{value:?}: {expected}")]
    Value {
        /// The value.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A regular expression does not compile.
    #[error("invalid regular expression {pattern:?}")]
    Regex {
        /// The expression.
        pattern: String,
        /// The regex crate's error.
        #[source]
        source: regex::Error,
    },
    /// A rule needs an input that was not given.
    #[error("{0}")]
    MissingInput(&'static str),
    /// The policy has no rule at all.
    #[error("the policy has no rule to check")]
    NoRules,
    /// A diff file is not a unified diff (the line and what was expected).
    #[error("{path}:{diff}")]
    BadDiff {
        /// The file.
        path: String,
        /// Where and why.
        diff: covlens_report_templates::DiffError,
    },
    /// A diff could not be read.
    #[error("{path}: cannot read the diff")]
    ReadDiff {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Writing the output failed.
    #[error("cannot write the policy report")]
    Write(#[source] std::io::Error),
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("{key}: ")
    }
}
