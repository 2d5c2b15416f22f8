use std::io;

/// What can go wrong finding or reading objects. Each names the URL.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is malformed.
    #[error("{url}: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong, and what was expected.
        reason: String,
    },
    /// `gs://` or `s3://` in a build without the `cloud` feature.
    #[error("{url}: {scheme}:// URLs need covlens built with the `cloud` feature")]
    NoCloud {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: &'static str,
    },
    /// The store refused or failed a request.
    // object_store's messages already include their causes: shown once,
    // not as a source chain.
    #[error("{url}: {}", describe(cause))]
    Store {
        /// The URL (or object) involved.
        url: String,
        /// What the store said (a field named `source` would be one).
        cause: object_store::Error,
    },
    /// A prefix or pattern matched nothing, or the object does not exist.
    #[error("{url}: no such object{hint}")]
    NotFound {
        /// The URL as given.
        url: String,
        /// For a single key: how to name a prefix instead.
        hint: &'static str,
    },
    /// More objects than the limit.
    #[error("{url}: more than {max} objects match; narrow the prefix or the pattern")]
    TooMany {
        /// The URL as given.
        url: String,
        /// The limit.
        max: usize,
    },
    /// A GOCOVERDIR over the size limit (it is read into memory whole).
    #[error("{url}: a GOCOVERDIR of {size} bytes, over the limit of {max} bytes")]
    DirTooLarge {
        /// The directory.
        url: String,
        /// Its files' total size, as listed.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// A text profile where GOCOVERDIR data was expected.
    #[error("{url}: a text profile, expected Go binary coverage files (covmeta.*, covcounters.*)")]
    NotCovdata {
        /// The object.
        url: String,
    },
    /// The object was not among those listed by this reader.
    #[error("{url}: not an object listed by this reader")]
    Unlisted {
        /// The name given.
        url: String,
    },
    /// The client's I/O thread could not start.
    #[error("cannot start the object store client")]
    Runtime(#[source] io::Error),
}

/// object_store's message and, when it does not already say it, the
/// root cause (a refused connection, a DNS failure).
pub(crate) fn describe(e: &object_store::Error) -> String {
    let top = e.to_string();
    let mut root: &dyn std::error::Error = e;
    while let Some(next) = root.source() {
        root = next;
    }
    let root = root.to_string();
    if top.contains(&root) {
        top
    } else {
        format!("{top}: {root}")
    }
}

impl From<Error> for covlens_core::Error {
    fn from(e: Error) -> Self {
        covlens_core::Error::Remote(Box::new(e))
    }
}
