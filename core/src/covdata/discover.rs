//! Finding the files of a GOCOVERDIR: "pods" of one meta-data file and the
//! counter-data files that refer to it, as Go's `internal/coverage/pods`
//! groups them, plus the choice of snapshots of periodically flushing
//! processes.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::names::FileName;
use crate::error::Error;

/// Which counter files of one process count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Snapshots {
    /// Counter files are cumulative snapshots, so for each (input
    /// directory, meta-data hash, process id) only the newest one (largest
    /// timestamp in the name) counts; files of other processes add up, and
    /// pid 0 (`covdata merge` output) always counts.
    #[default]
    NewestPerProcess,
    /// Every counter file counts, as `go tool covdata` reads them.
    All,
}

/// A counter-data file found in an input directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterRef {
    /// The file.
    pub path: PathBuf,
    /// The path as Go prints it (`dir/name`, cleaned).
    pub name: String,
    /// Index of the input directory it was found in.
    pub dir_index: usize,
    /// Process id from the name (0 for merge output).
    pub pid: i64,
    /// The timestamp field of the name (decimal digits, `UnixNano`).
    pub stamp: String,
}

/// One meta-data file and its counter-data files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pod {
    /// The file hash from the names (32 hex digits for Go's files).
    pub tag: String,
    /// The meta-data file.
    pub meta: PathBuf,
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
    /// Older snapshots left out by [`Snapshots::NewestPerProcess`].
    pub superseded: Vec<String>,
}

/// Lists the input directories (not recursively) and groups their files
/// into pods exactly as Go does: meta files `covmeta.<tag>` (the first one
/// seen for a tag wins), counter files `covcounters.<tag>.<pid>.<nanos>`
/// (temporary `tmp.*` files never match), counter files without a meta
/// file skipped; then applies `snapshots`.
pub fn discover<P: AsRef<Path>>(dirs: &[P], snapshots: Snapshots) -> Result<Discovery, Error> {
    // (path, printed name, dir index, base name)
    let mut files: Vec<(PathBuf, String, usize, String)> = Vec::new();
    for (k, dir) in dirs.iter().enumerate() {
        let dir = dir.as_ref();
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
            files.push((dir.join(&n), printed, k, base));
        }
    }

    let mut metas: HashMap<String, usize> = HashMap::new();
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
        if snapshots == Snapshots::NewestPerProcess {
            keep_newest(pod, &mut out.superseded);
        }
    }
    pods.sort_by(|a, b| a.meta_name.cmp(&b.meta_name));
    out.pods = pods;
    Ok(out)
}

/// Keeps, per (directory, pid), the counter file with the largest
/// timestamp; pid 0 files all stay.
fn keep_newest(pod: &mut Pod, superseded: &mut Vec<String>) {
    let mut newest: HashMap<(usize, i64), usize> = HashMap::new();
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

    #[test]
    fn newest_snapshot_per_process() {
        let c = |pid, stamp: &str, dir| CounterRef {
            path: PathBuf::new(),
            name: format!("{dir}/covcounters.h.{pid}.{stamp}"),
            dir_index: dir,
            pid,
            stamp: stamp.to_string(),
        };
        let mut pod = Pod {
            tag: "h".into(),
            meta: PathBuf::new(),
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
}
