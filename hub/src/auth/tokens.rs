//! API tokens: minted random, stored as a SHA-256 hash, looked up by that hash.
//!
//! Tokens are 256-bit random values, so an unsalted hash is as strong as a salted one and lets
//! the database find a token by an indexed equality instead of checking every candidate.

use crate::store::{NewToken, Store, StoreError, Token, TokenOwner};
use chrono::{Duration, Utc};
use ferrohub_shared::secret::{random_hex, sha256_hex, Secret};

/// Characters of a token kept in clear, to tell tokens apart on the token page.
pub const PREFIX_LEN: usize = 4;

/// The stored form of a token.
pub fn hash_token(raw: &str) -> String {
    sha256_hex(raw.as_bytes())
}

/// What a new token is for.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub owner: TokenOwner,
    pub scopes: Vec<String>,
    pub note: String,
    pub expires_in: Option<u64>,
    pub session_id: Option<String>,
    pub oauth_client: Option<String>,
}

/// Mint a token: the secret is returned once and never stored.
pub async fn mint(store: &dyn Store, req: TokenRequest) -> Result<(Secret, Token), StoreError> {
    let raw = random_hex(32);
    let token = install(store, &raw, req).await?;
    Ok((Secret::new(raw), token))
}

/// Store a token whose value the caller chose (a service's `api_token` from the config).
pub async fn install(store: &dyn Store, raw: &str, req: TokenRequest) -> Result<Token, StoreError> {
    let expires_at = req
        .expires_in
        .map(|s| Utc::now() + Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000)));
    store
        .create_token(&NewToken {
            owner: req.owner,
            prefix: raw.chars().take(PREFIX_LEN).collect(),
            hashed: hash_token(raw),
            scopes: req.scopes,
            note: req.note,
            session_id: req.session_id,
            oauth_client: req.oauth_client,
            expires_at,
        })
        .await
}

/// The live token whose value is `raw`, if any (expired tokens are not live).
pub async fn lookup(store: &dyn Store, raw: &str) -> Result<Option<Token>, StoreError> {
    if raw.is_empty() || raw.len() > 4096 {
        return Ok(None);
    }
    let found = store.find_token(&hash_token(raw)).await?;
    Ok(found.filter(|t| !t.is_expired(Utc::now())))
}
