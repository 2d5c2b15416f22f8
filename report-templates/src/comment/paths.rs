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
        // A name inside the module has its one repository path, which is
        // not `path` (`types.go` is not `pkg/types.go`).
        let inside = self.module.map(|m| format!("{}/", m.trim_end_matches('/')));
        self.by_base
            .get(base)?
            .iter()
            .filter(|n| !inside.as_deref().is_some_and(|m| n.starts_with(m)))
            .filter(|n| n.ends_with(&suffix))
            .min_by_key(|n| n.len())
            .map(|n| n.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_file_is_never_another_paths_suffix_match() {
        let p = crate::test_profile(
            "mode: set\nexample.com/m/pkg/types.go:1.1,1.2 1 0\nother.io/x/types.go:1.1,1.2 1 1\n",
        );
        let m = PathMap::new(Some("example.com/m"), &[&p]);
        // The root's types.go has no statements: it is in no profile.
        assert_eq!(m.map("types.go").as_deref(), Some("other.io/x/types.go"));
        assert_eq!(
            m.map("pkg/types.go").as_deref(),
            Some("example.com/m/pkg/types.go")
        );
        let p = crate::test_profile("mode: set\nexample.com/m/pkg/types.go:1.1,1.2 1 0\n");
        let m = PathMap::new(Some("example.com/m"), &[&p]);
        assert_eq!(m.map("types.go"), None);
        // A wrong module still maps through the suffix.
        let m = PathMap::new(Some("example.com/wrong"), &[&p]);
        assert_eq!(
            m.map("pkg/types.go").as_deref(),
            Some("example.com/m/pkg/types.go")
        );
    }

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
