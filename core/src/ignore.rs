//! `// coverage-ignore` annotations applied to a profile: the blocks the
//! sources mark (see [`Annotations`]) are left out, and every one left out
//! is accounted for in an [`IgnoreReport`].

use std::io::{self, Write};

use rayon::prelude::*;

use crate::funcs::{Annotations, FuncFinder, SourceResolver};
use crate::printable::printable;
use crate::profile::{Block, Counts, FileProfile, Profile};

/// Only sources holding this are parsed: most files have no annotation.
const MARK: &[u8] = b"coverage-ignore";

/// A file that annotations left blocks out of.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IgnoredFile {
    /// The file's name in the profile.
    pub name: String,
    /// `// coverage-ignore-file`: the file is gone from the profile.
    pub whole_file: bool,
    /// The blocks left out, in the profile's order (reports show them as
    /// left out); JSON gives their number as `blocks`.
    #[serde(rename = "blocks", serialize_with = "serialize_len")]
    pub left_out: Vec<Block>,
    /// Their statements, and how many of those were covered.
    pub statements: Counts,
}

impl IgnoredFile {
    /// How many blocks were left out.
    pub fn blocks(&self) -> usize {
        self.left_out.len()
    }
}

fn serialize_len<S: serde::Serializer>(blocks: &[Block], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(blocks.len() as u64)
}

/// A file whose annotations could not be read; its blocks are all kept.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UncheckedFile {
    /// The file's name in the profile.
    pub name: String,
    /// Why: no source found, refused, unreadable, or not valid Go.
    pub reason: String,
}

/// What [`apply_annotations`] left out, and what it could not check.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct IgnoreReport {
    /// Files with blocks left out, by name.
    pub files: Vec<IgnoredFile>,
    /// Files whose source could not be checked, by name.
    pub unchecked: Vec<UncheckedFile>,
}

impl IgnoreReport {
    /// Statements left out in all files, and how many were covered.
    pub fn statements(&self) -> Counts {
        let mut c = Counts::default();
        for f in &self.files {
            c.add(f.statements);
        }
        c
    }

    /// The whole report as JSON.
    pub fn write_json<W: Write>(&self, mut w: W) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut w, self)?;
        writeln!(w)
    }

    /// One line for the whole, then a line per file left out of and per
    /// file that could not be checked (names made printable), at most
    /// `max` of each.
    pub fn write_text<W: Write>(&self, mut w: W, max: usize) -> io::Result<()> {
        let c = self.statements();
        let blocks: usize = self.files.iter().map(IgnoredFile::blocks).sum();
        writeln!(
            w,
            "coverage-ignore: left out {} statements ({} covered) in {blocks} blocks of {} files",
            c.total,
            c.covered,
            self.files.len()
        )?;
        for f in self.files.iter().take(max) {
            let what = if f.whole_file { "whole file, " } else { "" };
            writeln!(
                w,
                "coverage-ignore: {}: {what}{} blocks, {} statements ({} covered)",
                printable(&f.name),
                f.blocks(),
                f.statements.total,
                f.statements.covered
            )?;
        }
        if self.files.len() > max {
            writeln!(
                w,
                "coverage-ignore: and {} more files left out of",
                self.files.len() - max
            )?;
        }
        if !self.unchecked.is_empty() {
            writeln!(
                w,
                "coverage-ignore: {} files not checked for annotations, all their blocks kept",
                self.unchecked.len()
            )?;
        }
        for u in self.unchecked.iter().take(max) {
            writeln!(
                w,
                "coverage-ignore: not checked: {}: {}",
                printable(&u.name),
                printable(&u.reason)
            )?;
        }
        if self.unchecked.len() > max {
            writeln!(
                w,
                "coverage-ignore: and {} more not checked",
                self.unchecked.len() - max
            )?;
        }
        Ok(())
    }
}

/// `profile` without the blocks that `// coverage-ignore` annotations in
/// the sources `sources` reads leave out. Sources are read as reports read
/// them ([`SourceResolver::read_source`]), in parallel; only those that
/// mention `coverage-ignore` are parsed.
pub fn apply_annotations(profile: Profile, sources: &SourceResolver) -> (Profile, IgnoreReport) {
    apply_annotations_with(profile, |name| {
        let (_, src) = sources.read_source(name).map_err(|e| e.to_string())?;
        Ok(Some(src))
    })
}

/// [`apply_annotations`] with the sources `read` gives by profile name:
/// `Ok(None)` leaves a file as it is, unreported (one not to check), an
/// error lists it as not checked.
pub fn apply_annotations_with<F>(profile: Profile, read: F) -> (Profile, IgnoreReport)
where
    F: Fn(&str) -> Result<Option<Vec<u8>>, String> + Sync,
{
    let Profile { mode, files } = profile;
    let checked: Vec<(FileProfile, Result<Option<IgnoredFile>, String>)> = files
        .into_par_iter()
        .map_init(FuncFinder::new, |finder, mut file| {
            let annotations = match finder {
                Ok(finder) => annotations_of(finder, &read, &file.name),
                Err(e) => Err(e.to_string()),
            };
            let left_out = annotations.map(|a| a.and_then(|a| leave_out(&mut file, &a)));
            (file, left_out)
        })
        .collect();
    let mut report = IgnoreReport::default();
    let mut kept = Vec::with_capacity(checked.len());
    for (file, left_out) in checked {
        match left_out {
            Ok(Some(ignored)) => report.files.push(ignored),
            Ok(None) => {}
            Err(reason) => report.unchecked.push(UncheckedFile {
                name: file.name.clone(),
                reason,
            }),
        }
        if !file.blocks.is_empty() {
            kept.push(file);
        }
    }
    // Files keep their order: the profile's, by name.
    (Profile { mode, files: kept }, report)
}

/// The annotations of `name`'s source; `None` when it has none.
fn annotations_of(
    finder: &mut FuncFinder,
    read: &impl Fn(&str) -> Result<Option<Vec<u8>>, String>,
    name: &str,
) -> Result<Option<Annotations>, String> {
    let Some(src) = read(name)? else {
        return Ok(None);
    };
    if memchr::memmem::find(&src, MARK).is_none() {
        return Ok(None);
    }
    let a = finder.annotations(&src, name).map_err(|e| e.to_string())?;
    Ok((a.whole_file || !a.ranges.is_empty()).then_some(a))
}

/// Removes from `file` the blocks `a` leaves out; `None` if there were none.
fn leave_out(file: &mut FileProfile, a: &Annotations) -> Option<IgnoredFile> {
    let mut ignored = IgnoredFile {
        name: file.name.clone(),
        whole_file: a.whole_file,
        left_out: Vec::new(),
        statements: Counts::default(),
    };
    file.blocks.retain(|b| {
        let out = a.ignores((b.start_line, b.start_col));
        if out {
            ignored.left_out.push(*b);
            ignored.statements.add_block(b);
        }
        !out
    });
    (!ignored.left_out.is_empty() || a.whole_file).then_some(ignored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Mode;

    fn resolver(dir: &std::path::Path) -> SourceResolver {
        let mut b = SourceResolver::builder();
        b.source_root("example.com/m", dir).cwd(dir);
        b.build().unwrap()
    }

    #[test]
    fn left_out_blocks_are_counted_and_the_rest_kept() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(
            t.path().join("a.go"),
            "package m\n\nfunc A(x int) int {\n\tif x > 0 { // coverage-ignore\n\t\treturn 1\n\t}\n\treturn 0\n}\n",
        )
        .unwrap();
        std::fs::write(
            t.path().join("b.go"),
            "// coverage-ignore-file\npackage m\n",
        )
        .unwrap();
        std::fs::write(t.path().join("c.go"), "package m\n\nfunc C() {}\n").unwrap();
        std::fs::write(
            t.path().join("bad.go"),
            "package m // coverage-ignore\nfunc {\n",
        )
        .unwrap();
        let mode = Mode::from_name("set");
        let file = |name: &str, blocks: Vec<Block>| {
            FileProfile::new(format!("example.com/m/{name}"), blocks, &mode).unwrap()
        };
        let p = Profile::from_files(
            Some(mode.clone()),
            vec![
                file(
                    "a.go",
                    vec![
                        Block::new((3, 19), (4, 11), 1, 1),
                        Block::new((4, 11), (6, 3), 1, 0),
                        Block::new((7, 2), (7, 10), 1, 1),
                    ],
                ),
                file("b.go", vec![Block::new((3, 1), (4, 1), 2, 1)]),
                file("c.go", vec![Block::new((3, 11), (3, 13), 0, 1)]),
                file("bad.go", vec![Block::new((2, 6), (2, 7), 1, 0)]),
                file("gone.go", vec![Block::new((1, 1), (1, 2), 1, 0)]),
            ],
        )
        .unwrap();
        let before = p.statements();
        let (kept, report) = apply_annotations(p, &resolver(t.path()));
        let names: Vec<&str> = kept.files().iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "example.com/m/a.go",
                "example.com/m/bad.go",
                "example.com/m/c.go",
                "example.com/m/gone.go"
            ]
        );
        assert_eq!(kept.files()[0].blocks().len(), 2);
        assert_eq!(
            report.files,
            vec![
                IgnoredFile {
                    name: "example.com/m/a.go".into(),
                    whole_file: false,
                    left_out: vec![Block::new((4, 11), (6, 3), 1, 0)],
                    statements: Counts {
                        covered: 0,
                        total: 1
                    },
                },
                IgnoredFile {
                    name: "example.com/m/b.go".into(),
                    whole_file: true,
                    left_out: vec![Block::new((3, 1), (4, 1), 2, 1)],
                    statements: Counts {
                        covered: 2,
                        total: 2
                    },
                },
            ]
        );
        // Nothing is dropped silently: kept plus left out is the whole.
        let mut sum = kept.statements();
        sum.add(report.statements());
        assert_eq!(sum, before);
        let unchecked: Vec<&str> = report.unchecked.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(unchecked, ["example.com/m/bad.go", "example.com/m/gone.go"]);
        assert!(
            report.unchecked[0].reason.contains("syntax error"),
            "{report:?}"
        );
        let mut text = Vec::new();
        report.write_text(&mut text, 1).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.starts_with(
                "coverage-ignore: left out 3 statements (2 covered) in 2 blocks of 2 files\n"
            ),
            "{text}"
        );
        assert!(text.contains("and 1 more not checked"), "{text}");
        assert!(text.contains("and 1 more files left out of"), "{text}");
        let mut json = Vec::new();
        report.write_json(&mut json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["files"][1]["statements"]["covered"], 2);
        assert_eq!(json["files"][0]["blocks"], 1);
        assert_eq!(json["unchecked"][1]["name"], "example.com/m/gone.go");
    }
}
