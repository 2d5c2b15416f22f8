//! Writing histories and drops as a text table, JSON or Markdown.

use std::borrow::Cow;
use std::io::Write;

use covlens_core::Counts;
use covlens_core::markdown::md_escape;
use serde::Serialize;

use crate::error::Result;
use crate::run::Run;
use crate::time::Timestamp;
use crate::trend::{DropRow, History};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned plain text.
    Table,
    /// JSON (numbers as numbers).
    Json,
    /// A Markdown table.
    Markdown,
}

/// Statements of one row in one run, with its percentage.
#[derive(Serialize)]
struct Point {
    covered: u64,
    total: u64,
    percent: f64,
}

impl From<Counts> for Point {
    fn from(c: Counts) -> Point {
        Point {
            covered: c.covered,
            total: c.total,
            percent: c.percent(),
        }
    }
}

#[derive(Serialize)]
struct HistoryJson<'a> {
    job: &'a str,
    by: &'a str,
    /// With `--depth`: the directory depth counts from.
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<&'a str>,
    runs: &'a [Run],
    rows: Vec<RowJson<'a>>,
    total: Vec<Point>,
}

#[derive(Serialize)]
struct RowJson<'a> {
    name: &'a str,
    points: Vec<Option<Point>>,
    /// Flaky statements per run, `null` where not measured.
    flaky: &'a [Option<u64>],
}

#[derive(Serialize)]
struct DropsJson<'a> {
    job: &'a str,
    by: &'a str,
    min_points: f64,
    runs: &'a [Run],
    drops: Vec<DropJson<'a>>,
}

#[derive(Serialize)]
struct DropJson<'a> {
    name: &'a str,
    from: RunPoint<'a>,
    to: RunPoint<'a>,
    points: f64,
}

#[derive(Serialize)]
struct RunPoint<'a> {
    build: &'a str,
    time: Timestamp,
    commit: Option<&'a str>,
    #[serde(flatten)]
    point: Point,
}

fn percent(c: Option<Counts>) -> String {
    match c {
        Some(c) if c.total > 0 => format!("{:.1}%", c.percent()),
        Some(_) => "n/a".to_string(),
        None => "-".to_string(),
    }
}

fn heading(h: &History) -> &'static str {
    match h.by {
        "directory" => "Directory",
        "owner" => "Owner",
        "label" => "Label",
        _ => "Package",
    }
}

/// Writes per package (or directory) the coverage of each run, oldest run
/// first; JSON has the statement counts and the runs' provenance too.
pub fn write_history<W: Write>(w: &mut W, h: &History, format: Format) -> Result<()> {
    match format {
        Format::Json => {
            let model = HistoryJson {
                job: &h.job,
                by: h.by,
                root: h.root.as_deref(),
                runs: &h.runs,
                rows: h
                    .rows
                    .iter()
                    .map(|r| RowJson {
                        name: &r.name,
                        points: r.points.iter().map(|p| p.map(Point::from)).collect(),
                        flaky: &r.flaky,
                    })
                    .collect(),
                total: h.total.iter().map(|&c| Point::from(c)).collect(),
            };
            serde_json::to_writer_pretty(&mut *w, &model)?;
            w.write_all(b"\n")?;
        }
        Format::Table => {
            // The newest run's flaky statements, when it has them measured.
            let flaky = h.newest_flaky();
            let flaky_head = flaky.as_ref().map(|(n, _)| format!("flaky/{n}"));
            let flaky_of = |name: &str| match &flaky {
                Some((_, by)) => by.get(name).map_or("-".to_string(), u64::to_string),
                None => String::new(),
            };
            let name_w = h
                .rows
                .iter()
                .map(|r| plain(&r.name).chars().count())
                .max()
                .unwrap_or(0)
                .max(heading(h).len());
            let col_w: Vec<usize> = h
                .runs
                .iter()
                .map(|r| plain(&r.build).chars().count().max(7))
                .collect();
            write!(w, "{:<name_w$}", heading(h))?;
            for (r, cw) in h.runs.iter().zip(&col_w) {
                write!(w, "  {:>cw$}", plain(&r.build))?;
            }
            if let Some(head) = &flaky_head {
                write!(w, "  {head:>8}")?;
            }
            writeln!(w)?;
            let total_points: Vec<Option<Counts>> = h.total.iter().map(|&c| Some(c)).collect();
            let rows = h
                .rows
                .iter()
                .map(|r| (r.name.as_str(), &r.points))
                .chain(std::iter::once(("total", &total_points)));
            let total_flaky = flaky.as_ref().map(|(_, by)| by.values().sum::<u64>());
            for (i, (name, points)) in rows.enumerate() {
                write!(w, "{:<name_w$}", plain(name))?;
                for (p, cw) in points.iter().zip(&col_w) {
                    write!(w, "  {:>cw$}", percent(*p))?;
                }
                if flaky_head.is_some() {
                    let cell = match (i < h.rows.len(), total_flaky) {
                        (true, _) => flaky_of(name),
                        (false, Some(t)) => t.to_string(),
                        (false, None) => String::new(),
                    };
                    write!(w, "  {cell:>8}")?;
                }
                writeln!(w)?;
            }
        }
        Format::Markdown => {
            let flaky = h.newest_flaky();
            write!(w, "| {} |", heading(h))?;
            for r in &h.runs {
                write!(w, " {} |", md_escape(&r.build))?;
            }
            if let Some((n, _)) = &flaky {
                write!(w, " flaky ({n} runs) |")?;
            }
            writeln!(w)?;
            write!(w, "|---|")?;
            for _ in 0..h.runs.len() + usize::from(flaky.is_some()) {
                write!(w, "---:|")?;
            }
            writeln!(w)?;
            for r in &h.rows {
                write!(w, "| {} |", md_escape(&r.name))?;
                for p in &r.points {
                    write!(w, " {} |", percent(*p))?;
                }
                if let Some((_, by)) = &flaky {
                    let cell = by.get(&r.name).map_or("-".to_string(), u64::to_string);
                    write!(w, " {cell} |")?;
                }
                writeln!(w)?;
            }
            write!(w, "| **Total** |")?;
            for &c in &h.total {
                write!(w, " **{}** |", percent(Some(c)))?;
            }
            if let Some((_, by)) = &flaky {
                write!(w, " **{}** |", by.values().sum::<u64>())?;
            }
            writeln!(w)?;
        }
    }
    Ok(())
}

/// Writes the drops of a history: each row and pair of runs where coverage
/// fell by more than `min_points`.
pub fn write_drops<W: Write>(
    w: &mut W,
    h: &History,
    drops: &[DropRow],
    min_points: f64,
    format: Format,
) -> Result<()> {
    let run_point = |i: usize, c: Counts| RunPoint {
        build: &h.runs[i].build,
        time: h.runs[i].time,
        commit: h.runs[i].commit.as_deref(),
        point: Point::from(c),
    };
    if format == Format::Json {
        let model = DropsJson {
            job: &h.job,
            by: h.by,
            min_points,
            runs: &h.runs,
            drops: drops
                .iter()
                .map(|d| DropJson {
                    name: &d.name,
                    from: run_point(d.from, d.before),
                    to: run_point(d.to, d.after),
                    points: d.points,
                })
                .collect(),
        };
        serde_json::to_writer_pretty(&mut *w, &model)?;
        w.write_all(b"\n")?;
        return Ok(());
    }
    if drops.is_empty() {
        writeln!(
            w,
            "No {} fell by more than {min_points} points in the last {} runs of {}.",
            heading(h).to_lowercase(),
            h.runs.len(),
            if format == Format::Markdown {
                md_escape(&h.job)
            } else {
                plain(&h.job).into_owned()
            }
        )?;
        return Ok(());
    }
    let cells: Vec<[String; 6]> = drops
        .iter()
        .map(|d| {
            [
                plain(&d.name).into_owned(),
                plain(&h.runs[d.from].build).into_owned(),
                plain(&h.runs[d.to].build).into_owned(),
                percent(Some(d.before)),
                percent(Some(d.after)),
                format!("-{:.1}", d.points),
            ]
        })
        .collect();
    let head = [heading(h), "From", "To", "Before", "After", "Points"];
    if format == Format::Markdown {
        writeln!(w, "| {} |", head.join(" | "))?;
        writeln!(w, "|---|---|---|---:|---:|---:|")?;
        for c in &cells {
            writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} |",
                md_escape(&c[0]),
                md_escape(&c[1]),
                md_escape(&c[2]),
                c[3],
                c[4],
                c[5]
            )?;
        }
        return Ok(());
    }
    let mut widths = head.map(str::len);
    for c in &cells {
        for (wd, s) in widths.iter_mut().zip(c) {
            *wd = (*wd).max(s.chars().count());
        }
    }
    let line = |w: &mut W, c: [&str; 6]| -> std::io::Result<()> {
        writeln!(
            w,
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}  {:>w5$}",
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            c[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
            w5 = widths[5]
        )
    };
    line(w, head)?;
    for c in &cells {
        line(w, [&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]])?;
    }
    Ok(())
}

/// Text for a terminal: control characters (which could move the cursor or
/// recolour the screen: names come from profiles) are shown escaped.
fn plain(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_text() {
        assert_eq!(plain("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(plain("k8s.io/a"), "k8s.io/a");
    }
}
