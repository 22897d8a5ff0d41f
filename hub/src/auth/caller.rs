//! Who is calling: the `Caller` extractor turns an API token into an identity with its
//! expanded scopes. Handlers check a scope against their target before anything else.

use super::{roles, session, tokens};
use crate::error::ApiError;
use crate::store::{Token, TokenOwner};
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use chrono::Utc;
use ferrohub_shared::scopes::{parse_all, Owner, ScopeSet, Target};
use std::collections::HashMap;

/// The authenticated entity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    User {
        name: String,
        admin: bool,
        groups: Vec<String>,
    },
    Service {
        name: String,
        admin: bool,
    },
}

/// An authenticated request: who, with which token, allowed to do what.
#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Identity,
    pub scopes: ScopeSet,
    pub token: Option<Token>,
}

/// Token activity is written at most this often per token, not on every request.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// The token in `Authorization: token X`, `Authorization: Bearer X`, or `?token=X`.
fn token_from(parts: &Parts) -> Option<String> {
    if let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.trim().split_once(' ')?;
        return (scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer"))
            .then(|| token.trim().to_owned());
    }
    let query = parts.uri.query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

impl Caller {
    /// 403 unless `base` is held for at least something; the message names what is needed.
    pub fn require_any(&self, base: &str) -> Result<(), ApiError> {
        self.require_any_of(&[base])
    }

    /// 403 if `base` is not held at all; 404 if held but not for `target`, so a caller learns
    /// nothing about objects outside its reach (as JupyterHub does).
    pub fn require(&self, base: &str, target: Target<'_>) -> Result<(), ApiError> {
        self.require_one_of(&[base], target)
    }

    /// As [`Caller::require_any`], for an endpoint that accepts any of `bases` (JupyterHub's
    /// `needs_scope(a, b, ...)`).
    pub fn require_any_of(&self, bases: &[&str]) -> Result<(), ApiError> {
        if bases.iter().any(|b| self.scopes.has(b)) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!(
                    "Action is not authorized with current scopes; requires any of [{}]",
                    bases.join(", ")
                ),
            ))
        }
    }

    /// As [`Caller::require`], for an endpoint that accepts any of `bases`.
    pub fn require_one_of(&self, bases: &[&str], target: Target<'_>) -> Result<(), ApiError> {
        self.require_any_of(bases)?;
        if bases.iter().any(|b| self.scopes.allows(b, target)) {
            Ok(())
        } else {
            Err(ApiError::not_found(
                "No access to resources or resources not found",
            ))
        }
    }

    /// Whether the user or service behind the request is an admin: the owner's flag, whatever
    /// the token's scopes (JupyterHub's `current_user.admin`).
    pub fn is_admin(&self) -> bool {
        match &self.identity {
            Identity::User { admin, .. } | Identity::Service { admin, .. } => *admin,
        }
    }

    /// 403 unless an admin calls: `admin:users` alone does not let a caller make admins or
    /// change them (JupyterHub's rule, so the scope cannot be used to escalate).
    pub fn require_admin_for(&self, what: &str) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("Only admins can {what}"),
            ))
        }
    }

    /// The name of the user or service.
    pub fn name(&self) -> &str {
        match &self.identity {
            Identity::User { name, .. } | Identity::Service { name, .. } => name,
        }
    }

    /// A user acting with everything it may do (a browser session).
    pub async fn for_user(state: &AppState, user: crate::store::User) -> Result<Caller, ApiError> {
        let scopes = roles::user_scopes(state.store.as_ref(), &user.name, user.admin).await?;
        Ok(Caller {
            identity: Identity::User {
                name: user.name,
                admin: user.admin,
                groups: user.groups,
            },
            scopes,
            token: None,
        })
    }

    /// Resolve a raw token into a caller; `None` when the token is unknown or expired.
    pub async fn from_token(state: &AppState, raw: &str) -> Result<Option<Caller>, ApiError> {
        let store = state.store.as_ref();
        let Some(token) = tokens::lookup(store, raw).await? else {
            return Ok(None);
        };
        let (identity, owner_scopes, owner) = match &token.owner {
            TokenOwner::User(name) => {
                // A locked account's tokens stop working with it (and work again on unlock).
                let Some(user) = store.get_user(name).await?.filter(|u| !u.locked) else {
                    return Ok(None);
                };
                let scopes = roles::user_scopes(store, &user.name, user.admin).await?;
                let identity = Identity::User {
                    name: user.name.clone(),
                    admin: user.admin,
                    groups: user.groups,
                };
                (identity, scopes, Owner::User(user.name))
            }
            TokenOwner::Service(name) => {
                let Some(service) = store.get_service(name).await? else {
                    return Ok(None);
                };
                let scopes = roles::service_scopes(store, &service.name, service.admin).await?;
                (
                    Identity::Service {
                        name: service.name.clone(),
                        admin: service.admin,
                    },
                    scopes,
                    Owner::Service(service.name),
                )
            }
        };
        let scopes = if token.scopes.iter().any(|s| s == "inherit") {
            owner_scopes
        } else {
            let granted = ScopeSet::expand(&parse_all(&token.scopes).unwrap_or_default(), &owner);
            let groups = groups_for_filters(state, &granted).await?;
            granted.intersect(&owner_scopes, &|u| {
                groups.get(u).cloned().unwrap_or_default()
            })
        };
        let now = Utc::now();
        if token
            .last_activity
            .is_none_or(|t| (now - t).num_seconds() >= TOUCH_INTERVAL_SECS)
        {
            store.touch_token(token.id, now).await?;
        }
        Ok(Some(Caller {
            identity,
            scopes,
            token: Some(token),
        }))
    }
}

/// The groups of every user a filter of `set` names, for intersections with group filters.
async fn groups_for_filters(
    state: &AppState,
    set: &ScopeSet,
) -> Result<HashMap<String, Vec<String>>, ApiError> {
    let mut names: Vec<String> = Vec::new();
    for s in set.to_strings() {
        if let Some((_, filter)) = s.split_once('!') {
            if let Some(u) = filter.strip_prefix("user=") {
                names.push(u.to_owned());
            } else if let Some(server) = filter.strip_prefix("server=") {
                names.extend(server.split('/').next().map(str::to_owned));
            }
        }
    }
    names.sort();
    names.dedup();
    let mut out = HashMap::new();
    for name in names {
        if let Some(user) = state.store.get_user(&name).await? {
            out.insert(name, user.groups);
        }
    }
    Ok(out)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forbidden = || ApiError::new(StatusCode::FORBIDDEN, "Missing or invalid credentials.");
        if let Some(raw) = token_from(parts) {
            return Caller::from_token(state, &raw).await?.ok_or_else(forbidden);
        }
        // A browser of the hub's own pages: its session cookie, with the XSRF token on every
        // request that changes something (a cookie alone is what a forged request carries).
        let Some(logged_in) = session::current(state, &parts.headers).await? else {
            return Err(forbidden());
        };
        if !parts.method.is_safe() {
            let sent = parts
                .headers
                .get("x-xsrftoken")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| {
                    let query = parts.uri.query()?;
                    url::form_urlencoded::parse(query.as_bytes())
                        .find(|(k, _)| k == "_xsrf")
                        .map(|(_, v)| v.into_owned())
                });
            if sent.as_deref() != Some(logged_in.xsrf.as_str()) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "'_xsrf' argument missing from POST: send the X-XSRFToken header with cookie-authenticated requests",
                ));
            }
        }
        Caller::for_user(state, logged_in.user).await
    }
}
