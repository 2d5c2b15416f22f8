//! An outcome as text for a terminal, as JSON, and as GitHub Actions'
//! workflow commands.

use std::fmt::Write as _;
use std::io::Write;

use covlens_core::printable::printable;

use crate::Error;
use crate::eval::{Outcome, Rule};

/// Control characters other than `\r` and `\n` (which GitHub's escaping
/// encodes) become U+FFFD: an escape sequence must not reach the log.
fn replace_controls(s: &str) -> String {
    s.chars()
        .map(|c| {
            if covlens_core::printable::is_unsafe(c) && c != '\r' && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// A workflow command's message, escaped as GitHub's toolkit does
/// (`%` `\r` `\n` as `%25` `%0D` `%0A`); other control characters become
/// U+FFFD.
pub fn escape_data(s: &str) -> String {
    replace_controls(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A workflow command's property value (`file=…`, `title=…`): as
/// [`escape_data`], and `:` and `,` as `%3A` and `%2C`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The formats [`write_outcome`] writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutcomeFormat {
    /// [`write_text`].
    Text,
    /// [`write_json`].
    Json,
}

/// Writes the outcome in `format`.
pub fn write_outcome<W: Write>(w: W, o: &Outcome, format: OutcomeFormat) -> Result<(), Error> {
    match format {
        OutcomeFormat::Text => write_text(w, o),
        OutcomeFormat::Json => write_json(w, o),
    }
}

/// Writes one line per violation (`FAIL rule: message`, names made safe
/// for a terminal) and a last line saying whether the policy is met and
/// what was checked.
pub fn write_text<W: Write>(mut w: W, o: &Outcome) -> Result<(), Error> {
    let mut s = String::new();
    for v in &o.violations {
        let _ = writeln!(s, "FAIL {}: {}", v.rule, printable(&v.message()));
    }
    let c = &o.checked;
    let n = o.violations.len();
    let _ = write!(
        s,
        "coverage policy {}: total {}% of {} statements, {} packages and {} files checked",
        if o.passed {
            "met".to_string()
        } else {
            format!("not met, {n} violation{}", if n == 1 { "" } else { "s" })
        },
        c.total.percent,
        c.total.total,
        c.packages,
        c.files,
    );
    if c.excluded_files > 0 {
        let _ = write!(s, ", {} files excluded", c.excluded_files);
    }
    if let Some(a) = &c.annotations {
        let _ = write!(
            s,
            ", {} statements ({} covered) in {} blocks marked coverage-ignore left out",
            a.statements, a.covered, a.blocks
        );
        if a.unchecked_files > 0 {
            let _ = write!(s, " ({} files not checked)", a.unchecked_files);
        }
    }
    if let Some(p) = &c.patch {
        let _ = write!(
            s,
            ", changed statements {}% of {} ({} uncovered changed line ranges)",
            p.percent,
            p.total,
            o.uncovered_changes.len()
        );
    }
    s.push('\n');
    w.write_all(s.as_bytes()).map_err(Error::Write)
}

/// Writes the outcome as pretty JSON (the [`Outcome`] model) and a newline.
pub fn write_json<W: Write>(mut w: W, o: &Outcome) -> Result<(), Error> {
    let mut v = serde_json::to_vec_pretty(o).map_err(|e| Error::Write(e.into()))?;
    v.push(b'\n');
    w.write_all(&v).map_err(Error::Write)
}

/// Writes GitHub Actions workflow commands: `::error` for each violation
/// (`file`, `line` and `endLine` when it has a location, and a `title`),
/// and, when the patch threshold is not met, a `::warning` for each
/// uncovered changed line range. Values are escaped as GitHub's toolkit
/// escapes them ([`escape_property`], [`escape_data`]).
pub fn write_workflow_commands<W: Write>(mut w: W, o: &Outcome) -> Result<(), Error> {
    let mut s = String::new();
    let mut line = |level: &str, loc: Option<(&str, u32, u32)>, title: &str, msg: &str| {
        let _ = write!(s, "::{level} ");
        if let Some((path, start, end)) = loc {
            let _ = write!(
                s,
                "file={},line={start},endLine={end},",
                escape_property(path)
            );
        }
        let _ = writeln!(s, "title={}::{}", escape_property(title), escape_data(msg));
    };
    for v in &o.violations {
        let loc = v
            .location
            .as_ref()
            .map(|l| (l.path.as_str(), l.start_line, l.end_line));
        line("error", loc, v.title(), &v.message());
    }
    if o.violations.iter().any(|v| v.rule == Rule::ThresholdPatch) {
        for a in &o.uncovered_changes {
            line(
                "warning",
                Some((&a.path, a.start_line, a.end_line)),
                a.title.as_deref().unwrap_or("Uncovered change"),
                &a.message,
            );
        }
    }
    w.write_all(s.as_bytes()).map_err(Error::Write)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("50% a\r\nb:c,d"), "50%25 a%0D%0Ab:c,d");
        assert_eq!(
            escape_property("50% a\r\nb:c,d\x1b"),
            "50%25 a%0D%0Ab%3Ac%2Cd\u{fffd}"
        );
    }
}
