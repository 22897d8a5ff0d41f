//! Reading cookies from a request's `Cookie` headers, the same way in all three binaries.

/// A cookie's value among a request's `Cookie` header values (`a=1; b=2`); surrounding double
/// quotes are removed.
pub fn cookie_value<'a>(
    cookie_headers: impl IntoIterator<Item = &'a str>,
    name: &str,
) -> Option<&'a str> {
    cookie_headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let headers = ["a=1; ferrohub-proxy-session=p.s", "b=2; q=\"x\""];
        assert_eq!(cookie_value(headers, "ferrohub-proxy-session"), Some("p.s"));
        assert_eq!(cookie_value(headers, "b"), Some("2"));
        assert_eq!(cookie_value(headers, "q"), Some("x"));
        assert_eq!(cookie_value(headers, "c"), None);
    }
}
