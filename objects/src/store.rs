//! Opening a store for a scheme and bucket: shared by the CLI's inputs,
//! the collector's destinations and the Prow reporter's buckets.

use std::sync::Arc;

use object_store::ObjectStore;

use crate::error::Error;

/// The kinds of store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// Google Cloud Storage, `gs://`.
    Gs,
    /// Amazon S3 or a compatible store, `s3://`.
    S3,
    /// The local file system, `file://`.
    File,
}

impl Scheme {
    /// The URL scheme, without `://`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Gs => "gs",
            Scheme::S3 => "s3",
            Scheme::File => "file",
        }
    }
}

/// The store for `bucket` (`file://`: the file system from `/`).
/// Credentials and endpoints come from the environment as object_store
/// reads them (`GOOGLE_SERVICE_ACCOUNT`, `GOOGLE_SERVICE_ACCOUNT_KEY`,
/// `AWS_ACCESS_KEY_ID`, `AWS_ENDPOINT`, ...). `url` is for errors.
pub fn open_store(scheme: Scheme, bucket: &str, url: &str) -> Result<Arc<dyn ObjectStore>, Error> {
    if scheme == Scheme::File {
        return Ok(Arc::new(object_store::local::LocalFileSystem::new()));
    }
    cloud(scheme, bucket, url)
}

#[cfg(feature = "cloud")]
fn cloud(scheme: Scheme, bucket: &str, url: &str) -> Result<Arc<dyn ObjectStore>, Error> {
    use object_store::aws::AmazonS3Builder;
    use object_store::gcp::GoogleCloudStorageBuilder;
    // object_store's client and kube's both link a rustls provider, so
    // none is the default until one is installed.
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either provider is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    let built = match scheme {
        Scheme::Gs => GoogleCloudStorageBuilder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
        _ => AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map(|s| Arc::new(s) as Arc<dyn ObjectStore>),
    };
    built.map_err(|cause| Error::Store {
        url: url.to_string(),
        cause,
    })
}

#[cfg(not(feature = "cloud"))]
fn cloud(scheme: Scheme, _bucket: &str, url: &str) -> Result<Arc<dyn ObjectStore>, Error> {
    Err(Error::NoCloud {
        url: url.to_string(),
        scheme: scheme.as_str(),
    })
}
