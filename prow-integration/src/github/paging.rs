//! GitHub's pagination: the `Link` header's `rel="next"`.

use url::Url;

/// The `rel="next"` target of a `Link` header value
/// (`<URL>; rel="next", <URL>; rel="last"`), if any.
pub(crate) fn next_link(header: &str) -> Option<&str> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_and_more = &after[close + 1..];
        // The parameters run up to the next link ("," then "<").
        let params = match params_and_more.find('<') {
            Some(i) => &params_and_more[..i],
            None => params_and_more,
        };
        if params.split(';').any(is_rel_next) {
            return Some(target.trim());
        }
        rest = params_and_more;
    }
    None
}

fn is_rel_next(param: &str) -> bool {
    let param = param.trim().trim_end_matches(',').trim();
    let Some((key, value)) = param.split_once('=') else {
        return false;
    };
    key.trim().eq_ignore_ascii_case("rel")
        && value
            .trim()
            .trim_matches('"')
            .split_ascii_whitespace()
            .any(|r| r.eq_ignore_ascii_case("next"))
}

/// Whether a pagination link may be followed with our token: the same
/// scheme, host and port as the API base, under its path (GitHub
/// Enterprise's `/api/v3`). Anything else could hand the token to
/// another server.
pub(crate) fn same_api(base: &Url, link: &Url) -> bool {
    let prefix = base.path().trim_end_matches('/');
    let under = link
        .path()
        .strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    link.scheme() == base.scheme()
        && link.host_str() == base.host_str()
        && link.port_or_known_default() == base.port_or_known_default()
        && under
        && link.username().is_empty()
        && link.password().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_among_the_links() {
        let h = r#"<https://api.github.com/repositories/1/issues/2/comments?page=2>; rel="next", <https://api.github.com/repositories/1/issues/2/comments?page=5>; rel="last""#;
        assert_eq!(
            next_link(h),
            Some("https://api.github.com/repositories/1/issues/2/comments?page=2")
        );
        let h = r#"<https://x/?page=1>; rel="prev", <https://x/?page=1>; rel="first""#;
        assert_eq!(next_link(h), None);
        // Order, spacing, unquoted and multi-valued rel.
        assert_eq!(
            next_link(r#"<https://x/?a=1,2>;rel=last,<https://x/?page=3> ; rel="prev next""#),
            Some("https://x/?page=3")
        );
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("<broken; rel=next"), None);
    }

    #[test]
    fn links_stay_on_the_api() {
        let base = Url::parse("https://ghe.example.com/api/v3").unwrap();
        let ok = |s: &str| same_api(&base, &Url::parse(s).unwrap());
        assert!(ok(
            "https://ghe.example.com/api/v3/repositories/1/issues/2/comments?page=2"
        ));
        assert!(ok("https://ghe.example.com:443/api/v3/x"));
        assert!(!ok("http://ghe.example.com/api/v3/x"));
        assert!(!ok("https://evil.example.com/api/v3/x"));
        assert!(!ok("https://ghe.example.com/other"));
        assert!(!ok("https://ghe.example.com/api/v3x/y"));
        assert!(!ok("https://u:p@ghe.example.com/api/v3/x"));
        let root = Url::parse("https://api.github.com/").unwrap();
        assert!(same_api(
            &root,
            &Url::parse("https://api.github.com/repositories/1/issues/2/comments?page=2").unwrap()
        ));
    }
}
