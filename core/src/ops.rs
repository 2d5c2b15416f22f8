//! Combining profiles: merge, aggregate, diff and filter.

use std::collections::HashSet;

use rayon::prelude::*;
use regex::Regex;

use crate::error::{Conflict, Error};
use crate::profile::{Block, FileProfile, Mode, Profile, add_counts};
use crate::text::{BlockPool, ModePolicy, RawFile, RawProfile, abs_line};

/// What `merge` does when two inputs describe a source file differently
/// (typically profiles built from different versions of the source).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OnConflict {
    /// Stop with an error, as gopherage does.
    #[default]
    Error,
    /// Keep the version seen first, drop the disagreeing input's blocks for
    /// that file, and report it.
    Report,
    /// Leave the file out of the output altogether, and report it.
    SkipFile,
}

/// Writes `merge --conflicts-json`'s document: `{"conflicts": [...]}`,
/// each a [`Conflict`], pretty-printed.
pub fn write_conflicts<W: std::io::Write>(mut w: W, conflicts: &[Conflict]) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        conflicts: &'a [Conflict],
    }
    serde_json::to_writer_pretty(&mut w, &Doc { conflicts })?;
    Ok(())
}

/// How counts of matching blocks combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Combine {
    /// By mode: OR for `set`, a saturating sum otherwise.
    #[default]
    ByMode,
    /// Always a saturating sum (used by `aggregate`, whose counts are
    /// numbers of profiles).
    Sum,
}

/// Options for [`Merger`].
#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// Inputs with different modes: error, or take the highest.
    pub mode_policy: ModePolicy,
    /// Inputs that disagree about a file.
    pub on_conflict: OnConflict,
    /// How counts combine.
    pub combine: Combine,
}

/// Folds profiles into one, one input at a time, so only the accumulated
/// result and the input being added are in memory.
#[derive(Debug)]
pub struct Merger {
    opts: MergeOptions,
    acc: Profile,
    /// The input whose mode is in force.
    mode_from: String,
    inputs: Vec<String>,
    conflicts: Vec<Conflict>,
    skipped: HashSet<String>,
}

impl Merger {
    /// An empty merger.
    pub fn new(opts: MergeOptions) -> Merger {
        Merger {
            opts,
            acc: Profile::new(None),
            mode_from: String::new(),
            inputs: Vec::new(),
            conflicts: Vec::new(),
            skipped: HashSet::new(),
        }
    }

    /// Adds the profile read from `input`.
    pub fn add(&mut self, input: &str, p: Profile) -> Result<(), Error> {
        let is_set = self.enter_mode(input, p.mode.as_ref())?;
        let first_input = self.first_input();
        let acc_files = std::mem::take(&mut self.acc.files);
        let mut out = Vec::with_capacity(acc_files.len().max(p.files.len()));
        let mut a = acc_files.into_iter().peekable();
        let mut b = p.files.into_iter().peekable();
        loop {
            let ord = match (a.peek(), b.peek()) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => x.name.cmp(&y.name),
            };
            match ord {
                std::cmp::Ordering::Less => out.push(a.next().expect("peeked")),
                std::cmp::Ordering::Greater => {
                    let f = b.next().expect("peeked");
                    if !self.skipped.contains(&f.name) {
                        out.push(f);
                    }
                }
                std::cmp::Ordering::Equal => {
                    let mut fa = a.next().expect("peeked");
                    let fb = b.next().expect("peeked");
                    match check_same_layout(&fa, &fb) {
                        Ok(()) => {
                            for (x, y) in fa.blocks.iter_mut().zip(&fb.blocks) {
                                x.count = if is_set {
                                    x.count | y.count
                                } else {
                                    add_counts(x.count, y.count)
                                };
                            }
                            out.push(fa);
                        }
                        Err((line, reason)) => {
                            let c = Conflict {
                                file: fa.name.clone(),
                                first_input: first_input.clone(),
                                second_input: input.to_string(),
                                line,
                                reason,
                            };
                            if self.conflict(c)? {
                                out.push(fa);
                            }
                        }
                    }
                }
            }
        }
        self.acc.files = out;
        self.inputs.push(input.to_string());
        Ok(())
    }

    /// Adds a profile as parsed by [`parse_path_raw`](crate::text::parse_path_raw).
    ///
    /// An input in Go's canonical order (almost all of them) is combined
    /// straight from the parser's buffers, with no per-file copies; the
    /// rest go through [`RawProfile::into_profile`]. The parser's buffers
    /// go back to `pool` for the next input.
    pub(crate) fn add_raw(&mut self, raw: RawProfile, pool: &mut BlockPool) -> Result<(), Error> {
        let path = raw.path.clone();
        let res = self.add_raw_inner(&raw);
        raw.recycle(pool);
        match res? {
            Some(p) => self.add(&path, p),
            None => Ok(()),
        }
    }

    /// Combines a canonical input in place, or returns the profile to add
    /// the ordinary way.
    fn add_raw_inner(&mut self, raw: &RawProfile) -> Result<Option<Profile>, Error> {
        let Some(files) = raw.canonical_files() else {
            return Ok(Some(raw.to_profile()?));
        };
        if self.acc.files.is_empty() {
            // Nothing to combine with: take the files as they are.
            let files = files.par_iter().map(RawFile::to_file_profile).collect();
            return Ok(Some(Profile {
                mode: raw.mode.clone(),
                files,
            }));
        }
        let input = raw.path.as_str();
        let is_set = self.enter_mode(input, raw.mode.as_ref())?;
        let first_input = self.first_input();
        // Pair each accumulated file with the input's file of that name
        // (both sorted); files only in the input are added afterwards.
        let mut pair: Vec<Option<usize>> = vec![None; self.acc.files.len()];
        let mut pending_new: Vec<FileProfile> = Vec::new();
        let mut ai = 0usize;
        for (ri, rf) in files.iter().enumerate() {
            while ai < self.acc.files.len() && self.acc.files[ai].name.as_str() < rf.name {
                ai += 1;
            }
            if ai < self.acc.files.len() && self.acc.files[ai].name == rf.name {
                pair[ai] = Some(ri);
            } else if !self.skipped.contains(rf.name) {
                pending_new.push(rf.to_file_profile());
            }
        }
        // Check and add file by file, in parallel; a file that does not
        // match is left unchanged and reported.
        let results: Vec<Option<(Option<u32>, String)>> = self
            .acc
            .files
            .par_iter_mut()
            .zip(pair.par_iter())
            .map(|(fa, p)| {
                let rf = &files[(*p)?];
                if let Err(e) = check_raw_layout(fa, rf) {
                    return Some(e);
                }
                let mut k = 0;
                for &(_, bs) in rf.pieces() {
                    for (x, y) in fa.blocks[k..k + bs.len()].iter_mut().zip(bs) {
                        x.count = if is_set {
                            x.count | y.count
                        } else {
                            add_counts(x.count, y.count)
                        };
                    }
                    k += bs.len();
                }
                None
            })
            .collect();
        for (i, r) in results.into_iter().enumerate() {
            let Some((line, reason)) = r else { continue };
            let c = Conflict {
                file: self.acc.files[i].name.clone(),
                first_input: first_input.clone(),
                second_input: input.to_string(),
                line,
                reason,
            };
            self.conflict(c)?;
        }
        if !self.skipped.is_empty() {
            let skipped = &self.skipped;
            self.acc.files.retain(|f| !skipped.contains(&f.name));
        }
        if !pending_new.is_empty() {
            self.acc.files.extend(pending_new);
            self.acc.files.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.inputs.push(input.to_string());
        Ok(None)
    }

    /// Combines the accumulated mode with an input's; returns whether
    /// counts combine with OR.
    fn enter_mode(&mut self, input: &str, mode: Option<&Mode>) -> Result<bool, Error> {
        let resolved = resolve_mode(
            self.opts.mode_policy,
            (&self.mode_from, self.acc.mode.as_ref()),
            (input, mode),
        )?;
        if resolved != self.acc.mode {
            if self.acc.mode.is_none() || mode == resolved.as_ref() {
                self.mode_from = input.to_string();
            }
            self.acc.mode = resolved;
        }
        Ok(matches!(self.opts.combine, Combine::ByMode)
            && self.acc.mode.as_ref().is_some_and(Mode::is_set))
    }

    /// Applies the conflict policy; returns whether the accumulated
    /// version of the file stays in the result.
    fn conflict(&mut self, c: Conflict) -> Result<bool, Error> {
        let keep = match self.opts.on_conflict {
            OnConflict::Error => return Err(Error::Conflict(Box::new(c))),
            OnConflict::Report => true,
            OnConflict::SkipFile => {
                self.skipped.insert(c.file.clone());
                false
            }
        };
        self.conflicts.push(c);
        Ok(keep)
    }

    fn first_input(&self) -> String {
        match self.inputs.len() {
            0 => String::new(),
            1 => self.inputs[0].clone(),
            n => format!("{} (and {} more)", self.inputs[0], n - 1),
        }
    }

    /// The merged profile and the conflicts met on the way.
    pub fn finish(self) -> (Profile, Vec<Conflict>) {
        (self.acc, self.conflicts)
    }
}

/// Decides the mode of two combined inputs; `None` means "no mode line".
fn resolve_mode(
    policy: ModePolicy,
    (first_path, first): (&str, Option<&Mode>),
    (second_path, second): (&str, Option<&Mode>),
) -> Result<Option<Mode>, Error> {
    match (first, second) {
        (None, m) | (m, None) => Ok(m.cloned()),
        (Some(a), Some(b)) if a == b => Ok(Some(a.clone())),
        (Some(a), Some(b)) => match (policy, a.rank(), b.rank()) {
            (ModePolicy::Upgrade, Some(x), Some(y)) => {
                Ok(Some(if y > x { b.clone() } else { a.clone() }))
            }
            _ => Err(Error::ModeMismatch {
                first_path: first_path.to_string(),
                first_mode: a.to_string(),
                second_path: second_path.to_string(),
                second_mode: b.to_string(),
            }),
        },
    }
}

/// gopherage's `ensureProfilesMatch`, minus the name and mode checks done by
/// the callers: the same number of blocks and the same ranges and
/// statement counts, block by block.
fn check_same_layout(a: &FileProfile, b: &FileProfile) -> Result<(), (Option<u32>, String)> {
    if a.blocks.len() != b.blocks.len() {
        let line = b.blocks.first().map(|x| x.src_line).filter(|&l| l > 0);
        return Err((
            line,
            format!(
                "different number of blocks ({} vs {})",
                a.blocks.len(),
                b.blocks.len()
            ),
        ));
    }
    for (i, (x, y)) in a.blocks.iter().zip(&b.blocks).enumerate() {
        if !x.same_shape(y) {
            let line = Some(y.src_line).filter(|&l| l > 0);
            return Err((
                line,
                format!("block #{i} differs: {} vs {}", describe(x), describe(y)),
            ));
        }
    }
    Ok(())
}

/// [`check_same_layout`] against a file still in the parser's buffers.
fn check_raw_layout(a: &FileProfile, b: &RawFile<'_>) -> Result<(), (Option<u32>, String)> {
    let n = b.len();
    if a.blocks.len() != n {
        let line = b
            .pieces()
            .find_map(|(base, bs)| bs.first().map(|x| abs_line(*base, x.src_line)));
        return Err((
            line,
            format!("different number of blocks ({} vs {})", a.blocks.len(), n),
        ));
    }
    let mut k = 0;
    for &(base, bs) in b.pieces() {
        for (x, y) in a.blocks[k..k + bs.len()].iter().zip(bs) {
            if !x.same_shape(y) {
                let i = k + bs.iter().position(|z| std::ptr::eq(z, y)).unwrap_or(0);
                return Err((
                    Some(abs_line(base, y.src_line)),
                    format!("block #{i} differs: {} vs {}", describe(x), describe(y)),
                ));
            }
        }
        k += bs.len();
    }
    Ok(())
}

fn describe(b: &Block) -> String {
    format!(
        "{}.{},{}.{} with {} statement(s)",
        b.start_line, b.start_col, b.end_line, b.end_col, b.num_stmt
    )
}

/// Clamps every count to 0 or 1: the first step of `aggregate`.
pub fn to_boolean(p: &mut Profile) {
    for f in &mut p.files {
        for b in &mut f.blocks {
            b.count = u64::from(b.count > 0);
        }
    }
}

/// What [`set_op`] keeps of the first profile's counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    /// What the first profile covers and none of the others do: a count is
    /// zeroed where another profile covers the block (`go tool covdata
    /// subtract`, for any inputs).
    Subtract,
    /// What every profile covers: a count is zeroed where another profile
    /// does not cover the block (`go tool covdata intersect`).
    Intersect,
}

/// The first profile (`first`, named for messages) with each block's count
/// kept or zeroed by `op` against `other`, block by block; blocks, files
/// and the mode are the first profile's. Against several profiles, apply it
/// once per profile: both operations compose that way. A file that `other`
/// does not have covers nothing there. A file it has with other blocks
/// (another version of the source) covers nothing either, and is returned
/// as a conflict rather than passed over silently.
pub fn set_op(
    op: SetOp,
    first: (&str, Profile),
    other: (&str, &Profile),
) -> (Profile, Vec<Conflict>) {
    let ((first_name, mut p), (other_name, other)) = (first, other);
    let mut conflicts = Vec::new();
    for f in &mut p.files {
        let of = other.file(&f.name);
        let same = of.filter(|o| {
            o.blocks.len() == f.blocks.len()
                && o.blocks.iter().zip(&f.blocks).all(|(a, b)| a.same_shape(b))
        });
        if of.is_some() && same.is_none() {
            conflicts.push(Conflict {
                file: f.name.clone(),
                first_input: first_name.to_string(),
                second_input: other_name.to_string(),
                line: None,
                reason: "other blocks (another version of the source): counted as covering none"
                    .into(),
            });
        }
        for (i, b) in f.blocks.iter_mut().enumerate() {
            let covered = same.is_some_and(|o| o.blocks[i].count > 0);
            let keep = match op {
                SetOp::Subtract => !covered,
                SetOp::Intersect => covered,
            };
            if !keep {
                b.count = 0;
            }
        }
    }
    (p, conflicts)
}

/// What `diff` does with a block whose count went down (the component
/// restarted between the two snapshots and its counters were reset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RestartPolicy {
    /// Write 0: nothing is known to have run in between.
    #[default]
    Clamp,
    /// Write the after count: everything since the restart ran in between.
    After,
    /// Stop with an error naming the block.
    Error,
}

/// `after - before`, block by block, for two snapshots of the same program.
///
/// Like gopherage, both profiles must hold the same files with the same
/// blocks; the output has the before profile's layout. Counts that went
/// down are handled by `policy` instead of becoming negative.
pub fn diff(
    before: (&str, Profile),
    after: (&str, &Profile),
    mode_policy: ModePolicy,
    policy: RestartPolicy,
) -> Result<Profile, Error> {
    let (bname, mut before) = before;
    let (aname, after) = after;
    let mode = diff_start(
        (bname, &before),
        (aname, after.mode.as_ref(), after.files.len()),
        mode_policy,
    )?;
    for (fb, fa) in before.files.iter_mut().zip(&after.files) {
        let conflict = |line, reason| diff_conflict(&fb.name, bname, aname, line, reason);
        if fb.name != fa.name {
            return Err(conflict(
                fa.blocks.first().map(|b| b.src_line),
                format!(
                    "file names differ at this position ({} vs {})",
                    fb.name, fa.name
                ),
            ));
        }
        check_same_layout(fb, fa).map_err(|(l, r)| conflict(l, r))?;
        for (x, y) in fb.blocks.iter_mut().zip(&fa.blocks) {
            subtract(x, y, y.src_line, policy, aname, &fb.name)?;
        }
    }
    before.mode = mode;
    Ok(before)
}

/// [`diff`] with the after side still in the parser's buffers (a canonical
/// input, as Go writes profiles, is never copied into a [`Profile`]).
pub(crate) fn diff_raw(
    before: (&str, Profile),
    after: &RawProfile,
    mode_policy: ModePolicy,
    policy: RestartPolicy,
) -> Result<Profile, Error> {
    let Some(files) = after.canonical_files() else {
        return diff(
            before,
            (after.path(), &after.to_profile()?),
            mode_policy,
            policy,
        );
    };
    let (bname, mut before) = before;
    let aname = after.path();
    let mode = diff_start(
        (bname, &before),
        (aname, after.mode.as_ref(), files.len()),
        mode_policy,
    )?;
    for (fb, fa) in before.files.iter_mut().zip(&files) {
        let conflict = |line, reason| diff_conflict(&fb.name, bname, aname, line, reason);
        if fb.name != fa.name {
            return Err(conflict(
                fa.pieces()
                    .find_map(|(base, bs)| bs.first().map(|x| abs_line(*base, x.src_line))),
                format!(
                    "file names differ at this position ({} vs {})",
                    fb.name, fa.name
                ),
            ));
        }
        check_raw_layout(fb, fa).map_err(|(l, r)| conflict(l, r))?;
        let mut k = 0;
        for &(base, bs) in fa.pieces() {
            for (x, y) in fb.blocks[k..k + bs.len()].iter_mut().zip(bs) {
                subtract(x, y, abs_line(base, y.src_line), policy, aname, &fb.name)?;
            }
            k += bs.len();
        }
    }
    before.mode = mode;
    Ok(before)
}

/// What both diffs check first: the mode of the result, and as many files
/// on each side (they are paired in order).
fn diff_start(
    (bname, before): (&str, &Profile),
    (aname, after_mode, after_files): (&str, Option<&Mode>, usize),
    mode_policy: ModePolicy,
) -> Result<Option<Mode>, Error> {
    let mode = resolve_mode(
        mode_policy,
        (bname, before.mode.as_ref()),
        (aname, after_mode),
    )?;
    if before.files.len() != after_files {
        return Err(Error::Invalid(format!(
            "{bname} and {aname} have different numbers of files ({} vs {after_files})",
            before.files.len(),
        )));
    }
    Ok(mode)
}

/// A file whose name or blocks differ between the inputs of a diff.
fn diff_conflict(file: &str, bname: &str, aname: &str, line: Option<u32>, reason: String) -> Error {
    Error::Conflict(Box::new(Conflict {
        file: file.to_string(),
        first_input: bname.to_string(),
        second_input: aname.to_string(),
        line,
        reason,
    }))
}

/// `x.count := y.count - x.count` for one block of [`diff`], by `policy`
/// when the count went down; `line` is `y`'s line in `aname`.
fn subtract(
    x: &mut Block,
    y: &Block,
    line: u32,
    policy: RestartPolicy,
    aname: &str,
    file: &str,
) -> Result<(), Error> {
    x.count = if y.count >= x.count {
        y.count - x.count
    } else {
        match policy {
            RestartPolicy::Clamp => 0,
            RestartPolicy::After => y.count,
            RestartPolicy::Error => {
                return Err(Error::CountWentDown {
                    input: aname.to_string(),
                    line,
                    file: file.to_string(),
                    block: describe(y),
                    before: x.count,
                    after: y.count,
                });
            }
        }
    };
    x.src_line = line;
    Ok(())
}

/// Compiles gopherage-style path patterns into one unanchored regex,
/// `(p1)|(p2)|…`. No patterns means "no filter".
pub fn path_regex(patterns: &[String]) -> Result<Option<Regex>, Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let joined = patterns
        .iter()
        .map(|p| format!("({p})"))
        .collect::<Vec<_>>()
        .join("|");
    // Go's syntax and meaning: `\d` is ASCII, `a{` a literal, and so on.
    crate::goregex::go_regex(&joined)
        .map(Some)
        .map_err(|e| Error::Invalid(format!("invalid path pattern: {e}")))
}

/// Splits pattern lists the way pflag's string slices do: each value is
/// one CSV record (commas separate fields; a field in double quotes may
/// hold commas and `""` for a quote), and the fields of all values follow
/// each other.
pub fn split_patterns(values: &[String]) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for v in values {
        out.extend(csv_fields(v)?);
    }
    Ok(out)
}

/// One value's fields (see [`split_patterns`]).
fn csv_fields(v: &str) -> Result<Vec<String>, Error> {
    if v.is_empty() {
        return Ok(Vec::new());
    }
    let mut fields = Vec::new();
    let mut chars = v.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(Error::Invalid(format!("unterminated quote in {v:?}"))),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => {
                    return Err(Error::Invalid(format!(
                        "unexpected {c:?} after a quoted field in {v:?}"
                    )));
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

/// Keeps files whose name matches `include` (if given), then drops those
/// matching `exclude` (if given). Whole files are kept or dropped.
pub fn filter(p: &mut Profile, include: Option<&Regex>, exclude: Option<&Regex>) {
    p.files.retain(|f| {
        include.is_none_or(|re| re.is_match(&f.name))
            && exclude.is_none_or(|re| !re.is_match(&f.name))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ParseOptions, parse_bytes};

    #[test]
    fn patterns_split_like_pflag() {
        assert_eq!(
            csv_fields("zz_generated,generated\\.pb\\.go").unwrap(),
            ["zz_generated", "generated\\.pb\\.go"]
        );
        assert_eq!(csv_fields("\"a{1,3}\",b").unwrap(), ["a{1,3}", "b"]);
        assert_eq!(csv_fields("a,").unwrap(), ["a", ""]);
        assert!(csv_fields("").unwrap().is_empty());
        let two = ["a,b".to_string(), "c".to_string()];
        assert_eq!(split_patterns(&two).unwrap(), ["a", "b", "c"]);
    }

    fn p(s: &str) -> Profile {
        parse_bytes(s.as_bytes(), "t", &ParseOptions::default()).unwrap()
    }

    #[test]
    fn subtract_and_intersect_block_by_block() {
        let a = "mode: count\nm/x.go:1.1,2.2 1 5\nm/x.go:3.1,4.2 2 7\nm/x.go:5.1,6.2 1 0\nm/y.go:1.1,2.2 1 3\nm/z.go:1.1,2.2 1 4\n";
        // b covers x's first block; its y.go has other blocks; no z.go.
        let b = p(
            "mode: set\nm/x.go:1.1,2.2 1 1\nm/x.go:3.1,4.2 2 0\nm/x.go:5.1,6.2 1 1\nm/y.go:1.1,2.9 1 1\n",
        );
        let c = p(
            "mode: count\nm/x.go:1.1,2.2 1 9\nm/x.go:3.1,4.2 2 1\nm/x.go:5.1,6.2 1 1\nm/z.go:1.1,2.2 1 1\n",
        );
        let counts = |q: &Profile| -> Vec<u64> {
            q.files()
                .iter()
                .flat_map(|f| f.blocks().iter().map(|b| b.count))
                .collect()
        };
        let (s, conflicts) = set_op(SetOp::Subtract, ("a", p(a)), ("b", &b));
        assert_eq!(counts(&s), [0, 7, 0, 3, 4]);
        assert_eq!(s.mode(), Some(&Mode::from_name("count")));
        assert_eq!(conflicts.len(), 1);
        assert_eq!(
            (
                conflicts[0].file.as_str(),
                conflicts[0].second_input.as_str()
            ),
            ("m/y.go", "b")
        );
        let (s, _) = set_op(SetOp::Subtract, ("a-b", s), ("c", &c));
        assert_eq!(counts(&s), [0, 0, 0, 3, 0]);
        let (i, _) = set_op(SetOp::Intersect, ("a", p(a)), ("b", &b));
        assert_eq!(counts(&i), [5, 0, 0, 0, 0]);
        let (i, _) = set_op(SetOp::Intersect, ("a", p(a)), ("c", &c));
        assert_eq!(counts(&i), [5, 7, 0, 0, 4]);
    }

    fn merge(inputs: &[&str], opts: MergeOptions) -> Result<(Profile, Vec<Conflict>), Error> {
        let mut m = Merger::new(opts);
        for (i, s) in inputs.iter().enumerate() {
            m.add(&format!("in{i}"), p(s))?;
        }
        Ok(m.finish())
    }

    #[test]
    fn merge_sums_and_unions() {
        let (out, c) = merge(
            &[
                "mode: count\na.go:1.1,1.2 1 2\n",
                "mode: count\na.go:1.1,1.2 1 3\nb.go:1.1,1.2 1 1\n",
            ],
            MergeOptions::default(),
        )
        .unwrap();
        assert!(c.is_empty());
        assert_eq!(out.files.len(), 2);
        assert_eq!(out.files[0].blocks[0].count, 5);
    }

    #[test]
    fn merge_set_is_or() {
        let (out, _) = merge(
            &[
                "mode: set\na.go:1.1,1.2 1 1\n",
                "mode: set\na.go:1.1,1.2 1 1\n",
            ],
            Default::default(),
        )
        .unwrap();
        assert_eq!(out.files[0].blocks[0].count, 1);
    }

    #[test]
    fn merge_saturates() {
        let big = "mode: count\na.go:1.1,1.2 1 9223372036854775807\n";
        let (out, _) = merge(&[big, big], Default::default()).unwrap();
        assert_eq!(out.files[0].blocks[0].count, crate::MAX_COUNT);
    }

    #[test]
    fn merge_mode_mismatch_and_upgrade() {
        let a = "mode: set\na.go:1.1,1.2 1 1\n";
        let b = "mode: count\nb.go:1.1,1.2 1 4\n";
        let e = merge(&[a, b], Default::default()).unwrap_err().to_string();
        assert!(
            e.contains("in0 has mode \"set\" but in1 has mode \"count\""),
            "{e}"
        );
        let opts = MergeOptions {
            mode_policy: ModePolicy::Upgrade,
            ..Default::default()
        };
        let (out, _) = merge(&[a, b], opts).unwrap();
        assert_eq!(out.mode, Some(Mode::Count));
    }

    #[test]
    fn merge_conflicts() {
        let a = "mode: count\na.go:1.1,1.2 1 1\nb.go:1.1,1.2 1 1\n";
        let b = "mode: count\na.go:1.1,1.3 1 1\nb.go:1.1,1.2 1 1\n";
        let e = merge(&[a, b], Default::default()).unwrap_err().to_string();
        assert_eq!(
            e,
            "in1:2:1: cannot combine a.go with in0: block #0 differs: \
             1.1,1.2 with 1 statement(s) vs 1.1,1.3 with 1 statement(s)"
        );
        let opts = MergeOptions {
            on_conflict: OnConflict::Report,
            ..Default::default()
        };
        let (out, c) = merge(&[a, b], opts).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(out.files[0].blocks[0].count, 1);
        assert_eq!(out.files[1].blocks[0].count, 2);
        let opts = MergeOptions {
            on_conflict: OnConflict::SkipFile,
            ..Default::default()
        };
        let (out, c) = merge(&[a, b, a], opts).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(out.files.len(), 1);
        assert_eq!(out.files[0].name, "b.go");
    }

    #[test]
    fn diff_clamps_restarts() {
        let before = p("mode: count\na.go:1.1,1.2 1 5\na.go:2.1,2.2 1 1\n");
        let after = p("mode: count\na.go:1.1,1.2 1 2\na.go:2.1,2.2 1 4\n");
        let d = diff(
            ("b", before.clone()),
            ("a", &after),
            ModePolicy::Strict,
            RestartPolicy::Clamp,
        )
        .unwrap();
        assert_eq!(d.files[0].blocks[0].count, 0);
        assert_eq!(d.files[0].blocks[1].count, 3);
        let d = diff(
            ("b", before.clone()),
            ("a", &after),
            ModePolicy::Strict,
            RestartPolicy::After,
        )
        .unwrap();
        assert_eq!(d.files[0].blocks[0].count, 2);
        let e = diff(
            ("b", before),
            ("a", &after),
            ModePolicy::Strict,
            RestartPolicy::Error,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("a:2:1: count of a.go:1.1,1.2"), "{e}");
    }

    /// `after` fed to the parser in two pieces, still raw.
    fn raw(after: &str) -> RawProfile {
        let mut t = crate::TextParser::new("a", ParseOptions::default());
        let cut = after[..after.len() / 2].rfind('\n').unwrap() + 1;
        t.feed(&after.as_bytes()[..cut]).unwrap();
        t.feed(&after.as_bytes()[cut..]).unwrap();
        t.into_raw()
    }

    #[test]
    fn diff_raw_equals_diff() {
        let before =
            "mode: count\na.go:1.1,1.2 1 5\na.go:2.1,2.2 1 1\nb.go:1.1,1.2 1 0\nb.go:3.1,3.2 2 7\n";
        for after in [
            // As Go writes it (canonical): read in place.
            "mode: count\na.go:1.1,1.2 1 2\na.go:2.1,2.2 1 4\nb.go:1.1,1.2 1 3\nb.go:3.1,3.2 2 9\n",
            // Files out of order and a repeated block: grouped first.
            "mode: count\nb.go:3.1,3.2 2 9\na.go:1.1,1.2 1 2\nb.go:1.1,1.2 1 3\na.go:2.1,2.2 1 4\nb.go:3.1,3.2 2 0\n",
        ] {
            for policy in [
                RestartPolicy::Clamp,
                RestartPolicy::After,
                RestartPolicy::Error,
            ] {
                let want = diff(
                    ("b", p(before)),
                    ("a", &p(after)),
                    ModePolicy::Strict,
                    policy,
                )
                .map_err(|e| e.to_string());
                let got = diff_raw(("b", p(before)), &raw(after), ModePolicy::Strict, policy)
                    .map_err(|e| e.to_string());
                assert_eq!(got, want, "{after:?} {policy:?}");
            }
        }
        // Layout and file mismatches are the same errors too.
        for after in [
            "mode: count\na.go:1.1,1.2 1 2\na.go:2.1,2.3 1 4\nb.go:1.1,1.2 1 3\nb.go:3.1,3.2 2 9\n",
            "mode: count\na.go:1.1,1.2 1 2\na.go:2.1,2.2 1 4\nc.go:1.1,1.2 1 3\nc.go:3.1,3.2 2 9\n",
            "mode: count\na.go:1.1,1.2 1 2\na.go:2.1,2.2 1 4\n",
            "mode: set\na.go:1.1,1.2 1 1\na.go:2.1,2.2 1 1\nb.go:1.1,1.2 1 1\nb.go:3.1,3.2 2 1\n",
        ] {
            let want = diff(
                ("b", p(before)),
                ("a", &p(after)),
                ModePolicy::Strict,
                RestartPolicy::Clamp,
            )
            .unwrap_err()
            .to_string();
            let got = diff_raw(
                ("b", p(before)),
                &raw(after),
                ModePolicy::Strict,
                RestartPolicy::Clamp,
            )
            .unwrap_err()
            .to_string();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn filter_include_then_exclude() {
        let mut x = p(
            "mode: set\nk8s.io/a/cmd/x.go:1.1,1.2 1 1\nk8s.io/a/pkg/zz_generated.go:1.1,1.2 1 1\nk8s.io/a/pkg/y.go:1.1,1.2 1 1\n",
        );
        let inc = path_regex(&["pkg/".into()]).unwrap();
        let exc = path_regex(&["zz_generated".into(), "nomatch".into()]).unwrap();
        filter(&mut x, inc.as_ref(), exc.as_ref());
        assert_eq!(x.files.len(), 1);
        assert_eq!(x.files[0].name, "k8s.io/a/pkg/y.go");
    }
}
