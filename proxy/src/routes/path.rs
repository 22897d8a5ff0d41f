//! Request paths: dot-segment removal, percent-decoding for lookup, and the prefix arithmetic
//! behind `--no-include-prefix` and `--no-prepend-path`.
//!
//! configurable-http-proxy looks a request up by `decodeURIComponent(new URL(url).pathname)`
//! and forwards the WHATWG-normalised path. We do the same, in two steps that must agree:
//! [`normalize`] gives the path that is forwarded, [`lookup_segments`] the decoded segments
//! that are matched against the route table. Because both come from the same normalised
//! string, `..` (or `%2e%2e`, or `\..`) can never route a request to one prefix and deliver
//! it under another.

use std::borrow::Cow;

/// Why a request path cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("the path has a malformed percent-escape")]
    BadEscape,
    #[error("the path does not decode to UTF-8")]
    NotUtf8,
}

/// The WHATWG URL parser's path for an `http:` URL: `\` is a separator, `.` and `..` segments
/// (also spelled `%2e`, `.%2E`, ...) are resolved, `..` never climbs above the root. Empty
/// segments (`//`) are kept, as the URL parser keeps them. Most paths have nothing to
/// resolve and come back borrowed.
pub fn normalize(raw: &str) -> Cow<'_, str> {
    if !raw.starts_with(['/', '\\']) && !raw.is_empty() {
        // Not origin-form (e.g. `*` for OPTIONS): nothing to resolve, route it as `/<raw>`.
        return Cow::Owned(format!("/{raw}"));
    }
    let plain = |raw: &str| {
        !raw.contains('\\')
            && !raw[1..]
                .split('/')
                .any(|seg| is_single_dot(seg) || is_double_dot(seg))
    };
    if raw.starts_with('/') && plain(raw) {
        return Cow::Borrowed(raw);
    }
    let body = raw.get(1..).unwrap_or("");
    let mut out: Vec<&str> = Vec::new();
    let mut parts = body.split(['/', '\\']).peekable();
    while let Some(seg) = parts.next() {
        let last = parts.peek().is_none();
        if is_double_dot(seg) {
            out.pop();
            if last {
                // `/a/b/..` is `/a/`: the directory, so a trailing slash remains.
                out.push("");
            }
        } else if is_single_dot(seg) {
            if last {
                out.push("");
            }
        } else {
            out.push(seg);
        }
    }
    let mut path = String::with_capacity(raw.len() + 1);
    for seg in &out {
        path.push('/');
        path.push_str(seg);
    }
    if path.is_empty() {
        path.push('/');
    }
    Cow::Owned(path)
}

fn is_single_dot(seg: &str) -> bool {
    seg == "." || seg.eq_ignore_ascii_case("%2e")
}

fn is_double_dot(seg: &str) -> bool {
    ["..", ".%2e", "%2e.", "%2e%2e"]
        .iter()
        .any(|d| seg.eq_ignore_ascii_case(d))
}

/// Percent-decode `s` as JavaScript's `decodeURIComponent` does (no `+` for space).
pub fn percent_decode(s: &str) -> Result<Cow<'_, str>, PathError> {
    if !s.contains('%') {
        return Ok(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(PathError::BadEscape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| PathError::BadEscape)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| PathError::BadEscape)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| PathError::NotUtf8)
}

/// The segments a normalised path is looked up by, from its [`percent_decode`]d form: split
/// on `/`, with the leading and trailing slash ignored (CHP's `stringToPath`). An encoded
/// slash separates segments after decoding, as in CHP; inner empty segments stay and so match
/// no route.
pub fn lookup_segments(decoded: &str) -> Vec<&str> {
    let trimmed = decoded.trim_matches('/');
    if trimmed.is_empty() {
        return Vec::new();
    }
    trimmed.split('/').collect()
}

/// What is left of the normalised `path` once its first `depth` lookup segments (the matched
/// route's prefix) are removed: `/user/a/tree` less 2 is `/tree`, `/user/a` less 2 is ``.
/// Separators are counted the way [`lookup_segments`] counts them, so an encoded slash
/// (`%2F`) ends a segment here too.
pub fn strip_segments(path: &str, depth: usize) -> String {
    if depth == 0 {
        return path.to_owned();
    }
    let bytes = path.as_bytes();
    let mut seen = 0;
    let mut i = 0;
    // Skip the leading slash: it opens the first segment rather than closing one.
    if bytes.first() == Some(&b'/') {
        i = 1;
    }
    while i < bytes.len() {
        let sep_len = separator_len(&bytes[i..]);
        if sep_len > 0 {
            seen += 1;
            if seen == depth {
                return format!("/{}", &path[i + sep_len..]);
            }
            i += sep_len;
        } else {
            i += 1;
        }
    }
    String::new()
}

fn separator_len(rest: &[u8]) -> usize {
    match rest {
        [b'/', ..] => 1,
        [b'%', b'2', b'f' | b'F', ..] => 3,
        _ => 0,
    }
}

/// Join the target's path and the forwarded part of the request the way http-proxy does:
/// plain concatenation, with the slashes where they meet merged into one.
pub fn join(base: &str, rest: &str) -> String {
    match (base.ends_with('/'), rest.starts_with('/')) {
        _ if rest.is_empty() => base.to_owned(),
        _ if base.is_empty() => format!("/{}", rest.trim_start_matches('/')),
        (true, true) => format!("{base}{}", &rest[1..]),
        (false, false) => format!("{base}/{rest}"),
        _ => format!("{base}{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_resolve_like_the_url_parser() {
        for (raw, want) in [
            ("/", "/"),
            ("", "/"),
            ("/user/alice/", "/user/alice/"),
            ("/user/bob/../alice/x", "/user/alice/x"),
            ("/user/bob/%2e%2e/alice", "/user/alice"),
            ("/user/bob/.%2E/alice", "/user/alice"),
            ("/user/bob\\..\\alice", "/user/alice"),
            ("/../../etc/passwd", "/etc/passwd"),
            ("/a/./b/%2e/c", "/a/b/c"),
            ("/a/b/..", "/a/"),
            ("/a/b/.", "/a/b/"),
            ("/a//b", "/a//b"),
            ("/a/..b/c", "/a/..b/c"),
        ] {
            assert_eq!(normalize(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn lookup_segments_decode_like_decode_uri_component() {
        let segs = |p: &str| percent_decode(p).map(|d| lookup_segments(&d).join("|"));
        assert_eq!(segs("/").unwrap(), "");
        assert_eq!(segs("/user/a%20b/").unwrap(), "user|a b");
        assert_eq!(segs("/user/a%2Fb").unwrap(), "user|a|b");
        assert_eq!(segs("/a//b").unwrap(), "a||b");
        assert_eq!(segs("/x%zz"), Err(PathError::BadEscape));
        assert_eq!(segs("/x%"), Err(PathError::BadEscape));
        assert_eq!(segs("/x%ff"), Err(PathError::NotUtf8));
    }

    #[test]
    fn an_encoded_dot_dot_after_decoding_is_only_a_name() {
        // `%2F..%2F` survives normalisation (it is one segment) and decodes to a literal `..`
        // lookup segment; route specs never contain `..`, so lookup stops before it.
        let norm = normalize("/user/bob%2F..%2Falice");
        assert_eq!(norm, "/user/bob%2F..%2Falice");
        let decoded = percent_decode(&norm).unwrap();
        assert_eq!(lookup_segments(&decoded), ["user", "bob", "..", "alice"]);
    }

    #[test]
    fn prefix_stripping_counts_segments() {
        assert_eq!(strip_segments("/user/a/tree/x", 2), "/tree/x");
        assert_eq!(strip_segments("/user/a/", 2), "/");
        assert_eq!(strip_segments("/user/a", 2), "");
        assert_eq!(strip_segments("/user/a", 0), "/user/a");
        assert_eq!(strip_segments("/user/a%2Fb/c", 3), "/c");
        assert_eq!(strip_segments("/user/a%2fb", 2), "/b");
    }

    #[test]
    fn join_merges_slashes_only_where_parts_meet() {
        assert_eq!(join("/", "/user/a"), "/user/a");
        assert_eq!(join("/base", "/user/a"), "/base/user/a");
        assert_eq!(join("/base/", "/x"), "/base/x");
        assert_eq!(join("/base", ""), "/base");
        assert_eq!(join("/base", "x"), "/base/x");
        assert_eq!(join("", "x"), "/x");
        assert_eq!(join("/", "//x"), "//x");
    }
}
