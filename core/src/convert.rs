//! Conversion to LCOV, Cobertura XML and JSON.
//!
//! Go counts *statements* in *blocks* (source ranges); LCOV and Cobertura
//! count *lines*. [`line_runs`] is the one place where blocks become lines
//! (as runs of lines with one count, so memory never grows with the lines a
//! block spans; at most [`MAX_FILE_LINES`] are written per file):
//!
//! * only blocks with at least one statement count; zero-statement blocks
//!   (empty function bodies, `select` cases) have nothing to execute, and
//!   `go tool cover` ignores them too;
//! * such a block makes every line from its start line to its end line
//!   instrumented, except an end line it does not reach into (end column 1,
//!   the end being exclusive);
//! * a line's hit count is the largest count of the blocks on it
//!   ([`LineHits::Max`], "some code on the line ran", as gcov counts lines)
//!   or the smallest ([`LineHits::Min`], "all code on the line ran").
//!
//! Which totals are statement-exact, per format, is documented on
//! [`write_lcov`], [`write_cobertura`] and [`write_json`], and with a worked
//! example in `docs/convert.md`.

use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeSeq, SerializeTuple, Serializer};

use crate::profile::{Block, Counts, FileProfile, Profile, package_of};

/// The most line records written for one file: 2^20, more lines than any
/// real Go source has (the Go compiler's positions stop at line 1,048,574).
/// Blocks reaching further come from a corrupt or hostile profile; their
/// lines past this many are left out and reported in
/// [`ConvertStats::clipped`] (statement totals keep every block).
pub const MAX_FILE_LINES: usize = 1 << 20;

/// At most this many line records in all: a small hostile profile naming
/// many files with far-reaching blocks would otherwise write gigabytes.
/// About four times what a Kubernetes-wide profile needs (2.5 million
/// statements, 1.5 instrumented lines each in Kubernetes' own profile).
/// Past it, files are clipped as past [`MAX_FILE_LINES`].
pub const MAX_TOTAL_LINES: u64 = 1 << 24;

/// The output formats of [`convert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvertFormat {
    /// LCOV tracefile (`SF:`/`DA:`/`LF:`/`LH:`).
    Lcov,
    /// Cobertura XML (coverage-04 DTD).
    Cobertura,
    /// covlens JSON (statement-exact, every block).
    Json,
}

/// How the blocks on one line combine into its hit count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineHits {
    /// The largest count: a line is hit when any block on it ran.
    #[default]
    Max,
    /// The smallest count: a line is hit only when every block on it ran.
    Min,
}

/// What Cobertura's aggregate attributes count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CoberturaCounts {
    /// `line-rate` on `<coverage>`, `<package>` and `<class>` and the root
    /// `lines-covered`/`lines-valid` count Go statements, so they equal
    /// `go tool cover`; `<line>` elements stay per line.
    #[default]
    Statements,
    /// Everything counts `<line>` elements (self-consistent, line-based).
    Lines,
}

/// Options of the writers; each format uses the fields it needs.
#[derive(Clone, Debug)]
pub struct ConvertOptions {
    /// Import-path prefixes removed from file names in LCOV `SF:` and
    /// Cobertura `filename` (the longest match wins, at a `/` boundary).
    pub strip_prefixes: Vec<String>,
    /// Cobertura `<source>` (default `.`); also prepended to relative LCOV
    /// `SF:` paths.
    pub source_dir: Option<String>,
    /// How blocks sharing a line combine (LCOV and Cobertura).
    pub line_hits: LineHits,
    /// What Cobertura's rates and root totals count.
    pub cobertura_counts: CoberturaCounts,
    /// Cobertura `timestamp` (milliseconds since the epoch). Fixed, not the
    /// clock, so output is reproducible.
    pub timestamp: u64,
    /// Cobertura `version` attribute.
    pub version: String,
}

impl Default for ConvertOptions {
    fn default() -> ConvertOptions {
        ConvertOptions {
            strip_prefixes: Vec::new(),
            source_dir: None,
            line_hits: LineHits::default(),
            cobertura_counts: CoberturaCounts::default(),
            timestamp: 0,
            version: concat!("covlens ", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl ConvertOptions {
    /// The reproducible-builds timestamp: `SOURCE_DATE_EPOCH` (seconds) in
    /// milliseconds, 0 when unset; a malformed value is an error, as
    /// reproducible-builds.org asks.
    pub fn timestamp_from_env() -> Result<u64, crate::Error> {
        match std::env::var("SOURCE_DATE_EPOCH") {
            Ok(v) if !v.is_empty() => match v.trim().parse::<u64>() {
                Ok(secs) => Ok(secs.saturating_mul(1000)),
                Err(e) => Err(crate::Error::Invalid(format!(
                    "invalid SOURCE_DATE_EPOCH {v:?}: {e}"
                ))),
            },
            _ => Ok(0),
        }
    }

    /// `name` without the longest matching strip prefix.
    fn relative<'a>(&self, name: &'a str) -> &'a str {
        let mut best = name;
        for p in &self.strip_prefixes {
            let p = p.trim_end_matches('/');
            if p.is_empty() {
                continue;
            }
            if let Some(rest) = name.strip_prefix(p).and_then(|r| r.strip_prefix('/'))
                && !rest.is_empty()
                && rest.len() < best.len()
            {
                best = rest;
            }
        }
        best
    }

    fn source_dir(&self) -> Option<&str> {
        self.source_dir.as_deref().filter(|d| !d.is_empty())
    }
}

/// What a writer wrote, for a summary next to the output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConvertStats {
    /// Go statements covered and total, exactly as `go tool cover`.
    pub statements: Counts,
    /// Lines hit and instrumented (LCOV `LH`/`LF` summed over files);
    /// `None` for JSON, which has no line view.
    pub lines: Option<Counts>,
    /// Files whose blocks reach more than [`MAX_FILE_LINES`] lines: the
    /// line records written stop there. Tell the user.
    pub clipped: Vec<Clipped>,
}

/// A file whose line records were cut at [`MAX_FILE_LINES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clipped {
    /// The profile's file name.
    pub file: String,
    /// The last line written.
    pub last_line: u32,
    /// Instrumented lines after it, left out (`lines_hit` of them hit).
    pub lines: u64,
    /// How many of the lines left out had hits.
    pub lines_hit: u64,
}

impl std::fmt::Display for Clipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?}: blocks span more than {MAX_FILE_LINES} lines (more than any Go source has), \
             or the profile more than {MAX_TOTAL_LINES} in all; \
             line records stop at line {}: {} more lines ({} of them hit) left out \
             (statement totals count every block)",
            self.file, self.last_line, self.lines, self.lines_hit
        )
    }
}

/// `S of T statements covered (P%)`, then `; L of M lines hit (Q%)` for
/// the line-based formats, whose numbers differ from `go tool cover`'s.
impl std::fmt::Display for ConvertStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.statements;
        write!(
            f,
            "{} of {} statements covered ({:.1}%)",
            s.covered,
            s.total,
            s.percent()
        )?;
        if let Some(l) = self.lines {
            write!(
                f,
                "; {} of {} lines hit ({:.1}%)",
                l.covered,
                l.total,
                l.percent()
            )?;
        }
        Ok(())
    }
}

/// One instrumented line and its hit count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineHit {
    /// 1-based line number.
    pub line: u32,
    /// Hit count, combined over the blocks on the line per [`LineHits`].
    pub count: u64,
}

/// Consecutive instrumented lines with one hit count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineRun {
    /// First line.
    pub first: u32,
    /// Last line (inclusive).
    pub last: u32,
    /// Hit count of each of them, combined per [`LineHits`].
    pub count: u64,
}

impl LineRun {
    /// Number of lines.
    pub fn len(&self) -> u64 {
        u64::from(self.last) - u64::from(self.first) + 1
    }

    /// Never empty; here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Its lines one by one.
    pub fn lines(&self) -> impl Iterator<Item = LineHit> + '_ {
        (self.first..=self.last).map(|line| LineHit {
            line,
            count: self.count,
        })
    }
}

/// Lines hit and lines instrumented.
fn run_counts(runs: &[LineRun]) -> Counts {
    let mut c = Counts::default();
    for r in runs {
        c.total += r.len();
        if r.count > 0 {
            c.covered += r.len();
        }
    }
    c
}

/// The last line a block reaches into (its end is exclusive).
fn last_line(b: &Block) -> u32 {
    if b.end_line > b.start_line && b.end_col <= 1 {
        b.end_line - 1
    } else {
        b.end_line.max(b.start_line)
    }
}

/// The instrumented lines of a file as ascending runs of lines with one hit
/// count (see the module docs for the mapping). Costs O(blocks log blocks)
/// time and O(blocks) memory, however many lines the blocks span.
pub fn line_runs(f: &FileProfile, how: LineHits) -> Vec<LineRun> {
    // (start, last, count) of blocks with statements, by start line.
    let mut spans: Vec<(u32, u32, u64)> = f
        .blocks
        .iter()
        .filter(|b| b.num_stmt > 0)
        // Lines count from 1 (Go never writes line 0; LCOV has no `DA:0`).
        .map(|b| (b.start_line.max(1), last_line(b), b.count))
        .collect();
    if !spans.is_sorted_by_key(|s| s.0) {
        spans.sort_by_key(|s| s.0);
    }
    // Heap keys make the winning count the maximum for both policies.
    let key = |c: u64| match how {
        LineHits::Max => c,
        LineHits::Min => u64::MAX - c,
    };
    // Sweep from event to event: the heap holds the blocks that started on
    // or before `line`; finished ones are dropped lazily when they reach the
    // top. The top block's count holds until it ends or another block
    // starts, so each step emits a run up to the nearer of the two.
    let mut heap: BinaryHeap<(u64, u32)> = BinaryHeap::new();
    let mut out: Vec<LineRun> = Vec::new();
    let mut next = 0;
    let mut line: u64 = 0;
    loop {
        if heap.is_empty() {
            let Some(s) = spans.get(next) else { break };
            line = line.max(u64::from(s.0));
        }
        while let Some(s) = spans.get(next).filter(|s| u64::from(s.0) <= line) {
            heap.push((key(s.2), s.1));
            next += 1;
        }
        while heap.peek().is_some_and(|&(_, last)| u64::from(last) < line) {
            heap.pop();
        }
        let Some(&(k, last)) = heap.peek() else {
            continue;
        };
        let end = spans
            .get(next)
            .map_or(u64::from(last), |s| u64::from(last).min(u64::from(s.0) - 1));
        let count = match how {
            LineHits::Max => k,
            LineHits::Min => u64::MAX - k,
        };
        match out.last_mut() {
            Some(r) if r.count == count && u64::from(r.last) + 1 == line => r.last = end as u32,
            _ => out.push(LineRun {
                first: line as u32,
                last: end as u32,
                count,
            }),
        }
        line = end + 1;
    }
    out
}

/// Cuts `runs` after [`MAX_FILE_LINES`] lines, or what is left of the
/// profile's `budget` (taken from it); says what was left out.
fn clip(f: &FileProfile, runs: &mut Vec<LineRun>, budget: &mut u64) -> Option<Clipped> {
    let max = (MAX_FILE_LINES as u64).min(*budget);
    let mut total = 0u64;
    for i in 0..runs.len() {
        let n = runs[i].len();
        if total + n <= max {
            total += n;
            continue;
        }
        *budget -= max;
        let keep = max - total;
        let rest = if keep == 0 {
            runs.split_off(i)
        } else {
            let r = &mut runs[i];
            let cut = LineRun {
                first: r.first + keep as u32,
                ..*r
            };
            r.last = cut.first - 1;
            let mut rest = runs.split_off(i + 1);
            rest.insert(0, cut);
            rest
        };
        let left = run_counts(&rest);
        return Some(Clipped {
            file: f.name.clone(),
            last_line: runs.last().map_or(0, |r| r.last),
            lines: left.total,
            lines_hit: left.covered,
        });
    }
    *budget -= total;
    None
}

/// The instrumented lines of a file, ascending, with their hit counts (see
/// the module docs for the mapping), one by one. Fails with `InvalidData`
/// if the blocks span more than [`MAX_FILE_LINES`] lines; the writers use
/// [`line_runs`], which never expands lines in memory.
pub fn line_hits(f: &FileProfile, how: LineHits) -> io::Result<Vec<LineHit>> {
    let runs = line_runs(f, how);
    if run_counts(&runs).total > MAX_FILE_LINES as u64 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: blocks span more than {MAX_FILE_LINES} lines; is the profile corrupt?",
                f.name
            ),
        ));
    }
    Ok(runs.iter().flat_map(LineRun::lines).collect())
}

/// Writes `p` in `format`.
pub fn convert<W: Write>(
    w: &mut W,
    p: &Profile,
    format: ConvertFormat,
    o: &ConvertOptions,
) -> io::Result<ConvertStats> {
    match format {
        ConvertFormat::Lcov => write_lcov(w, p, o),
        ConvertFormat::Cobertura => write_cobertura(w, p, o),
        ConvertFormat::Json => write_json(w, p),
    }
}

fn push_num(buf: &mut Vec<u8>, n: impl itoa::Integer) {
    buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Writes an LCOV tracefile: per file `TN:`, `SF:`, one `DA:line,count` per
/// instrumented line, `LF:`, `LH:`, `end_of_record`.
///
/// LCOV has only line totals, and `LF`/`LH` must agree with the `DA` lines,
/// so every number in the file is line-based; there is no place a consumer
/// would read statement totals from (`FNF`/`FNH` count functions, and
/// comment lines are not part of the format). The statement-exact totals
/// are returned in [`ConvertStats`] instead. Files appear in profile order,
/// also those with no statements (`LF:0`). A file name containing a line
/// break cannot be written and fails with `InvalidData`.
pub fn write_lcov<W: Write>(
    w: &mut W,
    p: &Profile,
    o: &ConvertOptions,
) -> io::Result<ConvertStats> {
    let mut stats = ConvertStats {
        statements: p.statements(),
        lines: Some(Counts::default()),
        clipped: Vec::new(),
    };
    let mut buf = Vec::with_capacity(1 << 17);
    let mut budget = MAX_TOTAL_LINES;
    for f in &p.files {
        let mut runs = line_runs(f, o.line_hits);
        stats.clipped.extend(clip(f, &mut runs, &mut budget));
        let rel = o.relative(&f.name);
        // What any reader may split lines at: \n, \r, VT, FF, the file,
        // group and record separators, NEL, LS and PS (Python's splitlines).
        if rel.contains([
            '\n', '\r', '\x0B', '\x0C', '\x1C', '\x1D', '\x1E', '\u{85}', '\u{2028}', '\u{2029}',
        ]) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{:?}: LCOV cannot hold a file name with a line break (or a character readers split lines at)",
                    f.name
                ),
            ));
        }
        buf.extend_from_slice(b"TN:\nSF:");
        match o.source_dir() {
            Some(dir) if !rel.starts_with('/') => {
                buf.extend_from_slice(dir.trim_end_matches('/').as_bytes());
                buf.push(b'/');
            }
            _ => {}
        }
        buf.extend_from_slice(rel.as_bytes());
        buf.push(b'\n');
        for l in runs.iter().flat_map(LineRun::lines) {
            buf.extend_from_slice(b"DA:");
            push_num(&mut buf, l.line);
            buf.push(b',');
            push_num(&mut buf, l.count);
            buf.push(b'\n');
            if buf.len() >= 1 << 16 {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        let c = run_counts(&runs);
        buf.extend_from_slice(b"LF:");
        push_num(&mut buf, c.total);
        buf.extend_from_slice(b"\nLH:");
        push_num(&mut buf, c.covered);
        buf.extend_from_slice(b"\nend_of_record\n");
        if let Some(l) = &mut stats.lines {
            l.add(c);
        }
        if buf.len() >= 1 << 16 {
            w.write_all(&buf)?;
            buf.clear();
        }
    }
    w.write_all(&buf)?;
    Ok(stats)
}

// The one XML escaper of the machine formats: Go's `xml.EscapeText`, as
// `junit` writes it for gopherage's byte-for-byte output.
use crate::junit::xml_escape;

/// A Cobertura rate: covered/total as the shortest decimal that reads back
/// as the same f64 (never rounded up to 1), 0 with nothing to count, as
/// `go tool cover` prints 0.0% then.
fn rate(c: Counts) -> String {
    if c.total == 0 {
        return "0".to_string();
    }
    let r = c.covered as f64 / c.total as f64;
    // Past 2^53 two counts can be one double: 1 would hide a miss.
    let r = if r >= 1.0 && c.covered < c.total {
        1.0 - f64::EPSILON / 2.0
    } else {
        r
    };
    r.to_string()
}

/// The last path element of a profile file name.
fn base_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// Writes Cobertura XML (the coverage-04 DTD).
///
/// One `<package>` per Go package (the file's directory, as
/// [`package_of`]), one `<class>` per file (`name` = base name,
/// `filename` = the name after [`ConvertOptions::strip_prefixes`]), empty
/// `<methods/>`, and one `<line number hits>` per instrumented line. With
/// [`CoberturaCounts::Statements`] (the default) every `line-rate` and the
/// root `lines-covered`/`lines-valid` are statement-exact, so badges and
/// gates reading them match `go tool cover`; a consumer that recounts the
/// `<line>` elements gets line numbers instead. [`CoberturaCounts::Lines`]
/// makes every number line-based. A comment after the XML declaration
/// records both totals whichever is chosen. There are no branches
/// (`branch-rate="0"`, `branches-valid="0"`) and no DOCTYPE, so validating
/// parsers do not fetch the DTD from the network.
pub fn write_cobertura<W: Write>(
    w: &mut W,
    p: &Profile,
    o: &ConvertOptions,
) -> io::Result<ConvertStats> {
    use std::fmt::Write as _;

    // Line runs, not lines: memory is O(blocks) however far blocks span.
    struct Class<'a> {
        file: &'a FileProfile,
        statements: Counts,
        runs: Vec<LineRun>,
        lines: Counts,
    }
    let mut packages: BTreeMap<&str, Vec<Class>> = BTreeMap::new();
    let mut statements = Counts::default();
    let mut lines = Counts::default();
    let mut clipped = Vec::new();
    let mut budget = MAX_TOTAL_LINES;
    for f in &p.files {
        let mut runs = line_runs(f, o.line_hits);
        clipped.extend(clip(f, &mut runs, &mut budget));
        let c = Class {
            file: f,
            statements: f.statements(),
            lines: run_counts(&runs),
            runs,
        };
        statements.add(c.statements);
        lines.add(c.lines);
        packages.entry(package_of(&f.name)).or_default().push(c);
    }
    let counts = |stmts: Counts, lines: Counts| match o.cobertura_counts {
        CoberturaCounts::Statements => stmts,
        CoberturaCounts::Lines => lines,
    };
    let total = counts(statements, lines);
    let basis = match o.cobertura_counts {
        CoberturaCounts::Statements => "Go statements (as go tool cover does)",
        CoberturaCounts::Lines => "source lines",
    };

    let mut s = String::with_capacity(1 << 16);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let left_out = if clipped.is_empty() {
        String::new()
    } else {
        let n: u64 = clipped.iter().map(|c| c.lines).sum();
        format!(
            " Left out: {n} lines of {} file(s) past {MAX_FILE_LINES} lines \
             (more than any Go source has) or past {MAX_TOTAL_LINES} in all.",
            clipped.len()
        )
    };
    let _ = writeln!(
        s,
        "<!-- covlens: line-rate, lines-covered and lines-valid count {basis}; \
         <line> hits are per source line. Statements: {} of {} covered. \
         Lines: {} of {} hit.{left_out} Format: coverage-04.dtd. -->",
        statements.covered, statements.total, lines.covered, lines.total
    );
    let _ = write!(
        s,
        "<coverage line-rate=\"{}\" branch-rate=\"0\" lines-covered=\"{}\" lines-valid=\"{}\" \
         branches-covered=\"0\" branches-valid=\"0\" complexity=\"0\" version=\"",
        rate(total),
        total.covered,
        total.total
    );
    xml_escape(&mut s, &o.version);
    let _ = writeln!(s, "\" timestamp=\"{}\">", o.timestamp);
    s.push_str("  <sources>\n    <source>");
    xml_escape(&mut s, o.source_dir().unwrap_or("."));
    s.push_str("</source>\n  </sources>\n");
    s.push_str(if packages.is_empty() {
        "  <packages/>\n"
    } else {
        "  <packages>\n"
    });
    for (pkg, classes) in &packages {
        let mut pc = Counts::default();
        for c in classes {
            pc.add(counts(c.statements, c.lines));
        }
        s.push_str("    <package name=\"");
        xml_escape(&mut s, pkg);
        let _ = writeln!(
            s,
            "\" line-rate=\"{}\" branch-rate=\"0\" complexity=\"0\">",
            rate(pc)
        );
        s.push_str("      <classes>\n");
        for c in classes {
            s.push_str("        <class name=\"");
            xml_escape(&mut s, base_name(&c.file.name));
            s.push_str("\" filename=\"");
            xml_escape(&mut s, o.relative(&c.file.name));
            let _ = writeln!(
                s,
                "\" line-rate=\"{}\" branch-rate=\"0\" complexity=\"0\">",
                rate(counts(c.statements, c.lines))
            );
            s.push_str("          <methods/>\n");
            if c.runs.is_empty() {
                s.push_str("          <lines/>\n");
            } else {
                s.push_str("          <lines>\n");
                for l in c.runs.iter().flat_map(LineRun::lines) {
                    let _ = writeln!(
                        s,
                        "            <line number=\"{}\" hits=\"{}\"/>",
                        l.line, l.count
                    );
                    if s.len() >= 1 << 16 {
                        w.write_all(s.as_bytes())?;
                        s.clear();
                    }
                }
                s.push_str("          </lines>\n");
            }
            s.push_str("        </class>\n");
            if s.len() >= 1 << 16 {
                w.write_all(s.as_bytes())?;
                s.clear();
            }
        }
        s.push_str("      </classes>\n    </package>\n");
    }
    if !packages.is_empty() {
        s.push_str("  </packages>\n");
    }
    s.push_str("</coverage>\n");
    w.write_all(s.as_bytes())?;
    Ok(ConvertStats {
        statements,
        lines: Some(lines),
        clipped,
    })
}

/// Version of the JSON layout written by [`write_json`]; bumped on any
/// incompatible change.
pub const JSON_VERSION: u32 = 1;

/// The JSON document (see [`write_json`]).
#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    mode: Option<&'a str>,
    totals: JsonCounts,
    files: JsonFiles<'a>,
}

#[derive(Serialize)]
struct JsonCounts {
    covered: u64,
    total: u64,
    percent: f64,
}

impl From<Counts> for JsonCounts {
    fn from(c: Counts) -> JsonCounts {
        JsonCounts {
            covered: c.covered,
            total: c.total,
            percent: c.percent(),
        }
    }
}

#[derive(Serialize)]
struct JsonFile<'a> {
    name: &'a str,
    package: &'a str,
    #[serde(flatten)]
    counts: JsonCounts,
    blocks: JsonBlocks<'a>,
}

/// Files serialised one at a time, without collecting them first.
struct JsonFiles<'a>(&'a [FileProfile]);

impl Serialize for JsonFiles<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for f in self.0 {
            seq.serialize_element(&JsonFile {
                name: &f.name,
                package: f.package(),
                counts: f.statements().into(),
                blocks: JsonBlocks(&f.blocks),
            })?;
        }
        seq.end()
    }
}

struct JsonBlocks<'a>(&'a [Block]);

impl Serialize for JsonBlocks<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for b in self.0 {
            seq.serialize_element(&JsonBlock(b))?;
        }
        seq.end()
    }
}

/// `[start_line, start_col, end_line, end_col, num_stmt, count]`.
struct JsonBlock<'a>(&'a Block);

impl Serialize for JsonBlock<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let b = self.0;
        let mut t = s.serialize_tuple(6)?;
        t.serialize_element(&b.start_line)?;
        t.serialize_element(&b.start_col)?;
        t.serialize_element(&b.end_line)?;
        t.serialize_element(&b.end_col)?;
        t.serialize_element(&b.num_stmt)?;
        t.serialize_element(&b.count)?;
        t.end()
    }
}

/// serde_json's pretty layout, except that an array inside an array (a
/// block) stays on one line: a block per line keeps large reports readable
/// and diffable at a third of the fully pretty size.
struct JsonLayout {
    pretty: serde_json::ser::PrettyFormatter<'static>,
    /// Open containers, `true` for arrays.
    open: Vec<bool>,
    /// Depth of one-line arrays currently open.
    inline: usize,
}

impl serde_json::ser::Formatter for JsonLayout {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        let in_array = self.open.last() == Some(&true);
        self.open.push(true);
        if self.inline > 0 || in_array {
            self.inline += 1;
            w.write_all(b"[")
        } else {
            self.pretty.begin_array(w)
        }
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open.pop();
        if self.inline > 0 {
            self.inline -= 1;
            w.write_all(b"]")
        } else {
            self.pretty.end_array(w)
        }
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if self.inline > 0 {
            if first { Ok(()) } else { w.write_all(b", ") }
        } else {
            self.pretty.begin_array_value(w, first)
        }
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        if self.inline > 0 {
            Ok(())
        } else {
            self.pretty.end_array_value(w)
        }
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open.push(false);
        self.pretty.begin_object(w)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open.pop();
        self.pretty.end_object(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_key(w)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }
}

/// Writes the profile as JSON, every number statement-exact:
///
/// ```text
/// {
///   "version": 1,                  // JSON_VERSION
///   "mode": "set",                 // null for a profile without a mode line
///   "totals": {"covered": C, "total": T, "percent": P},
///   "files": [                     // sorted by name
///     {
///       "name": "example.com/m/a.go",   // verbatim from the profile
///       "package": "example.com/m",     // the name's directory
///       "covered": C, "total": T, "percent": P,
///       "blocks": [[start_line, start_col, end_line, end_col, num_stmt, count], ...]
///     }
///   ]
/// }
/// ```
///
/// `covered`/`total` are statements exactly as `go tool cover` counts them
/// (equal to [`Profile::statements`] for the totals); `percent` is
/// `100 * covered / total`, 0 when `total` is 0. Blocks are sorted by
/// position, columns are 1-based bytes with an exclusive end. Counts go up
/// to 2^63-1, beyond what JavaScript numbers hold exactly.
pub fn write_json<W: Write>(w: &mut W, p: &Profile) -> io::Result<ConvertStats> {
    let statements = p.statements();
    let report = JsonReport {
        version: JSON_VERSION,
        mode: p.mode.as_ref().map(|m| m.as_str()),
        totals: statements.into(),
        files: JsonFiles(&p.files),
    };
    let layout = JsonLayout {
        pretty: serde_json::ser::PrettyFormatter::new(),
        open: Vec::new(),
        inline: 0,
    };
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, layout);
    report.serialize(&mut ser).map_err(io::Error::other)?;
    w.write_all(b"\n")?;
    Ok(ConvertStats {
        statements,
        lines: None,
        clipped: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts past 2^53 can round to the same double; a rate of 1 would
    /// say nothing was missed.
    #[test]
    fn line_zero_is_no_line() {
        let p = parse("mode: set\na.go:0.1,0.5 1 1\na.go:0.1,2.3 1 0\n");
        let runs = line_runs(&p.files[0], LineHits::Max);
        assert_eq!(
            runs.iter().map(|r| (r.first, r.last)).collect::<Vec<_>>(),
            [(1, 2)]
        );
    }

    #[test]
    fn a_rate_with_a_miss_is_below_one() {
        let c = |covered, total| rate(Counts { covered, total });
        assert_eq!(
            c(9_007_203_547_611_135, 9_007_203_547_611_136),
            "0.9999999999999999"
        );
        assert_eq!(c(3, 4), "0.75");
        assert_eq!(c(4, 4), "1");
        assert_eq!(c(0, 0), "0");
    }
    use crate::{Mode, ParseOptions, parse_bytes};

    fn parse(text: &str) -> Profile {
        parse_bytes(text.as_bytes(), "t", &ParseOptions::default()).unwrap()
    }

    fn test_options() -> ConvertOptions {
        ConvertOptions {
            version: "covlens".into(),
            ..ConvertOptions::default()
        }
    }

    fn run(p: &Profile, format: ConvertFormat, o: &ConvertOptions) -> (String, ConvertStats) {
        let mut out = Vec::new();
        let stats = convert(&mut out, p, format, o).unwrap();
        (String::from_utf8(out).unwrap(), stats)
    }

    #[test]
    fn snapshots() {
        insta::glob!("../../fixtures/convert", "*.out", |path| {
            let data = std::fs::read(path).unwrap();
            let p = parse_bytes(&data, "fixture", &ParseOptions::default()).unwrap();
            let o = test_options();
            insta::assert_snapshot!("lcov", run(&p, ConvertFormat::Lcov, &o).0);
            insta::assert_snapshot!("cobertura", run(&p, ConvertFormat::Cobertura, &o).0);
            insta::assert_snapshot!("json", run(&p, ConvertFormat::Json, &o).0);
        });
    }

    /// Lines from brute force: every line of every statement block.
    fn brute_lines(p: &FileProfile, how: LineHits) -> Vec<LineHit> {
        let mut m: BTreeMap<u32, u64> = BTreeMap::new();
        for b in p.blocks.iter().filter(|b| b.num_stmt > 0) {
            for l in b.start_line..=last_line(b) {
                let e = m.entry(l).or_insert(b.count);
                *e = match how {
                    LineHits::Max => (*e).max(b.count),
                    LineHits::Min => (*e).min(b.count),
                };
            }
        }
        m.into_iter()
            .map(|(line, count)| LineHit { line, count })
            .collect()
    }

    /// A deterministic pseudo-random profile with overlapping, nested,
    /// zero-statement and one-line blocks.
    fn random_profile(seed: u64, files: usize) -> Profile {
        let mut x = seed;
        let mut next = move |n: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % n
        };
        let mut text = String::from("mode: count\n");
        let mut seen = std::collections::HashSet::new();
        for f in 0..files {
            for _ in 0..1 + next(40) {
                let sl = 1 + next(60);
                let el = sl + next(4);
                let ec = if next(5) == 0 { 1 } else { 1 + next(30) };
                let sc = if el == sl { 1 } else { 1 + next(30) };
                let ec = if el == sl { sc.max(ec) } else { ec };
                if !seen.insert((f, sl, sc, el, ec)) {
                    continue;
                }
                let stmts = next(4);
                let count = if next(3) == 0 { 0 } else { next(100) };
                text.push_str(&format!(
                    "dir{}/f{f}.go:{sl}.{sc},{el}.{ec} {stmts} {count}\n",
                    f % 3
                ));
            }
        }
        parse_bytes(
            text.as_bytes(),
            "random",
            &ParseOptions {
                mode_policy: crate::ModePolicy::Strict,
                ..ParseOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    #[test]
    fn line_hits_match_brute_force() {
        for seed in 0..200 {
            let p = random_profile(seed, 3);
            for f in &p.files {
                for how in [LineHits::Max, LineHits::Min] {
                    assert_eq!(
                        line_hits(f, how).unwrap(),
                        brute_lines(f, how),
                        "seed {seed} {how:?} {}",
                        f.name
                    );
                }
            }
        }
    }

    #[test]
    fn line_mapping_rules() {
        let p = parse(
            "mode: count\n\
             a.go:4.25,5.11 1 3\n\
             a.go:5.11,7.3 1 1\n\
             a.go:8.2,8.12 1 2\n\
             a.go:8.12,8.29 1 0\n\
             a.go:12.16,12.17 0 9\n\
             a.go:20.5,22.1 1 4\n",
        );
        let f = &p.files[0];
        let got = |how| {
            line_hits(f, how)
                .unwrap()
                .iter()
                .map(|l| (l.line, l.count))
                .collect::<Vec<_>>()
        };
        // Line 5 is shared (3 and 1), line 8 partly run (2 and 0); the
        // zero-statement block on 12 adds no line; 22.1 reaches no byte of 22.
        assert_eq!(
            got(LineHits::Max),
            [(4, 3), (5, 3), (6, 1), (7, 1), (8, 2), (20, 4), (21, 4)]
        );
        assert_eq!(
            got(LineHits::Min),
            [(4, 3), (5, 1), (6, 1), (7, 1), (8, 0), (20, 4), (21, 4)]
        );
    }

    #[test]
    fn line_runs_match_brute_force_and_stay_small() {
        for seed in 0..200 {
            let p = random_profile(seed, 3);
            for f in &p.files {
                for how in [LineHits::Max, LineHits::Min] {
                    let runs = line_runs(f, how);
                    let lines: Vec<LineHit> = runs.iter().flat_map(LineRun::lines).collect();
                    assert_eq!(lines, brute_lines(f, how), "seed {seed} {how:?}");
                    // At most one run per block boundary, and maximal.
                    assert!(runs.len() <= 2 * f.blocks.len() + 1);
                    assert!(runs.windows(2).all(|w| {
                        w[0].last < w[1].first
                            && (w[0].count != w[1].count || w[0].last + 1 < w[1].first)
                    }));
                }
            }
        }
    }

    #[test]
    fn huge_block_is_refused_by_line_hits() {
        let p = parse("mode: set\na.go:1.1,4000000000.2 1 1\n");
        let err = line_hits(&p.files[0], LineHits::Max).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        // Runs need no memory per line.
        let runs = line_runs(&p.files[0], LineHits::Max);
        assert_eq!(
            runs,
            [LineRun {
                first: 1,
                last: 4_000_000_000,
                count: 1
            }]
        );
    }

    /// The line records of a profile stop when its budget
    /// ([`MAX_TOTAL_LINES`]) is spent, the files past it reported as
    /// clipped. Before, 100 files with one far-reaching block each (3.7 KB)
    /// made 4.7 GB of Cobertura.
    #[test]
    fn line_records_are_bounded_in_all() {
        let p = parse("mode: set\nm/a.go:1.1,7.1 1 1\nm/b.go:1.1,7.1 1 0\nm/c.go:1.1,7.1 1 1\n");
        let mut budget = 10;
        let mut kept = Vec::new();
        let mut clipped = Vec::new();
        for f in &p.files {
            let mut runs = line_runs(f, LineHits::Max);
            clipped.extend(clip(f, &mut runs, &mut budget));
            kept.push(run_counts(&runs).total);
        }
        assert_eq!(kept, [6, 4, 0]);
        assert_eq!(budget, 0);
        let left: Vec<_> = clipped
            .iter()
            .map(|c| (c.file.as_str(), c.last_line, c.lines, c.lines_hit))
            .collect();
        assert_eq!(left, [("m/b.go", 4, 2, 0), ("m/c.go", 0, 6, 6)]);
    }

    /// Blocks spanning more lines than any Go source (a 48-byte profile
    /// claiming 16,777,000 lines) are clipped at MAX_FILE_LINES line
    /// records per file, with what was left out reported; statement totals
    /// keep every block. Before, LCOV wrote every line (224 MB) and
    /// Cobertura held them all in memory (1 GB, 10 GB for 40 files).
    #[test]
    fn spans_past_any_source_are_clipped_and_reported() {
        let p = parse(
            "mode: count\n\
             m/a.go:1.1,16777000.2 1 3\n\
             m/a.go:5.1,6.2 2 0\n\
             m/b.go:1048570.1,1048580.2 1 0\n\
             m/c.go:1.1,2.2 1 1\n",
        );
        let max = MAX_FILE_LINES as u64;
        let a = Clipped {
            file: "m/a.go".into(),
            last_line: max as u32,
            lines: 16_777_000 - max,
            lines_hit: 16_777_000 - max,
        };
        for format in [ConvertFormat::Lcov, ConvertFormat::Cobertura] {
            let mut out = Vec::new();
            let st = convert(&mut out, &p, format, &test_options()).unwrap();
            // The limit counts line records, not line numbers: b.go's 11
            // lines past line 1,048,570 (a `//line` directive can put them
            // there) are all written.
            assert_eq!(st.clipped, std::slice::from_ref(&a), "{format:?}");
            assert_eq!(
                st.statements,
                Counts {
                    covered: 2,
                    total: 5
                }
            );
            assert_eq!(
                st.lines,
                Some(Counts {
                    covered: max + 2,
                    total: max + 11 + 2
                })
            );
            let text = String::from_utf8(out).unwrap();
            assert!(text.len() < 64 << 20, "{format:?}: {} bytes", text.len());
            if format == ConvertFormat::Cobertura {
                assert!(text.contains(&format!(
                    "Left out: {} lines of 1 file(s) past {max} lines",
                    a.lines
                )));
            } else {
                let records = parse_lcov(&text);
                assert_eq!(records[0].1.last(), Some(&(max as u32, 3)));
                assert_eq!(records[0].1.len() as u64, max);
                assert_eq!(records[1].1.len(), 11);
            }
        }
        assert_eq!(
            a.to_string(),
            format!(
                "\"m/a.go\": blocks span more than {max} lines (more than any Go source has), \
                 or the profile more than {MAX_TOTAL_LINES} in all; \
                 line records stop at line {max}: {} more lines ({} of them hit) left out \
                 (statement totals count every block)",
                a.lines, a.lines_hit
            )
        );
    }

    #[test]
    fn last_lines_do_not_overflow() {
        let p = parse("mode: set\na.go:4294967295.1,4294967295.9 1 1\n");
        let l = line_hits(&p.files[0], LineHits::Max).unwrap();
        assert_eq!(
            l,
            [LineHit {
                line: u32::MAX,
                count: 1
            }]
        );
    }

    /// One LCOV record read back: `SF`, the `DA` pairs, `LH`/`LF`.
    type LcovRecord = (String, Vec<(u32, u64)>, Counts);

    /// Parses LCOV back, checking each record's LF/LH against its DA lines.
    fn parse_lcov(text: &str) -> Vec<LcovRecord> {
        let mut records = Vec::new();
        let mut sf = None;
        let mut da = Vec::new();
        let mut lf = None;
        let mut lh = None;
        for line in text.lines() {
            if line == "TN:" {
                assert!(sf.is_none(), "TN inside a record");
            } else if let Some(s) = line.strip_prefix("SF:") {
                assert!(sf.replace(s.to_string()).is_none());
            } else if let Some(d) = line.strip_prefix("DA:") {
                let (l, c) = d.split_once(',').unwrap();
                da.push((l.parse().unwrap(), c.parse().unwrap()));
            } else if let Some(n) = line.strip_prefix("LF:") {
                lf = Some(n.parse().unwrap());
            } else if let Some(n) = line.strip_prefix("LH:") {
                lh = Some(n.parse().unwrap());
            } else if line == "end_of_record" {
                let da = std::mem::take(&mut da);
                assert!(da.windows(2).all(|w| w[0].0 < w[1].0), "DA not ascending");
                let c = Counts {
                    covered: lh.take().unwrap(),
                    total: lf.take().unwrap(),
                };
                assert_eq!(c.total, da.len() as u64, "LF");
                assert_eq!(
                    c.covered,
                    da.iter().filter(|d| d.1 > 0).count() as u64,
                    "LH"
                );
                records.push((sf.take().unwrap(), da, c));
            } else {
                panic!("unexpected LCOV line {line:?}");
            }
        }
        assert!(sf.is_none(), "unterminated record");
        records
    }

    /// The attribute `name` of the first element `tag` in `xml`.
    fn attr(xml: &str, tag: &str, name: &str) -> String {
        let start = xml.find(&format!("<{tag} ")).unwrap();
        let elem = &xml[start..start + xml[start..].find('>').unwrap()];
        let key = format!(" {name}=\"");
        let v = &elem[elem.find(&key).unwrap() + key.len()..];
        v[..v.find('"').unwrap()].to_string()
    }

    fn fixture_profiles() -> Vec<Profile> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/convert");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "out"))
            .collect();
        paths.sort();
        assert!(paths.len() >= 5, "fixtures missing");
        let mut v: Vec<Profile> = paths
            .iter()
            .map(|p| {
                parse_bytes(&std::fs::read(p).unwrap(), "f", &ParseOptions::default()).unwrap()
            })
            .collect();
        v.extend((0..20).map(|s| random_profile(1000 + s, 7)));
        v
    }

    #[test]
    fn totals_are_consistent_across_formats() {
        for p in fixture_profiles() {
            let exact = p.statements();
            let o = test_options();

            let (json, js) = run(&p, ConvertFormat::Json, &o);
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["version"], JSON_VERSION);
            assert_eq!(v["totals"]["covered"], exact.covered);
            assert_eq!(v["totals"]["total"], exact.total);
            assert_eq!(v["totals"]["percent"], exact.percent());
            let files = v["files"].as_array().unwrap();
            assert_eq!(files.len(), p.files.len());
            for (jf, f) in files.iter().zip(&p.files) {
                assert_eq!(jf["name"], f.name.as_str());
                assert_eq!(jf["total"], f.statements().total);
                assert_eq!(jf["blocks"].as_array().unwrap().len(), f.blocks.len());
            }
            assert_eq!(js.statements, exact);

            let (lcov, ls) = run(&p, ConvertFormat::Lcov, &o);
            let records = parse_lcov(&lcov);
            assert_eq!(records.len(), p.files.len());
            let mut sum = Counts::default();
            for ((name, da, c), f) in records.iter().zip(&p.files) {
                assert_eq!(name, &f.name);
                let expect: Vec<_> = line_hits(f, LineHits::Max)
                    .unwrap()
                    .iter()
                    .map(|l| (l.line, l.count))
                    .collect();
                assert_eq!(da, &expect);
                sum.add(*c);
            }
            assert_eq!(ls.lines, Some(sum));
            assert_eq!(ls.statements, exact);

            for (counts, root) in [
                (CoberturaCounts::Statements, exact),
                (CoberturaCounts::Lines, sum),
            ] {
                let o = ConvertOptions {
                    cobertura_counts: counts,
                    ..test_options()
                };
                let (xml, _) = run(&p, ConvertFormat::Cobertura, &o);
                assert_eq!(
                    attr(&xml, "coverage", "lines-covered"),
                    root.covered.to_string()
                );
                assert_eq!(
                    attr(&xml, "coverage", "lines-valid"),
                    root.total.to_string()
                );
                assert_eq!(attr(&xml, "coverage", "line-rate"), rate(root));
                assert_eq!(xml.matches("<line ").count() as u64, sum.total);
                assert_eq!(
                    xml.matches("<line ").count() - xml.matches(" hits=\"0\"").count(),
                    sum.covered as usize
                );
                assert_eq!(xml.matches("<class ").count(), p.files.len());
            }
        }
    }

    #[test]
    fn paths_are_stripped_and_joined() {
        let p = parse(
            "mode: set\nk8s.io/kubernetes/pkg/a.go:1.1,1.5 1 1\nk8s.io/other/b.go:1.1,1.5 1 0\n",
        );
        let o = ConvertOptions {
            strip_prefixes: vec![
                "k8s.io/kube".into(),
                "k8s.io/kubernetes/".into(),
                "k8s.io".into(),
            ],
            source_dir: Some("/src/k8s/".into()),
            ..test_options()
        };
        let (lcov, _) = run(&p, ConvertFormat::Lcov, &o);
        let sfs: Vec<_> = lcov.lines().filter(|l| l.starts_with("SF:")).collect();
        assert_eq!(sfs, ["SF:/src/k8s/pkg/a.go", "SF:/src/k8s/other/b.go"]);
        let (xml, _) = run(&p, ConvertFormat::Cobertura, &o);
        assert!(xml.contains("<source>/src/k8s/</source>"));
        assert!(xml.contains("<class name=\"a.go\" filename=\"pkg/a.go\""));
        assert!(xml.contains("<package name=\"k8s.io/kubernetes/pkg\""));
    }

    #[test]
    fn escaping() {
        let mut s = String::new();
        xml_escape(&mut s, "a<b>&\"c'\td\n\r\u{1}\u{FFFE}é😀");
        assert_eq!(
            s,
            "a&lt;b&gt;&amp;&#34;c&#39;&#x9;d&#xA;&#xD;\u{FFFD}\u{FFFD}é😀"
        );

        let mut p = parse("mode: set\na.go:1.1,1.5 1 1\n");
        for name in [
            "a\nb.go",
            "a\x0Bb.go",
            "a\x1Eb.go",
            "a\u{85}b.go",
            "a\u{2028}b.go",
        ] {
            p.files[0].name = name.into();
            let err = write_lcov(&mut Vec::new(), &p, &test_options()).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{name:?}");
        }
    }

    #[test]
    fn rates() {
        assert_eq!(
            rate(Counts {
                covered: 0,
                total: 0
            }),
            "0"
        );
        assert_eq!(
            rate(Counts {
                covered: 3,
                total: 4
            }),
            "0.75"
        );
        assert_eq!(
            rate(Counts {
                covered: 4,
                total: 4
            }),
            "1"
        );
        // Never rounds an incomplete total up to 1.
        assert_ne!(
            rate(Counts {
                covered: 999_999,
                total: 1_000_000
            }),
            "1"
        );
    }

    #[test]
    fn json_without_mode() {
        let p = Profile::new(None);
        let (json, _) = run(&p, ConvertFormat::Json, &test_options());
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(v["mode"].is_null());
        assert_eq!(v["files"], serde_json::json!([]));
        let p = Profile::new(Some(Mode::Other("weird \"mode\"".into())));
        let (json, _) = run(&p, ConvertFormat::Json, &test_options());
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["mode"], "weird \"mode\"");
    }
}
