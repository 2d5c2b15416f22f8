//! The `go tool cover -func` report.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use rayon::prelude::*;

use super::extents::{BlockIndex, FuncExtent, FuncFinder};
use super::resolve::SourceResolver;
use super::tabwriter::TabWriter;
use crate::error::Error;
use crate::profile::{Counts, FileProfile, Profile};

/// Writes `go tool cover -func` lines: one per function, then the total.
///
/// Go aligns the columns with `text/tabwriter`, which needs every line
/// before it can write the first, so output appears on
/// [`finish`](FuncWriter::finish) (or [`abort`](FuncWriter::abort)).
pub struct FuncWriter<W: Write> {
    tab: TabWriter<W>,
    total: Counts,
    line: String,
}

impl<W: Write> FuncWriter<W> {
    /// A writer with no lines yet.
    pub fn new(out: W) -> FuncWriter<W> {
        FuncWriter {
            tab: TabWriter::new(out),
            total: Counts::default(),
            line: String::new(),
        }
    }

    /// Adds the line of function `f` of profile file `file` with the
    /// statements `c` attributed to it, and adds `c` to the total.
    pub fn func(&mut self, file: &str, f: &FuncExtent, c: Counts) -> io::Result<()> {
        self.line.clear();
        let _ = writeln!(
            self.line,
            "{file}:{}:\t{}\t{:.1}%",
            f.start_line,
            f.name,
            percent(c)
        );
        self.total.add(c);
        self.tab.write_str(&self.line)
    }

    /// Adds the lines of every function in `funcs`, the parsed source of
    /// `file`.
    pub fn file(&mut self, file: &FileProfile, funcs: &[FuncExtent]) -> io::Result<()> {
        let index = BlockIndex::new(&file.blocks);
        for f in funcs {
            self.func(&file.name, f, index.coverage(f))?;
        }
        Ok(())
    }

    /// The sum over the functions added so far. Blocks outside every
    /// function (package-level function literals, for one) are not in it.
    pub fn total(&self) -> Counts {
        self.total
    }

    /// Writes the `total:` line and everything buffered; flushes the
    /// writer and returns it.
    pub fn finish(mut self) -> io::Result<W> {
        let line = format!("total:\t(statements)\t{:.1}%\n", percent(self.total));
        self.tab.write_str(&line)?;
        self.tab.flush()?;
        Ok(self.tab.into_inner())
    }

    /// Writes the lines added so far without a total, as `go tool cover`
    /// leaves its output when a later source file fails.
    pub fn abort(mut self) -> io::Result<W> {
        self.tab.flush()?;
        Ok(self.tab.into_inner())
    }
}

/// `go tool cover`'s percentage: total 0 divides by 1. The operation order
/// (multiply, then divide) matters for the last digit.
fn percent(c: Counts) -> f64 {
    100.0 * c.covered as f64 / c.total.max(1) as f64
}

/// Writes the `go tool cover -func` report of `profile` to `out`; returns
/// the total.
///
/// Sources are found with `resolver` and parsed in parallel. As with
/// `go tool cover`, a file that cannot be found or parsed stops the report:
/// the lines of the files before it are still written (laid out as Go
/// flushes them, without a total) and then the error is returned.
pub fn write_func_report<W: Write>(
    out: W,
    profile: &Profile,
    resolver: &SourceResolver,
) -> Result<Counts, Error> {
    let found: Vec<Result<Vec<FuncExtent>, Error>> = profile
        .files
        .par_iter()
        .map_init(FuncFinder::new, |finder, file| {
            let finder = finder.as_mut().map_err(|e| Error::Invalid(e.to_string()))?;
            let path = resolver.resolve(&file.name)?;
            let src = std::fs::read(&path).map_err(|e| Error::io(display(&path), e))?;
            finder.find(&src, &display(&path))
        })
        .collect();
    let mut w = FuncWriter::new(out);
    let output_error = |e| Error::io("output", e);
    for (file, funcs) in profile.files.iter().zip(found) {
        match funcs {
            Ok(funcs) => w.file(file, &funcs).map_err(output_error)?,
            Err(e) => {
                w.abort().map_err(output_error)?;
                return Err(e);
            }
        }
    }
    let total = w.total();
    w.finish().map_err(output_error)?;
    Ok(total)
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Block;

    fn f(name: &str, s: u32, e: u32) -> FuncExtent {
        FuncExtent {
            name: name.into(),
            receiver: None,
            start_line: s,
            start_col: 1,
            end_line: e,
            end_col: 2,
        }
    }

    #[test]
    fn layout_matches_go() {
        // As go tool cover printed it for samples/prog (cover_func.txt).
        let lib = FileProfile {
            name: "example.com/covsample/lib/lib.go".into(),
            blocks: vec![
                Block::new((5, 30), (6, 2), 3, 1),
                Block::new((15, 20), (16, 10), 2, 0),
            ],
        };
        let mut w = FuncWriter::new(Vec::new());
        w.file(&lib, &[f("Classify", 5, 10), f("Unused", 15, 20)])
            .unwrap();
        w.func(
            "example.com/covsample/main.go",
            &f("main", 10, 30),
            Counts {
                covered: 8,
                total: 9,
            },
        )
        .unwrap();
        assert_eq!(
            w.total(),
            Counts {
                covered: 11,
                total: 14
            }
        );
        let out = String::from_utf8(w.finish().unwrap()).unwrap();
        assert_eq!(
            out,
            "example.com/covsample/lib/lib.go:5:\tClassify\t100.0%\n\
             example.com/covsample/lib/lib.go:15:\tUnused\t\t0.0%\n\
             example.com/covsample/main.go:10:\tmain\t\t88.9%\n\
             total:\t\t\t\t\t(statements)\t78.6%\n"
        );
    }

    #[test]
    fn percent_rounds_half_to_even_like_go() {
        let p = |covered, total| format!("{:.1}", percent(Counts { covered, total }));
        assert_eq!(p(1, 16), "6.2");
        assert_eq!(p(3, 16), "18.8");
        assert_eq!(p(0, 0), "0.0");
        assert_eq!(p(2, 3), "66.7");
    }

    #[test]
    fn abort_writes_lines_without_total() {
        let mut w = FuncWriter::new(Vec::new());
        w.func("a.go", &f("F", 1, 2), Counts::default()).unwrap();
        assert_eq!(w.abort().unwrap(), b"a.go:1:\tF\t0.0%\n");
        let w = FuncWriter::new(Vec::new());
        assert_eq!(w.finish().unwrap(), b"total:\t(statements)\t0.0%\n");
    }
}
