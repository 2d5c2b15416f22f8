//! Notes on lines of a file, as GitHub's Checks API takes them: the
//! `covlens annotate` output and the Prow reporter's check runs share this
//! type.

use serde::{Deserialize, Serialize};

/// An annotation's severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnotationLevel {
    /// Informational.
    Notice,
    /// A warning.
    Warning,
    /// An error.
    Failure,
}

/// A note on lines of a file (a check run's `output.annotations[]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// The file, relative to the repository's root.
    pub path: String,
    /// First line (1-based).
    pub start_line: u32,
    /// Last line.
    pub end_line: u32,
    /// First column (only when the annotation is on one line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    /// Last column (only when the annotation is on one line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
    /// Severity.
    pub annotation_level: AnnotationLevel,
    /// The note.
    pub message: String,
    /// A title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Details shown on demand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_details: Option<String>,
}
