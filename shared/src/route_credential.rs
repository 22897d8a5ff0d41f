//! Scoped route credentials: a token for the proxy API that allows reading, adding and
//! deleting routes under one prefix (e.g. `/user/alice/`) and nothing else, so a per-user
//! manager can register its own routes. Stateless: the proxy checks it with the
//! [`ProxyKey`] alone.
//!
//! Format: `fhroute.<prefix>.<signature>`, prefix and signature base64url without padding
//! (so it survives `Authorization: token ...`), the signature an HMAC-SHA256 under the key of
//! the purpose `route-credential` and the normalised prefix. A credential does not expire; it
//! stops working when the key changes (a new cookie secret).

use crate::proxy_key::ProxyKey;
use crate::routes::RouteSpec;
use crate::secret::Secret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

const TAG: &str = "fhroute";
const PURPOSE: &str = "route-credential";

/// A credential for routes under `prefix`.
pub fn mint(key: &ProxyKey, prefix: &RouteSpec) -> Secret {
    let p = prefix.as_str();
    Secret::new(format!(
        "{TAG}.{}.{}",
        URL_SAFE_NO_PAD.encode(p),
        URL_SAFE_NO_PAD.encode(key.mac(PURPOSE, p.as_bytes()))
    ))
}

/// The prefix a presented credential grants, if it is one and is signed with `key`.
pub fn verify(key: &ProxyKey, presented: &str) -> Option<RouteSpec> {
    let mut parts = presented.split('.');
    let (Some(TAG), Some(prefix), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let prefix = String::from_utf8(URL_SAFE_NO_PAD.decode(prefix).ok()?).ok()?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    if !key.verify(PURPOSE, prefix.as_bytes(), &signature) {
        return None;
    }
    // Minted prefixes are normalised; anything else was not minted here.
    RouteSpec::parse(&prefix)
        .ok()
        .filter(|s| s.as_str() == prefix)
}

/// Whether `spec` lies under `prefix`, segment by segment: `/user/alice` covers
/// `/user/alice` and `/user/alice/desktop`, not `/user/alicex` or `/user`.
pub fn covers(prefix: &RouteSpec, spec: &RouteSpec) -> bool {
    let mut inner = spec.segments();
    prefix.segments().all(|p| inner.next() == Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> RouteSpec {
        RouteSpec::parse(s).unwrap()
    }

    #[test]
    fn a_credential_names_its_prefix() {
        let key = ProxyKey::derive(b"k");
        let c = mint(&key, &spec("/user/alice/"));
        assert!(!c.expose().contains(char::is_whitespace));
        assert_eq!(verify(&key, c.expose()), Some(spec("/user/alice")));
    }

    #[test]
    fn forged_and_foreign_credentials_are_refused() {
        let key = ProxyKey::derive(b"k");
        let c = mint(&key, &spec("/user/alice/"));
        let c = c.expose();
        assert_eq!(verify(&ProxyKey::derive(b"j"), c), None, "another key");
        let sig = c.rsplit('.').next().unwrap();
        let widened = format!("{TAG}.{}.{sig}", URL_SAFE_NO_PAD.encode("/user"));
        assert_eq!(verify(&key, &widened), None, "another prefix");
        assert_eq!(verify(&key, &format!("{c}.x")), None);
        assert_eq!(verify(&key, &c.replacen(TAG, "other", 1)), None);
        assert_eq!(verify(&key, "token"), None);
        assert_eq!(verify(&key, ""), None);
    }

    #[test]
    fn prefixes_cover_by_segment() {
        let p = spec("/user/alice/");
        assert!(covers(&p, &spec("/user/alice")));
        assert!(covers(&p, &spec("/user/alice/desktop/")));
        assert!(!covers(&p, &spec("/user/alicex")));
        assert!(!covers(&p, &spec("/user")));
        assert!(!covers(&p, &spec("/")));
        assert!(covers(&spec("/"), &spec("/anything")));
    }
}
