//! The branch table: packages (or directories) as rows, branches as
//! columns, newest first, ▲/▼ against the next (older) column.

use std::collections::BTreeMap;
use std::io::Write;

use covlens_core::{Counts, Profile, package_of};
use minijinja::context;
use minijinja::value::Serde;
use serde::{Deserialize, Serialize};

use crate::render::render_to;
use crate::trend::Trend;
use crate::{Error, Mark, Stat};

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
    /// Number of recorded runs the trends span (0: no trend column).
    #[serde(default, skip_serializing_if = "no_trend")]
    pub trend_runs: usize,
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
                    })
                })
                .collect()
        };
        Table {
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

/// Statement counts per package, or per directory prefix of at most
/// `depth` elements; every statement lands in exactly one row, so the
/// rows add up to the total.
pub fn table_rows(p: &Profile, depth: Option<usize>) -> Vec<(String, u64, u64)> {
    let mut m: BTreeMap<&str, Counts> = BTreeMap::new();
    for f in p.files() {
        let mut key = package_of(f.name());
        if let Some(d) = depth
            && let Some((i, _)) = key.match_indices('/').nth(d.saturating_sub(1))
        {
            key = &key[..i];
        }
        m.entry(key).or_default().add(f.statements());
    }
    m.into_iter()
        .map(|(k, c)| (k.to_string(), c.covered, c.total))
        .collect()
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
}
