//! The manifests in collector/deploy parse as YAML, and every covlens-collect
//! argument list in them is accepted by the real option parser.

mod common;

use std::path::Path;
use std::process::Command;

use clap::Parser;
use covlens_collector::CollectArgs;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: CollectArgs,
}

const EXTRACT: &str = r#"
import json, sys, yaml
out = []
def walk(x):
    if isinstance(x, dict):
        if x.get("command") and "covlens-collect" in x["command"][0]:
            out.append(x.get("args", []))
        for v in x.values():
            walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
for f in sys.argv[1:]:
    for doc in yaml.safe_load_all(open(f)):
        walk(doc)
print(json.dumps(out))
"#;

#[test]
#[ignore = "needs python3-yaml"]
fn manifests_parse_and_their_arguments_are_valid() {
    common::require_python_yaml();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let files = ["e2e-pod.yaml", "prow-job.yaml"].map(|f| dir.join(f));
    let out = Command::new("python3")
        .arg("-c")
        .arg(EXTRACT)
        .args(&files)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "manifests do not parse:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lists: Vec<Vec<String>> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        lists.len(),
        3,
        "covlens-collect containers found: {lists:?}"
    );
    for args in lists {
        let argv = std::iter::once("covlens-collect".to_string()).chain(args.iter().cloned());
        if let Err(e) = Cli::try_parse_from(argv) {
            panic!("{args:?}: {e}");
        }
    }
}
