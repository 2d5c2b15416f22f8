//! The branch table: packages (or directories) as rows, branches as
//! columns, newest first, ▲/▼ against the next (older) column.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use covlens_core::owners::{OwnerBy, OwnersTree, rollup};
use covlens_core::{Counts, Profile, package_of};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use crate::render::render_to;
use crate::trend::Trend;
use crate::{Error, Mark, Origin, Stat};

/// Output format of [`write_table`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TableFormat {
    /// GitHub-flavoured Markdown.
    Markdown,
    /// A self-contained HTML page.
    Html,
    /// The [`Table`] model as JSON.
    Json,
}

/// One cell of a [`Table`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The numbers.
    #[serde(flatten)]
    pub stat: Stat,
    /// Against the next (older) column.
    pub mark: Mark,
    /// The threshold in percent this cell falls below (a policy's package
    /// threshold, see [`Table::mark_below`]); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
}

/// One column of [`Table::build`]'s input: its name and its rows
/// `(name, covered, total)` (see [`table_rows`]).
pub type Column = (String, Vec<(String, u64, u64)>);

/// A row of a [`Table`]: one package or directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// Package or directory.
    pub name: String,
    /// One per column; `None` where the package is absent.
    pub cells: Vec<Option<Cell>>,
    /// Coverage of the last recorded runs, oldest first (see
    /// [`Table::set_trends`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
}

/// Packages (or directories) across branches: `Package | master | 1.12`,
/// newest column first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// Heading of the first column (`Package` or `Directory`).
    pub heading: String,
    /// Column names, newest first.
    pub columns: Vec<String>,
    /// Changes below this many percentage points are not marked.
    pub threshold: f64,
    /// Rows sorted by name.
    pub rows: Vec<TableRow>,
    /// Totals per column.
    pub total: TableRow,
    /// The directory row names are relative to (`""`: full names); shown
    /// in the heading.
    #[serde(default)]
    pub root: String,
    /// Set when some row is missing from some column: the totals then add
    /// up different sets of packages, and the table says so.
    #[serde(default)]
    pub unlike_sets: bool,
    /// Number of recorded runs the trends span (0: no trend column).
    #[serde(default, skip_serializing_if = "no_trend")]
    pub trend_runs: usize,
    /// The run behind each column, when known (listed under the table, so
    /// a column from an old run shows); empty or one per column.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<Origin>,
}

impl Table {
    /// Builds the table from per-column rows `(name, covered, total)`,
    /// marking each cell against the same row in the next column.
    pub fn build(heading: &str, columns: Vec<Column>, threshold: f64) -> Table {
        let n = columns.len();
        let mut by_name: BTreeMap<String, Vec<Option<Stat>>> = BTreeMap::new();
        let mut totals = vec![Stat::new(0, 0); n];
        for (i, (_, rows)) in columns.iter().enumerate() {
            let (mut c, mut t) = (0, 0);
            for (name, covered, total) in rows {
                by_name.entry(name.clone()).or_insert_with(|| vec![None; n])[i] =
                    Some(Stat::new(*covered, *total));
                c += covered;
                t += total;
            }
            totals[i] = Stat::new(c, t);
        }
        let cells = |stats: Vec<Option<Stat>>| -> Vec<Option<Cell>> {
            (0..stats.len())
                .map(|i| {
                    stats[i].as_ref().map(|s| Cell {
                        stat: s.clone(),
                        mark: Mark::between(
                            s,
                            stats.get(i + 1).and_then(Option::as_ref),
                            threshold,
                        ),
                        below: None,
                    })
                })
                .collect()
        };
        let unlike_sets = by_name.values().any(|s| s.iter().any(Option::is_none));
        Table {
            root: String::new(),
            unlike_sets,
            heading: heading.to_string(),
            columns: columns.into_iter().map(|(name, _)| name).collect(),
            threshold,
            rows: by_name
                .into_iter()
                .map(|(name, stats)| TableRow {
                    name,
                    cells: cells(stats),
                    trend: None,
                })
                .collect(),
            total: TableRow {
                name: "Total".into(),
                cells: cells(totals.into_iter().map(Some).collect()),
                trend: None,
            },
            trend_runs: 0,
            origins: Vec::new(),
        }
    }

    /// Marks every row's cells whose percentage is below what `required`
    /// returns for the row's name (in percent; `None`: no threshold), as
    /// printed: a cell showing 39.96% is not below 40.
    pub fn mark_below(&mut self, required: impl Fn(&str) -> Option<f64>) {
        for row in &mut self.rows {
            let Some(req) = required(&row.name) else {
                continue;
            };
            for cell in row.cells.iter_mut().flatten() {
                let shown: f64 = cell.stat.percent.parse().unwrap_or(0.0);
                if cell.stat.total > 0 && shown < req {
                    cell.below = Some(req);
                }
            }
        }
    }

    /// Replaces the totals (per column `(covered, total)`), for rows that
    /// overlap (per owner: a file counts for each of its owners), where
    /// the sum of the rows is not the total.
    pub fn set_totals(&mut self, totals: &[(u64, u64)]) {
        let stats: Vec<Stat> = totals.iter().map(|&(c, t)| Stat::new(c, t)).collect();
        self.total.cells = (0..stats.len())
            .map(|i| {
                Some(Cell {
                    stat: stats[i].clone(),
                    mark: Mark::between(&stats[i], stats.get(i + 1), self.threshold),
                    below: None,
                })
            })
            .collect();
    }

    /// Adds a trend column over `runs` recorded runs: each row's trend is
    /// `trend_of(row name)`, the total's is `total`.
    pub fn set_trends(
        &mut self,
        runs: usize,
        mut trend_of: impl FnMut(&str) -> Option<Trend>,
        total: Option<Trend>,
    ) {
        self.trend_runs = runs;
        for r in &mut self.rows {
            r.trend = trend_of(&r.name);
        }
        self.total.trend = total;
    }

    /// Adds a trend column over `runs` recorded runs, trends keyed by full
    /// import path (as a history names its rows): each row is looked up by
    /// its name joined to [`Table::root`].
    pub fn set_trends_by_path(
        &mut self,
        runs: usize,
        mut by_path: HashMap<String, Trend>,
        total: Option<Trend>,
    ) {
        let root = self.root.clone();
        let full = |name: &str| match (root.as_str(), name) {
            ("", n) => n.to_string(),
            (r, ".") => r.to_string(),
            (r, n) => format!("{r}/{n}"),
        };
        self.set_trends(runs, |name| by_path.remove(&full(name)), total);
    }

    /// The table of `columns` (name and profile, newest first), a row per
    /// package, directory, owner or label (`rows`).
    pub fn of_profiles(
        columns: &[(String, Profile)],
        rows: TableRows<'_>,
        threshold: f64,
    ) -> Result<Table, covlens_core::Error> {
        let mut cols = Vec::new();
        let mut totals = Vec::new();
        for (name, p) in columns {
            let all = p.statements();
            totals.push((all.covered, all.total));
            let rows = match rows {
                TableRows::Groups(tree, by) => group_rows(p, tree, by),
                TableRows::Packages { root, depth } => table_rows_under(p, root, depth)?,
            };
            cols.push((name.clone(), rows));
        }
        Ok(match rows {
            TableRows::Groups(_, by) => Table::of_groups(cols, &totals, by, threshold),
            TableRows::Packages { root, depth } => {
                let mut t = Table::build(Table::heading_for(depth), cols, threshold);
                t.root = root.to_string();
                t
            }
        })
    }

    /// The table of columns made by [`group_rows`], a row per owner or
    /// label; `totals` are each column's statements (covered, all), each
    /// file counted once (rows overlap: a file counts for each owner).
    pub fn of_groups(
        columns: Vec<Column>,
        totals: &[(u64, u64)],
        by: OwnerBy,
        threshold: f64,
    ) -> Table {
        let heading = match by {
            OwnerBy::Owner => "Owner",
            OwnerBy::Label => "Label",
        };
        let mut t = Table::build(heading, columns, threshold);
        t.total.name = "Total (each file once)".into();
        t.set_totals(totals);
        t
    }

    /// Heading of the first column for rows made by [`table_rows`] with
    /// `depth`.
    pub fn heading_for(depth: Option<usize>) -> &'static str {
        if depth.is_some() {
            "Directory"
        } else {
            "Package"
        }
    }
}

fn no_trend(runs: &usize) -> bool {
    *runs == 0
}

/// What a row of [`Table::of_profiles`] is.
#[derive(Clone, Copy, Debug)]
pub enum TableRows<'a> {
    /// A package, or a directory of at most `depth` path elements, named
    /// relative to `root` (see [`table_rows_under`]).
    Packages {
        /// The directory rows are named relative to (`""`: full names).
        root: &'a str,
        /// Directory rows of at most this many elements below `root`.
        depth: Option<usize>,
    },
    /// An owner or label of the tree
    /// ([`rollup`](covlens_core::owners::rollup)): a file with several
    /// counts in each row; the total counts it once.
    Groups(&'a OwnersTree, OwnerBy),
}

/// Statement counts per package, or per directory prefix of at most
/// `depth` elements; every statement lands in exactly one row, so the
/// rows add up to the total.
pub fn table_rows(p: &Profile, depth: Option<usize>) -> Vec<(String, u64, u64)> {
    table_rows_under(p, "", depth).expect("every file is under the empty root")
}

/// The rows of one column of [`TableRows::Groups`]: per owner or label of
/// `tree`, its name and statements (covered, all).
pub fn group_rows(p: &Profile, tree: &OwnersTree, by: OwnerBy) -> Vec<(String, u64, u64)> {
    rollup(p, tree, by)
        .into_iter()
        .map(|r| (r.name, r.counts.covered, r.counts.total))
        .collect()
}

/// [`table_rows`] of the files under directory `root` (a trailing `/`
/// ignored), named relative to it (`.` for the root itself), `depth`
/// counting path elements below it. A file outside `root` is an error
/// naming it ([`covlens_core::Error::Invalid`]).
pub fn table_rows_under(
    p: &Profile,
    root: &str,
    depth: Option<usize>,
) -> Result<Vec<(String, u64, u64)>, covlens_core::Error> {
    let root = root.trim_end_matches('/');
    let mut m: BTreeMap<&str, Counts> = BTreeMap::new();
    for f in p.files() {
        let mut key = covlens_core::under_root(root, package_of(f.name())).ok_or_else(|| {
            covlens_core::Error::OutsideRoot {
                name: f.name().to_string(),
                root: root.to_string(),
            }
        })?;
        if key.is_empty() {
            key = ".";
        }
        if let Some(d) = depth
            && let Some((i, _)) = key.match_indices('/').nth(d.saturating_sub(1))
        {
            key = &key[..i];
        }
        m.entry(key).or_default().add(f.statements());
    }
    Ok(m.into_iter()
        .map(|(k, c)| (k.to_string(), c.covered, c.total))
        .collect())
}

/// Writes the per-branch table in `format`.
pub fn write_table<W: Write>(mut w: W, t: &Table, format: TableFormat) -> Result<(), Error> {
    match format {
        TableFormat::Json => {
            serde_json::to_writer_pretty(&mut w, t).map_err(Error::Json)?;
            w.write_all(b"\n").map_err(Error::Write)
        }
        TableFormat::Markdown => render_to("table.md", context! { t => Serde(t) }, w),
        TableFormat::Html => render_to("table.html", context! { t => Serde(t) }, w),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_below_a_threshold_are_marked() {
        let mut t = Table::build(
            "Package",
            vec![
                ("new".into(), vec![("a".into(), 1, 4), ("b".into(), 2, 4)]),
                ("old".into(), vec![("a".into(), 2, 4)]),
            ],
            0.1,
        );
        t.mark_below(|name| (name == "a").then_some(50.0));
        let below: Vec<Option<f64>> = t.rows[0]
            .cells
            .iter()
            .map(|c| c.as_ref().unwrap().below)
            .collect();
        assert_eq!(below, [Some(50.0), None]);
        assert_eq!(t.rows[1].cells[0].as_ref().unwrap().below, None);
        let mut md = Vec::new();
        write_table(&mut md, &t, TableFormat::Markdown).unwrap();
        let md = String::from_utf8(md).unwrap();
        assert!(md.contains("| a | ▼ 25.0% ✗ | 50.0% |"), "{md}");
        let mut html = Vec::new();
        write_table(&mut html, &t, TableFormat::Html).unwrap();
        assert!(String::from_utf8(html).unwrap().contains("below 50.0%"));
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["rows"][0]["cells"][0]["below"], 50.0);
        assert!(json["rows"][0]["cells"][1].get("below").is_none());
    }

    #[test]
    fn rows_by_package_and_depth() {
        let p = crate::test_profile(
            "mode: set\na.io/x/y/f.go:1.1,1.2 2 1\na.io/x/g.go:1.1,1.2 1 0\nmain.go:1.1,1.2 1 1\n",
        );
        assert_eq!(
            table_rows(&p, None),
            [
                (".".to_string(), 1, 1),
                ("a.io/x".to_string(), 0, 1),
                ("a.io/x/y".to_string(), 2, 2)
            ]
        );
        assert_eq!(
            table_rows(&p, Some(1)),
            [(".".to_string(), 1, 1), ("a.io".to_string(), 2, 3)]
        );
    }

    #[test]
    fn rows_under_a_root_and_unlike_sets() {
        let p = crate::test_profile(
            "mode: set\na.io/x/y/z/f.go:1.1,1.2 2 1\na.io/x/g.go:1.1,1.2 1 0\na.io/x/w/h.go:1.1,1.2 1 1\n",
        );
        let rows = table_rows_under(&p, "a.io/x/", Some(1)).unwrap();
        assert_eq!(
            rows,
            [
                (".".to_string(), 0, 1),
                ("w".to_string(), 1, 1),
                ("y".to_string(), 2, 2)
            ]
        );
        let e = table_rows_under(&p, "a.io/x/y", None).unwrap_err();
        assert!(e.to_string().contains("a.io/x/g.go is not under"), "{e}");
        let older = table_rows_under(&p, "a.io/x", Some(1)).unwrap()[..2].to_vec();
        let t = Table::build(
            "Directory",
            vec![("new".into(), rows.clone()), ("old".into(), older)],
            0.1,
        );
        assert!(t.unlike_sets);
        let t = Table::build(
            "Directory",
            vec![("new".into(), rows.clone()), ("old".into(), rows)],
            0.1,
        );
        assert!(!t.unlike_sets);
    }
}
