//! Why line-based services print another percentage than `go test -cover`.
//!
//! The same profile is counted three ways, per file or package:
//!
//! * **statements**: covered Go statements ÷ statements, the number `go
//!   test -cover` and `go tool covdata percent` print (`go tool cover
//!   -func`'s total leaves out blocks outside functions, such as a
//!   package-level function literal);
//! * **lines that ran**: lines where some code ran ÷ instrumented lines,
//!   what an LCOV `DA` record and gcov count (`covlens convert --line-hits
//!   max`);
//! * **lines that fully ran**: lines where every block on the line ran ÷
//!   instrumented lines. A line with blocks that ran and blocks that did
//!   not is *partial*; Codecov shows such lines as partials and leaves them
//!   out of its covered count (`--line-hits min`).
//!
//! Lines come from blocks by [`line_runs`], the mapping the LCOV and
//! Cobertura writers use, so the three numbers reconcile with covlens'
//! own conversions exactly. Statements and lines differ because they weigh
//! code differently (a line can hold several statements, a statement can
//! span several lines); lines that ran and lines that fully ran differ by
//! the partial lines.

use std::collections::BTreeMap;
use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

use crate::convert::{LineHits, line_runs};
use crate::printable::name_column;
use crate::profile::{Counts, FileProfile, Profile, package_of};

/// What the rows of an [`Explanation`] are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExplainBy {
    /// One row per file.
    File,
    /// One row per package (the directory part of the file name).
    Package,
}

/// One set of files counted three ways.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ThreeWays {
    /// Go statements, as `go test -cover` counts them.
    pub statements: Counts,
    /// Instrumented lines: lines that some block with statements reaches.
    pub lines: u64,
    /// Lines where some code ran.
    pub lines_ran: u64,
    /// Lines where every block on the line ran (at most `lines_ran`).
    pub lines_fully_ran: u64,
}

impl ThreeWays {
    /// Counts one file.
    pub fn of(f: &FileProfile) -> ThreeWays {
        let (mut lines, mut lines_ran, mut lines_fully_ran) = (0, 0, 0);
        for r in line_runs(f, LineHits::Max) {
            lines += r.len();
            if r.count > 0 {
                lines_ran += r.len();
            }
        }
        for r in line_runs(f, LineHits::Min) {
            if r.count > 0 {
                lines_fully_ran += r.len();
            }
        }
        ThreeWays {
            statements: f.statements(),
            lines,
            lines_ran,
            lines_fully_ran,
        }
    }

    /// Adds another count into this one.
    pub fn add(&mut self, o: &ThreeWays) {
        self.statements.add(o.statements);
        self.lines += o.lines;
        self.lines_ran += o.lines_ran;
        self.lines_fully_ran += o.lines_fully_ran;
    }

    /// Lines where some but not all code ran.
    pub fn partial_lines(&self) -> u64 {
        self.lines_ran - self.lines_fully_ran
    }

    /// Lines that ran, in percent (0 with no lines).
    pub fn lines_ran_percent(&self) -> f64 {
        percent(self.lines_ran, self.lines)
    }

    /// Lines that fully ran, in percent (0 with no lines).
    pub fn lines_fully_ran_percent(&self) -> f64 {
        percent(self.lines_fully_ran, self.lines)
    }

    /// The largest difference, in percentage points, between a line-based
    /// percentage and the statements' one: how far apart the tools are.
    pub fn gap(&self) -> f64 {
        let s = self.statements.percent();
        (self.lines_ran_percent() - s)
            .abs()
            .max((self.lines_fully_ran_percent() - s).abs())
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    Counts {
        covered: part,
        total: whole,
    }
    .percent()
}

/// One row of an [`Explanation`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExplainRow {
    /// The file or package.
    pub name: String,
    /// Its counts.
    #[serde(flatten)]
    pub counts: ThreeWays,
}

/// A profile counted three ways, in total and per file or package.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// What the rows are.
    pub by: ExplainBy,
    /// Every file together.
    pub total: ThreeWays,
    /// The rows, the largest [`ThreeWays::gap`] first (ties by name).
    pub rows: Vec<ExplainRow>,
}

/// Counts `p` three ways. Costs O(blocks log blocks) time and O(blocks)
/// memory however many lines the blocks claim to span.
pub fn explain(p: &Profile, by: ExplainBy) -> Explanation {
    let files: Vec<ThreeWays> = p.files().par_iter().map(ThreeWays::of).collect();
    let mut total = ThreeWays::default();
    for f in &files {
        total.add(f);
    }
    let mut rows: Vec<ExplainRow> = match by {
        ExplainBy::File => p
            .files()
            .iter()
            .zip(&files)
            .map(|(f, c)| ExplainRow {
                name: f.name().to_owned(),
                counts: *c,
            })
            .collect(),
        ExplainBy::Package => {
            let mut pkgs: BTreeMap<&str, ThreeWays> = BTreeMap::new();
            for (f, c) in p.files().iter().zip(&files) {
                pkgs.entry(package_of(f.name())).or_default().add(c);
            }
            pkgs.into_iter()
                .map(|(name, counts)| ExplainRow {
                    name: name.to_owned(),
                    counts,
                })
                .collect()
        }
    };
    rows.sort_by(|a, b| {
        b.counts
            .gap()
            .total_cmp(&a.counts.gap())
            .then_with(|| a.name.cmp(&b.name))
    });
    Explanation { by, total, rows }
}

impl Explanation {
    /// The first `top` rows (all with 0), and how many are left out.
    fn shown(&self, top: usize) -> (&[ExplainRow], usize) {
        let n = if top == 0 {
            self.rows.len()
        } else {
            top.min(self.rows.len())
        };
        (&self.rows[..n], self.rows.len() - n)
    }
}

/// How [`write_explain`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainFormat {
    /// Text: the three totals, why they differ, then the rows where they
    /// differ most; names with controls escaped.
    Table,
    /// JSON: `by`, `total` and the rows, each with `statements` {covered,
    /// total}, `lines`, `lines_ran`, `lines_fully_ran`; `more` counts the
    /// rows left out.
    Json,
}

/// Writes `e` with its first `top` rows (0: all).
pub fn write_explain<W: Write>(
    w: W,
    e: &Explanation,
    top: usize,
    format: ExplainFormat,
) -> io::Result<()> {
    match format {
        ExplainFormat::Table => write_table(w, e, top),
        ExplainFormat::Json => write_json(w, e, top),
    }
}

fn write_table<W: Write>(mut w: W, e: &Explanation, top: usize) -> io::Result<()> {
    let t = &e.total;
    let totals = [
        (
            "statements (go test -cover)",
            t.statements.covered,
            t.statements.total,
        ),
        ("lines that ran (LCOV, gcov)", t.lines_ran, t.lines),
        ("lines that fully ran", t.lines_fully_ran, t.lines),
    ];
    let cells: Vec<String> = totals.iter().map(|(_, c, n)| format!("{c}/{n}")).collect();
    let width = cells.iter().map(String::len).max().unwrap_or(0);
    for ((label, c, n), cell) in totals.iter().zip(&cells) {
        writeln!(w, "{label:<32}  {cell:>width$}  {:>6.1}%", percent(*c, *n))?;
    }
    writeln!(w)?;
    let partial = t.partial_lines();
    let (s, them) = if partial == 1 {
        ("", "it")
    } else {
        ("s", "them")
    };
    write!(
        w,
        "Statements and lines weigh code differently: a line can hold several\n\
         statements, and a statement can span several lines.\n\
         {partial} partial line{s}: some code on {them} ran and some did not; LCOV and\n\
         gcov count {them} as covered, Codecov shows {them} as partial, not covered.\n"
    )?;
    let (rows, more) = e.shown(top);
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    let head = match e.by {
        ExplainBy::File => "FILE",
        ExplainBy::Package => "PACKAGE",
    };
    let (names, width) = name_column(head, rows.iter().map(|r| r.name.as_str()));
    writeln!(
        w,
        "Where they differ most (GAP: the largest difference, in points, between a\n\
         line-based percentage and the statements'):\n"
    )?;
    writeln!(
        w,
        "{head:<width$}  {:>10}  {:>9}  {:>15}  {:>7}  {:>6}",
        "STATEMENTS", "LINES RAN", "LINES FULLY RAN", "PARTIAL", "GAP"
    )?;
    for (r, n) in rows.iter().zip(&names) {
        let c = &r.counts;
        writeln!(
            w,
            "{n:<width$}  {:>9.1}%  {:>8.1}%  {:>14.1}%  {:>7}  {:>6.1}",
            c.statements.percent(),
            c.lines_ran_percent(),
            c.lines_fully_ran_percent(),
            c.partial_lines(),
            c.gap()
        )?;
    }
    if more > 0 {
        let what = match (e.by, more) {
            (ExplainBy::File, 1) => "file",
            (ExplainBy::File, _) => "files",
            (ExplainBy::Package, 1) => "package",
            (ExplainBy::Package, _) => "packages",
        };
        // The library names no flag: the caller's way to list them all is its own.
        writeln!(
            w,
            "… and {more} more {what}, where the counts are closer together"
        )?;
    }
    Ok(())
}

fn write_json<W: Write>(mut w: W, e: &Explanation, top: usize) -> io::Result<()> {
    #[derive(Serialize)]
    struct Json<'a> {
        by: ExplainBy,
        total: &'a ThreeWays,
        rows: &'a [ExplainRow],
        more: usize,
    }
    let (rows, more) = e.shown(top);
    let json = Json {
        by: e.by,
        total: &e.total,
        rows,
        more,
    };
    serde_json::to_writer_pretty(&mut w, &json).map_err(io::Error::other)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParseOptions, parse_bytes};

    fn parse(text: &str) -> Profile {
        parse_bytes(text.as_bytes(), "t", &ParseOptions::default()).unwrap()
    }

    #[test]
    fn a_one_line_if_is_a_partial_line() {
        // Line 3 holds an `if` (ran) and its one-line body (did not).
        let p = parse(
            "mode: set\n\
             m/a.go:2.10,3.9 2 1\n\
             m/a.go:3.9,3.20 1 0\n\
             m/a.go:4.2,5.1 1 1\n",
        );
        let e = explain(&p, ExplainBy::File);
        let t = e.total;
        assert_eq!((t.statements.covered, t.statements.total), (3, 4));
        assert_eq!((t.lines, t.lines_ran, t.lines_fully_ran), (3, 3, 2));
        assert_eq!(t.partial_lines(), 1);
        // 3 of 3 lines ran (100%) against 3 of 4 statements (75%).
        assert!((t.gap() - 25.0).abs() < 1e-9);
    }

    #[test]
    fn statement_free_blocks_and_column_one_ends_claim_no_line() {
        let p = parse("mode: set\nm/a.go:1.1,3.1 0 0\nm/a.go:5.1,7.1 1 1\n");
        let t = explain(&p, ExplainBy::File).total;
        assert_eq!((t.lines, t.lines_ran, t.lines_fully_ran), (2, 2, 2));
    }

    #[test]
    fn packages_add_up_and_rank_by_gap() {
        let p = parse(
            "mode: set\n\
             m/same/a.go:1.1,1.9 1 1\n\
             m/far/b.go:1.1,9.2 1 0\n\
             m/far/b.go:10.1,10.9 5 1\n\
             m/far/c.go:1.1,1.9 1 1\n",
        );
        let e = explain(&p, ExplainBy::Package);
        let names: Vec<_> = e.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["m/far", "m/same"]);
        assert_eq!(e.rows[0].counts.lines, 11);
        assert_eq!(e.total.statements.total, 8);
        let mut sum = ThreeWays::default();
        for r in &e.rows {
            sum.add(&r.counts);
        }
        assert_eq!(sum, e.total);
    }

    #[test]
    fn hostile_spans_cost_nothing_and_names_are_escaped() {
        let p = parse("mode: set\nm/\u{1b}[2J.go:1.1,2000000000.1 1 1\n");
        let e = explain(&p, ExplainBy::File);
        assert_eq!(e.total.lines, 1_999_999_999);
        let mut out = Vec::new();
        write_table(&mut out, &e, 0).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains('\u{1b}'), "{out}");
    }

    #[test]
    fn top_cuts_rows_and_says_how_many() {
        let p = parse("mode: set\nm/a.go:1.1,1.9 1 1\nm/b.go:1.1,1.9 1 1\nm/c.go:1.1,1.9 1 1\n");
        let e = explain(&p, ExplainBy::File);
        let mut out = Vec::new();
        write_table(&mut out, &e, 2).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("and 1 more file,"));
        let mut json = Vec::new();
        write_json(&mut json, &e, 2).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["rows"].as_array().unwrap().len(), 2);
        assert_eq!(v["more"], 1);
        assert_eq!(v["total"]["lines_fully_ran"], 3);
        assert_eq!(v["by"], "file");
    }
}
