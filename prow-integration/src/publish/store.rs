//! A bucket (or directory) through object_store, with the checks the
//! reporter needs: keys that cannot climb out of the root, a size limit on
//! every read, and errors sorted into transient and permanent.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use covlens_core::printable::printable;

use super::PublishError;
use crate::config::{StoreKind, StoreUrl};

/// The most bytes one read takes, and the setting that chose it, named
/// when an object is over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Max {
    /// Bytes.
    pub bytes: u64,
    /// The config key that sets it; `None` for a bound of the reporter's
    /// own (a small metadata file).
    pub setting: Option<&'static str>,
}

impl Max {
    /// A bound of the reporter's own.
    pub const fn fixed(bytes: u64) -> Max {
        Max {
            bytes,
            setting: None,
        }
    }

    /// `limits.max_object_bytes`.
    pub const fn object(bytes: u64) -> Max {
        Max {
            bytes,
            setting: Some("limits.max_object_bytes"),
        }
    }
}

/// One storage root: Prow's artifacts bucket or the publish location.
#[derive(Clone, Debug)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// Prefix inside the store (no leading or trailing `/`), or empty.
    prefix: String,
    /// For messages.
    url: String,
    /// For `file://`: the store and its canonical root, to refuse keys
    /// that reach outside it through a symlink.
    local: Option<(Arc<object_store::local::LocalFileSystem>, PathBuf)>,
}

/// An object found by [`Bucket::list`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    /// Its key relative to the listed prefix.
    pub rel: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Bucket {
    /// Opens `url`. A `file://` directory must exist unless `create` (the
    /// publish root is created). `gs://` and `s3://` need the `cloud`
    /// feature; their credentials come from the environment as object_store
    /// reads them (`GOOGLE_SERVICE_ACCOUNT`, `AWS_*`, ...).
    pub fn open(url: &StoreUrl, create: bool) -> Result<Bucket, PublishError> {
        match &url.kind {
            StoreKind::File(dir) => {
                if create {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        PublishError::Transient(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let root = std::fs::canonicalize(dir)
                    .map_err(|e| PublishError::Transient(format!("{}: {e}", url.url)))?;
                let store = Arc::new(
                    object_store::local::LocalFileSystem::new_with_prefix(&root)
                        .map_err(|e| PublishError::Transient(format!("{}: {e}", url.url)))?,
                );
                Ok(Bucket {
                    store: store.clone(),
                    prefix: String::new(),
                    url: url.url.clone(),
                    local: Some((store, root)),
                })
            }
            StoreKind::Gcs { bucket, prefix } | StoreKind::S3 { bucket, prefix } => {
                let store =
                    cloud_store(&url.kind, bucket, &url.url).map_err(PublishError::Permanent)?;
                Ok(Bucket {
                    store,
                    prefix: prefix.clone(),
                    url: url.url.clone(),
                    local: None,
                })
            }
        }
    }

    /// A bucket over any store (tests use object_store's `InMemory`).
    pub fn from_store(store: Arc<dyn ObjectStore>, prefix: &str, url: &str) -> Bucket {
        Bucket {
            store,
            prefix: prefix.trim_matches('/').to_string(),
            url: url.to_string(),
            local: None,
        }
    }

    /// The URL it was opened from.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The store path of `key` (a `/`-separated relative key; a trailing
    /// `/` is allowed for prefixes). Empty, `.` and `..` segments and
    /// control characters are refused: keys come partly from ProwJobs and
    /// artifact listings.
    pub fn path(&self, key: &str) -> Result<Path, PublishError> {
        let key = key.strip_suffix('/').unwrap_or(key);
        check_key(key)?;
        let full = match (self.prefix.is_empty(), key.is_empty()) {
            (true, _) => key.to_string(),
            (false, true) => self.prefix.clone(),
            (false, false) => format!("{}/{key}", self.prefix),
        };
        Path::parse(&full)
            .map_err(|e| PublishError::Permanent(format!("refusing object key {key:?}: {e}")))
    }

    /// For `file://`: refuses a key whose path goes through a symbolic
    /// link (planted in the artifacts: out of the root, or into another
    /// job's run) or names anything but a regular file (a FIFO would block
    /// a worker for ever). For a missing file, its nearest existing
    /// directory must be reached without a link.
    fn check_local(&self, key: &str) -> Result<(), PublishError> {
        let Some((store, root)) = &self.local else {
            return Ok(());
        };
        // The file the store would open (its names are percent-decoded).
        let p = store
            .path_to_filesystem(&self.path(key)?)
            .map_err(|e| PublishError::Permanent(format!("{}: {key}: {e}", self.url)))?;
        let refuse = |why: &str| {
            PublishError::Permanent(format!("{}: {}: {why}; not used", self.url, printable(key)))
        };
        let mut at = p.as_path();
        loop {
            match std::fs::canonicalize(at) {
                Ok(real) if !real.starts_with(root) => {
                    return Err(refuse("leads outside the root (a symbolic link)"));
                }
                Ok(real) if real != at => {
                    return Err(refuse("its path goes through a symbolic link"));
                }
                Ok(_) if at == p => {
                    let m = std::fs::metadata(at).map_err(|e| {
                        PublishError::Transient(format!("{}: {}: {e}", self.url, printable(key)))
                    })?;
                    return if m.is_file() {
                        Ok(())
                    } else {
                        Err(refuse("not a regular file"))
                    };
                }
                Ok(_) => return Ok(()),
                // Missing: look at its directory (the store answers
                // not-found, or creates the directories below it).
                Err(_) => match at.parent() {
                    Some(up) if up.starts_with(root) => at = up,
                    _ => return Ok(()),
                },
            }
        }
    }

    /// Reads `key` whole, refusing more than `max` bytes; `None` when it
    /// does not exist.
    pub async fn get(&self, key: &str, max: Max) -> Result<Option<Vec<u8>>, PublishError> {
        let mut out = Vec::new();
        match self.get_into(key, max, &mut out).await? {
            true => Ok(Some(out)),
            false => Ok(None),
        }
    }

    /// Streams `key` into `w`, refusing more than `max` bytes (checked
    /// against the listed size and while reading); `false` when it does
    /// not exist.
    pub async fn get_into(
        &self,
        key: &str,
        max: Max,
        w: &mut (dyn Write + Send),
    ) -> Result<bool, PublishError> {
        let Some(mut body) = self.get_stream(key, max).await? else {
            return Ok(false);
        };
        while let Some(chunk) = body.next().await {
            w.write_all(&chunk?).map_err(|e| {
                PublishError::Transient(format!("cannot stage {}/{key}: {e}", self.url))
            })?;
        }
        Ok(true)
    }

    /// Streams `key`, refusing more than `max` bytes (checked against the
    /// listed size and while reading; an error of the stream); `None` when
    /// it does not exist.
    pub async fn get_stream(
        &self,
        key: &str,
        max: Max,
    ) -> Result<
        Option<futures_util::stream::BoxStream<'static, Result<bytes::Bytes, PublishError>>>,
        PublishError,
    > {
        let path = self.path(key)?;
        self.check_local(key)?;
        let got = match self.store.get(&path).await {
            Ok(g) => g,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(self.read_error(key, e)),
        };
        let name = format!("{}/{key}", self.url);
        let too_big = move |size: u64| {
            PublishError::Permanent(match max.setting {
                Some(setting) => format!(
                    "{name}: {size} bytes, over the limit of {} bytes per object ({setting})",
                    max.bytes
                ),
                None => format!(
                    "{name}: {size} bytes, more than the {} bytes read of such a file",
                    max.bytes
                ),
            })
        };
        let max_bytes = max.bytes;
        if got.meta.size > max_bytes {
            return Err(too_big(got.meta.size));
        }
        let mut n = 0u64;
        let bucket = self.clone();
        let key = key.to_string();
        let body = got.into_stream().map(move |chunk| {
            let chunk = chunk.map_err(|e| bucket.read_error(&key, e))?;
            n += chunk.len() as u64;
            if n > max_bytes {
                return Err(too_big(n));
            }
            Ok(chunk)
        });
        Ok(Some(body.boxed()))
    }

    /// Writes `bytes` at `key` (atomically, as object_store writes).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), PublishError> {
        let path = self.path(key)?;
        self.check_local(key)?;
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(|e| self.transient(key, e))
    }

    /// Deletes `key` (nothing when it does not exist).
    pub async fn delete(&self, key: &str) -> Result<(), PublishError> {
        let path = self.path(key)?;
        self.check_local(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.transient(key, e)),
        }
    }

    /// Every object under `prefix` (a directory key ending in `/`), keys
    /// relative to it, sorted; more than `max_objects` is an error.
    pub async fn list(&self, prefix: &str, max_objects: u64) -> Result<Vec<Listed>, PublishError> {
        let base = self.path(prefix)?;
        let mut out = Vec::new();
        let mut stream = self.store.list(Some(&base));
        while let Some(meta) = stream
            .try_next()
            .await
            .map_err(|e| self.read_error(prefix, e))?
        {
            let Some(parts) = meta.location.prefix_match(&base) else {
                continue;
            };
            let rel: Vec<String> = parts.map(|p| p.as_ref().to_string()).collect();
            if rel.is_empty() {
                continue;
            }
            out.push(Listed {
                rel: rel.join("/"),
                size: meta.size,
            });
            if out.len() as u64 > max_objects {
                return Err(PublishError::Permanent(format!(
                    "{}/{prefix}: more than {max_objects} objects (limits.max_objects)",
                    self.url
                )));
            }
        }
        out.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(out)
    }

    /// The names of the "directories" directly under `prefix`, sorted.
    pub async fn list_dirs(&self, prefix: &str) -> Result<Vec<String>, PublishError> {
        let base = self.path(prefix)?;
        let res = self
            .store
            .list_with_delimiter(Some(&base))
            .await
            .map_err(|e| self.read_error(prefix, e))?;
        let mut dirs: Vec<String> = res
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect();
        dirs.sort();
        Ok(dirs)
    }

    fn transient(&self, key: &str, e: object_store::Error) -> PublishError {
        PublishError::Transient(printable(&format!("{}/{key}: {e}", self.url)).into_owned())
    }

    /// An error reading or listing: transient for a remote store (the
    /// network), lasting for a local one, where it comes from what is in
    /// the directory (a name that is not UTF-8, a symbolic link loop) and
    /// would fail every retry.
    fn read_error(&self, key: &str, e: object_store::Error) -> PublishError {
        match self.transient(key, e) {
            PublishError::Transient(msg) if self.local.is_some() => PublishError::Permanent(msg),
            other => other,
        }
    }
}

/// Refuses keys that are not clean relative paths.
pub(crate) fn check_key(key: &str) -> Result<(), PublishError> {
    if key.is_empty() {
        return Ok(());
    }
    let bad = key.starts_with('/')
        || key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        || key.chars().any(|c| c.is_control() || c == '\\');
    if bad {
        return Err(PublishError::Permanent(format!(
            "refusing object key {:?}: not a clean relative path",
            covlens_core::printable::printable(key)
        )));
    }
    Ok(())
}

/// The gs:// or s3:// store of `bucket` (an error without the `cloud`
/// feature); errors name `url`.
fn cloud_store(kind: &StoreKind, bucket: &str, url: &str) -> Result<Arc<dyn ObjectStore>, String> {
    let scheme = match kind {
        StoreKind::Gcs { .. } => covlens_objects::Scheme::Gs,
        StoreKind::S3 { .. } => covlens_objects::Scheme::S3,
        StoreKind::File(_) => return Err("not a cloud store".into()),
    };
    covlens_objects::open_store(scheme, bucket, url).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_bucket_under_a_prefix() {
        let mem: Arc<dyn ObjectStore> = Arc::new(object_store::memory::InMemory::new());
        let b = Bucket::from_store(mem.clone(), "/pfx/", "mem://b/pfx");
        b.put("logs/j/1/finished.json", b"{}".to_vec())
            .await
            .unwrap();
        b.put("logs/j/2/artifacts/a.cov", vec![b'x'; 10])
            .await
            .unwrap();
        b.put("logs/j/latest-build.txt", b"2".to_vec())
            .await
            .unwrap();
        // Stored under the prefix.
        assert!(
            mem.head(&Path::from("pfx/logs/j/1/finished.json"))
                .await
                .is_ok()
        );
        assert_eq!(b.list_dirs("logs/j/").await.unwrap(), ["1", "2"]);
        let listed = b.list("logs/j/", 10).await.unwrap();
        let rels: Vec<&str> = listed.iter().map(|l| l.rel.as_str()).collect();
        assert_eq!(
            rels,
            ["1/finished.json", "2/artifacts/a.cov", "latest-build.txt"]
        );
        assert!(
            matches!(b.list("logs/j/", 2).await, Err(PublishError::Permanent(e)) if e.contains("limits.max_objects"))
        );
        assert_eq!(
            b.get("logs/j/latest-build.txt", Max::fixed(10))
                .await
                .unwrap(),
            Some(b"2".to_vec())
        );
        assert_eq!(b.get("logs/j/none", Max::fixed(10)).await.unwrap(), None);
        match b.get("logs/j/2/artifacts/a.cov", Max::object(9)).await {
            Err(PublishError::Permanent(e)) => assert!(
                e.contains(
                    "10 bytes, over the limit of 9 bytes per object (limits.max_object_bytes)"
                ),
                "{e}"
            ),
            other => panic!("{other:?}"),
        }
        // A bound of the reporter's own names no setting.
        match b.get("logs/j/2/artifacts/a.cov", Max::fixed(9)).await {
            Err(PublishError::Permanent(e)) => assert!(
                e.ends_with("10 bytes, more than the 9 bytes read of such a file"),
                "{e}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            b.get("logs/../x", Max::fixed(9)).await,
            Err(PublishError::Permanent(_))
        ));
        b.delete("logs/j/latest-build.txt").await.unwrap();
        b.delete("logs/j/latest-build.txt").await.unwrap();
        assert_eq!(
            b.get("logs/j/latest-build.txt", Max::fixed(10))
                .await
                .unwrap(),
            None
        );
    }

    #[test]
    fn keys_cannot_climb() {
        for bad in [
            "../x",
            "a/../b",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "a\\b",
            "a\nb",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
        for good in ["", "logs/j/1/artifacts/x.cov", "a/b c/%2F"] {
            assert!(check_key(good).is_ok(), "{good}");
        }
    }
}
