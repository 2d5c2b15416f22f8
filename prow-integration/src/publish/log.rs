//! A [`Publish`] for tests and demos: each publish appends a
//! "NAME STATE" line to a file (the controller's cluster tests and the
//! demo count reports with it).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use super::{BoxFuture, FinishedJob, Outcome, Publish, PublishError};

/// Appends "NAME STATE\n" per publish, after a delay.
pub struct PublishLog {
    file: Mutex<File>,
    delay: Duration,
}

impl PublishLog {
    /// Opens (creates) `path` for appending; each publish first waits
    /// `delay`.
    pub fn open(path: &Path, delay: Duration) -> std::io::Result<PublishLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(PublishLog {
            file: Mutex::new(file),
            delay,
        })
    }
}

impl Publish for PublishLog {
    fn publish<'a>(&'a self, job: &'a FinishedJob) -> BoxFuture<'a, Result<Outcome, PublishError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            let line = format!("{} {}\n", job.name, job.state.as_str());
            // One write of a short line to a file opened for appending:
            // lines of concurrent reporters do not interleave.
            let mut f = self.file.lock().expect("publish log lock");
            f.write_all(line.as_bytes())
                .map_err(|e| PublishError::Transient(format!("publish log: {e}")))?;
            Ok(Outcome::Published(format!("recorded {}", line.trim_end())))
        })
    }
}
