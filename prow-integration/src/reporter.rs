//! The reporter as one blocking call: read the configuration, connect to
//! the cluster, run the [`controller`](crate::controller) until SIGTERM or
//! SIGINT. `covlens prow reporter` turns its options into
//! [`ReporterOptions`] and calls [`run`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, ConfigError};
use crate::controller::{self, ControllerError, ControllerSettings};
use crate::publish::{Publish, PublishError, PublishLog, Publisher};

/// What the reporter is given.
#[derive(Clone, Debug)]
pub struct ReporterOptions {
    /// The reporter's YAML configuration.
    pub config: PathBuf,
    /// The kubeconfig; `None`: in-cluster, else `$KUBECONFIG` or
    /// `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// For tests and demos: publish by appending "NAME STATE" lines to
    /// this file ([`PublishLog`]), each publish taking the delay first.
    pub publish_log: Option<(PathBuf, Duration)>,
}

/// Why the reporter could not start, or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReporterError {
    /// The configuration file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The configuration makes no valid controller.
    #[error(transparent)]
    Controller(#[from] ControllerError),
    /// Publishing cannot be set up.
    #[error("cannot set up publishing for {}", config.display())]
    Publisher {
        /// The configuration file.
        config: PathBuf,
        /// Why.
        #[source]
        source: PublishError,
    },
    /// The publish log cannot be opened.
    #[error("cannot open {}", path.display())]
    PublishLog {
        /// The log.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime cannot start.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    // kube's errors print their causes in their own message, and expose
    // them as sources too: kept as that message, so that printing the
    // chain does not say each cause twice.
    /// The kubeconfig given cannot be read or used.
    #[error("cannot use the kubeconfig {}: {message}", path.display())]
    Kubeconfig {
        /// The kubeconfig.
        path: PathBuf,
        /// kube's message.
        message: String,
    },
    /// No kubeconfig was given and none was found.
    #[error("no Kubernetes configuration (in-cluster, $KUBECONFIG or ~/.kube/config): {0}")]
    NoKubeconfig(String),
    /// The client cannot be built from the configuration.
    #[error("cannot build the Kubernetes client: {0}")]
    Client(String),
}

/// Runs the reporter until SIGTERM or SIGINT (see
/// [`controller::shutdown_signal`]).
pub fn run(opts: &ReporterOptions) -> Result<(), ReporterError> {
    let config = Config::read(&opts.config)?;
    let settings = ControllerSettings::from_config(&config)?;
    let publisher: Arc<dyn Publish> = match &opts.publish_log {
        Some((path, delay)) => Arc::new(PublishLog::open(path, *delay).map_err(|source| {
            ReporterError::PublishLog {
                path: path.clone(),
                source,
            }
        })?),
        None => Arc::new(
            Publisher::new(&config).map_err(|source| ReporterError::Publisher {
                config: opts.config.clone(),
                source,
            })?,
        ),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ReporterError::Runtime)?;
    runtime.block_on(async move {
        controller::install_crypto_provider();
        let client = client(opts.kubeconfig.as_deref()).await?;
        controller::run(client, settings, publisher, controller::shutdown_signal()).await?;
        Ok(())
    })
}

/// A client from `kubeconfig`, else from the environment (in-cluster,
/// `$KUBECONFIG`, `~/.kube/config`).
pub async fn client(kubeconfig: Option<&Path>) -> Result<kube::Client, ReporterError> {
    let config = match kubeconfig {
        Some(path) => {
            let bad = |e: kube::config::KubeconfigError| ReporterError::Kubeconfig {
                path: path.to_path_buf(),
                message: e.to_string(),
            };
            let kc = kube::config::Kubeconfig::read_from(path).map_err(bad)?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(bad)?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| ReporterError::NoKubeconfig(e.to_string()))?,
    };
    kube::Client::try_from(config).map_err(|e| ReporterError::Client(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_kubeconfig_is_named_and_its_cause_said_once() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let bad = dir.path().join("bad");
        std::fs::write(&bad, "clusters: [").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = |path: &Path| match rt.block_on(client(Some(path))) {
            Ok(_) => panic!("a client from {}", path.display()),
            Err(e) => e,
        };
        for path in [&missing, &bad] {
            let err = err(path);
            assert!(matches!(err, ReporterError::Kubeconfig { .. }), "{err:?}");
            let msg = err.to_string();
            assert!(msg.starts_with(&format!("cannot use the kubeconfig {}: ", path.display())));
            assert!(std::error::Error::source(&err).is_none());
        }
        let msg = err(&missing).to_string();
        assert_eq!(msg.matches("No such file").count(), 1, "{msg}");
    }
}
