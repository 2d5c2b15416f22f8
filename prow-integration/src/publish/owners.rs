//! A dashboard's ownership (`dashboards[].owners`): from a checkout, or
//! from a branch through GitHub's git data API with no checkout at all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use covlens_core::owners::{OwnersTree, is_ownership_file, is_skipped_dir};

use tracing::warn;

use super::PublishError;
use crate::config::OwnersSource;
use crate::github::{BLOBS_PER_QUERY, GitHub, GitHubError, Repo, Tree, TreeEntry};

/// The most ownership files one tree may have (Kubernetes has on the
/// order of a thousand).
const MAX_FILES: usize = 20_000;
/// The most bytes of ownership files one tree may have, all together.
const MAX_BYTES: u64 = 64 << 20;

/// Reads ownership trees. What it reads through GitHub it keeps by SHA: the
/// ownership files by blob, and what each top-level directory holds by
/// tree. A publish then costs one listing of the root, one listing per
/// top-level directory that changed, and a GraphQL query per 100 changed
/// files. Blobs and trees are content-addressed, so what one commit's
/// listing found serves every other commit of the repository (a branch's
/// head, a pull request's base); per repository, only what its latest
/// listing names is kept.
#[derive(Default)]
pub(crate) struct OwnersReader {
    /// Per repository (`owner/name`, lowercase as GitHub compares it).
    sources: Mutex<HashMap<String, Known>>,
}

/// What is known of one source's tree.
#[derive(Default)]
struct Known {
    /// Blob SHA to text.
    blobs: HashMap<String, Arc<str>>,
    /// Top-level directory's tree SHA to the files below it that may be
    /// ownership files (paths relative to it).
    dirs: HashMap<String, Arc<Vec<TreeEntry>>>,
}

impl OwnersReader {
    /// The ownership of `source`, at commit `at` when given: from GitHub
    /// instead of the configured ref, or from a git checkout's objects (a
    /// checkout that does not hold the commit is read as it is, with a
    /// warning). A checkout that cannot be read (not synced yet) or a
    /// branch GitHub does not list is a transient error.
    pub(crate) async fn read(
        &self,
        source: &OwnersSource,
        github: Option<&Arc<dyn GitHub>>,
        at: Option<&str>,
    ) -> Result<OwnersTree, PublishError> {
        match source {
            OwnersSource::Dir(dir) => match at.filter(|_| dir.join(".git").exists()) {
                Some(commit) => load_dir_at(dir, commit).await,
                None => load_dir(dir).await,
            },
            OwnersSource::GitHub { repo, reference } => {
                let gh = github.ok_or_else(|| {
                    PublishError::Permanent("owners.github: github is not configured".into())
                })?;
                self.read_github(gh.as_ref(), repo, at.unwrap_or(reference))
                    .await
            }
        }
    }

    async fn read_github(
        &self,
        gh: &dyn GitHub,
        repo: &str,
        reference: &str,
    ) -> Result<OwnersTree, PublishError> {
        let at = format!("ownership from {repo} at {reference}");
        let transient = |e: String| PublishError::Transient(format!("{at}: {e}"));
        let r = repo
            .split_once('/')
            .and_then(|(o, n)| Repo::new(o, n).ok())
            .ok_or_else(|| PublishError::Permanent(format!("{at}: expected owner/name")))?;
        let key = repo.to_ascii_lowercase();
        let known_dirs = {
            let sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
            sources
                .get(&key)
                .map(|k| k.dirs.clone())
                .unwrap_or_default()
        };
        let (wanted, dirs) = list_ownership_files(gh, &r, reference, &known_dirs)
            .await
            .map_err(|e| match e {
                Listing::GitHub(e) if e.status() == Some(403) => {
                    transient(format!("{e:#} (the token needs read access to contents)"))
                }
                Listing::GitHub(e) => transient(format!("{e:#}")),
                Listing::TooMany(n) => PublishError::Permanent(format!(
                    "{at}: GitHub cuts the listing short even after {n} listings of parts of it"
                )),
            })?;
        let too_many = |files: usize, bytes: u64| {
            PublishError::Permanent(format!(
                "{at}: {files} ownership files of {bytes} bytes, more than the {MAX_FILES} files \
                 or {MAX_BYTES} bytes read"
            ))
        };
        let listed = wanted.iter().fold(0u64, |n, e| n.saturating_add(e.size));
        if wanted.len() > MAX_FILES || listed > MAX_BYTES {
            return Err(too_many(wanted.len(), listed));
        }
        // The texts this read uses: those already known (held here, so a
        // concurrent read of another commit that prunes the cache takes
        // none away), then those read below.
        let mut texts: HashMap<String, Arc<str>> = HashMap::new();
        let missing: Vec<String> = {
            let sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
            let known = sources.get(&key);
            let mut missing = HashSet::new();
            for e in &wanted {
                match known.and_then(|k| k.blobs.get(&e.sha)) {
                    Some(t) => {
                        texts.insert(e.sha.clone(), t.clone());
                    }
                    None => {
                        missing.insert(e.sha.clone());
                    }
                }
            }
            missing.into_iter().collect()
        };
        // Counted as read too: the listing's sizes bound nothing by themselves.
        let mut read_bytes = 0u64;
        for batch in missing.chunks(BLOBS_PER_QUERY) {
            let got = gh
                .get_blobs(&r, batch)
                .await
                .map_err(|e| transient(format!("{e:#}")))?;
            if got.len() != batch.len() {
                return Err(transient(format!(
                    "asked for {} ownership files, got {}",
                    batch.len(),
                    got.len()
                )));
            }
            for (sha, b) in batch.iter().zip(got) {
                read_bytes = read_bytes.saturating_add(b.len() as u64);
                if read_bytes > MAX_BYTES {
                    return Err(too_many(wanted.len(), read_bytes));
                }
                texts.insert(sha.clone(), Arc::from(String::from_utf8_lossy(&b)));
            }
        }

        // The cache keeps what this listing names, nothing more.
        {
            let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
            let known = sources.entry(key).or_default();
            known.dirs = dirs;
            known.blobs = texts.clone();
        }
        // Every wanted blob was known or has just been read.
        let files: BTreeMap<String, String> = wanted
            .iter()
            .filter_map(|e| Some((e.path.clone(), texts.get(&e.sha)?.to_string())))
            .collect();
        let tree = OwnersTree::from_files(&files).map_err(|e| transient(e.to_string()))?;
        for w in tree.warnings() {
            warn!(warning = %w, "ownership");
        }
        Ok(tree)
    }
}

/// Why the ownership files of a tree could not be listed.
enum Listing {
    GitHub(GitHubError),
    /// So many listings, GitHub cutting each short, that listing stopped.
    TooMany(usize),
}

/// The most tree listings one ownership read makes.
const MAX_LISTINGS: usize = 500;

/// The ownership files of the tree at `reference` (paths from its root),
/// and what each top-level directory holds (see [`Known::dirs`]). The root
/// is listed one level deep; a top-level directory is listed only when
/// its SHA is not in `known`.
async fn list_ownership_files(
    gh: &dyn GitHub,
    repo: &Repo,
    reference: &str,
    known: &HashMap<String, Arc<Vec<TreeEntry>>>,
) -> Result<(Vec<TreeEntry>, HashMap<String, Arc<Vec<TreeEntry>>>), Listing> {
    let mut listings = 0;
    let root = list(gh, repo, reference, false, &mut listings).await?;
    let mut out: Vec<TreeEntry> = root
        .files
        .into_iter()
        .filter(|f| is_ownership_file(&f.path))
        .collect();
    let mut dirs = HashMap::new();
    for d in root.dirs.into_iter().filter(|d| !is_skipped_dir(&d.path)) {
        let below = match known.get(&d.sha) {
            Some(b) => b.clone(),
            None => Arc::new(list_candidates(gh, repo, &d.sha, &mut listings).await?),
        };
        out.extend(below.iter().filter_map(|f| {
            let path = format!("{}/{}", d.path, f.path);
            is_ownership_file(&path).then(|| TreeEntry { path, ..f.clone() })
        }));
        dirs.insert(d.sha, below);
        // Already too many: the caller refuses the tree.
        if out.len() > MAX_FILES {
            break;
        }
    }
    Ok((out, dirs))
}

/// The files below tree `sha` that may be ownership files (`OWNERS`,
/// `CODEOWNERS`, outside skipped directories), paths relative to it. One
/// recursive listing does for most trees; when GitHub cuts it short (over
/// 100,000 entries or 7 MB), the tree is listed one level deep and each
/// subdirectory that is not skipped recursively on its own, deeper as
/// needed.
async fn list_candidates(
    gh: &dyn GitHub,
    repo: &Repo,
    sha: &str,
    listings: &mut usize,
) -> Result<Vec<TreeEntry>, Listing> {
    let may_own = |path: &str| {
        let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
        matches!(name, "OWNERS" | "CODEOWNERS") && !dirs.split('/').any(is_skipped_dir)
    };
    let mut out = Vec::new();
    // (prefix of the paths listed, what to list)
    let mut pending = vec![(String::new(), sha.to_string())];
    while let Some((prefix, what)) = pending.pop() {
        let mut tree = list(gh, repo, &what, true, listings).await?;
        if tree.truncated {
            tree = list(gh, repo, &what, false, listings).await?;
            for d in tree.dirs.drain(..) {
                if !is_skipped_dir(&d.path) {
                    pending.push((format!("{prefix}{}/", d.path), d.sha));
                }
            }
        }
        for mut f in tree.files {
            f.path.insert_str(0, &prefix);
            if may_own(&f.path) {
                out.push(f);
            }
        }
        if out.len() > MAX_FILES {
            break;
        }
    }
    Ok(out)
}

/// One listing, counted against [`MAX_LISTINGS`].
async fn list(
    gh: &dyn GitHub,
    repo: &Repo,
    what: &str,
    recursive: bool,
    listings: &mut usize,
) -> Result<Tree, Listing> {
    *listings += 1;
    if *listings > MAX_LISTINGS {
        return Err(Listing::TooMany(MAX_LISTINGS));
    }
    gh.list_tree(repo, what, recursive)
        .await
        .map_err(Listing::GitHub)
}

/// The OWNERS and CODEOWNERS files under `dir`, read off the async
/// workers.
/// [`OwnersTree::load_at`] in `dir`, or the checkout as it is when git
/// cannot give that commit's files.
async fn load_dir_at(dir: &Path, commit: &str) -> Result<OwnersTree, PublishError> {
    let (d, c) = (dir.to_path_buf(), commit.to_string());
    let at = tokio::task::spawn_blocking(move || OwnersTree::load_at(&d, &c))
        .await
        .map_err(|e| PublishError::Transient(format!("ownership: {e}")))?;
    match at {
        Ok(tree) => {
            for w in tree.warnings() {
                warn!(dir = %dir.display(), commit, warning = %w, "ownership");
            }
            Ok(tree)
        }
        Err(e) => {
            warn!(dir = %dir.display(), commit, error = %e, "ownership read from the checkout as it is");
            load_dir(dir).await
        }
    }
}

async fn load_dir(dir: &Path) -> Result<OwnersTree, PublishError> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let tree = OwnersTree::load(&dir)
            .map_err(|e| PublishError::Transient(format!("ownership in {}: {e}", dir.display())))?;
        for w in tree.warnings() {
            warn!(dir = %dir.display(), warning = %w, "ownership");
        }
        Ok(tree)
    })
    .await
    .map_err(|e| PublishError::Transient(format!("ownership: {e}")))?
}
