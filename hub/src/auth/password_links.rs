//! One-time links that let a user set a password, in the manner of setpass: a random token in
//! the URL plus a 4-digit PIN handed over separately. Only hashes are stored.

use crate::store::{NewPasswordLink, Store, StoreError, User};
use chrono::{Duration, Utc};
use ferrohub_shared::secret::{random_hex, sha256_hex, Secret};
use rand::Rng;

/// A freshly issued link: the token and PIN exist only here, never in the database.
#[derive(Debug)]
pub struct IssuedLink {
    pub token: Secret,
    pub pin: Secret,
}

impl IssuedLink {
    /// The page where the user sets the password, under the public URL and base URL.
    pub fn url(&self, public_url: &url::Url, base_url: &str) -> String {
        format!(
            "{}{}hub/set-password?token={}",
            public_url.as_str().trim_end_matches('/'),
            base_url,
            self.token.expose()
        )
    }
}

/// The stored form of a PIN: bound to its token, so a leaked table cannot be brute-forced
/// without the 256-bit token.
pub fn pin_hash(token: &str, pin: &str) -> String {
    sha256_hex(format!("{token}:{pin}").as_bytes())
}

/// Issue a link for `user` valid for `lifetime_hours`.
pub async fn issue(
    store: &dyn Store,
    user: &User,
    lifetime_hours: u64,
) -> Result<IssuedLink, StoreError> {
    let token = random_hex(32);
    let pin = format!("{:04}", rand::rngs::OsRng.gen_range(0..10_000));
    let lifetime = Duration::hours(i64::try_from(lifetime_hours).unwrap_or(i64::MAX / 3_600_000));
    store
        .create_password_link(&NewPasswordLink {
            user_id: user.id,
            token_hash: sha256_hex(token.as_bytes()),
            pin_hash: pin_hash(&token, &pin),
            expires_at: Utc::now() + lifetime,
        })
        .await?;
    Ok(IssuedLink {
        token: Secret::new(token),
        pin: Secret::new(pin),
    })
}
