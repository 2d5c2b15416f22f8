//! Runs the Go side (collector/go: covflush) through `go vet` and `go test`,
//! so `cargo test` covers it too.

mod common;

use std::path::Path;
use std::process::Command;

#[test]
#[ignore = "needs go"]
fn covflush_go_vet_and_test() {
    common::require_go();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
    for args in [&["vet", "./..."][..], &["test", "-count=1", "./..."][..]] {
        let out = Command::new("go")
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "go {}:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
