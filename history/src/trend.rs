//! What `history show` and `history drops` compute from the stored runs.

use std::collections::HashMap;

use covlens_core::Counts;
use serde::Serialize;

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::run::Run;

/// Which rows a history has and how far back it goes.
#[derive(Clone, Debug)]
pub struct HistoryQuery<'a> {
    /// The job.
    pub job: &'a str,
    /// Only packages equal to this import path or below it.
    pub path: Option<&'a str>,
    /// Rows per directory of at most this many path elements below
    /// [`HistoryQuery::root`] instead of per package (as `covlens table
    /// --depth`).
    pub depth: Option<usize>,
    /// The directory `depth` counts from (`""`: the start of the import
    /// path); `None`: the longest directory common to the packages read.
    /// A package outside it is an error.
    pub root: Option<&'a str>,
    /// The last this many runs.
    pub last: usize,
}

/// One row of a history: a package or directory, its numbers per run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryRow {
    /// Package or directory.
    pub name: String,
    /// Per run (oldest first) its statements, `None` when the run has no
    /// file in it.
    pub points: Vec<Option<Counts>>,
    /// Per run, its flaky statements (`covlens history record
    /// --flaky-from`), `None` when not measured for that run.
    pub flaky: Vec<Option<u64>>,
}

/// Per package (or directory), the numbers of the last runs of a job.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct History {
    /// The job.
    pub job: String,
    /// `package` or `directory`.
    pub by: &'static str,
    /// With `depth`: the directory it counted from.
    pub root: Option<String>,
    /// The runs, oldest first.
    pub runs: Vec<Run>,
    /// Rows sorted by name.
    pub rows: Vec<HistoryRow>,
    /// Per run, the sum of the rows (the whole run unless a path is given).
    pub total: Vec<Counts>,
}

impl History {
    /// Reads the history from a store.
    pub fn load(store: &mut dyn Backend, q: &HistoryQuery<'_>) -> Result<History> {
        let runs = store.last_runs(q.job, q.last)?;
        let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
        let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let prefix = q
            .path
            .map(|p| p.trim_end_matches('/'))
            .filter(|p| !p.is_empty());
        // Read first, grouped after: the root depth counts from may be
        // the packages' common directory.
        let mut read: Vec<(usize, String, Counts)> = Vec::new();
        store.package_counts(&ids, &mut |run, pkg, counts| {
            if prefix.is_some_and(|p| !under(pkg, p)) {
                return;
            }
            if let Some(&i) = index.get(&run) {
                read.push((i, pkg.to_string(), counts));
            }
        })?;
        let root = match (q.depth, q.root) {
            (None, _) => None,
            (Some(_), Some(r)) => Some(r.trim_end_matches('/').to_string()),
            (Some(_), None) => Some(common_dir(read.iter().map(|(_, p, _)| p.as_str()))),
        };
        let root_str = root.as_deref().unwrap_or("");
        if let Some(pkg) = read
            .iter()
            .map(|(_, p, _)| p)
            .find(|p| covlens_core::under_root(root_str, p).is_none())
        {
            return Err(Error::OutsideRoot {
                package: pkg.clone(),
                root: root_str.to_string(),
            });
        }
        // Rows by name through a hash map (tens of thousands of visits),
        // sorted once at the end.
        let mut row_of: HashMap<String, usize> = HashMap::new();
        let mut rows: Vec<HistoryRow> = Vec::new();
        let mut total = vec![Counts::default(); runs.len()];
        for (i, pkg, counts) in &read {
            let key = group(pkg, root_str, q.depth);
            let r = match row_of.get(key) {
                Some(&r) => r,
                None => {
                    row_of.insert(key.to_string(), rows.len());
                    rows.push(HistoryRow {
                        name: key.to_string(),
                        points: vec![None; ids.len()],
                        flaky: vec![None; ids.len()],
                    });
                    rows.len() - 1
                }
            };
            rows[r].points[*i]
                .get_or_insert_with(Counts::default)
                .add(*counts);
            total[*i].add(*counts);
        }
        store.package_flaky(&ids, &mut |run, pkg, statements| {
            if prefix.is_some_and(|p| !under(pkg, p)) {
                return;
            }
            let key = group(pkg, root_str, q.depth);
            let (Some(&i), Some(&r)) = (index.get(&run), row_of.get(key)) else {
                return;
            };
            *rows[r].flaky[i].get_or_insert(0) += statements;
        })?;
        rows.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(History {
            job: q.job.to_string(),
            by: if q.depth.is_some() {
                "directory"
            } else {
                "package"
            },
            root,
            runs,
            rows,
            total,
        })
    }

    /// Like [`History::load`], with rows named by `groups(file)`: a file
    /// counts in the row of each name it returns (owners, labels), so rows
    /// may overlap; the total counts each file once. `by` names the rows
    /// (`owner`, `label`). `q.depth` is ignored; `q.path` filters files by
    /// their package.
    pub fn load_by(
        store: &mut dyn Backend,
        q: &HistoryQuery<'_>,
        by: &'static str,
        groups: &mut dyn FnMut(&str) -> Vec<String>,
    ) -> Result<History> {
        let runs = store.last_runs(q.job, q.last)?;
        let ids: Vec<i64> = runs.iter().map(|r| r.id).collect();
        let index: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let prefix = q
            .path
            .map(|p| p.trim_end_matches('/'))
            .filter(|p| !p.is_empty());
        let mut names_of: HashMap<String, Vec<String>> = HashMap::new();
        let mut rows: HashMap<String, HistoryRow> = HashMap::new();
        let mut total = vec![Counts::default(); runs.len()];
        store.file_counts(&ids, &mut |run, file, counts| {
            if prefix.is_some_and(|p| !under(covlens_core::package_of(file), p)) {
                return;
            }
            let Some(&i) = index.get(&run) else { return };
            total[i].add(counts);
            let names = names_of
                .entry(file.to_string())
                .or_insert_with(|| groups(file));
            for n in names.iter() {
                let r = rows.entry(n.clone()).or_insert_with(|| HistoryRow {
                    name: n.clone(),
                    points: vec![None; ids.len()],
                    flaky: vec![None; ids.len()],
                });
                r.points[i].get_or_insert_with(Counts::default).add(counts);
            }
        })?;
        let mut rows: Vec<HistoryRow> = rows.into_values().collect();
        rows.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        Ok(History {
            job: q.job.to_string(),
            by,
            root: None,
            runs,
            rows,
            total,
        })
    }

    /// Per row, its statements in each run, oldest first (what a report
    /// site's trends take).
    pub fn into_counts(self) -> HashMap<String, Vec<Option<Counts>>> {
        self.rows.into_iter().map(|r| (r.name, r.points)).collect()
    }

    /// Per row, its coverage (percent) in each run, oldest first: the
    /// trend the reports draw. `None` where the run has no statements of
    /// the row.
    pub fn percents(&self) -> HashMap<String, Vec<Option<f64>>> {
        self.rows
            .iter()
            .map(|r| (r.name.clone(), percents(&r.points)))
            .collect()
    }

    /// The newest run's flaky coverage: over how many runs it was
    /// measured, and each row's flaky statements. `None` when the newest
    /// run has none recorded.
    pub fn newest_flaky(&self) -> Option<(u32, HashMap<String, u64>)> {
        let runs = self.runs.last()?.flaky_runs?;
        let rows = self
            .rows
            .iter()
            .filter_map(|r| Some((r.name.clone(), (*r.flaky.last()?)?)))
            .collect();
        Some((runs, rows))
    }

    /// The total's coverage (percent) in each run, oldest first.
    pub fn total_percents(&self) -> Vec<Option<f64>> {
        percents(&self.total.iter().copied().map(Some).collect::<Vec<_>>())
    }

    /// Rows whose coverage fell by more than `min_points` percentage points
    /// from one run to the next, in row order, then run order. A row
    /// missing from a run, or without statements in it, has no drop there.
    pub fn drops(&self, min_points: f64) -> Vec<DropRow> {
        let mut out = Vec::new();
        for row in &self.rows {
            for (i, w) in row.points.windows(2).enumerate() {
                let (Some(before), Some(after)) = (w[0], w[1]) else {
                    continue;
                };
                if before.total == 0 || after.total == 0 {
                    continue;
                }
                // From the percentages as printed (one decimal), so that a
                // listed fall is never between two equal printed values.
                let points = (covlens_core::printed_tenths(before.percent())
                    - covlens_core::printed_tenths(after.percent()))
                    as f64
                    / 10.0;
                if points > min_points {
                    out.push(DropRow {
                        name: row.name.clone(),
                        from: i,
                        to: i + 1,
                        before,
                        after,
                        points,
                    });
                }
            }
        }
        out
    }
}

/// A fall in coverage between two consecutive runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DropRow {
    /// Package or directory.
    pub name: String,
    /// Index of the earlier run in [`History::runs`].
    pub from: usize,
    /// Index of the later run.
    pub to: usize,
    /// Statements in the earlier run.
    pub before: Counts,
    /// Statements in the later run.
    pub after: Counts,
    /// Percentage points lost (positive), between the percentages as
    /// printed with one decimal.
    pub points: f64,
}

fn percents(points: &[Option<Counts>]) -> Vec<Option<f64>> {
    points
        .iter()
        .map(|p| p.filter(|c| c.total > 0).map(|c| c.percent()))
        .collect()
}

/// Whether `pkg` is `prefix` or below it, by whole path elements.
fn under(pkg: &str, prefix: &str) -> bool {
    pkg.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The row a package counts in: itself, or its directory of at most
/// `depth` path elements below `root` (a directory holding `pkg`; `""`
/// for none).
fn group<'a>(pkg: &'a str, root: &str, depth: Option<usize>) -> &'a str {
    let Some(d) = depth else { return pkg };
    let start = if root.is_empty() { 0 } else { root.len() + 1 };
    if pkg.len() <= start {
        return pkg;
    }
    match pkg[start..].match_indices('/').nth(d.saturating_sub(1)) {
        Some((i, _)) => &pkg[..start + i],
        None => pkg,
    }
}

/// The longest directory holding every package named (`""` for none).
fn common_dir<'a>(mut pkgs: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = pkgs.next() else {
        return String::new();
    };
    let mut common = first;
    for p in pkgs {
        while covlens_core::under_root(common, p).is_none() {
            common = common.rfind('/').map_or("", |i| &common[..i]);
        }
    }
    common.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fall is measured between the percentages as printed: 0.2449% and
    /// 0.1951% both print 0.2%, and are no fall at all.
    #[test]
    fn drops_follow_the_printed_percentages() {
        let c = |covered, total| Some(Counts { covered, total });
        let h = History {
            job: "j".into(),
            by: "package",
            root: None,
            runs: Vec::new(),
            rows: vec![
                HistoryRow {
                    name: "a".into(),
                    points: vec![c(2449, 1_000_000), c(1951, 1_000_000), c(1449, 1_000_000)],
                    flaky: vec![None; 3],
                },
                HistoryRow {
                    name: "b".into(),
                    points: vec![c(2, 3), c(1, 2)],
                    flaky: vec![None; 2],
                },
            ],
            total: Vec::new(),
        };
        let d = h.drops(0.0);
        let got: Vec<_> = d
            .iter()
            .map(|d| (d.name.as_str(), d.from, d.points))
            .collect();
        // a: 0.2% to 0.2% is none, 0.2% to 0.1% is 0.1; b: 66.7% to 50.0%.
        assert_eq!(got, [("a", 1, 0.1), ("b", 0, 16.7)]);
        assert_eq!(h.drops(16.7).len(), 0);
    }

    #[test]
    fn prefixes_and_groups() {
        assert!(under("k8s.io/a/b", "k8s.io/a"));
        assert!(under("k8s.io/a", "k8s.io/a"));
        assert!(!under("k8s.io/ab", "k8s.io/a"));
        assert_eq!(group("k8s.io/a/b/c", "", Some(2)), "k8s.io/a");
        assert_eq!(group("k8s.io/a", "", Some(3)), "k8s.io/a");
        assert_eq!(group("k8s.io/a/b", "", None), "k8s.io/a/b");
        // Depth 0 is read as 1, as `covlens table` does.
        assert_eq!(group("k8s.io/a/b", "", Some(0)), "k8s.io");
        // Below a root, depth counts from it.
        let root = "k8s.io/kubernetes/pkg";
        assert_eq!(
            group("k8s.io/kubernetes/pkg/api/v1", root, Some(1)),
            "k8s.io/kubernetes/pkg/api"
        );
        assert_eq!(
            group("k8s.io/kubernetes/pkg", root, Some(1)),
            "k8s.io/kubernetes/pkg"
        );
        assert_eq!(
            common_dir(["k8s.io/kubernetes/pkg/api", "k8s.io/kubernetes/pkg/util/x"].into_iter()),
            root
        );
        assert_eq!(common_dir(["a/b", "c"].into_iter()), "");
        assert_eq!(common_dir(["a/b"].into_iter()), "a/b");
    }
}
