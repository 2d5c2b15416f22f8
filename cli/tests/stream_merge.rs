//! `covlens merge` of large profiles of one program (the streaming path)
//! against gopherage, byte for byte, and the inputs that must leave that
//! path (files in another order in one input, a block that differs, a
//! non-canonical number) still give gopherage's bytes or an error where
//! gopherage fails.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Output;

mod common;
use common::{covlens, require_gopherage};

/// A count-mode profile of `files` files x 40 blocks in the given file
/// order; counts vary with `seed`, the layout does not. About 2 MB for
/// 500 files, so that three of them take the streaming path (1 MiB).
fn profile(order: &[usize], seed: u64) -> String {
    let mut s = String::from("mode: count\n");
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for &f in order {
        let mut line = 3;
        for b in 0..40u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let count = if x.is_multiple_of(3) { 0 } else { x % 100_000 };
            let el = line + b % 4;
            writeln!(
                s,
                "k8s.io/kubernetes/pkg/sub{:03}/file{f:05}.go:{line}.{},{el}.{} {} {count}",
                f % 7,
                2 + b % 30,
                3 + b % 50,
                1 + b % 6
            )
            .unwrap();
            line = el + 1;
        }
    }
    s
}

fn run(cmd: &mut std::process::Command) -> Output {
    cmd.output().expect("the tool runs")
}

fn merge_both(dir: &Path, inputs: &[String]) -> (Output, Output) {
    let mut paths = Vec::new();
    for (i, text) in inputs.iter().enumerate() {
        let p = dir.join(format!("in{i}.out"));
        std::fs::write(&p, text).unwrap();
        paths.push(p);
    }
    let ours = run(covlens()
        .env("COVLENS_LOG", "covlens_core=debug")
        .arg("merge")
        .args(&paths));
    let theirs = run(std::process::Command::new(require_gopherage())
        .arg("merge")
        .args(&paths));
    (ours, theirs)
}

#[test]
#[ignore = "needs gopherage"]
fn streaming_merge_matches_gopherage() {
    let dir = tempfile::tempdir().unwrap();
    // Files in the generator's order (not sorted by name, as in many
    // concatenated profiles), the same in every input.
    let order: Vec<usize> = (0..500).map(|i| (i * 7) % 500).collect();
    let inputs: Vec<String> = (1..=3).map(|s| profile(&order, s)).collect();
    let (ours, theirs) = merge_both(dir.path(), &inputs);
    assert!(
        theirs.status.success(),
        "{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let log = String::from_utf8_lossy(&ours.stderr);
    assert!(log.contains("merged while reading"), "{log}");
    assert!(ours.stdout == theirs.stdout, "outputs differ");

    // One input lists its files in another order: the general path, same
    // bytes.
    let mut other = order.clone();
    other.reverse();
    let inputs = vec![profile(&order, 1), profile(&other, 2), profile(&order, 3)];
    let (ours, theirs) = merge_both(dir.path(), &inputs);
    let log = String::from_utf8_lossy(&ours.stderr);
    assert!(log.contains("general merge"), "{log}");
    assert!(ours.status.success() && theirs.status.success());
    assert!(ours.stdout == theirs.stdout, "outputs differ");

    // A number with a leading zero: same bytes as gopherage, which reads
    // it as Go does.
    let mut odd = profile(&order, 2);
    odd = odd.replacen(":3.2,", ":03.2,", 1);
    let inputs = vec![profile(&order, 1), odd, profile(&order, 3)];
    let (ours, theirs) = merge_both(dir.path(), &inputs);
    assert!(ours.status.success() && theirs.status.success());
    assert!(ours.stdout == theirs.stdout, "outputs differ");

    // A block that differs: both fail.
    let mut bad = profile(&order, 2);
    bad = bad.replacen(" 1 ", " 2 ", 1);
    let inputs = vec![profile(&order, 1), bad];
    let (ours, theirs) = merge_both(dir.path(), &inputs);
    assert!(!ours.status.success() && !theirs.status.success());
    assert!(ours.stdout.is_empty());
}
