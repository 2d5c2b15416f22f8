//! The parsed lines of a text profile before they are grouped per file,
//! and the grouping: sort, combine repeated blocks by mode, check their
//! statement counts.

use foldhash::HashMap;

use rayon::prelude::*;

use crate::error::{ParseError, ParseErrorKind};
use crate::profile::{Block, FileProfile, Mode, Profile};

/// Block buffers kept between inputs, so merging many large profiles does
/// not fault in fresh memory for every one of them.
#[derive(Debug, Default)]
pub(crate) struct BlockPool(Vec<Vec<Block>>);

impl BlockPool {
    pub(super) fn take(&mut self, min_capacity: usize) -> Vec<Block> {
        let mut v = self.0.pop().unwrap_or_default();
        v.clear();
        v.reserve(min_capacity);
        v
    }
}

/// The parsed lines of one piece of the input, in input order.
#[derive(Debug)]
pub(crate) struct Part {
    /// Lines before this part; block `src_line`s are relative to it.
    pub(crate) line_base: u64,
    pub(crate) blocks: Vec<Block>,
    pub(crate) runs: Vec<Run>,
}

/// Consecutive lines naming the same file.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) name: String,
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// Keys strictly increasing within the run.
    pub(crate) sorted: bool,
}

/// A profile as read ([`TextParser::into_raw`]), before its blocks are
/// grouped per file.
///
/// [`TextParser::into_raw`]: super::TextParser::into_raw
#[derive(Debug)]
pub struct RawProfile {
    pub(crate) path: String,
    pub(crate) mode: Option<Mode>,
    pub(super) parts: Vec<Part>,
    /// Counts are to be clamped to 0/1 once repeated blocks are combined.
    pub(super) boolean: bool,
    /// Profile lines `[start, end)` of `mode: set` sections in an input
    /// upgraded to a counting mode: repeats within one combine by OR.
    pub(super) set_sections: Vec<(u64, u64)>,
}

/// One file of a canonical [`RawProfile`]: its name and its blocks, which
/// may be spread over a few slices (one per part it spans).
pub(crate) struct RawFile<'a> {
    pub(crate) name: &'a str,
    /// (line base, blocks); most files have exactly one piece.
    first: (u64, &'a [Block]),
    more: Vec<(u64, &'a [Block])>,
}

impl<'a> RawFile<'a> {
    pub(crate) fn pieces(&self) -> impl Iterator<Item = &(u64, &'a [Block])> {
        std::iter::once(&self.first).chain(self.more.iter())
    }

    fn last_block(&self) -> Option<&Block> {
        self.more.last().unwrap_or(&self.first).1.last()
    }

    pub(crate) fn len(&self) -> usize {
        self.pieces().map(|(_, b)| b.len()).sum()
    }

    /// Copies the blocks out, with absolute source lines.
    pub(crate) fn to_file_profile(&self) -> FileProfile {
        let mut blocks = Vec::with_capacity(self.len());
        for &(base, bs) in self.pieces() {
            blocks.extend(bs.iter().map(|b| {
                let mut b = *b;
                b.src_line = abs_line(base, b.src_line);
                b
            }));
        }
        FileProfile {
            name: self.name.to_string(),
            blocks,
        }
    }
}

#[inline]
pub(crate) fn abs_line(base: u64, rel: u32) -> u32 {
    u32::try_from(base + u64::from(rel)).unwrap_or(u32::MAX)
}

impl RawProfile {
    /// The input's name.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The files sorted by name if the input is canonical: each file's
    /// lines contiguous, its blocks in increasing position order with no
    /// repeats, as Go writes profiles (files themselves may come in any
    /// order, as in concatenated per-package profiles).
    pub(crate) fn canonical_files(&self) -> Option<Vec<RawFile<'_>>> {
        let mut files: Vec<RawFile<'_>> = Vec::new();
        for part in &self.parts {
            for run in &part.runs {
                if !run.sorted {
                    return None;
                }
                let blocks = &part.blocks[run.start..run.end];
                match files.last_mut() {
                    // A file split across two parts.
                    Some(f) if f.name == run.name => {
                        if f.last_block().is_some_and(|l| l.key() >= blocks[0].key()) {
                            return None;
                        }
                        f.more.push((part.line_base, blocks));
                    }
                    _ => files.push(RawFile {
                        name: &run.name,
                        first: (part.line_base, blocks),
                        more: Vec::new(),
                    }),
                }
            }
        }
        if !files.windows(2).all(|w| w[0].name < w[1].name) {
            files.sort_unstable_by(|a, b| a.name.cmp(b.name));
            // A name seen twice means the file's lines were not contiguous.
            if files.windows(2).any(|w| w[0].name == w[1].name) {
                return None;
            }
        }
        Some(files)
    }

    /// The mode of the input, once its mode line was read.
    pub fn mode(&self) -> Option<&Mode> {
        self.mode.as_ref()
    }

    /// Calls `f` with every block of the profile [`into_profile`] would
    /// build, in the same order, without building it when the input is
    /// canonical (as Go writes it); `src_line`s are left relative.
    ///
    /// [`into_profile`]: RawProfile::into_profile
    pub fn for_each_block(&self, mut f: impl FnMut(&str, &Block)) -> Result<(), ParseError> {
        if let Some(files) = self.canonical_files() {
            for file in &files {
                for (_, blocks) in file.pieces() {
                    for b in *blocks {
                        f(file.name, b);
                    }
                }
            }
            return Ok(());
        }
        for file in &self.to_profile()?.files {
            for b in &file.blocks {
                f(&file.name, b);
            }
        }
        Ok(())
    }

    /// Groups, sorts and combines the blocks into a [`Profile`].
    pub fn into_profile(self) -> Result<Profile, ParseError> {
        self.to_profile()
    }

    /// Like [`into_profile`](RawProfile::into_profile), leaving the buffers
    /// for [`recycle`](RawProfile::recycle).
    pub(crate) fn to_profile(&self) -> Result<Profile, ParseError> {
        if let Some(files) = self.canonical_files() {
            let files = files.par_iter().map(RawFile::to_file_profile).collect();
            return Ok(Profile {
                mode: self.mode.clone(),
                files,
            });
        }
        let is_set = self.mode.as_ref().is_some_and(Mode::is_set);
        let mut files: Vec<FileProfile> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::default();
        for part in &self.parts {
            for run in &part.runs {
                let i = *index.entry(run.name.as_str()).or_insert_with(|| {
                    files.push(FileProfile {
                        name: run.name.clone(),
                        blocks: Vec::new(),
                    });
                    files.len() - 1
                });
                files[i]
                    .blocks
                    .extend(part.blocks[run.start..run.end].iter().map(|b| {
                        let mut b = *b;
                        b.src_line = abs_line(part.line_base, b.src_line);
                        b
                    }));
            }
        }
        for f in &mut files {
            if !self.set_sections.is_empty() {
                or_within_sections(&mut f.blocks, &self.set_sections);
            }
            normalize_blocks(&mut f.blocks, is_set).map_err(|(line, kind)| ParseError {
                path: self.path.clone(),
                line: u64::from(line),
                column: 1,
                kind,
            })?;
            if self.boolean {
                for b in &mut f.blocks {
                    b.count = u64::from(b.count > 0);
                }
            }
        }
        let mut p = Profile {
            mode: self.mode.clone(),
            files,
        };
        p.sort_files();
        Ok(p)
    }

    /// Clamps every count to 0 or 1 (the first step of `aggregate`).
    ///
    /// Repeated blocks (a `-coverpkg` profile lists a block once per test
    /// binary) are combined first, so each input counts once per block.
    /// The names of the files the profile lists (a file split over
    /// several runs of lines appears once per run).
    pub(crate) fn file_names(&self) -> impl Iterator<Item = &str> {
        self.parts
            .iter()
            .flat_map(|p| p.runs.iter().map(|r| r.name.as_str()))
    }

    pub(crate) fn make_boolean(&mut self) {
        if self.canonical_files().is_some() {
            for part in &mut self.parts {
                for b in &mut part.blocks {
                    b.count = u64::from(b.count > 0);
                }
            }
        } else {
            self.boolean = true;
        }
    }

    /// Returns the block buffers to `pool` for the next input.
    pub(crate) fn recycle(self, pool: &mut BlockPool) {
        for part in self.parts {
            if part.blocks.capacity() > 0 {
                pool.0.push(part.blocks);
            }
        }
    }
}

/// Combines the repeats of a block within each of `sections` (profile
/// lines, sorted) by OR, as a `set` profile does, into the first of them;
/// the others count 0, so that adding the sections up keeps one count of
/// each.
fn or_within_sections(blocks: &mut [Block], sections: &[(u64, u64)]) {
    let section = |line: u32| {
        let i = sections.partition_point(|&(start, _)| start <= u64::from(line));
        (i > 0 && u64::from(line) < sections[i - 1].1).then_some(i)
    };
    let mut at: Vec<_> = (blocks.iter().enumerate())
        .filter_map(|(i, b)| section(b.src_line).map(|s| (s, b.key(), i)))
        .collect();
    at.sort_unstable();
    for same in at.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
        let or = same.iter().fold(0, |acc, &(_, _, i)| acc | blocks[i].count);
        for &(_, _, i) in same {
            blocks[i].count = 0;
        }
        blocks[same[0].2].count = or;
    }
}

/// Sorts blocks by position (stably) and combines blocks with the same
/// range. Returns the line and error of an inconsistent statement count.
pub(crate) fn normalize_blocks(
    blocks: &mut Vec<Block>,
    is_set: bool,
) -> Result<(), (u32, ParseErrorKind)> {
    blocks.sort_by_key(Block::key);
    let mut w = 0usize;
    for r in 0..blocks.len() {
        if w > 0 && blocks[w - 1].key() == blocks[r].key() {
            let b = blocks[r];
            let prev = &mut blocks[w - 1];
            if prev.num_stmt != b.num_stmt {
                return Err((
                    b.src_line,
                    ParseErrorKind::InconsistentNumStmt {
                        first: prev.num_stmt,
                        first_line: prev.src_line,
                        now: b.num_stmt,
                    },
                ));
            }
            prev.count = if is_set {
                prev.count | b.count
            } else {
                crate::add_counts(prev.count, b.count)
            };
        } else {
            blocks[w] = blocks[r];
            w += 1;
        }
    }
    blocks.truncate(w);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{ParseOptions, TextParser};

    #[test]
    fn make_boolean_combines_repeats_first() {
        let mut pool = BlockPool::default();
        let mut p = TextParser::new("x", ParseOptions::default());
        p.feed(b"mode: count\na.go:1.1,1.2 1 3\nb.go:1.1,1.2 1 0\na.go:1.1,1.2 1 2\n")
            .unwrap();
        let mut raw = p.into_raw();
        raw.make_boolean();
        let prof = raw.to_profile().unwrap();
        assert_eq!(prof.files[0].blocks[0].count, 1);
        raw.recycle(&mut pool);
        let mut p = TextParser::new("y", ParseOptions::default());
        p.feed(b"mode: count\na.go:1.1,1.2 1 3\na.go:2.1,2.2 1 0\n")
            .unwrap();
        let mut raw = p.into_raw();
        raw.make_boolean();
        let prof = raw.into_profile().unwrap();
        assert_eq!(
            (prof.files[0].blocks[0].count, prof.files[0].blocks[1].count),
            (1, 0)
        );
    }

    #[test]
    fn for_each_block_visits_the_profile() {
        for (input, canonical) in [
            // As Go writes it: fed in two pieces, one file split across them.
            (
                &[
                    &b"mode: count\nb.go:1.1,1.2 1 3\n"[..],
                    b"b.go:2.1,2.2 1 0\na.go:1.1,1.2 2 4\n",
                ],
                true,
            ),
            // Repeated and unsorted blocks: combined and sorted first.
            (
                &[
                    &b"mode: count\na.go:2.1,2.2 1 3\nb.go:1.1,1.2 1 0\n"[..],
                    b"a.go:2.1,2.2 1 2\na.go:1.1,1.2 1 1\n",
                ],
                false,
            ),
        ] {
            let mut p = TextParser::new("x", ParseOptions::default());
            for piece in input {
                p.feed(piece).unwrap();
            }
            let raw = p.into_raw();
            assert_eq!(raw.canonical_files().is_some(), canonical);
            assert_eq!(raw.mode(), Some(&Mode::Count));
            let mut seen = Vec::new();
            raw.for_each_block(|name, b| {
                seen.push((name.to_string(), b.key(), b.num_stmt, b.count))
            })
            .unwrap();
            let want: Vec<_> = raw
                .to_profile()
                .unwrap()
                .files
                .iter()
                .flat_map(|f| {
                    f.blocks
                        .iter()
                        .map(|b| (f.name.clone(), b.key(), b.num_stmt, b.count))
                })
                .collect();
            assert_eq!(seen, want);
        }
        // Draining sees the same blocks in input order, uncombined.
        let mut p = TextParser::new("x", ParseOptions::default());
        p.feed(b"mode: set\nb.go:1.1,1.2 1 1\na.go:1.1,1.2 2 0\n")
            .unwrap();
        let mut seen = Vec::new();
        p.drain_blocks(|name, b| seen.push((name.to_string(), b.num_stmt)));
        p.feed(b"b.go:1.1,1.2 1 0\n").unwrap();
        p.drain_blocks(|name, b| seen.push((name.to_string(), b.num_stmt)));
        assert_eq!(
            seen,
            [("b.go".into(), 1), ("a.go".into(), 2), ("b.go".into(), 1)]
        );
        assert_eq!(p.mode(), Some(&Mode::Set));
        assert_eq!(p.into_raw().to_profile().unwrap().block_count(), 0);
        // Inconsistent statement counts are the parse error they always were.
        let mut p = TextParser::new("x", ParseOptions::default());
        p.feed(b"mode: count\na.go:1.1,1.2 1 3\na.go:1.1,1.2 2 3\n")
            .unwrap();
        assert!(p.into_raw().for_each_block(|_, _| {}).is_err());
    }
}
