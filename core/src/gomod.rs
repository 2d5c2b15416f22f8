//! Just enough of `go.mod` and `go.work` to find package directories:
//! `module`, `go`, `require`, `replace` and `use`, in single-line or block
//! form, with `//` comments and quoted tokens.

// Without `funcs`, only the module path is read.
#![cfg_attr(not(feature = "funcs"), allow(dead_code))]

use std::cmp::Ordering;

/// The directives of one `go.mod` or `go.work` file that matter here.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ModFile {
    pub(crate) module: Option<String>,
    pub(crate) go: Option<String>,
    /// (module path, version).
    pub(crate) require: Vec<(String, String)>,
    pub(crate) replace: Vec<Replace>,
    /// Directories of a `go.work` file, as written.
    pub(crate) uses: Vec<String>,
}

/// `replace old [version] => new [version]`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Replace {
    pub(crate) old: String,
    pub(crate) old_version: Option<String>,
    pub(crate) new: String,
    pub(crate) new_version: Option<String>,
}

/// The module path a `go.mod` declares (`module example.com/m // note`,
/// quoted, or in a block), as the Go command reads it.
pub fn module_path(gomod: &str) -> Option<String> {
    ModFile::parse(gomod).module.filter(|m| !m.is_empty())
}

impl ModFile {
    /// Reads the directives it knows; anything else is skipped (the Go
    /// command reports real syntax errors long before coverage exists).
    pub(crate) fn parse(text: &str) -> ModFile {
        let mut m = ModFile::default();
        let mut block: Option<String> = None;
        for line in text.lines() {
            let toks = tokens(line);
            let Some(first) = toks.first() else { continue };
            match &block {
                Some(verb) => {
                    if first == ")" {
                        block = None;
                    } else {
                        let verb = verb.clone();
                        m.directive(&verb, &toks);
                    }
                }
                None => {
                    if toks.len() == 2 && toks[1] == "(" {
                        block = Some(first.clone());
                    } else {
                        m.directive(first, &toks[1..]);
                    }
                }
            }
        }
        m
    }

    fn directive(&mut self, verb: &str, args: &[String]) {
        match (verb, args) {
            ("module", [path, ..]) => self.module = Some(path.clone()),
            ("go", [v, ..]) => self.go = Some(v.clone()),
            ("require", [path, version, ..]) => self.require.push((path.clone(), version.clone())),
            ("use", [dir, ..]) => self.uses.push(dir.clone()),
            ("replace", _) => {
                let Some(arrow) = args.iter().position(|t| t == "=>") else {
                    return;
                };
                let (old, new) = (&args[..arrow], &args[arrow + 1..]);
                if let (Some(o), Some(n)) = (old.first(), new.first()) {
                    self.replace.push(Replace {
                        old: o.clone(),
                        old_version: old.get(1).cloned(),
                        new: n.clone(),
                        new_version: new.get(1).cloned(),
                    });
                }
            }
            _ => {}
        }
    }

    /// Whether the `go` directive is at least `1.minor`.
    pub(crate) fn go_at_least(&self, minor: u32) -> bool {
        let Some(v) = &self.go else { return false };
        let mut parts = v.split('.');
        let major: u32 = leading_number(parts.next().unwrap_or(""));
        let m: u32 = leading_number(parts.next().unwrap_or(""));
        major > 1 || (major == 1 && m >= minor)
    }
}

fn leading_number(s: &str) -> u32 {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    s[..end].parse().unwrap_or(0)
}

/// Splits one line into tokens: words, quoted strings (unquoted), `(`,
/// `)` and `=>`; stops at a `//` comment.
fn tokens(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        if rest.starts_with("//") {
            break;
        }
        let mut chars = rest.chars();
        let c = chars.next().unwrap_or(' ');
        let used = match c {
            '(' | ')' => {
                out.push(c.to_string());
                1
            }
            '=' if rest.starts_with("=>") => {
                out.push("=>".to_string());
                2
            }
            '`' => match rest[1..].find('`') {
                Some(i) => {
                    out.push(rest[1..1 + i].to_string());
                    i + 2
                }
                None => {
                    out.push(rest[1..].to_string());
                    rest.len()
                }
            },
            '"' => {
                let mut s = String::new();
                let mut end = rest.len();
                let mut escaped = false;
                for (i, ch) in rest.char_indices().skip(1) {
                    if escaped {
                        s.push(ch);
                        escaped = false;
                    } else if ch == '\\' {
                        escaped = true;
                    } else if ch == '"' {
                        end = i + 1;
                        break;
                    } else {
                        s.push(ch);
                    }
                }
                out.push(s);
                end
            }
            _ => {
                let end = rest
                    .char_indices()
                    .find(|&(i, ch)| {
                        ch.is_whitespace()
                            || matches!(ch, '(' | ')' | '"' | '`')
                            || rest[i..].starts_with("//")
                            || rest[i..].starts_with("=>")
                    })
                    .map_or(rest.len(), |(i, _)| i);
                out.push(rest[..end].to_string());
                end
            }
        };
        rest = rest[used..].trim_start();
    }
    out
}

/// The module cache's case encoding: `!` plus the lower-case letter for
/// every upper-case one (`github.com/BurntSushi` → `github.com/!burnt!sushi`).
pub(crate) fn escape_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a replacement names a directory rather than a module
/// (`modfile.IsDirectoryPath`).
pub(crate) fn is_dir_path(p: &str) -> bool {
    p == "."
        || p == ".."
        || p.starts_with("./")
        || p.starts_with("../")
        || p.starts_with('/')
        || p.starts_with(".\\")
        || p.starts_with("..\\")
}

/// Semantic version order, enough to pick the highest of several
/// `require` lines for one module (as minimal version selection does).
pub(crate) fn cmp_versions(a: &str, b: &str) -> Ordering {
    fn split(v: &str) -> (Vec<u64>, Option<&str>) {
        let v = v.strip_prefix('v').unwrap_or(v);
        let v = v.split('+').next().unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        (
            core.split('.').map(|n| n.parse().unwrap_or(0)).collect(),
            pre,
        )
    }
    fn cmp_pre(a: &str, b: &str) -> Ordering {
        let mut x = a.split('.');
        let mut y = b.split('.');
        loop {
            match (x.next(), y.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(p), Some(q)) => {
                    let o = match (p.parse::<u64>(), q.parse::<u64>()) {
                        (Ok(m), Ok(n)) => m.cmp(&n),
                        (Ok(_), Err(_)) => Ordering::Less,
                        (Err(_), Ok(_)) => Ordering::Greater,
                        (Err(_), Err(_)) => p.cmp(q),
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
            }
        }
    }
    let (ca, pa) = split(a);
    let (cb, pb) = split(b);
    ca.cmp(&cb).then_with(|| match (pa, pb) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(p), Some(q)) => cmp_pre(p, q),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The module path as the Go command reads it: a `//` comment after
    /// it (which made the ownership tree see no file of the module, so
    /// `--threshold-owner` checked nothing), quotes, a block.
    #[test]
    fn module_paths() {
        let m = |t: &str| module_path(t);
        assert_eq!(
            m("// c\nmodule k8s.io/kubernetes\n\ngo 1.22\n").as_deref(),
            Some("k8s.io/kubernetes")
        );
        assert_eq!(
            m("module example.com/m // the module\n").as_deref(),
            Some("example.com/m")
        );
        assert_eq!(
            m("module \"example.com/q\"\n").as_deref(),
            Some("example.com/q")
        );
        assert_eq!(
            m("module (\n\texample.com/b\n)\n").as_deref(),
            Some("example.com/b")
        );
        assert_eq!(m("modules x\n"), None);
        assert_eq!(m("go 1.22\n"), None);
    }

    #[test]
    fn parses_blocks_comments_and_quotes() {
        let m = ModFile::parse(
            "// comment\nmodule \"example.com/m\" // trailing\n\ngo 1.22.3\n\nrequire (\n\tgithub.com/BurntSushi/toml v1.3.2 // indirect\n\tgolang.org/x/text v0.14.0\n)\nrequire example.com/one v1.0.0\n\nreplace (\n\texample.com/one => ./one\n\tgolang.org/x/text v0.14.0 => example.com/fork/text v0.15.0\n)\nreplace `example.com/two`=>../two\nexclude example.com/bad v1.0.0\n",
        );
        assert_eq!(m.module.as_deref(), Some("example.com/m"));
        assert_eq!(m.go.as_deref(), Some("1.22.3"));
        assert!(m.go_at_least(14) && m.go_at_least(22) && !m.go_at_least(23));
        assert_eq!(
            m.require,
            vec![
                ("github.com/BurntSushi/toml".into(), "v1.3.2".into()),
                ("golang.org/x/text".into(), "v0.14.0".into()),
                ("example.com/one".into(), "v1.0.0".into()),
            ]
        );
        assert_eq!(
            m.replace,
            vec![
                Replace {
                    old: "example.com/one".into(),
                    old_version: None,
                    new: "./one".into(),
                    new_version: None
                },
                Replace {
                    old: "golang.org/x/text".into(),
                    old_version: Some("v0.14.0".into()),
                    new: "example.com/fork/text".into(),
                    new_version: Some("v0.15.0".into())
                },
                Replace {
                    old: "example.com/two".into(),
                    old_version: None,
                    new: "../two".into(),
                    new_version: None
                },
            ]
        );
        let w = ModFile::parse("go 1.23\n\nuse (\n\t./a\n\t\"./b c\"\n)\nuse ./d\n");
        assert_eq!(w.uses, vec!["./a", "./b c", "./d"]);
    }

    #[test]
    fn case_escaping_and_versions() {
        assert_eq!(
            escape_case("github.com/BurntSushi/toml"),
            "github.com/!burnt!sushi/toml"
        );
        assert_eq!(escape_case("v1.0.0-RC1"), "v1.0.0-!r!c1");
        assert_eq!(cmp_versions("v1.10.0", "v1.9.9"), Ordering::Greater);
        assert_eq!(cmp_versions("v1.0.0-rc.1", "v1.0.0"), Ordering::Less);
        assert_eq!(
            cmp_versions("v0.0.0-20240101000000-abc", "v0.0.0-20230101000000-def"),
            Ordering::Greater
        );
        assert_eq!(
            cmp_versions("v2.0.0+incompatible", "v2.0.0"),
            Ordering::Equal
        );
        assert!(is_dir_path("./x") && is_dir_path("/abs") && !is_dir_path("example.com/x"));
    }
}
