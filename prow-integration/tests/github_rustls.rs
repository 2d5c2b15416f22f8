//! The rustls provider trap: the reporter installs ring's provider for
//! kube before anything else; the GitHub client must build and connect
//! with it. One test in its own binary, as the provider is process-wide.

use covlens_prow::github::fake::{FakeGitHub, FakeOptions};
use covlens_prow::github::{Client, ClientOptions, GitHub, GitHubError, TokenSource};
use rustls::crypto::CryptoProvider;

#[tokio::test]
async fn the_client_builds_and_connects_after_kube_style_ring_installation() {
    assert!(CryptoProvider::get_default().is_none());
    // What the reporter does first, as kube needs it.
    rustls::crypto::ring::default_provider()
        .install_default()
        .expect("nothing installed before");

    let fake = FakeGitHub::start(FakeOptions::default()).await.unwrap();
    let mut o = ClientOptions::new(TokenSource::Value("t".into()));
    o.api = fake.url();
    let c = Client::new(o).expect("client builds on ring");
    assert_eq!(c.current_user().await.unwrap().login, "covlens-bot");

    // The TLS path runs on the installed provider: a handshake against
    // the plain-HTTP fake fails as a transport error, it does not panic.
    let mut o = ClientOptions::new(TokenSource::Value("t".into()));
    o.api = fake.url().replace("http://", "https://");
    o.retry.max_attempts = 1;
    let err = Client::new(o).unwrap().current_user().await.unwrap_err();
    assert!(matches!(err, GitHubError::Transport { .. }), "{err:?}");

    // Still ring, still installed once: a second installation is refused.
    assert!(CryptoProvider::get_default().is_some());
    assert!(
        rustls::crypto::ring::default_provider()
            .install_default()
            .is_err()
    );
}
