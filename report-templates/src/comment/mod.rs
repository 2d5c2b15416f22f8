//! The pull-request comment: the change in coverage between a base and a
//! head profile, the files of the pull request's diff and their changed
//! statements, ranked by size of change and fitted under GitHub's limit.

mod diff;
mod fit;
mod funcs;
mod ignore;
mod paths;

use std::collections::BTreeMap;
use std::io::Write;

use covlens_core::git::is_commit;
use covlens_core::{Counts, FileProfile, Profile, package_of};
use serde::{Deserialize, Serialize};

pub use self::diff::{DiffError, DiffFile, parse_diff, read_diff_file};
pub use self::fit::{COMMENT_MARKER, CommentFit, MAX_RANGES, github_len, min_comment_chars};
pub use self::funcs::{
    BaseSources, FuncDelta, LostFunctions, MAX_SOURCE_FILES, SourceFile, lost_functions,
    read_sources, source_files,
};
pub use self::ignore::{ANNOTATED_BASE_NEEDS_DIFF, Annotated, leave_out_annotated};
pub use self::paths::{PathMap, go_mod_module};
use crate::stat::tenths;
use crate::trend::{BelowTrend, Trend, TrendRule};
use crate::{Error, Mark, Stat};

/// A before/after row of a [`Comment`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeltaRow {
    /// Package or file (repository-relative for files when known).
    pub name: String,
    /// Before; `None` if new.
    pub base: Option<Stat>,
    /// After; `None` if removed.
    pub head: Option<Stat>,
    /// Change in percentage points between the numbers as printed (one
    /// decimal), so it agrees with them: 64.0% to 60.2% is −3.8; an absent
    /// side counts as 0% (shown as "new" or "removed").
    pub delta: f64,
    /// Direction of the change.
    pub mark: Mark,
    /// Statements on changed lines, covered and total (files only).
    pub patch: Option<Stat>,
    /// Packages only: statements covered in some but not all of the base
    /// job's last runs (see [`Comment::set_flaky`]).
    #[serde(default)]
    pub flaky: Option<u64>,
}

impl DeltaRow {
    /// A row from before/after counts (threshold: any printed change).
    pub fn new(
        name: String,
        base: Option<Stat>,
        head: Option<Stat>,
        patch: Option<Stat>,
    ) -> DeltaRow {
        let b = base.as_ref().map_or(0, |s| tenths(s.value()));
        let h = head.as_ref().map_or(0, |s| tenths(s.value()));
        let mark = match (&head, &base) {
            (Some(h), b) => Mark::between(h, b.as_ref(), 0.1),
            _ => Mark::None,
        };
        DeltaRow {
            name,
            delta: (h - b) as f64 / 10.0,
            base,
            head,
            mark,
            patch,
            flaky: None,
        }
    }
}

/// Uncovered changed statements of one file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Uncovered {
    /// The file (repository-relative).
    pub file: String,
    /// Line ranges of uncovered blocks on changed lines: `12`, `20-24`.
    pub ranges: Vec<String>,
    /// Ranges left out of `ranges`.
    pub more: usize,
    /// Uncovered statements in the file's changed lines.
    pub statements: u64,
}

/// Which runs a comment compares, shown under its heading, so that a stale
/// or missing base is seen at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The pull request's run.
    pub head: Origin,
    /// The run the head is compared with.
    pub base: Origin,
    /// The commit the pull request is based on, and whether the base run
    /// tested it: when not, changes on the base branch between the two show
    /// as the pull request's, and the comment says so.
    #[serde(default)]
    pub pull_base: Option<PullBase>,
}

/// The commit a pull request is based on ([`Provenance::pull_base`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PullBase {
    /// 7 to 64 hex digits.
    pub commit: String,
    /// The base run tested this commit.
    pub tested: bool,
}

impl PullBase {
    /// The pull request's base `commit`, and whether `base` (the run
    /// compared with) tested it ([`same_commit`]). `None` unless `commit`
    /// is 7 to 64 hex digits (it may come from a pull request's artifacts).
    pub fn of(commit: &str, base: &Origin) -> Option<PullBase> {
        let tested = base
            .commit
            .as_deref()
            .is_some_and(|b| same_commit(b, commit));
        is_commit(commit).then(|| PullBase {
            commit: commit.to_ascii_lowercase(),
            tested,
        })
    }
}

/// Whether two commit ids (7 to 64 hex digits, any case) name the same
/// commit: one is a prefix of the other.
pub fn same_commit(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim().to_ascii_lowercase(), b.trim().to_ascii_lowercase());
    is_commit(&a) && is_commit(&b) && (a.starts_with(&b) || b.starts_with(&a))
}

/// A run (or a profile) a comment compares.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// The job (or the profile's name).
    pub name: String,
    /// The run's build id.
    pub run: Option<String>,
    /// The commit it tested: 7 to 64 hex digits (GitHub links it).
    pub commit: Option<String>,
    /// The job has no successful run to compare with.
    #[serde(default)]
    pub missing: bool,
    /// When the run started (`2026-12-04 09:30 UTC`), so an old one shows.
    #[serde(default)]
    pub started: Option<String>,
}

/// The longest name or build id an [`Origin`] shows.
const MAX_ORIGIN_CHARS: usize = 100;

impl Origin {
    /// A run of `name`. Names and ids are cut to 100 characters and a
    /// commit that is not 7 to 64 hex digits is left out: they may come
    /// from a pull request's artifacts.
    pub fn new(name: &str, run: Option<&str>, commit: Option<&str>) -> Origin {
        let cut = |s: &str| s.chars().take(MAX_ORIGIN_CHARS).collect::<String>();
        Origin {
            name: cut(name),
            run: run.map(cut),
            commit: commit.filter(|c| is_commit(c)).map(str::to_ascii_lowercase),
            missing: false,
            started: None,
        }
    }

    /// Says when the run started (seconds since the epoch, as Prow's
    /// `started.json`); a time out of range says nothing.
    pub fn started_at(mut self, epoch_secs: i64) -> Origin {
        self.started = chrono::DateTime::from_timestamp(epoch_secs, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string());
        self
    }

    /// `name` has no successful run to compare with.
    pub fn missing(name: &str) -> Origin {
        Origin {
            missing: true,
            ..Origin::new(name, None, None)
        }
    }

    /// `NAME[@COMMIT]`, as `covlens comment --head-origin` takes it (an
    /// `@` not followed by a commit is part of the name).
    pub fn parse(s: &str) -> Origin {
        match s.rsplit_once('@').filter(|(_, c)| is_commit(c)) {
            Some((name, commit)) => Origin::new(name, None, Some(commit)),
            None => Origin::new(s, None, None),
        }
    }
}

/// A pull-request comment: the change in coverage between two profiles.
/// Its heading is the head's total and the change (`Coverage: 61.5%
/// (+1.5)`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// Totals before and after.
    pub total: DeltaRow,
    /// Statements on added lines: covered and total (`None`: no diff).
    pub patch: Option<Stat>,
    /// Packages whose numbers changed, largest change first.
    pub packages: Vec<DeltaRow>,
    /// Packages left out of `packages`.
    pub packages_more: usize,
    /// Files changed in the diff, largest change first.
    pub files: Vec<DeltaRow>,
    /// Files left out of `files`.
    pub files_more: usize,
    /// Changed files with uncovered statements on added lines.
    pub uncovered: Vec<Uncovered>,
    /// Files left out of `uncovered`.
    pub uncovered_more: usize,
    /// Functions whose coverage fell (see [`Comment::set_functions`]),
    /// largest fall first.
    #[serde(default)]
    pub functions: Vec<FuncDelta>,
    /// Functions left out of `functions`.
    #[serde(default)]
    pub functions_more: usize,
    /// Files whose functions could not be compared: no source, or a source
    /// that does not parse or does not fit the diff.
    #[serde(default)]
    pub functions_unread: usize,
    /// Packages of the head below their recent trend (see
    /// [`Comment::set_trends`]), furthest below first.
    #[serde(default)]
    pub below_trend: Vec<BelowTrend>,
    /// Packages left out of `below_trend`.
    #[serde(default)]
    pub below_trend_more: usize,
    /// The rule `below_trend` was found with (`None`: no history given).
    #[serde(default)]
    pub trend_rule: Option<TrendRule>,
    /// Over how many of the base job's runs the packages' `flaky` counts
    /// were measured (`None`: not given).
    #[serde(default)]
    pub flaky_runs: Option<u32>,
    /// Where the full report is (`None`: no link).
    pub report_url: Option<String>,
    /// Packages in the head and not in the base, and the reverse: the
    /// totals then compare different sets of packages, and the comment
    /// says so.
    #[serde(default)]
    pub packages_added: usize,
    /// Packages in the base and not in the head.
    #[serde(default)]
    pub packages_removed: usize,
    /// Set when lists were cut to fit the size limit.
    pub truncated: bool,
    /// The runs compared (`None`: not said).
    #[serde(default)]
    pub provenance: Option<Provenance>,
    /// What `// coverage-ignore` annotations left out of each side
    /// (`None`: annotations not applied); the comment says it under the
    /// statements, so readers know the numbers leave code out.
    #[serde(default)]
    pub left_out: Option<CommentLeftOut>,
}

/// What annotations left out of a comment's two profiles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentLeftOut {
    /// Statements left out of the base.
    pub base: u64,
    /// Statements left out of the head.
    pub head: u64,
    /// Files whose annotations could not be read on either side (all
    /// their statements counted), each file once.
    pub unchecked: usize,
}

impl CommentLeftOut {
    /// What `a` left out.
    pub fn of(a: &crate::Annotated) -> CommentLeftOut {
        let base = a.base_report.as_ref();
        let unchecked: std::collections::BTreeSet<&str> = base
            .into_iter()
            .chain([&a.head_report])
            .flat_map(|r| r.unchecked.iter().map(|u| u.name.as_str()))
            .collect();
        CommentLeftOut {
            base: base.map_or(0, |r| r.statements().total),
            head: a.head_report.statements().total,
            unchecked: unchecked.len(),
        }
    }
}

impl Comment {
    /// Builds the comment. `diff` is the pull request's diff (no diff:
    /// packages only); `module` the import path of the repository root
    /// (see [`PathMap`]). Lists are ranked by size of change: packages and
    /// files by the number of statements whose state changed (|Δcovered| +
    /// |Δtotal|), then by |Δ%| as printed, then by name; uncovered changed
    /// statements by count.
    pub fn build(
        base: &Profile,
        head: &Profile,
        diff: Option<&[DiffFile]>,
        module: Option<&str>,
        report_url: Option<String>,
    ) -> Comment {
        let total = DeltaRow::new(
            "total".into(),
            Some(base.statements().into()),
            Some(head.statements().into()),
            None,
        );

        let mut pkgs: BTreeMap<&str, [Option<Counts>; 2]> = BTreeMap::new();
        for (i, p) in [base, head].into_iter().enumerate() {
            for f in p.files() {
                pkgs.entry(package_of(f.name())).or_default()[i]
                    .get_or_insert_with(Counts::default)
                    .add(f.statements());
            }
        }
        let packages_added = pkgs
            .values()
            .filter(|[b, h]| b.is_none() && h.is_some())
            .count();
        let packages_removed = pkgs
            .values()
            .filter(|[b, h]| b.is_some() && h.is_none())
            .count();
        let mut packages: Vec<(u64, DeltaRow)> = pkgs
            .into_iter()
            .filter(|(_, [b, h])| b != h)
            .map(|(name, [b, h])| {
                (
                    change_size(b, h),
                    DeltaRow::new(name.to_string(), b.map(Stat::from), h.map(Stat::from), None),
                )
            })
            .collect();
        rank(&mut packages);

        let mut files = Vec::new();
        let mut uncovered = Vec::new();
        let mut patch = diff.map(|_| Counts::default());
        if let Some(diff) = diff {
            let map = PathMap::new(module, &[base, head]);
            for d in diff {
                let name = map.map(&d.path);
                let bf = name.as_deref().and_then(|n| base.file(n));
                let hf = name.as_deref().and_then(|n| head.file(n));
                if bf.is_none() && hf.is_none() && !d.path.ends_with(".go") {
                    continue; // not Go: nothing to say
                }
                let (b, h) = (
                    bf.map(FileProfile::statements),
                    hf.map(FileProfile::statements),
                );
                let mut file_patch = None;
                if let Some(hf) = hf {
                    let changed = changed_statements(hf, &d.added);
                    if changed.counts.total > 0 {
                        patch
                            .get_or_insert_with(Counts::default)
                            .add(changed.counts);
                        file_patch = Some(Stat::from(changed.counts));
                    }
                    if changed.uncovered > 0 {
                        uncovered.push(Uncovered {
                            file: d.path.clone(),
                            ranges: changed.ranges.iter().map(|&r| line_range(r)).collect(),
                            more: 0,
                            statements: changed.uncovered,
                        });
                    }
                }
                let size = change_size(b, h) + file_patch.as_ref().map_or(0, |p| p.total);
                files.push((
                    size,
                    DeltaRow::new(
                        d.path.clone(),
                        b.map(Stat::from),
                        h.map(Stat::from),
                        file_patch,
                    ),
                ));
            }
        }
        rank(&mut files);
        uncovered.sort_by(|a, b| {
            b.statements
                .cmp(&a.statements)
                .then_with(|| a.file.cmp(&b.file))
        });

        Comment {
            total,
            patch: patch.map(Stat::from),
            packages: packages.into_iter().map(|p| p.1).collect(),
            packages_more: 0,
            files: files.into_iter().map(|p| p.1).collect(),
            files_more: 0,
            uncovered,
            uncovered_more: 0,
            functions: Vec::new(),
            functions_more: 0,
            functions_unread: 0,
            below_trend: Vec::new(),
            below_trend_more: 0,
            trend_rule: None,
            flaky_runs: None,
            report_url,
            packages_added,
            packages_removed,
            truncated: false,
            provenance: None,
            left_out: None,
        }
    }

    /// Whether the comment reports a change: a printed change of the total
    /// or of a package (or a package added or removed), an uncovered
    /// statement on a changed line, a function that lost coverage, or a
    /// package below its trend. A reporter that comments only on change
    /// (Codecov's `require_changes`) asks this of the whole comment,
    /// before it is fitted.
    pub fn shows_a_change(&self) -> bool {
        let changed = |r: &DeltaRow| r.mark != Mark::None || r.base.is_none() != r.head.is_none();
        changed(&self.total)
            || self.packages.iter().any(changed)
            || !self.uncovered.is_empty()
            || !self.functions.is_empty()
            || !self.below_trend.is_empty()
    }

    /// Lists the packages of `head` whose coverage is below their recent
    /// trend by `rule` (`trend_of(package)`: its coverage in the last runs
    /// of the base branch's job, oldest first), furthest below first.
    pub fn set_trends(
        &mut self,
        head: &Profile,
        rule: TrendRule,
        mut trend_of: impl FnMut(&str) -> Option<Trend>,
    ) {
        let mut packages: BTreeMap<&str, Counts> = BTreeMap::new();
        for f in head.files() {
            packages.entry(f.package()).or_default().add(f.statements());
        }
        let mut below: Vec<BelowTrend> = packages
            .into_iter()
            .filter(|(_, c)| c.total > 0)
            .filter_map(|(name, c)| rule.check(name, c.percent(), &trend_of(name)?))
            .collect();
        below.sort_by(|a, b| {
            (b.mean - b.now)
                .total_cmp(&(a.mean - a.now))
                .then_with(|| a.name.cmp(&b.name))
        });
        self.below_trend = below;
        self.below_trend_more = 0;
        self.trend_rule = Some(rule);
    }
}

impl Comment {
    /// Gives each package row its flaky statements on the base job
    /// (`flaky_of(package)`: covered in some but not all of `runs` runs),
    /// so a reviewer sees which changes chance alone can make.
    pub fn set_flaky(&mut self, runs: u32, mut flaky_of: impl FnMut(&str) -> Option<u64>) {
        for r in &mut self.packages {
            r.flaky = flaky_of(&r.name);
        }
        self.flaky_runs = Some(runs);
    }

    /// [`Comment::set_flaky`] from a fold of the base job's runs (a package
    /// not measured in every run has no count).
    pub fn set_flaky_report(&mut self, r: &covlens_core::flaky::FlakyReport) {
        let by_pkg: BTreeMap<&str, u64> = (r.packages.iter())
            .map(|p| (p.name.as_str(), p.statements))
            .collect();
        self.set_flaky(r.runs, |p| by_pkg.get(p).copied());
    }
}

fn change_size(b: Option<Counts>, h: Option<Counts>) -> u64 {
    let (b, h) = (b.unwrap_or_default(), h.unwrap_or_default());
    b.covered.abs_diff(h.covered) + b.total.abs_diff(h.total)
}

/// Largest change first; equal sizes by the printed |Δ%| (so rows that
/// print alike stay in name order), then by name.
fn rank(v: &mut [(u64, DeltaRow)]) {
    let pp = |r: &DeltaRow| tenths(r.delta.abs());
    v.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| pp(&b.1).cmp(&pp(&a.1)))
            .then_with(|| a.1.name.cmp(&b.1.name))
    });
}

/// What the added lines of one file hold: [`changed_statements`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangedStatements {
    /// Statements of blocks that overlap an added line.
    pub counts: Counts,
    /// Line ranges (first, last) of those blocks not covered, whole blocks,
    /// merged where they touch, ascending.
    pub ranges: Vec<(u32, u32)>,
    /// Statements not covered.
    pub uncovered: u64,
}

/// The changed statements of a file: those of blocks with statements
/// that overlap a line of `added` (ascending line numbers, as
/// [`DiffFile::added`]), the measure of the comment's patch coverage.
pub fn changed_statements(f: &FileProfile, added: &[u32]) -> ChangedStatements {
    let mut counts = Counts::default();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    let mut uncovered = 0;
    for b in f.blocks() {
        let i = added.partition_point(|&l| l < b.start_line);
        if b.num_stmt == 0 || added.get(i).is_none_or(|&l| l > b.end_line) {
            continue;
        }
        counts.add_block(b);
        if b.count == 0 {
            uncovered += u64::from(b.num_stmt);
            match ranges.last_mut() {
                Some(r) if b.start_line <= r.1.saturating_add(1) => r.1 = r.1.max(b.end_line),
                _ => ranges.push((b.start_line, b.end_line)),
            }
        }
    }
    ChangedStatements {
        counts,
        ranges,
        uncovered,
    }
}

/// `12` or `20-24`.
fn line_range((s, e): (u32, u32)) -> String {
    if s == e {
        s.to_string()
    } else {
        format!("{s}-{e}")
    }
}

/// Writes a PR comment, cut down to fit `max_chars` (see [`CommentFit`]);
/// a limit below [`min_comment_chars`] is refused
/// ([`Error::LimitTooSmall`]) and nothing is written.
pub fn write_comment<W: Write>(
    mut w: W,
    c: &Comment,
    max_chars: usize,
) -> Result<CommentFit, Error> {
    let fit = fit::fit(c, max_chars)?;
    w.write_all(fit.text.as_bytes()).map_err(Error::Write)?;
    Ok(fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_a_printed_change_a_package_or_an_uncovered_changed_line() {
        let p = crate::test_profile;
        let base = p("mode: set\nm/a/x.go:1.1,2.2 1 1\nm/a/x.go:3.1,4.2 1 0\n");
        assert!(!Comment::build(&base, &base, None, None, None).shows_a_change());
        // One more statement covered.
        let more = p("mode: set\nm/a/x.go:1.1,2.2 1 1\nm/a/x.go:3.1,4.2 1 1\n");
        assert!(Comment::build(&base, &more, None, None, None).shows_a_change());
        // A package added at 0%: no printed change of its own, still news.
        let added =
            p("mode: set\nm/a/x.go:1.1,2.2 1 1\nm/a/x.go:3.1,4.2 1 0\nm/b/y.go:1.1,2.2 0 0\n");
        assert!(Comment::build(&base, &added, None, None, None).shows_a_change());
        // Same numbers, but the diff adds an uncovered statement.
        let diff = parse_diff(
            "diff --git a/a/x.go b/a/x.go\n--- a/a/x.go\n+++ b/a/x.go\n@@ -3,0 +3,1 @@\n+\tx()\n",
        )
        .unwrap();
        let c = Comment::build(&base, &base, Some(&diff), Some("m"), None);
        assert_eq!(c.total.mark, Mark::None);
        assert!(c.shows_a_change(), "{:?}", c.uncovered);
    }

    #[test]
    fn origins_keep_only_what_is_safe_to_show() {
        let o = Origin::parse("ci-e2e@ABCDEF0123");
        assert_eq!(
            (o.name.as_str(), o.commit.as_deref()),
            ("ci-e2e", Some("abcdef0123"))
        );
        // An `@` without a commit after it is part of the name.
        let o = Origin::parse("me@example.com");
        assert_eq!((o.name.as_str(), o.commit), ("me@example.com", None));
        for bad in ["abc", "xyz0123456", &"a".repeat(65), "0123456 "] {
            assert_eq!(Origin::new("j", None, Some(bad)).commit, None, "{bad}");
        }
        let long = Origin::new(&"é".repeat(500), Some(&"9".repeat(500)), None);
        assert_eq!(long.name.chars().count(), MAX_ORIGIN_CHARS);
        assert_eq!(long.run.unwrap().len(), MAX_ORIGIN_CHARS);
        assert!(Origin::missing("ci").missing);
        assert!(same_commit("ABCDEF0", "abcdef0123") && !same_commit("abcdef0", "abcdef1"));
        assert!(!same_commit("abc", "abcdef0") && !same_commit("", ""));
        // A base run whose commit is unknown is not said to be another.
        let p = crate::test_profile("mode: set\nm/x.go:1.1,2.2 1 1\n");
        let mut c = Comment::build(&p, &p, None, None, None);
        let base = Origin::new("ci", Some("9"), None);
        c.provenance = Some(Provenance {
            head: Origin::new("pull", None, None),
            pull_base: PullBase::of("1234567", &base),
            base,
        });
        let mut out = Vec::new();
        write_comment(&mut out, &c, 65536).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Base: `ci` run `9`.</sub>"), "{text}");
        let at = |secs| Origin::new("j", None, None).started_at(secs).started;
        assert_eq!(at(0).as_deref(), Some("1970-01-01 00:00 UTC"));
        assert_eq!(at(i64::MAX), None);
    }
    use crate::test_profile as profile;

    /// Line numbers up to u32::MAX (a hostile profile and diff) merge into
    /// ranges without overflowing.
    #[test]
    fn changed_statements_at_the_last_line() {
        let m = u32::MAX;
        let p = profile(&format!(
            "mode: set\nm/x.go:{m}.1,{m}.9 1 0\nm/x.go:{m}.10,{m}.20 2 0\n"
        ));
        let c = changed_statements(&p.files()[0], &[m]);
        assert_eq!((c.uncovered, c.ranges), (3, vec![(m, m)]));
    }

    #[test]
    fn changed_statements_and_ranking() {
        let base = profile("mode: set\nm/a/x.go:1.1,2.2 2 1\nm/b/y.go:1.1,2.2 1 1\n");
        let head = profile(
            "mode: set\nm/a/x.go:1.1,2.2 2 1\nm/a/x.go:3.1,4.2 3 0\nm/a/x.go:5.1,5.9 1 0\nm/b/y.go:1.1,2.2 1 0\n",
        );
        let diff = [
            DiffFile {
                path: "b/y.go".into(),
                added: vec![2],
                ..DiffFile::default()
            },
            DiffFile {
                path: "a/x.go".into(),
                added: vec![4, 5],
                ..DiffFile::default()
            },
            DiffFile {
                path: "docs/README.md".into(),
                added: vec![1],
                ..DiffFile::default()
            },
        ];
        let c = Comment::build(&base, &head, Some(&diff), Some("m"), None);
        // 3/3 before, 2/7 after: 100.0% to 28.6%.
        assert_eq!(c.total.delta, -71.4);
        assert_eq!(c.total.mark, Mark::Down);
        let names: Vec<_> = c.files.iter().map(|r| r.name.as_str()).collect();
        // x.go: 4 statements changed state + 4 changed; y.go: 1 + 1.
        assert_eq!(names, ["a/x.go", "b/y.go"]);
        assert_eq!(c.files[0].patch, Some(Stat::new(0, 4)));
        assert_eq!(c.patch, Some(Stat::new(0, 5)));
        assert_eq!(c.uncovered[0].ranges, ["3-5"]);
        assert_eq!(c.uncovered[0].statements, 4);
        assert_eq!(c.packages.len(), 2);
        assert_eq!((c.packages_added, c.packages_removed), (0, 0));
    }

    /// Issue 13, item 8: 64.0% to 60.2% is −3.8 as printed, although the
    /// unrounded change (64.04 to 60.16) is −3.88.
    #[test]
    fn deltas_agree_with_printed_numbers() {
        let r = DeltaRow::new(
            "p".into(),
            Some(Stat::new(6404, 10000)),
            Some(Stat::new(6016, 10000)),
            None,
        );
        assert_eq!(
            (
                r.base.as_ref().unwrap().percent.as_str(),
                r.head.as_ref().unwrap().percent.as_str()
            ),
            ("64.0", "60.2")
        );
        assert_eq!(crate::stat::signed(r.delta), "-3.8");
        let base = profile("mode: set\nm/a/x.go:1.1,2.2 2 1\n");
        let head = profile("mode: set\nm/a/x.go:1.1,2.2 2 1\nm/b/y.go:1.1,2.2 1 0\n");
        let c = Comment::build(&base, &head, None, Some("m"), None);
        assert_eq!((c.packages_added, c.packages_removed), (1, 0));
        let mut out = Vec::new();
        write_comment(&mut out, &c, 65536).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("not configured"), "{text}");
        assert!(text.contains("| m/b | — | 0.0% | new |"), "{text}");
        assert!(text.contains("different sets of packages"), "{text}");
    }
}
