//! The data the templates render. Numbers arrive computed; percentages
//! are formatted here once so every template prints them the same way.

use serde::{Deserialize, Serialize};

/// Covered and total statements with the percentage as printed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Stat {
    /// Statements with a non-zero count.
    pub covered: u64,
    /// All statements.
    pub total: u64,
    /// `covered / total` in percent with one decimal (`"49.8"`), `"0.0"`
    /// for no statements, as `go tool cover` prints it.
    pub percent: String,
}

impl Stat {
    /// A stat from counts.
    pub fn new(covered: u64, total: u64) -> Stat {
        Stat {
            covered,
            total,
            percent: format!("{:.1}", percent(covered, total)),
        }
    }

    /// The percentage as a number.
    pub fn value(&self) -> f64 {
        percent(self.covered, self.total)
    }

    /// The percentage rounded to the printed decimal, in tenths, so
    /// marks never contradict the printed numbers.
    fn tenths(&self) -> i64 {
        (self.value() * 10.0).round() as i64
    }
}

fn percent(covered: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * covered as f64 / total as f64
    }
}

/// Direction of a change against the older column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mark {
    /// Higher by at least the threshold: ▲.
    Up,
    /// Lower by at least the threshold: ▼.
    Down,
    /// Not marked.
    None,
}

impl Mark {
    /// Compares printed percentages (tenths of a percent) of `newer` and
    /// `older`; changes smaller than `threshold` percentage points, and
    /// changes that do not show in the printed number, are not marked.
    pub fn between(newer: &Stat, older: Option<&Stat>, threshold: f64) -> Mark {
        let Some(older) = older else {
            return Mark::None;
        };
        let d = newer.tenths() - older.tenths();
        let min = ((threshold * 10.0).round() as i64).max(1);
        if d >= min {
            Mark::Up
        } else if -d >= min {
            Mark::Down
        } else {
            Mark::None
        }
    }
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
/// `(name, covered, total)`.
pub type Column = (String, Vec<(String, u64, u64)>);

/// A row of a [`Table`]: one package or directory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TableRow {
    /// Package or directory.
    pub name: String,
    /// One per column; `None` where the package is absent.
    pub cells: Vec<Option<Cell>>,
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
}

impl Table {
    /// Builds the table from per-column rows `(name, covered, total)`,
    /// marking each cell against the same row in the next column.
    pub fn build(heading: &str, columns: Vec<Column>, threshold: f64) -> Table {
        use std::collections::BTreeMap;
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
                })
                .collect(),
            total: TableRow {
                name: "Total".into(),
                cells: cells(totals.into_iter().map(Some).collect()),
            },
        }
    }
}

/// A before/after row of a [`Comment`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeltaRow {
    /// Package or file (repository-relative for files when known).
    pub name: String,
    /// Before; `None` if new.
    pub base: Option<Stat>,
    /// After; `None` if removed.
    pub head: Option<Stat>,
    /// Change in percentage points, signed (`"+1.5"`, `"-0.2"`, `"0.0"`).
    pub delta: String,
    /// Direction of the change.
    pub mark: Mark,
    /// Statements on changed lines, covered and total (files only).
    pub patch: Option<Stat>,
}

impl DeltaRow {
    /// A row from before/after counts (threshold: any printed change).
    pub fn new(
        name: String,
        base: Option<Stat>,
        head: Option<Stat>,
        patch: Option<Stat>,
    ) -> DeltaRow {
        let b = base.as_ref().map_or(0.0, Stat::value);
        let h = head.as_ref().map_or(0.0, Stat::value);
        let mark = match (&head, &base) {
            (Some(h), b) => Mark::between(h, b.as_ref(), 0.1),
            _ => Mark::None,
        };
        DeltaRow {
            name,
            delta: signed(h - b),
            base,
            head,
            mark,
            patch,
        }
    }
}

/// `+1.5`, `-0.2`, `0.0` (never `-0.0`).
pub fn signed(d: f64) -> String {
    let s = format!("{d:+.1}");
    if s == "+0.0" || s == "-0.0" {
        "0.0".into()
    } else {
        s
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

/// A pull-request comment: the change in coverage between two profiles.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    /// First line after the marker.
    pub title: String,
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
    /// Where the full report is (`None`: a placeholder is printed).
    pub report_url: Option<String>,
    /// Set when lists were cut to fit the size limit.
    pub truncated: bool,
}

/// An SVG badge.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Badge {
    /// Left text.
    pub label: String,
    /// Right text.
    pub value: String,
    /// Right background (`#4c1`).
    pub color: String,
    /// Width of the left part in pixels.
    pub label_width: u32,
    /// Width of the right part in pixels.
    pub value_width: u32,
}

impl Badge {
    /// A coverage badge: red below 50%, orange below 70%, yellow below
    /// 80%, yellowgreen below 90%, green from 90%.
    pub fn coverage(label: &str, stat: &Stat) -> Badge {
        let p = stat.value();
        let color = match p {
            p if p >= 90.0 => "#4c1",
            p if p >= 80.0 => "#97ca00",
            p if p >= 70.0 => "#dfb317",
            p if p >= 50.0 => "#fe7d37",
            _ => "#e05d44",
        };
        let value = if stat.total == 0 {
            "unknown".to_string()
        } else {
            format!("{}%", stat.percent)
        };
        let color = if stat.total == 0 { "#9f9f9f" } else { color };
        Badge {
            label_width: text_width(label) + 10,
            value_width: text_width(&value) + 10,
            label: label.to_string(),
            value,
            color: color.to_string(),
        }
    }

    /// Total width.
    pub fn width(&self) -> u32 {
        self.label_width + self.value_width
    }
}

/// Estimated width in pixels of `s` in 11px Verdana (the badge font),
/// per character class; close enough that the text neither overflows
/// nor floats in empty space.
pub fn text_width(s: &str) -> u32 {
    let w: f64 = s
        .chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | ':' | ';' | '|' | '!' | '\'' => 3.5,
            'f' | 'r' | 't' | ' ' | '(' | ')' | '[' | ']' | '-' | '/' | 'I' => 4.8,
            'm' | 'w' | 'M' | 'W' | '%' => 10.5,
            'A'..='Z' | '#' | '&' | '@' => 7.8,
            '0'..='9' => 7.0,
            c if c.is_ascii() => 6.5,
            _ => 10.0,
        })
        .sum();
    w.ceil() as u32
}

/// The site's `index.html`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteIndex {
    /// Page title.
    pub title: String,
    /// One column per profile.
    pub columns: Vec<String>,
    /// Totals per column.
    pub totals: Vec<Stat>,
    /// Number of files in the report.
    pub files: usize,
    /// `set` mode: covered/not covered colours only.
    pub set_mode: bool,
    /// The top of the tree, inlined as JSON for the script.
    pub boot: serde_json::Value,
}
