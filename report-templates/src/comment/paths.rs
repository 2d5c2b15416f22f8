//! From repository-relative diff paths to profile names (import paths).

use std::collections::{HashMap, HashSet};

use covlens_core::Profile;

/// The module path of `./go.mod`, if there is one with a `module` line.
pub fn go_mod_module() -> Option<String> {
    std::fs::read_to_string("go.mod")
        .ok()
        .and_then(|s| covlens_core::module_path(&s))
}

/// Maps repository-relative diff paths to profile names: `module/path`
/// first; then Kubernetes' `staging/src/` and `vendor/` trees, whose
/// import paths are the rest of the path; then the path itself; then the
/// shortest profile name ending in `/path`.
#[derive(Debug)]
pub struct PathMap<'a> {
    module: Option<&'a str>,
    names: HashSet<&'a str>,
    by_base: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> PathMap<'a> {
    /// A map onto the file names of `profiles`; `module` is the import
    /// path of the repository root, when known.
    pub fn new(module: Option<&'a str>, profiles: &[&'a Profile]) -> PathMap<'a> {
        let mut names = HashSet::new();
        let mut by_base: HashMap<&str, Vec<&str>> = HashMap::new();
        for p in profiles {
            for f in p.files() {
                if names.insert(f.name()) {
                    let base = f.name().rsplit('/').next().unwrap_or(f.name());
                    by_base.entry(base).or_default().push(f.name());
                }
            }
        }
        PathMap {
            module,
            names,
            by_base,
        }
    }

    /// The profile name of diff path `path`, if any profile has it.
    pub fn map(&self, path: &str) -> Option<String> {
        if let Some(m) = self.module {
            let n = format!("{}/{path}", m.trim_end_matches('/'));
            if self.names.contains(n.as_str()) {
                return Some(n);
            }
        }
        for marker in ["staging/src/", "vendor/"] {
            if let Some(i) = path.find(marker)
                && (i == 0 || path[..i].ends_with('/'))
                && self.names.contains(&path[i + marker.len()..])
            {
                return Some(path[i + marker.len()..].to_string());
            }
        }
        if self.names.contains(path) {
            return Some(path.to_string());
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let suffix = format!("/{path}");
        self.by_base
            .get(base)?
            .iter()
            .filter(|n| n.ends_with(&suffix))
            .min_by_key(|n| n.len())
            .map(|n| n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_order() {
        let p = crate::test_profile(
            "mode: set\nk8s.io/api/core/v1/types.go:1.1,1.2 1 1\nk8s.io/kubernetes/pkg/a.go:1.1,1.2 1 1\nx.io/long/pkg/a.go:1.1,1.2 1 1\n",
        );
        let m = PathMap::new(Some("k8s.io/kubernetes"), &[&p]);
        assert_eq!(
            m.map("pkg/a.go").as_deref(),
            Some("k8s.io/kubernetes/pkg/a.go")
        );
        assert_eq!(
            m.map("staging/src/k8s.io/api/core/v1/types.go").as_deref(),
            Some("k8s.io/api/core/v1/types.go")
        );
        assert_eq!(m.map("README.md"), None);
        let m = PathMap::new(None, &[&p]);
        // The shortest name with the suffix.
        assert_eq!(m.map("pkg/a.go").as_deref(), Some("x.io/long/pkg/a.go"));
    }
}
