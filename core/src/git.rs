//! Reading files of a commit from a local git repository, with the `git`
//! command: its object store, not the work tree, so a checkout that moved
//! on still answers for an older commit.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::Error;

/// A commit id: 7 to 64 hex digits (an abbreviation, SHA-1 or SHA-256).
pub fn is_commit(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `git -C repo ARGS`, with the repository trusted whoever owns it (a
/// checkout another user keeps current) and no pager or prompt.
fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-c")
        .arg(format!("safe.directory={}", repo.display()))
        .arg("-C")
        .arg(repo)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .stdin(Stdio::null());
    c
}

fn failed(repo: &Path, what: &str, detail: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{}: git {what}: {detail}", repo.display()))
}

/// The files of `commit` in the repository at `repo` whose path `wanted`
/// accepts, path to content: regular files (not links, not submodules) of
/// at most `max_file` bytes each; a larger one is an error. `commit` must
/// be a commit id ([`is_commit`]) the repository holds.
pub fn files_at(
    repo: &Path,
    commit: &str,
    max_file: u64,
    wanted: impl Fn(&str) -> bool,
) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    if !is_commit(commit) {
        return Err(Error::Invalid(format!(
            "{commit:?}: expected a commit id (7 to 64 hex digits)"
        )));
    }
    let out = git(repo)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{commit}^{{commit}}"))
        .output()
        .map_err(|e| failed(repo, "rev-parse", e))?;
    if !out.status.success() {
        return Err(failed(
            repo,
            "rev-parse",
            format_args!("no commit {commit} in the repository"),
        ));
    }
    let full = String::from_utf8_lossy(&out.stdout).trim().to_string();
    // mode SP type SP object SP size TAB path NUL
    let out = git(repo)
        .args(["ls-tree", "-r", "-z", "--long", "--full-tree", &full])
        .output()
        .map_err(|e| failed(repo, "ls-tree", e))?;
    if !out.status.success() {
        return Err(failed(
            repo,
            "ls-tree",
            String::from_utf8_lossy(&out.stderr).trim(),
        ));
    }
    let mut blobs: Vec<(String, String)> = Vec::new();
    for entry in out.stdout.split(|&b| b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, path)) = entry.split_once('\t') else {
            return Err(failed(
                repo,
                "ls-tree",
                format_args!("unexpected {entry:?}"),
            ));
        };
        let fields: Vec<&str> = meta.split_whitespace().collect();
        let [mode, kind, object, size] = fields[..] else {
            return Err(failed(
                repo,
                "ls-tree",
                format_args!("unexpected {entry:?}"),
            ));
        };
        if kind != "blob" || !matches!(mode, "100644" | "100755") || !wanted(path) {
            continue;
        }
        if size.parse::<u64>().map_or(true, |n| n > max_file) {
            return Err(Error::Invalid(format!(
                "{}: {path} at {commit}: larger than {max_file} bytes",
                repo.display()
            )));
        }
        blobs.push((path.to_string(), object.to_string()));
    }
    read_blobs(repo, blobs)
}

/// The contents of `blobs` (path, object id), through one `git cat-file
/// --batch`.
fn read_blobs(
    repo: &Path,
    blobs: Vec<(String, String)>,
) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let mut files = BTreeMap::new();
    if blobs.is_empty() {
        return Ok(files);
    }
    let mut child = git(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| failed(repo, "cat-file", e))?;
    let mut stdin = child.stdin.take().expect("piped");
    let ids: String = blobs.iter().map(|(_, id)| format!("{id}\n")).collect();
    // From another thread: git answers while it reads, and a full output
    // pipe would stop it from reading the rest.
    let writer = std::thread::spawn(move || stdin.write_all(ids.as_bytes()));
    let mut out = BufReader::new(child.stdout.take().expect("piped"));
    let mut result = Ok(());
    for (path, id) in &blobs {
        let mut header = String::new();
        if let Err(e) = out.read_line(&mut header) {
            result = Err(failed(repo, "cat-file", e));
            break;
        }
        // <object> SP blob SP <size> LF <contents> LF
        let size = match header.trim_end().split(' ').collect::<Vec<_>>()[..] {
            [got, "blob", size] if got == id => size.parse::<usize>().ok(),
            _ => None,
        };
        let Some(size) = size else {
            result = Err(failed(
                repo,
                "cat-file",
                format_args!("unexpected {:?} for {path}", header.trim_end()),
            ));
            break;
        };
        let mut body = vec![0; size + 1];
        if let Err(e) = out.read_exact(&mut body) {
            result = Err(failed(repo, "cat-file", e));
            break;
        }
        body.pop();
        files.insert(path.clone(), body);
    }
    drop(out);
    let _ = writer.join();
    let _ = child.kill();
    let _ = child.wait();
    result.map(|()| files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_ids() {
        assert!(is_commit("abcdef0") && is_commit(&"f".repeat(64)));
        assert!(!is_commit("abcdef") && !is_commit(&"f".repeat(65)));
        assert!(!is_commit("--upload-pack=x") && !is_commit("HEAD~1234"));
    }
}
