//! The policy's patch numbers are the pull-request comment's: the same
//! diff over the Prometheus profile gives the same changed statements.

use std::path::Path;

use covlens_core::{ParseOptions, parse_path};
use covlens_policy::{Inputs, Percent, Policy};
use covlens_report_templates::{Comment, DiffFile};

#[test]
fn patch_counts_match_the_comment_on_prometheus() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/public/prometheus-v3.2.0.coverage.txt");
    let head = parse_path(&path, &ParseOptions::default()).unwrap();
    let module = "github.com/prometheus/prometheus";
    // Every fifth file; added lines at every other block's start.
    let diff: Vec<DiffFile> = head
        .files()
        .iter()
        .step_by(5)
        .map(|f| {
            let mut added: Vec<u32> = f.blocks().iter().step_by(2).map(|b| b.start_line).collect();
            added.dedup();
            DiffFile {
                path: f.name()[module.len() + 1..].to_string(),
                added,
                ..DiffFile::default()
            }
        })
        .collect();
    let comment = Comment::build(&head, &head, Some(&diff), Some(module), None);
    let policy = Policy {
        patch: Percent::new(100.0),
        ..Policy::default()
    };
    let outcome = policy
        .evaluate(&Inputs {
            head: &head,
            base: Some(&head),
            diff: Some(&diff),
            module: Some(module),
            owners: None,
            left_out: None,
        })
        .unwrap();
    let patch = comment.patch.unwrap();
    assert!(patch.total > 1000 && patch.covered < patch.total);
    assert_eq!(outcome.checked.patch, Some(patch));
    assert!(!outcome.passed);
    // Each annotated line is inside a range the comment lists as
    // uncovered, for the same file.
    for a in &outcome.uncovered_changes {
        let u = comment.uncovered.iter().find(|u| u.file == a.path).unwrap();
        assert!(u.ranges.iter().any(|r| {
            let (s, e) = r.split_once('-').unwrap_or((r, r));
            let (s, e): (u32, u32) = (s.parse().unwrap(), e.parse().unwrap());
            s <= a.start_line && a.end_line <= e
        }));
    }
    let files: std::collections::BTreeSet<&str> = outcome
        .uncovered_changes
        .iter()
        .map(|a| a.path.as_str())
        .collect();
    assert_eq!(files.len(), comment.uncovered.len());
}
