//! Destinations: a local directory, or an object store (feature `cloud`).

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{CollectorError, Result, esc};
use crate::fsat::DirFd;
use crate::staging::Object;

/// Where snapshots are uploaded.
#[derive(Clone)]
pub(crate) enum Dest {
    /// A directory (created on demand). Objects are written through a temp
    /// file and renamed, like an object store's atomic put. The directory
    /// itself is the operator's; below it (often shared, like Prow's
    /// artifacts directory) no link is followed: every directory of a key
    /// is opened relative to its parent with `O_NOFOLLOW`.
    Local(PathBuf),
    /// `gs://bucket/prefix` or `s3://bucket/prefix`.
    #[cfg(feature = "cloud")]
    Object {
        /// The URL as given.
        url: String,
        /// The store.
        store: std::sync::Arc<dyn object_store::ObjectStore>,
        /// Prefix inside the bucket.
        prefix: object_store::path::Path,
    },
}

impl fmt::Debug for Dest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Dest {
    /// Parses `--dest`: a path, `file://PATH`, or (feature `cloud`) a
    /// `gs://`/`s3://` URL whose credentials come from the environment
    /// (`GOOGLE_SERVICE_ACCOUNT`, `AWS_*`, …, as object_store reads them).
    pub(crate) fn parse(s: &str) -> Result<Dest> {
        if let Some(p) = s.strip_prefix("file://") {
            return Ok(Dest::Local(PathBuf::from(p)));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Self::parse_url(scheme, s);
        }
        if s.is_empty() {
            return Err(CollectorError::Config("the destination is empty".into()));
        }
        Ok(Dest::Local(PathBuf::from(s)))
    }

    #[cfg(not(feature = "cloud"))]
    fn parse_url(scheme: &str, _url: &str) -> Result<Dest> {
        Err(CollectorError::Config(format!(
            "{scheme}:// destinations need covlens built with the `cloud` feature"
        )))
    }

    #[cfg(feature = "cloud")]
    fn parse_url(scheme: &str, s: &str) -> Result<Dest> {
        use covlens_objects::Scheme;
        let bad = |e: Box<dyn std::error::Error + Send + Sync>| CollectorError::DestUrl {
            url: s.to_string(),
            source: e,
        };
        let scheme = match scheme {
            "gs" => Scheme::Gs,
            "s3" => Scheme::S3,
            _ => {
                return Err(CollectorError::Config(format!(
                    "unsupported destination scheme {scheme}:// (gs, s3, file)"
                )));
            }
        };
        let url = url::Url::parse(s).map_err(|e| bad(e.into()))?;
        let store = covlens_objects::open_store(scheme, url.host_str().unwrap_or_default(), s)
            .map_err(|e| bad(e.into()))?;
        let prefix = object_store::path::Path::from(url.path().trim_matches('/'));
        Ok(Dest::Object {
            url: s.to_string(),
            store,
            prefix,
        })
    }

    /// For logs and errors.
    pub(crate) fn describe(&self) -> String {
        match self {
            Dest::Local(p) => esc(p).to_string(),
            #[cfg(feature = "cloud")]
            Dest::Object { url, .. } => esc(url).to_string(),
        }
    }

    fn err(
        &self,
        op: &'static str,
        key: &str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> CollectorError {
        CollectorError::Dest {
            dest: self.describe(),
            op,
            key: key.to_string(),
            source: source.into(),
        }
    }

    fn bad_key(&self, key: &str) -> CollectorError {
        CollectorError::BadKey {
            dest: self.describe(),
            key: key.to_string(),
        }
    }

    /// Stores `data` under `key` (a relative `/`-separated path), replacing
    /// any previous object atomically.
    pub(crate) async fn put(&self, key: &str, data: Vec<u8>) -> Result<()> {
        match self {
            Dest::Local(root) => {
                let segs = key_segments(key).ok_or_else(|| self.bad_key(key))?;
                let root = root.clone();
                let res = tokio::task::spawn_blocking(move || {
                    let (dir, name) = local_dir(&root, &segs, true)?;
                    dir.replace(name, 0o666, |f| f.write_all(&data).map(|()| true))
                })
                .await
                .map_err(|e| self.err("put", key, e))?;
                res.map(drop).map_err(|e| self.err("put", key, e))
            }
            #[cfg(feature = "cloud")]
            Dest::Object { store, prefix, .. } => {
                use object_store::ObjectStoreExt;
                let loc = object_path(prefix, key);
                store
                    .put(&loc, data.into())
                    .await
                    .map(|_| ())
                    .map_err(|e| self.err("put", key, e))
            }
        }
    }

    /// Stores the content of the staged object `src` under `key`, like
    /// [`Dest::put`], without a buffer the size of the file: a local
    /// destination copies through the kernel, an object store gets a
    /// multipart upload when the file is over one part. `Ok(false)` if
    /// `src` no longer exists.
    pub(crate) async fn put_file(&self, key: &str, src: &Object) -> Result<bool> {
        let f = match src.open() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(CollectorError::io("reading", src.path(), e)),
        };
        match self {
            Dest::Local(root) => {
                let segs = key_segments(key).ok_or_else(|| self.bad_key(key))?;
                let root = root.clone();
                let res = tokio::task::spawn_blocking(move || {
                    let (dir, name) = local_dir(&root, &segs, true)?;
                    // copy_file_range/sendfile where the kernel offers them.
                    dir.replace(name, 0o666, |to| std::io::copy(&mut &f, to).map(|_| true))
                })
                .await
                .map_err(|e| self.err("put", key, e))?;
                res.map_err(|e| self.err("put", key, e))
            }
            #[cfg(feature = "cloud")]
            Dest::Object { store, prefix, .. } => {
                let src = src.path();
                let src = src.as_path();
                let (mut f, first) = read_part(f, src).await?;
                if first.len() < PART {
                    self.put(key, first).await?;
                    return Ok(true);
                }
                // Larger than a part: a multipart upload, one part in memory
                // at a time, so a 20 MB profile does not cost 20 MB of RSS.
                use object_store::ObjectStoreExt;
                let loc = object_path(prefix, key);
                let mut up = store
                    .put_multipart(&loc)
                    .await
                    .map_err(|e| self.err("put", key, e))?;
                let res = async {
                    let mut part = first;
                    while !part.is_empty() {
                        up.put_part(part.into())
                            .await
                            .map_err(|e| self.err("put", key, e))?;
                        (f, part) = read_part(f, src).await?;
                    }
                    up.complete()
                        .await
                        .map(|_| true)
                        .map_err(|e| self.err("put", key, e))
                }
                .await;
                if res.is_err() {
                    let _ = up.abort().await;
                }
                res
            }
        }
    }

    /// Removes temporary files a killed collector left under `prefix` of a
    /// local destination (object stores have none: puts are atomic). Links
    /// are neither followed nor removed.
    pub(crate) fn cleanup(&self, prefix: &str) {
        #[allow(irrefutable_let_patterns)]
        let Dest::Local(root) = self else { return };
        let Some(mut segs) = key_segments(prefix.trim_end_matches('/')) else {
            return;
        };
        segs.push(String::new());
        let Ok((dir, _)) = local_dir(root, &segs, false) else {
            return;
        };
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            let Ok(listing) = d.entries() else {
                continue;
            };
            for (name, is_dir, is_file) in listing {
                if is_dir {
                    if let Ok(sub) = d.subdir(&name, None) {
                        stack.push(sub);
                    }
                } else if is_file && name.starts_with('.') && name.contains(".tmp.") {
                    let _ = d.remove(&name);
                }
            }
        }
    }

    /// Deletes `key`; a missing object is not an error.
    pub(crate) async fn delete(&self, key: &str) -> Result<()> {
        match self {
            Dest::Local(root) => {
                let segs = key_segments(key).ok_or_else(|| self.bad_key(key))?;
                let root = root.clone();
                let res =
                    tokio::task::spawn_blocking(move || match local_dir(&root, &segs, false) {
                        Ok((dir, name)) => dir.remove(name),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                        Err(e) => Err(e),
                    })
                    .await
                    .map_err(|e| self.err("delete", key, e))?;
                res.map_err(|e| self.err("delete", key, e))
            }
            #[cfg(feature = "cloud")]
            Dest::Object { store, prefix, .. } => {
                use object_store::ObjectStoreExt;
                match store.delete(&object_path(prefix, key)).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                    Err(e) => Err(self.err("delete", key, e)),
                }
            }
        }
    }
}

/// Part size of multipart uploads: S3's minimum (and GCS's XML API's).
#[cfg(feature = "cloud")]
const PART: usize = 5 << 20;

/// Up to [`PART`] bytes of `f`; short only at the end of the file. Read on
/// a blocking thread straight into the part's buffer (tokio's `File` would
/// copy every byte once more).
#[cfg(feature = "cloud")]
async fn read_part(f: std::fs::File, src: &Path) -> Result<(std::fs::File, Vec<u8>)> {
    use std::io::Read;
    let read = tokio::task::spawn_blocking(move || {
        let mut buf = Vec::with_capacity(PART);
        (&f).take(PART as u64)
            .read_to_end(&mut buf)
            .map(|_| (f, buf))
    })
    .await
    .map_err(|e| CollectorError::io("reading", src, std::io::Error::other(e)))?;
    read.map_err(|e| CollectorError::io("reading", src, e))
}

/// The segments of a key, refusing keys that would leave the root.
fn key_segments(key: &str) -> Option<Vec<String>> {
    key.split('/')
        .map(|seg| match seg {
            "" | "." | ".." => None,
            s => Some(s.to_string()),
        })
        .collect()
}

/// The directory of the key `segs` under `root` (created if `create`,
/// root included), and the key's last segment. The root is opened as
/// the operator named it; each directory below it without following a
/// link.
fn local_dir<'a>(
    root: &Path,
    segs: &'a [String],
    create: bool,
) -> std::io::Result<(DirFd, &'a str)> {
    let (name, dirs) = segs.split_last().expect("a key has a segment");
    let mut dir = match DirFd::open(root) {
        Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(root)?;
            DirFd::open(root)?
        }
        r => r?,
    };
    for seg in dirs {
        dir = dir.subdir(seg, create.then_some(0o777))?;
    }
    Ok((dir, name))
}

#[cfg(feature = "cloud")]
fn object_path(prefix: &object_store::path::Path, key: &str) -> object_store::path::Path {
    let mut p = prefix.clone();
    for seg in key.split('/') {
        p = p.join(seg);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert!(
            matches!(Dest::parse("/tmp/x").unwrap(), Dest::Local(p) if p == Path::new("/tmp/x"))
        );
        assert!(
            matches!(Dest::parse("file:///tmp/y").unwrap(), Dest::Local(p) if p == Path::new("/tmp/y"))
        );
        assert!(Dest::parse("").is_err());
        #[cfg(not(feature = "cloud"))]
        assert!(
            Dest::parse("gs://bucket/x")
                .unwrap_err()
                .to_string()
                .contains("cloud")
        );
        assert!(key_segments("a/../b").is_none());
        assert!(key_segments("a//b").is_none());
    }

    #[cfg(feature = "cloud")]
    #[tokio::test(flavor = "current_thread")]
    async fn object_store_put_and_delete() {
        use object_store::{ObjectStoreExt, memory::InMemory, path::Path as OPath};
        let store = std::sync::Arc::new(InMemory::new());
        let d = Dest::Object {
            url: "mem://b/pfx".into(),
            store: store.clone(),
            prefix: OPath::from("pfx/run"),
        };
        d.put("coverage/p/c/covdata/covmeta.x", b"m".to_vec())
            .await
            .unwrap();
        let got = store
            .get(&OPath::from("pfx/run/coverage/p/c/covdata/covmeta.x"))
            .await
            .unwrap();
        assert_eq!(got.bytes().await.unwrap().as_ref(), b"m");
        d.delete("coverage/p/c/covdata/covmeta.x").await.unwrap();
        d.delete("coverage/p/c/covdata/covmeta.x").await.unwrap();
        assert!(Dest::parse("ftp://x/y").is_err());
        assert!(
            matches!(Dest::parse("gs://bucket/a/b").unwrap(), Dest::Object { prefix, .. } if prefix.as_ref() == "a/b")
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn local_put_and_delete() {
        let t = tempfile::tempdir().unwrap();
        let d = Dest::Local(t.path().to_path_buf());
        d.put("a/b/c.txt", b"one".to_vec()).await.unwrap();
        d.put("a/b/c.txt", b"two".to_vec()).await.unwrap();
        assert_eq!(std::fs::read(t.path().join("a/b/c.txt")).unwrap(), b"two");
        d.delete("a/b/c.txt").await.unwrap();
        d.delete("a/b/c.txt").await.unwrap();
        std::fs::write(t.path().join("a/b/.c.txt.tmp.1"), b"half").unwrap();
        d.cleanup("a/");
        assert_eq!(std::fs::read_dir(t.path().join("a/b")).unwrap().count(), 0);
        // Store down: the root is a file.
        let f = t.path().join("file");
        std::fs::write(&f, b"").unwrap();
        let down = Dest::Local(f);
        assert!(down.put("x/y", b"z".to_vec()).await.is_err());
    }
}
