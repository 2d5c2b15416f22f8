//! Loading the inputs a command names: text profiles (files, pipes, `-` for
//! stdin) and GOCOVERDIR directories, one at a time or many combined.
//!
//! A [`Loader`] reads with one set of [`LoadOptions`] and collects the
//! [`Warning`]s of every read (bad GOCOVERDIR files left out with
//! `skip_bad`) for the caller to show; nothing here prints.
//!
//! ```no_run
//! use covlens_core::input::{LoadOptions, Loader};
//! use covlens_core::OnConflict;
//! let mut loader = Loader::new(LoadOptions::default());
//! let merged = loader.merge(&["a.out".into(), "covdir".into()], OnConflict::Error);
//! for w in loader.take_warnings() {
//!     eprintln!("warning: {w}");
//! }
//! let (profile, _conflicts) = merged?;
//! # Ok::<(), covlens_core::Error>(())
//! ```

use std::collections::HashMap;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::covdata::{ReadOptions, Warning, read_dirs};
use crate::error::{Conflict, Error};
use crate::flaky::{FlakyFold, FlakyReport};
use crate::ops::{
    Combine, MergeOptions, Merger, OnConflict, RestartPolicy, SetOp, diff, diff_raw, set_op,
};
use crate::profile::Profile;
use crate::text::{
    BlockPool, ParseOptions, RawProfile, STREAM_MAX_INPUTS, Streamed, parse_path_raw,
    raw_from_sized, stream_merge,
};

/// How inputs are read.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Text profiles: mode policy, mapping, parallelism. The mode policy
    /// also decides how inputs with different modes combine.
    pub parse: ParseOptions,
    /// GOCOVERDIR inputs: leave out truncated, corrupt or mismatched files
    /// (each becomes a [`Warning`]) instead of failing.
    pub skip_bad: bool,
}

/// Told how reading the inputs goes, for a progress display: the caller
/// draws it (nothing here prints). Called from the loading thread.
pub trait Progress: Send + Sync {
    /// Reading of `inputs` inputs of `bytes` bytes in all starts (sizes
    /// as the file system says before reading; stdin counts 0).
    fn start(&self, inputs: usize, bytes: u64);
    /// One input was read.
    fn input_read(&self, path: &str, bytes: u64);
}

/// Inputs that are not local paths (object-store URLs such as
/// `gs://bucket/logs/job/1/artifacts/`), listed and streamed by a crate
/// outside core (`covlens-objects`) into the text parser, never copied to
/// disk. A loader without one reads every input as a path.
pub trait Remote: Send + Sync {
    /// Whether `input` is one of this reader's (a URL it understands).
    fn claims(&self, input: &str) -> bool;
    /// The objects `input` names, in the order to read them: one for an
    /// object's URL, every match for a prefix or a pattern. Naming
    /// nothing is an error.
    fn expand(&self, input: &str) -> Result<Vec<RemoteObject>, Error>;
    /// Opens `object` (a name [`expand`](Remote::expand) returned) for
    /// streaming. `next` are the inputs to be read after it, some perhaps
    /// not this reader's: it may start reading those ahead.
    fn open(&self, object: &str, next: &[String]) -> Result<Box<dyn Read + Send>, Error>;
    /// The files of the GOCOVERDIR `dir` (a name [`expand`](Remote::expand)
    /// returned with [`RemoteObject::covdata`] set): base names and bytes.
    fn read_dir(&self, dir: &str) -> Result<crate::covdata::MemoryFiles, Error>;
}

/// One object a [`Remote`] input names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteObject {
    /// Its full name (a URL), as errors and progress show it.
    pub name: String,
    /// Its size in bytes, as the listing says (a GOCOVERDIR: its files').
    pub size: u64,
    /// A GOCOVERDIR (the `covmeta.*` and `covcounters.*` objects under one
    /// prefix), read whole with [`Remote::read_dir`], not a text profile.
    pub covdata: bool,
}

/// The optional [`Remote`] of a loader.
#[derive(Clone, Default)]
struct RemoteHook(Option<Arc<dyn Remote>>);

impl std::fmt::Debug for RemoteHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Remote" } else { "None" })
    }
}

/// The optional [`Progress`] of a loader.
#[derive(Clone, Default)]
struct ProgressHook(Option<Arc<dyn Progress>>);

impl std::fmt::Debug for ProgressHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Progress" } else { "None" })
    }
}

/// An input's size in bytes as the file system says: a file's length, the
/// sum of a directory's files, 0 for stdin and what cannot be read.
fn local_bytes(path: &str) -> u64 {
    if path == "-" {
        return 0;
    }
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path).map_or(0, |d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        }),
        Ok(m) if m.is_file() => m.len(),
        _ => 0,
    }
}

/// Reads inputs and keeps the warnings of every read.
#[derive(Debug, Default)]
pub struct Loader {
    opts: LoadOptions,
    warnings: Vec<Warning>,
    progress: ProgressHook,
    remote: RemoteHook,
    /// The remote objects expanded so far, by name.
    remote_objects: HashMap<String, RemoteObject>,
}

/// One input read for merging.
enum Loaded {
    /// A text profile, not yet grouped per file.
    Raw(RawProfile),
    /// A GOCOVERDIR, already converted.
    Profile(Profile),
}

/// Small files are read in parallel batches of up to this many bytes.
const BATCH_BYTES: u64 = 32 << 20;
/// A file at least this large is parsed alone (in parallel inside).
const LARGE: u64 = 1 << 20;

/// Whether `path` names a directory, to be read as GOCOVERDIR data.
pub fn is_covdata_dir(path: &str) -> bool {
    path != "-" && Path::new(path).is_dir()
}

impl Loader {
    /// A loader with these options and no warnings yet.
    pub fn new(opts: LoadOptions) -> Loader {
        Loader {
            opts,
            warnings: Vec::new(),
            progress: ProgressHook::default(),
            remote: RemoteHook::default(),
            remote_objects: HashMap::new(),
        }
    }

    /// Reads the inputs `remote` claims through it.
    pub fn with_remote(mut self, remote: Arc<dyn Remote>) -> Loader {
        self.remote = RemoteHook(Some(remote));
        self
    }

    /// `paths` with each remote input replaced by the objects it names.
    fn expand(&mut self, paths: &[String]) -> Result<Vec<String>, Error> {
        let Some(remote) = self.remote.0.clone() else {
            return Ok(paths.to_vec());
        };
        let mut out = Vec::with_capacity(paths.len());
        for p in paths {
            // An expanded name stands for itself.
            if !remote.claims(p) || self.remote_objects.contains_key(p) {
                out.push(p.clone());
                continue;
            }
            for o in remote.expand(p)? {
                out.push(o.name.clone());
                self.remote_objects.insert(o.name.clone(), o);
            }
        }
        Ok(out)
    }

    /// The one input `path` names: a remote prefix or pattern must match
    /// exactly one object.
    fn expand_one(&mut self, path: &str) -> Result<String, Error> {
        let mut all = self.expand(&[path.to_string()])?;
        match all.len() {
            1 => Ok(all.pop().unwrap_or_default()),
            n => Err(Error::io(
                path,
                io::Error::other(format!("names {n} objects, expected one profile")),
            )),
        }
    }

    /// Whether `path` is read as GOCOVERDIR data: a local directory or a
    /// remote one.
    fn is_covdata(&self, path: &str) -> bool {
        match self.remote_objects.get(path) {
            Some(o) => o.covdata,
            None => is_covdata_dir(path),
        }
    }

    /// An input's size in bytes: a remote object's as listed, a local
    /// one's as the file system says.
    fn input_bytes(&self, path: &str) -> u64 {
        match self.remote_objects.get(path) {
            Some(o) => o.size,
            None => local_bytes(path),
        }
    }

    /// Parses the text profile `path` (remote or local); `next` are the
    /// inputs read after it, which a remote reader may fetch ahead.
    fn parse_raw(
        &self,
        path: &str,
        next: &[String],
        pool: &mut BlockPool,
    ) -> Result<RawProfile, Error> {
        if let (Some(remote), Some(o)) = (&self.remote.0, self.remote_objects.get(path)) {
            let r = remote.open(path, next)?;
            return raw_from_sized(r, path, o.size, &self.opts.parse, pool);
        }
        parse_path_raw(Path::new(path), &self.opts.parse, pool)
    }

    /// Reports each input read to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Loader {
        self.progress = ProgressHook(Some(progress));
        self
    }

    /// Tells the progress hook, if any, that `path` was read.
    fn read(&self, path: &str) {
        if let Some(p) = &self.progress.0 {
            p.input_read(path, self.input_bytes(path));
        }
    }

    /// The warnings collected so far, oldest first; the loader forgets
    /// them. Call it after a failed read too: they explain what was left
    /// out before the error.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// Reads one profile: `-` is standard input, a directory is read as
    /// Go binary coverage data (a GOCOVERDIR), anything else as a text
    /// profile.
    pub fn load(&mut self, path: &str) -> Result<Profile, Error> {
        let path = &self.expand_one(path)?;
        if let Some(p) = &self.progress.0 {
            p.start(1, self.input_bytes(path));
        }
        let p = if self.is_covdata(path) {
            self.load_covdata(path)?
        } else {
            self.parse_raw(path, &[], &mut BlockPool::default())?
                .into_profile()?
        };
        self.read(path);
        Ok(p)
    }

    /// Reads a GOCOVERDIR as a profile (covflush snapshots: the newest per
    /// process; see [`Snapshots`](crate::covdata::Snapshots)). A
    /// directory without any meta-data file is an error: it is almost
    /// surely not what was meant.
    fn load_covdata(&mut self, dir: &str) -> Result<Profile, Error> {
        let opts = ReadOptions {
            mode_policy: self.opts.parse.mode_policy,
            skip_bad: self.opts.skip_bad,
            ..Default::default()
        };
        let data = match &self.remote.0 {
            Some(remote) if self.remote_objects.contains_key(dir) => {
                let files = remote.read_dir(dir)?;
                let name = dir.to_string();
                crate::covdata::read_covdirs(
                    &[crate::covdata::CovDir::Memory { name, files }],
                    &opts,
                )?
            }
            _ => read_dirs(&[dir], &opts)?,
        };
        self.warnings.extend(data.report().skipped());
        if data.report().pods == 0 {
            return Err(Error::io(
                dir,
                io::Error::other(
                    "is a directory without Go coverage data (no covmeta.* file), \
                     expected a text profile or a GOCOVERDIR",
                ),
            ));
        }
        data.to_profile()
    }

    /// One profile from many (`merge`): counts add up, or OR in `set`
    /// mode; inputs with different modes follow the mode policy. Returns
    /// the conflicts `on_conflict` let through.
    pub fn merge(
        &mut self,
        paths: &[String],
        on_conflict: OnConflict,
    ) -> Result<(Profile, Vec<Conflict>), Error> {
        let mut m = Merger::new(MergeOptions {
            mode_policy: self.opts.parse.mode_policy,
            on_conflict,
            combine: Combine::ByMode,
        });
        let mut t = Instant::now();
        self.for_each_input(paths, |path, loaded, pool| {
            let parsed = t.elapsed();
            match loaded {
                Loaded::Raw(raw) => m.add_raw(raw, pool)?,
                Loaded::Profile(p) => m.add(path, p)?,
            }
            tracing::debug!(input = %path, parse = ?parsed, merge = ?(t.elapsed() - parsed), "merged");
            t = Instant::now();
            Ok(())
        })?;
        Ok(m.finish())
    }

    /// [`merge`](Loader::merge), written to `w` as a text profile; an
    /// empty result is [`Error::EmptyProfile`].
    ///
    /// Large profiles of one program in Go's canonical order (as Go writes
    /// them) are merged without being parsed into blocks, in parallel
    /// pieces of the inputs; when they turn out otherwise (other layouts,
    /// different modes, anything unusual), nothing has been written yet and
    /// the inputs take the general path, which writes the same bytes or
    /// fails the same way.
    pub fn merge_into<W: io::Write>(
        &mut self,
        paths: &[String],
        on_conflict: OnConflict,
        w: &mut W,
    ) -> Result<Vec<Conflict>, Error> {
        if self.streamable(paths) {
            let t = Instant::now();
            let ps: Vec<&Path> = paths.iter().map(Path::new).collect();
            match stream_merge(&ps, self.opts.parse.max_line, w)? {
                Streamed::Done(lines) => {
                    tracing::debug!(lines, took = ?t.elapsed(), "merged while reading");
                    return Ok(Vec::new());
                }
                Streamed::Fallback => {
                    tracing::debug!(took = ?t.elapsed(), "inputs not in Go's order: general merge");
                }
            }
        }
        let (p, conflicts) = self.merge(paths, on_conflict)?;
        if p.files().is_empty() {
            return Err(Error::EmptyProfile);
        }
        crate::write_profile(w, &p)
            .map_err(|e| Error::write("cannot write the merged profile", e))?;
        Ok(conflicts)
    }

    /// Whether the streaming merge is worth a try: a few large regular
    /// files, memory-mapped.
    fn streamable(&self, paths: &[String]) -> bool {
        if !self.opts.parse.mmap || paths.is_empty() || paths.len() > STREAM_MAX_INPUTS {
            return false;
        }
        if let Some(r) = &self.remote.0
            && paths.iter().any(|p| r.claims(p))
        {
            return false;
        }
        let mut total = 0u64;
        for p in paths {
            match std::fs::metadata(p) {
                Ok(m) if p != "-" && m.is_file() => total += m.len(),
                _ => return false,
            }
        }
        total >= LARGE
    }

    /// Per block, how many of the inputs hit it (`aggregate`).
    pub fn aggregate(&mut self, paths: &[String]) -> Result<Profile, Error> {
        let mut m = Merger::new(MergeOptions {
            mode_policy: self.opts.parse.mode_policy,
            combine: Combine::Sum,
            ..Default::default()
        });
        self.for_each_input(paths, |path, loaded, pool| match loaded {
            Loaded::Profile(mut p) => {
                crate::ops::to_boolean(&mut p);
                m.add(path, p)
            }
            // make_boolean combines an input's own repeated blocks (a
            // `-coverpkg` profile lists a block once per test binary)
            // before clamping, so each input counts once per block.
            Loaded::Raw(mut raw) => {
                raw.make_boolean();
                m.add_raw(raw, pool)
            }
        })?;
        Ok(m.finish().0)
    }

    /// Blocks covered in some but not all of the runs `paths` (each a
    /// profile or a GOCOVERDIR of one run), streamed as
    /// [`aggregate`](Loader::aggregate) streams them.
    pub fn flaky(&mut self, paths: &[String]) -> Result<FlakyReport, Error> {
        let mut fold = FlakyFold::new(self.opts.parse.mode_policy, OnConflict::Error);
        self.for_each_input(paths, |path, loaded, pool| match loaded {
            Loaded::Profile(p) => fold.add(path, p),
            Loaded::Raw(raw) => fold.add_raw(raw, pool),
        })?;
        let report = fold.finish().0;
        // One run covers or misses each block: nothing can be flaky. (An
        // input may be a prefix holding several runs.)
        if report.runs < 2 {
            return Err(Error::Invalid(format!(
                "flaky coverage needs at least 2 runs, {} given",
                report.runs
            )));
        }
        Ok(report)
    }

    /// `after - before` (`diff`), see [`crate::diff`].
    pub fn diff(
        &mut self,
        before: &str,
        after: &str,
        policy: RestartPolicy,
    ) -> Result<Profile, Error> {
        let mode_policy = self.opts.parse.mode_policy;
        let before = &self.expand_one(before)?;
        let after = &self.expand_one(after)?;
        let b = self.load(before)?;
        if self.is_covdata(after) {
            let a = self.load(after)?;
            return diff((before, b), (after, &a), mode_policy, policy);
        }
        // The after side stays in the parser's buffers: one profile's worth
        // of memory less at Kubernetes scale.
        let a = self.parse_raw(after, &[], &mut BlockPool::default())?;
        diff_raw((before, b), &a, mode_policy, policy)
    }

    /// [`set_op`] of `first` against each of `others` in turn (profiles,
    /// GOCOVERDIRs, object-store URLs, mixed; one of them in memory at a
    /// time), with the files whose blocks differ.
    pub fn set_op(
        &mut self,
        op: SetOp,
        first: &str,
        others: &[String],
    ) -> Result<(Profile, Vec<Conflict>), Error> {
        let mut p = self.load(first)?;
        let mut conflicts = Vec::new();
        for o in others {
            let other = self.load(o)?;
            let (next, c) = set_op(op, (first, p), (o, &other));
            p = next;
            conflicts.extend(c);
        }
        Ok((p, conflicts))
    }

    /// Reads `paths` in order and hands each to `f` in that order. Runs of
    /// small regular files (per-package or per-node profiles, thousands of
    /// them in an e2e job) are parsed in parallel across files; large files
    /// are parsed one at a time, each split across threads.
    fn for_each_input(
        &mut self,
        paths: &[String],
        mut f: impl FnMut(&str, Loaded, &mut BlockPool) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let paths = &self.expand(paths)?;
        // A remote name that is also a local path is still read through
        // the remote (which checks what it reads).
        let small: Vec<bool> = paths
            .iter()
            .map(|p| {
                p != "-"
                    && !self.remote_objects.contains_key(p)
                    && std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.len() < LARGE)
            })
            .collect();
        if let Some(p) = &self.progress.0 {
            p.start(paths.len(), paths.iter().map(|p| self.input_bytes(p)).sum());
        }
        let mut pool = BlockPool::default();
        let mut i = 0;
        while i < paths.len() {
            let path = paths[i].as_str();
            if !small[i] {
                let loaded = if self.is_covdata(path) {
                    Loaded::Profile(self.load_covdata(path)?)
                } else {
                    Loaded::Raw(self.parse_raw(path, &paths[i + 1..], &mut pool)?)
                };
                f(path, loaded, &mut pool)?;
                self.read(path);
                i += 1;
                continue;
            }
            let mut j = i;
            let mut bytes = 0u64;
            while j < paths.len() && small[j] && bytes < BATCH_BYTES {
                bytes += std::fs::metadata(&paths[j]).map(|m| m.len()).unwrap_or(0);
                j += 1;
            }
            let parsed: Vec<Result<RawProfile, Error>> = paths[i..j]
                .par_iter()
                .map(|p| parse_path_raw(Path::new(p), &self.opts.parse, &mut BlockPool::default()))
                .collect();
            for (p, r) in paths[i..j].iter().zip(parsed) {
                f(p, Loaded::Raw(r?), &mut pool)?;
                self.read(p);
            }
            i = j;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_batches_in_order_and_reports_directories_without_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for i in 0..5 {
            let p = dir.path().join(format!("{i}.out"));
            std::fs::write(
                &p,
                format!("mode: count\na.go:1.1,1.2 1 {i}\nb{i}.go:1.1,1.2 1 1\n"),
            )
            .unwrap();
            paths.push(p.to_string_lossy().into_owned());
        }
        let mut l = Loader::default();
        let (p, conflicts) = l.merge(&paths, OnConflict::Error).unwrap();
        assert!(conflicts.is_empty());
        assert_eq!(p.files().len(), 6);
        assert_eq!(p.file("a.go").unwrap().blocks()[0].count, 10);
        let agg = l.aggregate(&paths).unwrap();
        assert_eq!(agg.file("a.go").unwrap().blocks()[0].count, 4);

        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let e = l.load(&empty.to_string_lossy()).unwrap_err();
        assert!(
            crate::error::chain(&e).ends_with(
                ": is a directory without Go coverage data \
                 (no covmeta.* file), expected a text profile or a GOCOVERDIR"
            ),
            "{e}"
        );
        assert!(l.take_warnings().is_empty());
    }

    /// Objects in memory under `mem://`; counts its listings.
    #[derive(Default)]
    struct Mem {
        objects: Vec<(String, String)>,
        listings: std::sync::atomic::AtomicUsize,
    }

    impl Remote for Mem {
        fn claims(&self, input: &str) -> bool {
            input.starts_with("mem://")
        }
        fn expand(&self, input: &str) -> Result<Vec<RemoteObject>, Error> {
            self.listings
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let found: Vec<RemoteObject> = self
                .objects
                .iter()
                .filter(|(k, _)| k.starts_with(input))
                .map(|(k, v)| RemoteObject {
                    name: k.clone(),
                    size: v.len() as u64,
                    covdata: false,
                })
                .collect();
            if found.is_empty() {
                return Err(Error::Invalid(format!("{input}: no such object")));
            }
            Ok(found)
        }
        fn open(&self, object: &str, _next: &[String]) -> Result<Box<dyn Read + Send>, Error> {
            let (_, v) = self.objects.iter().find(|(k, _)| k == object).unwrap();
            Ok(Box::new(io::Cursor::new(v.clone().into_bytes())))
        }
        fn read_dir(&self, dir: &str) -> Result<crate::covdata::MemoryFiles, Error> {
            Err(Error::Invalid(format!("{dir}: no directories here")))
        }
    }

    #[test]
    fn remote_inputs_are_listed_once_and_read_through_the_remote() {
        let run = |i: u32| format!("mode: set\na.go:1.1,1.2 1 {}\nb.go:1.1,1.2 1 1\n", i % 2);
        let mem = Arc::new(Mem {
            objects: (0..3)
                .map(|i| (format!("mem://runs/{i}.out"), run(i)))
                .collect(),
            ..Mem::default()
        });
        let mut l = Loader::default().with_remote(mem.clone());
        let flaky = l.flaky(&["mem://runs/".into()]).unwrap();
        // Three runs, though one input was given.
        assert_eq!(flaky.runs, 3);
        assert_eq!(mem.listings.load(std::sync::atomic::Ordering::Relaxed), 1);
        let one = l.load("mem://runs/1.out").unwrap();
        assert_eq!(one.file("a.go").unwrap().blocks()[0].count, 1);
        let e = l.load("mem://runs/").unwrap_err();
        assert_eq!(
            crate::error::chain(&e),
            "mem://runs/: names 3 objects, expected one profile"
        );
        let e = l.load("mem://none").unwrap_err();
        assert_eq!(e.to_string(), "mem://none: no such object");
        // Not claimed: read as a local path.
        assert!(matches!(
            l.load("/nonexistent/x.out"),
            Err(Error::Io { .. })
        ));
    }

    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);

    impl Progress for Recorder {
        fn start(&self, inputs: usize, bytes: u64) {
            self.0
                .lock()
                .unwrap()
                .push(format!("start {inputs} {bytes}"));
        }
        fn input_read(&self, path: &str, bytes: u64) {
            let name = path.rsplit('/').next().unwrap();
            self.0.lock().unwrap().push(format!("{name} {bytes}"));
        }
    }

    #[test]
    fn progress_reports_every_input_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for i in 0..3 {
            let p = dir.path().join(format!("{i}.out"));
            std::fs::write(&p, format!("mode: set\na{i}.go:1.1,1.2 1 1\n")).unwrap();
            paths.push(p.to_string_lossy().into_owned());
        }
        let rec = Arc::new(Recorder::default());
        let mut l = Loader::default().with_progress(rec.clone());
        l.merge(&paths, OnConflict::Error).unwrap();
        l.load(&paths[0]).unwrap();
        let n = std::fs::metadata(&paths[0]).unwrap().len();
        let want = [
            format!("start 3 {}", 3 * n),
            format!("0.out {n}"),
            format!("1.out {n}"),
            format!("2.out {n}"),
            format!("start 1 {n}"),
            format!("0.out {n}"),
        ];
        assert_eq!(*rec.0.lock().unwrap(), want);
    }
}
