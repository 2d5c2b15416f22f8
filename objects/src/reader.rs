//! [`Objects`]: the loader's [`Remote`], listing what a URL names and
//! streaming objects into the parser from a background I/O thread.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use covlens_core::covdata::{CovDir, MemoryFiles};
use covlens_core::input::{Remote, RemoteObject};
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::{mpsc, oneshot};

use crate::error::Error;
use crate::store::{Scheme, open_store};
use crate::url::{ObjectUrl, Target};

/// How [`Objects`] reads.
#[derive(Clone, Copy, Debug)]
pub struct ObjectsOptions {
    /// Objects fetched ahead of the one being parsed, so the network and
    /// the parser overlap.
    pub read_ahead: usize,
    /// Received chunks buffered per object in flight; with the one being
    /// parsed, memory stays at about `(read_ahead + 1) * chunks` chunks
    /// (a chunk is what one socket read returns, at most a few hundred KiB).
    pub chunks: usize,
    /// The most objects one URL may name: listing more is an error.
    pub max_objects: usize,
    /// The most bytes of one GOCOVERDIR, which is read into memory whole.
    pub max_dir_bytes: u64,
}

impl Default for ObjectsOptions {
    fn default() -> Self {
        ObjectsOptions {
            read_ahead: 2,
            chunks: 16,
            max_objects: 100_000,
            max_dir_bytes: 1 << 30,
        }
    }
}

/// A listed object: where it is.
#[derive(Clone)]
struct Located {
    store: Arc<dyn ObjectStore>,
    path: Path,
}

/// A GOCOVERDIR's file: base name, where, size.
type DirFile = (String, Located, u64);

type Chunks = mpsc::Receiver<io::Result<Bytes>>;

/// Reads objects named by URLs; see the [crate] documentation.
pub struct Objects {
    opts: ObjectsOptions,
    io: OnceLock<Result<Io, String>>,
    stores: Mutex<HashMap<(Scheme, String), Arc<dyn ObjectStore>>>,
    listed: Mutex<HashMap<String, Located>>,
    /// The GOCOVERDIRs listed: their files, by directory name.
    dirs: Mutex<HashMap<String, Vec<DirFile>>>,
    in_flight: Mutex<HashMap<String, Chunks>>,
}

/// The I/O thread: a single-threaded tokio runtime that the parser's
/// threads hand requests to.
struct Io {
    handle: tokio::runtime::Handle,
    /// Dropping it ends the thread's runtime.
    _stop: oneshot::Sender<()>,
}

impl Io {
    fn start() -> io::Result<Io> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("covlens-objects".into())
            .spawn(move || {
                rt.block_on(async {
                    let _ = stopped.await;
                })
            })?;
        Ok(Io {
            handle,
            _stop: stop,
        })
    }
}

impl Default for Objects {
    fn default() -> Self {
        Objects::new(ObjectsOptions::default())
    }
}

impl Objects {
    /// A reader with `opts`; its I/O thread starts on first use.
    pub fn new(opts: ObjectsOptions) -> Objects {
        Objects {
            opts,
            io: OnceLock::new(),
            stores: Mutex::new(HashMap::new()),
            listed: Mutex::new(HashMap::new()),
            dirs: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
        }
    }

    fn io(&self) -> Result<&Io, Error> {
        self.io
            .get_or_init(|| Io::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Runtime(io::Error::other(e.clone())))
    }

    /// Runs `fut` on the I/O thread and waits for it.
    fn block_on<T: Send + 'static>(
        &self,
        fut: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, Error> {
        let io = self.io()?;
        let (tx, rx) = oneshot::channel();
        io.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.blocking_recv()
            .map_err(|_| Error::Runtime(io::Error::other("the I/O thread stopped")))
    }

    fn store(&self, u: &ObjectUrl) -> Result<Arc<dyn ObjectStore>, Error> {
        let mut stores = self.stores.lock().unwrap_or_else(|e| e.into_inner());
        let key = (u.scheme, u.bucket.clone());
        if let Some(s) = stores.get(&key) {
            return Ok(s.clone());
        }
        let s = open_store(u.scheme, &u.bucket, &u.url)?;
        stores.insert(key, s.clone());
        Ok(s)
    }

    /// The objects `url` names, sorted by key, with their sizes.
    pub fn list(&self, url: &str) -> Result<Vec<RemoteObject>, Error> {
        let u = ObjectUrl::parse(url)?;
        let store = self.store(&u)?;
        let store_err = |cause| Error::Store {
            url: url.to_string(),
            cause,
        };
        let parse_key = |k: &str| {
            Path::parse(k).map_err(|e| Error::BadUrl {
                url: url.to_string(),
                reason: e.to_string(),
            })
        };
        let mut found: Vec<(Path, u64)> = match &u.target {
            Target::Object(key) => {
                let path = parse_key(key)?;
                let s = store.clone();
                let p = path.clone();
                match self.block_on(async move { s.head(&p).await })? {
                    Ok(meta) => vec![(path, meta.size)],
                    Err(object_store::Error::NotFound { .. }) => {
                        return Err(Error::NotFound {
                            url: url.to_string(),
                            hint: " (end the URL with '/' to read every object under a prefix)",
                        });
                    }
                    Err(e) => return Err(store_err(e)),
                }
            }
            Target::Prefix(prefix) | Target::Pattern { prefix, .. } => {
                let pattern = match &u.target {
                    Target::Pattern { pattern, .. } => Some(pattern.clone()),
                    _ => None,
                };
                let base = parse_key(prefix)?;
                let (s, max) = (store.clone(), self.opts.max_objects);
                let listed = self.block_on(async move {
                    let mut out = Vec::new();
                    let mut stream = s.list(Some(&base));
                    while let Some(meta) = stream.next().await {
                        let meta = meta?;
                        if pattern
                            .as_ref()
                            .is_none_or(|p| p.matches(meta.location.as_ref()))
                        {
                            out.push((meta.location, meta.size));
                            if out.len() > max {
                                return Ok(None);
                            }
                        }
                    }
                    Ok(Some(out))
                })?;
                match listed.map_err(store_err)? {
                    Some(v) => v,
                    None => {
                        return Err(Error::TooMany {
                            url: url.to_string(),
                            max: self.opts.max_objects,
                        });
                    }
                }
            }
        };
        if found.is_empty() {
            return Err(Error::NotFound {
                url: url.to_string(),
                hint: "",
            });
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        // Go's binary coverage files make one GOCOVERDIR per prefix, named
        // `PREFIX/`; every other object is a text profile.
        let mut out: Vec<RemoteObject> = Vec::with_capacity(found.len());
        let mut dirs: HashMap<String, Vec<DirFile>> = HashMap::new();
        let mut listed = self.listed.lock().unwrap_or_else(|e| e.into_inner());
        for (path, size) in found {
            let key: &str = path.as_ref();
            let located = Located {
                store: store.clone(),
                path: path.clone(),
            };
            let (parent, base) = key.rsplit_once('/').unwrap_or(("", key));
            if base.starts_with("covmeta.") || base.starts_with("covcounters.") {
                let dir = format!("{}/", u.object(parent).trim_end_matches('/'));
                let files = dirs.entry(dir.clone()).or_default();
                if files.is_empty() {
                    out.push(RemoteObject {
                        name: dir,
                        size: 0,
                        covdata: true,
                    });
                }
                files.push((base.to_string(), located, size));
                continue;
            }
            let name = u.object(key);
            listed.insert(name.clone(), located);
            out.push(RemoteObject {
                name,
                size,
                covdata: false,
            });
        }
        for o in &mut out {
            if let Some(files) = dirs.get(&o.name) {
                o.size = files.iter().map(|f| f.2).sum();
                if o.size > self.opts.max_dir_bytes {
                    return Err(Error::DirTooLarge {
                        url: o.name.clone(),
                        size: o.size,
                        max: self.opts.max_dir_bytes,
                    });
                }
            }
        }
        self.dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(dirs);
        Ok(out)
    }

    /// GOCOVERDIR inputs (`go tool covdata`'s `-i`): a URL's directories
    /// read into memory, anything else a local directory. A URL that names
    /// text profiles is an error.
    pub fn covdirs(&self, inputs: &[String]) -> Result<Vec<CovDir>, Error> {
        let mut out = Vec::with_capacity(inputs.len());
        for input in inputs {
            if !crate::is_url(input) {
                out.push(CovDir::Path(input.into()));
                continue;
            }
            for o in self.list(input)? {
                if !o.covdata {
                    return Err(Error::NotCovdata { url: o.name });
                }
                let files = self.read_dir(&o.name)?;
                out.push(CovDir::Memory {
                    name: o.name,
                    files,
                });
            }
        }
        Ok(out)
    }

    /// The files of the listed GOCOVERDIR `dir`, fetched in parallel.
    pub fn read_dir(&self, dir: &str) -> Result<MemoryFiles, Error> {
        let files = self
            .dirs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(dir)
            .cloned()
            .ok_or_else(|| Error::Unlisted {
                url: dir.to_string(),
            })?;
        let max = self.opts.max_dir_bytes;
        let got = self.block_on(async move {
            let mut total = 0u64;
            let mut out = Vec::with_capacity(files.len());
            let mut fetches =
                futures_util::stream::iter(files.into_iter().map(|(base, at, _)| async move {
                    let bytes = at.store.get(&at.path).await?.bytes().await?;
                    Ok::<_, object_store::Error>((base, at.path, bytes))
                }))
                .buffered(8);
            while let Some(r) = fetches.next().await {
                let (base, path, bytes) = r.map_err(|e| (None, e))?;
                total += bytes.len() as u64;
                if total > max {
                    return Err((
                        Some(path),
                        object_store::Error::Generic {
                            store: "covlens",
                            source: "the directory grew past the limit while it was read".into(),
                        },
                    ));
                }
                out.push((base, Arc::from(bytes.as_ref())));
            }
            Ok(out)
        })?;
        got.map_err(|(_, cause)| Error::Store {
            url: dir.to_string(),
            cause,
        })
    }
    /// Starts fetching `name` on the I/O thread.
    fn fetch(&self, name: &str) -> Result<Chunks, Error> {
        let at = self
            .listed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| Error::Unlisted {
                url: name.to_string(),
            })?;
        let body = futures_util::stream::once(async move { at.store.get(&at.path).await })
            .flat_map(|got| match got {
                Ok(got) => got.into_stream().boxed(),
                Err(e) => futures_util::stream::iter([Err(e)]).boxed(),
            })
            // Flattened: object_store's message already has its causes.
            .map(|c| c.map_err(|e| io::Error::other(crate::error::describe(&e))));
        Ok(forward(&self.io()?.handle, body, self.opts.chunks))
    }

    /// Opens the listed object `name`, and starts fetching the next few
    /// of `next` that are listed objects.
    pub fn open_object(&self, name: &str, next: &[String]) -> Result<ObjectReader, Error> {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let rx = match in_flight.remove(name) {
            Some(rx) => rx,
            None => self.fetch(name)?,
        };
        let listed: Vec<&String> = {
            let l = self.listed.lock().unwrap_or_else(|e| e.into_inner());
            next.iter()
                .filter(|n| l.contains_key(n.as_str()))
                .take(self.opts.read_ahead)
                .collect()
        };
        for n in listed {
            if !in_flight.contains_key(n) {
                let rx = self.fetch(n)?;
                in_flight.insert(n.clone(), rx);
            }
        }
        Ok(ObjectReader {
            rx,
            cur: Bytes::new(),
        })
    }
}

/// Pulls `body` on the runtime of `handle` into a channel of `chunks`
/// chunks, until it ends, fails or the receiver goes away.
fn forward(
    handle: &tokio::runtime::Handle,
    body: impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static,
    chunks: usize,
) -> Chunks {
    let (tx, rx) = mpsc::channel(chunks.max(1));
    handle.spawn(async move {
        let mut body = std::pin::pin!(body);
        while let Some(chunk) = body.next().await {
            let failed = chunk.is_err();
            // The reader went away (an error elsewhere): stop.
            if tx.send(chunk).await.is_err() || failed {
                return;
            }
        }
    });
    rx
}

/// An object's bytes as they arrive.
pub struct ObjectReader {
    rx: Chunks,
    cur: Bytes,
}

impl ObjectReader {
    /// A reader of `body`, pulled on the runtime of `handle` (not the
    /// reading thread's: it blocks) through a channel of `chunks` chunks,
    /// so memory stays bounded whatever the body's length.
    pub fn spawn(
        handle: &tokio::runtime::Handle,
        body: impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static,
        chunks: usize,
    ) -> ObjectReader {
        ObjectReader {
            rx: forward(handle, body, chunks),
            cur: Bytes::new(),
        }
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => return Err(e),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur.split_to(n));
        Ok(n)
    }
}

impl Remote for Objects {
    fn claims(&self, input: &str) -> bool {
        crate::is_url(input)
    }

    fn expand(&self, input: &str) -> Result<Vec<RemoteObject>, covlens_core::Error> {
        Ok(self.list(input)?)
    }

    fn open(
        &self,
        object: &str,
        next: &[String],
    ) -> Result<Box<dyn Read + Send>, covlens_core::Error> {
        Ok(Box::new(self.open_object(object, next)?))
    }

    fn read_dir(&self, dir: &str) -> Result<MemoryFiles, covlens_core::Error> {
        Ok(Objects::read_dir(self, dir)?)
    }
}
