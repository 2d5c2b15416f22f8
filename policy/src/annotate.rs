//! Uncovered changed lines as GitHub Checks annotations, and the batches
//! GitHub takes them in.

use covlens_core::{Counts, Profile};
use covlens_report_templates::{
    Annotation, AnnotationLevel, DiffFile, PathMap, changed_statements,
};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::model::Policy;

/// Annotations GitHub accepts in one check-run request.
pub const MAX_ANNOTATIONS_PER_REQUEST: usize = 50;

/// What the added lines of a diff hold.
pub(crate) struct PatchScan {
    /// Statements of blocks overlapping added lines.
    pub counts: Counts,
    /// Added lines in uncovered blocks.
    pub changes: Vec<Annotation>,
    /// (profile name, diff path) of the diff's files found in the head.
    pub paths: Vec<(String, String)>,
}

pub(crate) fn scan_patch(
    head: &Profile,
    base: Option<&Profile>,
    diff: &[DiffFile],
    module: Option<&str>,
    policy: &Policy,
) -> PatchScan {
    // Mapped over all names, excluded ones too: an excluded file must not
    // make a diff path fall back to another file with the same suffix.
    // Base first, as the pull-request comment maps them.
    let profiles: Vec<&Profile> = base.into_iter().chain([head]).collect();
    let map = PathMap::new(module, &profiles);
    let mut scan = PatchScan {
        counts: Counts::default(),
        changes: Vec::new(),
        paths: Vec::new(),
    };
    for d in diff {
        let Some(name) = map.map(&d.path) else {
            continue;
        };
        if policy.excludes(&name) {
            continue;
        }
        let Some(f) = head.file(&name) else {
            continue;
        };
        let changed = changed_statements(f, &d.added);
        scan.counts.add(changed.counts);
        for (start, end) in added_within(&d.added, &changed.ranges) {
            scan.changes.push(uncovered_annotation(&d.path, start, end));
        }
        scan.paths.push((name, d.path.clone()));
    }
    scan
}

/// The added lines inside `ranges` (ascending, disjoint), consecutive
/// lines merged into one range.
fn added_within(added: &[u32], ranges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    let mut r = ranges.iter().peekable();
    for &l in added {
        while r.next_if(|&&(_, e)| e < l).is_some() {}
        let Some(&&(s, _)) = r.peek() else { break };
        if l < s {
            continue;
        }
        match out.last_mut() {
            Some(last) if l <= last.1.saturating_add(1) => last.1 = last.1.max(l),
            _ => out.push((l, l)),
        }
    }
    out
}

fn uncovered_annotation(path: &str, start: u32, end: u32) -> Annotation {
    let message = if start == end {
        format!("Added line {start} is not covered by tests.")
    } else {
        format!("Added lines {start}-{end} are not covered by tests.")
    };
    Annotation {
        path: path.to_string(),
        start_line: start,
        end_line: end,
        start_column: None,
        end_column: None,
        annotation_level: AnnotationLevel::Warning,
        message,
        title: Some("Uncovered change".to_string()),
        raw_details: None,
    }
}

/// The uncovered changed lines of `diff` as warnings, one per range of
/// consecutive added lines that lie in blocks with statements never run
/// (the blocks the pull-request comment lists), in diff order then by
/// line. Paths are the diff's (repository-relative); diff paths are mapped
/// to profile names as [`PathMap`] does over `head` and `base`, with
/// `module` the import path of the repository root. Files the policy
/// excludes are left out.
pub fn uncovered_changes(
    head: &Profile,
    base: Option<&Profile>,
    diff: &[DiffFile],
    module: Option<&str>,
    policy: &Policy,
) -> Vec<Annotation> {
    scan_patch(head, base, diff, module, policy).changes
}

/// One request's worth of annotations: a check run's `output` object
/// (`title`, `summary`, `annotations`), to be sent as the `output` of the
/// POST that creates the run and then of one PATCH per further batch
/// (GitHub adds each PATCH's annotations to the run's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotationBatch {
    /// The output's title.
    pub title: String,
    /// The output's summary (Markdown).
    pub summary: String,
    /// At most [`MAX_ANNOTATIONS_PER_REQUEST`].
    pub annotations: Vec<Annotation>,
}

/// Splits `annotations` into check-run outputs of at most 50 each, every
/// one with `title` and `summary` (GitHub requires both on every request;
/// ` (part i of n)` is appended when there are several). Always at least
/// one, so a run can be created with no annotations.
pub fn annotation_batches(
    annotations: &[Annotation],
    title: &str,
    summary: &str,
) -> Vec<AnnotationBatch> {
    let chunks: Vec<&[Annotation]> = if annotations.is_empty() {
        vec![&[]]
    } else {
        annotations.chunks(MAX_ANNOTATIONS_PER_REQUEST).collect()
    };
    let n = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, c)| AnnotationBatch {
            title: title.to_string(),
            summary: if n > 1 {
                format!("{summary} (part {} of {n})", i + 1)
            } else {
                summary.to_string()
            },
            annotations: c.to_vec(),
        })
        .collect()
}

/// Writes [`uncovered_change_batches`] as pretty JSON and a newline
/// (`covlens annotate`'s output).
pub fn write_uncovered_change_batches<W: std::io::Write>(
    mut w: W,
    annotations: &[Annotation],
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, &uncovered_change_batches(annotations))?;
    w.write_all(b"\n")
}

/// [`annotation_batches`] of uncovered changes, titled `Coverage of
/// changed lines`, with a summary that counts ranges and files.
pub fn uncovered_change_batches(annotations: &[Annotation]) -> Vec<AnnotationBatch> {
    let mut files: Vec<&str> = annotations.iter().map(|a| a.path.as_str()).collect();
    files.sort_unstable();
    files.dedup();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let summary = if annotations.is_empty() {
        "No uncovered changed lines.".to_string()
    } else {
        format!(
            "{} uncovered changed line range{} in {} file{}.",
            annotations.len(),
            plural(annotations.len()),
            files.len(),
            plural(files.len()),
        )
    };
    annotation_batches(annotations, "Coverage of changed lines", &summary)
}

/// Reads and parses a unified diff file ([`covlens_report_templates::parse_diff`]).
/// Hunks may hold any bytes (a Latin-1 file): only paths and the first
/// byte of each line matter, so the text is read lossily.
pub fn read_diff(path: &std::path::Path) -> Result<Vec<DiffFile>, Error> {
    let bytes = std::fs::read(path).map_err(|source| Error::ReadDiff {
        path: path.display().to_string(),
        source,
    })?;
    covlens_report_templates::parse_diff(&String::from_utf8_lossy(&bytes)).map_err(|diff| {
        Error::BadDiff {
            path: path.display().to_string(),
            diff,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_in_ranges() {
        assert_eq!(
            added_within(&[1, 3, 4, 5, 7, 9, 10, 20], &[(3, 4), (5, 8), (10, 12)]),
            [(3, 5), (7, 7), (10, 10)]
        );
        assert!(added_within(&[1, 2], &[]).is_empty());
        let m = u32::MAX;
        assert_eq!(added_within(&[m - 1, m], &[(m - 1, m)]), [(m - 1, m)]);
        assert_eq!(added_within(&[m, m], &[(m, m)]), [(m, m)]);
    }

    #[test]
    fn batches_of_fifty() {
        let a: Vec<Annotation> = (1..=101)
            .map(|l| uncovered_annotation("a.go", l, l))
            .collect();
        let b = annotation_batches(&a, "t", "s");
        assert_eq!(
            b.iter().map(|b| b.annotations.len()).collect::<Vec<_>>(),
            [50, 50, 1]
        );
        assert_eq!(b[2].summary, "s (part 3 of 3)");
        let b = annotation_batches(&[], "t", "s");
        assert_eq!((b.len(), b[0].summary.as_str()), (1, "s"));
    }
}
