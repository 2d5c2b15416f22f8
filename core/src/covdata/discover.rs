//! Finding the files of a GOCOVERDIR: "pods" of one meta-data file and the
//! counter-data files that refer to it, as Go's `internal/coverage/pods`
//! groups them, plus the choice of snapshots of periodically flushing
//! processes.

use foldhash::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::counters::read_snapshot_process;
use super::names::FileName;
use crate::error::Error;

/// Which counter files count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Snapshots {
    /// Every counter file counts, as `go tool covdata` reads them (each is
    /// what one process wrote at exit, or what `covdata merge` wrote),
    /// except the cumulative snapshots covflush writes and marks with its
    /// process's id ([`SNAPSHOT_KEY`](super::SNAPSHOT_KEY)): of those only
    /// the newest of each process (largest timestamp in the name) counts,
    /// wherever the copies are.
    #[default]
    NewestMarked,
    /// Every counter file counts, as `go tool covdata` reads them, marked
    /// snapshots too.
    All,
    /// The rule of older covlens releases, for directories written by a
    /// covflush that did not mark its files yet: for each (input directory,
    /// meta-data hash, process id in the name), only the counter file with
    /// the largest timestamp counts; pid 0 (`covdata merge` output) always
    /// counts. Processes that had the same pid lose their counts but the
    /// last one's.
    NewestPerPid,
}

/// A counter-data file found in an input directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterRef {
    /// The file.
    pub path: FileData,
    /// The path as Go prints it (`dir/name`, cleaned).
    pub name: String,
    /// Index of the input directory it was found in.
    pub dir_index: usize,
    /// Process id from the name (0 for merge output).
    pub pid: i64,
    /// The timestamp field of the name (decimal digits, `UnixNano`).
    pub stamp: String,
}

/// Where a file's bytes are: on disk, or already in memory (a GOCOVERDIR
/// read from an object store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileData {
    /// A file to read.
    Path(PathBuf),
    /// The bytes themselves.
    Memory(Arc<[u8]>),
}

impl FileData {
    /// The whole file, when it starts with `magic`; else only its first
    /// bytes, for the parser to refuse: a stray file of any size with a
    /// coverage file's name is not read into memory whole.
    pub(crate) fn read(&self, magic: &[u8; 4]) -> io::Result<std::borrow::Cow<'_, [u8]>> {
        match self {
            FileData::Path(p) => {
                let f = fs::File::open(p)?;
                let len = f.metadata().map_or(0, |m| m.len());
                read_if_magic(f, magic, len).map(std::borrow::Cow::Owned)
            }
            FileData::Memory(b) => Ok(std::borrow::Cow::Borrowed(b)),
        }
    }
}

/// All of `r` when it starts with `magic` (`len`: its expected size, to
/// allocate once); else only its first bytes, for a parser to refuse, so a
/// stray file of any size under a coverage file's name costs nothing.
pub fn read_if_magic<R: io::Read>(mut r: R, magic: &[u8; 4], len: u64) -> io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut data = Vec::with_capacity(4);
    (&mut r).take(4).read_to_end(&mut data)?;
    if data != magic {
        return Ok(data);
    }
    data.reserve(usize::try_from(len).unwrap_or(0).saturating_sub(4));
    r.read_to_end(&mut data)?;
    Ok(data)
}

/// A directory's files in memory: base names and bytes.
pub type MemoryFiles = Vec<(String, Arc<[u8]>)>;

/// One meta-data file and its counter-data files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    /// The file hash from the names (32 hex digits for Go's files).
    pub tag: String,
    /// The meta-data file.
    pub meta: FileData,
    /// The meta-data file's path as Go prints it.
    pub meta_name: String,
    /// Counter files, sorted by input directory, then path.
    pub counters: Vec<CounterRef>,
}

/// What [`discover`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Pods in order of their meta-data file's path.
    pub pods: Vec<Pod>,
    /// Counter files without a meta-data file (skipped, as Go skips them).
    pub orphans: Vec<String>,
    /// Older snapshots left out (see [`Snapshots`]).
    pub superseded: Vec<String>,
}

/// Lists the input directories (not recursively) and groups their files
/// into pods exactly as Go does: meta files `covmeta.<tag>` (the first one
/// seen for a tag wins), counter files `covcounters.<tag>.<pid>.<nanos>`
/// (temporary `tmp.*` files never match), counter files without a meta
/// file skipped; then applies `snapshots` (which, for marked snapshots,
/// reads the start of every counter file).
pub fn discover<P: AsRef<Path>>(dirs: &[P], snapshots: Snapshots) -> Result<Discovery, Error> {
    let dirs: Vec<CovDir> = dirs
        .iter()
        .map(|d| CovDir::Path(d.as_ref().to_path_buf()))
        .collect();
    discover_dirs(&dirs, snapshots)
}

/// A GOCOVERDIR to read: a local directory, or its files already in
/// memory (one read from an object store).
#[derive(Clone, Debug)]
pub enum CovDir {
    /// A directory on disk.
    Path(PathBuf),
    /// Files in memory.
    Memory {
        /// The directory's name as messages show it (a URL: not cleaned).
        name: String,
        /// Its files.
        files: MemoryFiles,
    },
}

impl<P: AsRef<Path>> From<&P> for CovDir {
    fn from(p: &P) -> CovDir {
        CovDir::Path(p.as_ref().to_path_buf())
    }
}

/// [`discover`] over local and in-memory directories.
pub fn discover_dirs(dirs: &[CovDir], snapshots: Snapshots) -> Result<Discovery, Error> {
    // (data, printed name, dir index, base name)
    let mut files: Vec<(FileData, String, usize, String)> = Vec::new();
    for (k, dir) in dirs.iter().enumerate() {
        let dir = match dir {
            CovDir::Path(p) => p,
            CovDir::Memory { name, files: mem } => {
                let mut mem: Vec<_> = mem
                    .iter()
                    .map(|(base, bytes)| {
                        let shown = format!("{}/{base}", name.trim_end_matches('/'));
                        (FileData::Memory(bytes.clone()), shown, k, base.clone())
                    })
                    .collect();
                mem.sort_by(|a, b| a.3.cmp(&b.3));
                files.extend(mem);
                continue;
            }
        };
        let shown = dir.to_string_lossy();
        let rd = fs::read_dir(dir).map_err(|e| Error::io(shown.as_ref(), e))?;
        let mut names = Vec::new();
        for ent in rd {
            let ent = ent.map_err(|e| Error::io(shown.as_ref(), e))?;
            let is_dir = ent
                .file_type()
                .map_err(|e| Error::io(shown.as_ref(), e))?
                .is_dir();
            if !is_dir {
                names.push(ent.file_name());
            }
        }
        // Go's os.ReadDir sorts by name.
        names.sort();
        for n in names {
            let base = n.to_string_lossy().into_owned();
            let printed = crate::gopath::join(&shown, &base);
            files.push((FileData::Path(dir.join(&n)), printed, k, base));
        }
    }
    Ok(group(files, snapshots))
}

/// Groups files (data, printed name, dir index, base name; each
/// directory's sorted by name) into pods.
fn group(files: Vec<(FileData, String, usize, String)>, snapshots: Snapshots) -> Discovery {
    let mut metas: HashMap<String, usize> = HashMap::default();
    let mut pods: Vec<Pod> = Vec::new();
    for (path, printed, _, base) in &files {
        if let Some(FileName::Meta { hash: tag }) = FileName::parse(base) {
            metas.entry(tag.to_string()).or_insert_with(|| {
                pods.push(Pod {
                    tag: tag.to_string(),
                    meta: path.clone(),
                    meta_name: printed.clone(),
                    counters: Vec::new(),
                });
                pods.len() - 1
            });
        }
    }
    let mut out = Discovery::default();
    for (path, printed, k, base) in &files {
        let Some(FileName::Counters {
            hash: tag,
            pid,
            nanos: stamp,
        }) = FileName::parse(base)
        else {
            continue;
        };
        match metas.get(tag) {
            Some(&p) => pods[p].counters.push(CounterRef {
                path: path.clone(),
                name: printed.clone(),
                dir_index: *k,
                pid,
                stamp: stamp.to_string(),
            }),
            None => out.orphans.push(printed.clone()),
        }
    }
    for pod in &mut pods {
        pod.counters
            .sort_by(|a, b| (a.dir_index, &a.name).cmp(&(b.dir_index, &b.name)));
        match snapshots {
            Snapshots::NewestMarked => keep_newest_marked(pod, &mut out.superseded),
            Snapshots::NewestPerPid => keep_newest(pod, &mut out.superseded),
            Snapshots::All => {}
        }
    }
    pods.sort_by(|a, b| a.meta_name.cmp(&b.meta_name));
    out.pods = pods;
    out
}

/// Keeps, of the files covflush marked as snapshots, the newest of each
/// process (largest timestamp; of equal ones, copies, the first in pod
/// order); every unmarked file stays.
fn keep_newest_marked(pod: &mut Pod, superseded: &mut Vec<String>) {
    let marks: Vec<Option<String>> = pod
        .counters
        .par_iter()
        .map(|c| read_snapshot_process(&c.path))
        .collect();
    let mut newest: HashMap<&str, usize> = HashMap::default();
    for (i, m) in marks.iter().enumerate() {
        let Some(m) = m else { continue };
        let stamp = stamp_key(&pod.counters[i].stamp);
        newest
            .entry(m)
            .and_modify(|j| {
                if stamp > stamp_key(&pod.counters[*j].stamp) {
                    *j = i;
                }
            })
            .or_insert(i);
    }
    let mut i = 0;
    pod.counters.retain(|c| {
        let keep = match &marks[i] {
            None => true,
            Some(m) => newest.get(m.as_str()) == Some(&i),
        };
        if !keep {
            superseded.push(c.name.clone());
        }
        i += 1;
        keep
    });
}

/// Keeps, per (directory, pid), the counter file with the largest
/// timestamp; pid 0 files all stay.
fn keep_newest(pod: &mut Pod, superseded: &mut Vec<String>) {
    let mut newest: HashMap<(usize, i64), usize> = HashMap::default();
    for (i, c) in pod.counters.iter().enumerate() {
        if c.pid == 0 {
            continue;
        }
        newest
            .entry((c.dir_index, c.pid))
            .and_modify(|j| {
                if stamp_key(&c.stamp) > stamp_key(&pod.counters[*j].stamp) {
                    *j = i;
                }
            })
            .or_insert(i);
    }
    let mut i = 0;
    pod.counters.retain(|c| {
        let keep = c.pid == 0 || newest.get(&(c.dir_index, c.pid)) == Some(&i);
        if !keep {
            superseded.push(c.name.clone());
        }
        i += 1;
        keep
    });
}

/// Orders decimal digit strings numerically.
fn stamp_key(s: &str) -> (usize, &str) {
    let t = s.trim_start_matches('0');
    (t.len(), t)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stray 1 GiB file (sparse: no disk) under a coverage file's name is
    /// refused from its first bytes, never read whole.
    #[test]
    fn a_file_without_the_magic_is_not_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("covmeta.00000000000000000000000000000000");
        fs::File::create(&p).unwrap().set_len(1 << 30).unwrap();
        let f = FileData::Path(p.clone());
        assert_eq!(f.read(b"\x00cvm").unwrap().len(), 4);
        let e = crate::covdata::discover_dirs(
            &[crate::covdata::CovDir::Path(dir.path().into())],
            Snapshots::default(),
        )
        .and_then(|d| crate::covdata::read_pod::load_meta(&d.pods[0]).map(drop));
        let e = e.unwrap_err().to_string();
        assert!(e.contains("at byte offset 0"), "{e}");
        let mut small = b"\x00cvm".to_vec();
        small.extend_from_slice(&[7; 60]);
        fs::write(&p, &small).unwrap();
        assert_eq!(f.read(b"\x00cvm").unwrap().len(), 64);
    }

    #[test]
    fn newest_snapshot_per_process() {
        let c = |pid, stamp: &str, dir| CounterRef {
            path: FileData::Path(PathBuf::new()),
            name: format!("{dir}/covcounters.h.{pid}.{stamp}"),
            dir_index: dir,
            pid,
            stamp: stamp.to_string(),
        };
        let mut pod = Pod {
            tag: "h".into(),
            meta: FileData::Path(PathBuf::new()),
            meta_name: String::new(),
            counters: vec![
                c(7, "100", 0),
                c(7, "99", 0),
                c(7, "1000", 0),
                c(8, "5", 0),
                c(0, "1", 0),
                c(0, "2", 0),
                c(7, "1", 1),
            ],
        };
        let mut gone = Vec::new();
        keep_newest(&mut pod, &mut gone);
        let kept: Vec<_> = pod.counters.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            kept,
            [
                "0/covcounters.h.7.1000",
                "0/covcounters.h.8.5",
                "0/covcounters.h.0.1",
                "0/covcounters.h.0.2",
                "1/covcounters.h.7.1"
            ]
        );
        assert_eq!(gone, ["0/covcounters.h.7.100", "0/covcounters.h.7.99"]);
    }

    /// Marked snapshots: the newest per process, wherever it is; unmarked
    /// files (one per process exit) all count, whatever their pids.
    #[test]
    fn newest_marked_snapshot_per_process() {
        use crate::covdata::SNAPSHOT_KEY;
        use crate::covdata::encode::counter_file_bytes;
        let t = tempfile::tempdir().unwrap();
        let (a, b) = (t.path().join("a"), t.path().join("b"));
        fs::create_dir_all(&a).unwrap();
        fs::create_dir_all(&b).unwrap();
        let h = "ab".repeat(16);
        fs::write(a.join(format!("covmeta.{h}")), b"meta").unwrap();
        let put = |dir: &Path, pid: u32, nanos: u32, mark: Option<&str>| {
            let mut args = vec![(b"argc".to_vec(), b"1".to_vec())];
            if let Some(m) = mark {
                args.push((SNAPSHOT_KEY.into(), m.into()));
            }
            let bytes = counter_file_bytes([0xab; 16], &args, &[(0, 0, &[1])]);
            fs::write(dir.join(format!("covcounters.{h}.{pid}.{nanos}")), bytes).unwrap();
        };
        put(&a, 1, 10, None);
        put(&a, 1, 20, None);
        put(&a, 1, 30, Some("p1"));
        put(&a, 1, 50, Some("p1"));
        put(&a, 1, 40, Some("p1"));
        put(&b, 1, 50, Some("p1"));
        put(&a, 1, 70, Some("p2"));
        put(&a, 1, 80, Some(""));
        fs::write(a.join(format!("covcounters.{h}.1.90")), b"junk").unwrap();
        let names = |s: Snapshots| {
            let d = discover(&[&a, &b], s).unwrap();
            let kept: Vec<String> = d.pods[0]
                .counters
                .iter()
                .map(|c| c.name.rsplit('.').next().unwrap().to_string())
                .collect();
            let gone: Vec<String> = d
                .superseded
                .iter()
                .map(|n| n.rsplit('.').next().unwrap().to_string())
                .collect();
            (kept.join(" "), gone.join(" "))
        };
        assert_eq!(
            names(Snapshots::default()),
            ("10 20 50 70 80 90".into(), "30 40 50".into())
        );
        assert_eq!(
            names(Snapshots::All),
            ("10 20 30 40 50 70 80 90 50".into(), String::new())
        );
        assert_eq!(
            names(Snapshots::NewestPerPid),
            ("90 50".into(), "10 20 30 40 50 70 80".into())
        );
    }
}
