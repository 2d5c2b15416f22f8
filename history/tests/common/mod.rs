//! Stores for the tests: a temporary SQLite file, or a fresh database on the
//! PostgreSQL server named by `COVLENS_TEST_POSTGRES` (started by
//! `scripts/postgres-testenv.sh`, which `scripts/test.sh` runs).

use std::sync::atomic::{AtomicUsize, Ordering};

/// A store location that lives as long as this value.
pub struct TestStore {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

pub fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("h.db").to_str().unwrap().to_string();
    TestStore {
        url,
        _dir: Some(dir),
    }
}

/// A new, empty database on the test server. Panics (the test fails) when
/// the server is not configured or not reachable: a test that needs
/// PostgreSQL never passes without it.
pub fn postgres() -> TestStore {
    static N: AtomicUsize = AtomicUsize::new(0);
    let admin = std::env::var("COVLENS_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "COVLENS_TEST_POSTGRES is not set: run scripts/test.sh, or \
             `scripts/postgres-testenv.sh start && eval \"$(scripts/postgres-testenv.sh env)\"` \
             (needs Debian's postgresql package)"
        )
    });
    let config: postgres::Config = admin.parse().expect("COVLENS_TEST_POSTGRES");
    let mut client = config
        .connect(postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL server {admin}: {e}"));
    let name = format!(
        "covlens_t{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = match admin.split_once('?') {
        Some((head, query)) => {
            let (scheme_host, _) = head.rsplit_once('/').unwrap();
            format!("{scheme_host}/{name}?{query}")
        }
        None => {
            let (scheme_host, _) = admin.rsplit_once('/').unwrap();
            format!("{scheme_host}/{name}")
        }
    };
    TestStore { url, _dir: None }
}
