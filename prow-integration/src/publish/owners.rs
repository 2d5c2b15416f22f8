//! A dashboard's ownership (`dashboards[].owners`): from a checkout, or
//! from a branch through GitHub's git data API with no checkout at all.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use covlens_core::owners::{OwnersTree, is_ownership_file, is_skipped_dir};
use futures_util::StreamExt;

use super::PublishError;
use crate::config::OwnersSource;
use crate::github::{GitHub, GitHubError, Repo, TreeEntry};

/// The most ownership files one tree may have (Kubernetes has on the
/// order of a thousand).
const MAX_FILES: usize = 20_000;
/// The most bytes of ownership files one tree may have, all together.
const MAX_BYTES: u64 = 64 << 20;
/// Blobs read at once on a first publish.
const PARALLEL_READS: usize = 8;

/// Reads ownership trees, keeping the ownership files read through GitHub
/// by blob SHA: after the first publish, a publish costs one listing and
/// a request per changed file. Per source, only the blobs its latest
/// listing names are kept.
#[derive(Default)]
pub(crate) struct OwnersReader {
    /// Per `(repo, ref)`: its blobs.
    blobs: Mutex<HashMap<(String, String), Blobs>>,
}

/// Blob SHA to text.
type Blobs = HashMap<String, Arc<str>>;

impl OwnersReader {
    /// The ownership of `source`. A checkout that cannot be read (not
    /// synced yet) or a branch GitHub does not list is a transient error.
    pub(crate) async fn read(
        &self,
        source: &OwnersSource,
        github: Option<&Arc<dyn GitHub>>,
    ) -> Result<OwnersTree, PublishError> {
        match source {
            OwnersSource::Dir(dir) => load_dir(dir).await,
            OwnersSource::GitHub { repo, reference } => {
                let gh = github.ok_or_else(|| {
                    PublishError::Permanent("owners.github: github is not configured".into())
                })?;
                self.read_github(gh.as_ref(), repo, reference).await
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
        let wanted = list_ownership_files(gh, &r, reference)
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
        let key = (repo.to_string(), reference.to_string());
        let missing: Vec<String> = {
            let blobs = self.blobs.lock().unwrap_or_else(PoisonError::into_inner);
            let known = blobs.get(&key);
            let shas: HashSet<&str> = wanted
                .iter()
                .map(|e| e.sha.as_str())
                .filter(|s| known.is_none_or(|k| !k.contains_key(*s)))
                .collect();
            shas.into_iter().map(str::to_string).collect()
        };
        // Counted as read too: the listing's sizes bound nothing by themselves.
        let mut read: Vec<(String, Vec<u8>)> = Vec::new();
        let mut read_bytes = 0u64;
        let mut blobs = futures_util::stream::iter(missing)
            .map(|sha| {
                let r = &r;
                async move { gh.get_blob(r, &sha).await.map(|b| (sha, b)) }
            })
            .buffer_unordered(PARALLEL_READS);
        while let Some(got) = blobs.next().await {
            let (sha, b) = got.map_err(|e| transient(format!("{e:#}")))?;
            read_bytes = read_bytes.saturating_add(b.len() as u64);
            if read_bytes > MAX_BYTES {
                return Err(too_many(wanted.len(), read_bytes));
            }
            read.push((sha, b));
        }
        drop(blobs);

        let mut all = self.blobs.lock().unwrap_or_else(PoisonError::into_inner);
        let blobs = all.entry(key).or_default();
        for (sha, b) in read {
            blobs.insert(sha, Arc::from(String::from_utf8_lossy(&b)));
        }
        let live: HashSet<&str> = wanted.iter().map(|e| e.sha.as_str()).collect();
        blobs.retain(|sha, _| live.contains(sha.as_str()));
        let files: BTreeMap<String, String> = wanted
            .iter()
            .filter_map(|e| Some((e.path.clone(), blobs.get(&e.sha)?.to_string())))
            .collect();
        drop(all);
        OwnersTree::from_files(&files).map_err(|e| transient(e.to_string()))
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

/// The ownership files of the tree at `reference`. One recursive listing
/// does for most repositories; when GitHub cuts it short (over 100,000
/// entries or 7 MB), the directory is listed one level deep and each
/// subdirectory that is not skipped (`vendor`, ...) recursively on its
/// own, deeper as needed.
async fn list_ownership_files(
    gh: &dyn GitHub,
    repo: &Repo,
    reference: &str,
) -> Result<Vec<TreeEntry>, Listing> {
    let mut out = Vec::new();
    // (prefix of the paths listed, what to list)
    let mut pending = vec![(String::new(), reference.to_string())];
    let mut listings = 0;
    let mut list = async |what: &str, recursive: bool| {
        listings += 1;
        if listings > MAX_LISTINGS {
            return Err(Listing::TooMany(MAX_LISTINGS));
        }
        gh.list_tree(repo, what, recursive)
            .await
            .map_err(Listing::GitHub)
    };
    while let Some((prefix, what)) = pending.pop() {
        let mut tree = list(&what, true).await?;
        if tree.truncated {
            tree = list(&what, false).await?;
            for d in tree.dirs.drain(..) {
                if !is_skipped_dir(&d.path) {
                    pending.push((format!("{prefix}{}/", d.path), d.sha));
                }
            }
        }
        for mut f in tree.files {
            f.path.insert_str(0, &prefix);
            if is_ownership_file(&f.path) {
                out.push(f);
            }
        }
        // Already too many: the caller refuses the tree.
        if out.len() > MAX_FILES {
            break;
        }
    }
    Ok(out)
}

/// The OWNERS and CODEOWNERS files under `dir`, read off the async
/// workers.
async fn load_dir(dir: &Path) -> Result<OwnersTree, PublishError> {
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        OwnersTree::load(&dir)
            .map_err(|e| PublishError::Transient(format!("ownership in {}: {e}", dir.display())))
    })
    .await
    .map_err(|e| PublishError::Transient(format!("ownership: {e}")))?
}
