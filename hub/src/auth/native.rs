//! `native`, the default authenticator: accounts in the hub's database with argon2id
//! passwords, locked accounts refused, and the allow and admin rules of
//! `[NativeAuthenticator] allowed_groups` / `admin_groups` read from the hub's own groups.
//!
//! Every native account was made by an admin, so with no allow list configured every account
//! may log in. Once `[Authenticator] allowed_users` or `allowed_groups` is set, an account
//! must be on one of them or be an admin, as JupyterHub 5's `LocalAuthenticator` decides
//! (group *or* name); [`super::authenticator::admit`] applies the rest (blocked users,
//! `admin_users`).

use super::authenticator::{AuthError, Authenticated, Authenticator};
use super::passwords;
use crate::config::HubConfig;
use crate::store::{Store, User};

/// The native authenticator with its group rules, built once from the configuration.
#[derive(Debug, Clone, Default)]
pub struct NativeAuthenticator {
    rules: GroupRules,
    /// `allowed_users` or `allowed_groups` is set: existing accounts are not let in for
    /// existing alone.
    restricted: bool,
}

impl NativeAuthenticator {
    pub fn new(config: &HubConfig) -> NativeAuthenticator {
        let native = &config.native_authenticator;
        NativeAuthenticator {
            rules: GroupRules {
                allowed_groups: native.allowed_groups.clone(),
                admin_groups: native.admin_groups.clone(),
            },
            restricted: !native.allowed_groups.is_empty()
                || !config.authenticator.allowed_users.is_empty(),
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for NativeAuthenticator {
    async fn authenticate(
        &self,
        store: &dyn Store,
        username: &str,
        password: &str,
    ) -> Result<Option<Authenticated>, AuthError> {
        let Some(creds) = store.credentials(username).await? else {
            // Spend the same time as a real check, so timing does not reveal which names exist.
            passwords::verify(dummy_hash().await, password).await;
            return Ok(None);
        };
        let ok = match &creds.password_hash {
            Some(hash) => passwords::verify(hash, password).await,
            None => false,
        };
        if !ok {
            return Ok(None);
        }
        if creds.locked {
            return Err(AuthError::Locked(username.to_owned()));
        }
        let mut who = Authenticated::name(username);
        if self.rules.is_set() {
            // Deleted between the two reads: as if the password were wrong.
            let Some(user) = store.get_user(username).await? else {
                return Ok(None);
            };
            (who.admin, who.allowed) = self.rules.judge(&user);
        }
        Ok(Some(who))
    }

    fn creates_users(&self) -> bool {
        false
    }

    fn allows_existing_users(&self) -> bool {
        !self.restricted
    }
}

/// `allowed_groups` and `admin_groups` over the hub's groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRules {
    pub allowed_groups: Vec<String>,
    pub admin_groups: Vec<String>,
}

impl GroupRules {
    fn is_set(&self) -> bool {
        !self.allowed_groups.is_empty() || !self.admin_groups.is_empty()
    }

    /// What the rules say of `user` as stored: `(admin, allowed)` for [`Authenticated`].
    ///
    /// - `admin`: with `admin_groups` set, whether the user is in one of them (granted *or
    ///   revoked* at login); without, `None` (the stored flag stands).
    /// - `allowed`: in one of `allowed_groups`, or an admin: by `admin_groups`, or by the
    ///   stored flag when `admin_groups` does not decide it (an admin made through the API,
    ///   or the one the first start creates, is never locked out by an allow list).
    pub fn judge(&self, user: &User) -> (Option<bool>, bool) {
        let in_any = |groups: &[String]| user.groups.iter().any(|g| groups.contains(g));
        let admin = (!self.admin_groups.is_empty()).then(|| in_any(&self.admin_groups));
        let allowed = in_any(&self.allowed_groups) || admin.unwrap_or(user.admin);
        (admin, allowed)
    }
}

/// A hash of a random password, so refusing an unknown name costs as much as a wrong password.
async fn dummy_hash() -> &'static str {
    static HASH: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    HASH.get_or_init(|| async { passwords::hash(&ferrohub_shared::secret::random_hex(16)).await })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(admin: bool, groups: &[&str]) -> User {
        User {
            id: 1,
            name: "u".into(),
            admin,
            created: chrono::Utc::now(),
            last_activity: None,
            has_password: true,
            locked: false,
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            roles: Vec::new(),
            servers: Vec::new(),
        }
    }

    fn rules(allowed: &[&str], admin: &[&str]) -> GroupRules {
        let own = |v: &[&str]| v.iter().map(|g| (*g).to_owned()).collect();
        GroupRules {
            allowed_groups: own(allowed),
            admin_groups: own(admin),
        }
    }

    #[test]
    fn allowed_groups_let_members_in_and_only_them() {
        let r = rules(&["students"], &[]);
        assert_eq!(r.judge(&user(false, &["x", "students"])), (None, true));
        assert_eq!(r.judge(&user(false, &["x"])), (None, false));
        assert_eq!(r.judge(&user(false, &[])), (None, false));
    }

    #[test]
    fn admins_are_allowed_whatever_their_groups() {
        // The stored flag counts while admin_groups does not decide it.
        assert_eq!(
            rules(&["students"], &[]).judge(&user(true, &[])),
            (None, true)
        );
        // An admin_groups member is an admin and allowed.
        let r = rules(&["students"], &["staff"]);
        assert_eq!(r.judge(&user(false, &["staff"])), (Some(true), true));
    }

    #[test]
    fn admin_groups_grant_and_revoke() {
        let r = rules(&[], &["staff"]);
        assert_eq!(r.judge(&user(false, &["staff"])), (Some(true), true));
        // Stored as admin but in no admin group: revoked, and no longer allowed for it.
        assert_eq!(r.judge(&user(true, &["students"])), (Some(false), false));
        // Still allowed through allowed_groups.
        let r = rules(&["students"], &["staff"]);
        assert_eq!(r.judge(&user(true, &["students"])), (Some(false), true));
    }

    #[test]
    fn no_rules_decide_nothing() {
        let r = rules(&[], &[]);
        assert!(!r.is_set());
        assert_eq!(r.judge(&user(false, &["staff"])), (None, false));
    }
}
