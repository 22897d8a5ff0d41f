//! JupyterHub's scope vocabulary and its rules: parsing `read:users!user=alice`, expanding a
//! scope to the scopes it implies, intersecting a token's scopes with its owner's, and
//! deciding whether an expanded set grants a scope on a given user, server, group or service.
//!
//! The table below mirrors JupyterHub's `scopes.py`; a scope implies its subscopes
//! transitively (`admin:users` -> `users` -> `read:users` -> `read:users:name`).

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Every base scope JupyterHub defines, with its direct subscopes.
pub const SCOPE_TABLE: &[(&str, &[&str])] = &[
    ("(no_scope)", &[]),
    ("self", &[]),
    ("inherit", &[]),
    ("admin-ui", &[]),
    (
        "admin:users",
        &[
            "admin:auth_state",
            "users",
            "read:roles:users",
            "delete:users",
        ],
    ),
    ("admin:auth_state", &[]),
    ("users", &["read:users", "list:users", "users:activity"]),
    ("delete:users", &[]),
    ("list:users", &["read:users:name"]),
    (
        "read:users",
        &[
            "read:users:name",
            "read:users:groups",
            "read:users:activity",
        ],
    ),
    ("read:users:name", &[]),
    ("read:users:groups", &[]),
    ("read:users:activity", &[]),
    (
        "read:roles",
        &[
            "read:roles:users",
            "read:roles:groups",
            "read:roles:services",
        ],
    ),
    ("read:roles:users", &[]),
    ("read:roles:groups", &[]),
    ("read:roles:services", &[]),
    ("users:activity", &["read:users:activity"]),
    ("admin:servers", &["admin:server_state", "servers"]),
    ("admin:server_state", &[]),
    (
        "servers",
        &["read:servers", "start:servers", "delete:servers"],
    ),
    ("read:servers", &["read:users:name"]),
    ("start:servers", &[]),
    ("delete:servers", &[]),
    ("tokens", &["read:tokens"]),
    ("read:tokens", &[]),
    (
        "admin:groups",
        &["groups", "read:roles:groups", "delete:groups"],
    ),
    ("groups", &["read:groups", "list:groups"]),
    ("list:groups", &["read:groups:name"]),
    ("read:groups", &["read:groups:name"]),
    ("read:groups:name", &[]),
    ("delete:groups", &[]),
    (
        "admin:services",
        &["list:services", "read:services", "read:roles:services"],
    ),
    ("list:services", &["read:services:name"]),
    ("read:services", &["read:services:name"]),
    ("read:services:name", &[]),
    ("read:hub", &[]),
    ("access:servers", &[]),
    ("access:services", &[]),
    ("users:shares", &["read:users:shares"]),
    ("read:users:shares", &[]),
    ("groups:shares", &["read:groups:shares"]),
    ("read:groups:shares", &[]),
    ("read:shares", &[]),
    (
        "shares",
        &[
            "access:servers",
            "read:shares",
            "users:shares",
            "groups:shares",
        ],
    ),
    ("proxy", &[]),
    ("shutdown", &[]),
    ("read:metrics", &[]),
    // ferrohub's own: applications (app images), grants of them, and what a user may launch.
    (
        "admin:applications",
        &["read:applications", "read:users:applications"],
    ),
    ("read:applications", &[]),
    ("read:users:applications", &[]),
];

/// The scopes `self` stands for, each restricted to the user (`!user=NAME`).
const SELF_SCOPES: &[&str] = &[
    "read:users",
    "read:users:name",
    "read:users:groups",
    "users:activity",
    "read:users:activity",
    "servers",
    "start:servers",
    "delete:servers",
    "read:servers",
    "tokens",
    "read:tokens",
    "access:servers",
    "users:shares",
    "read:users:shares",
    "read:shares",
    "read:users:applications",
];

/// What a filtered scope is restricted to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Filter {
    User(String),
    /// `!user` with no name: the user who holds the scope (resolved when expanding, as
    /// JupyterHub does for roles such as `shares!user`).
    OwnUser,
    /// `user/server`; the default server is `user/`.
    Server(String, String),
    Group(String),
    Service(String),
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::User(u) => write!(f, "user={u}"),
            Filter::Server(u, s) => write!(f, "server={u}/{s}"),
            Filter::Group(g) => write!(f, "group={g}"),
            Filter::Service(s) => write!(f, "service={s}"),
            Filter::OwnUser => f.write_str("user"),
        }
    }
}

/// One scope as written: a base and an optional filter (`read:users!group=staff`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    pub base: String,
    pub filter: Option<Filter>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("unknown scope `{0}`")]
    Unknown(String),
    #[error("bad filter in scope `{0}`: expected !user=NAME, !server=USER/NAME, !group=NAME or !service=NAME")]
    BadFilter(String),
}

/// Whether `base` is defined (custom scopes `custom:NAME:...` are always allowed).
pub fn is_known(base: &str) -> bool {
    base.starts_with("custom:") || SCOPE_TABLE.iter().any(|(name, _)| *name == base)
}

fn subscopes(base: &str) -> &'static [&'static str] {
    SCOPE_TABLE
        .iter()
        .find(|(name, _)| *name == base)
        .map_or(&[], |(_, subs)| subs)
}

impl Scope {
    /// Parse `base` or `base!kind=value`; unknown bases and malformed filters are errors.
    pub fn parse(raw: &str) -> Result<Scope, ScopeError> {
        let (base, filter) = match raw.split_once('!') {
            None => (raw, None),
            Some((base, filter)) => {
                let bad = || ScopeError::BadFilter(raw.to_owned());
                if filter == "user" {
                    if !is_known(base) {
                        return Err(ScopeError::Unknown(raw.to_owned()));
                    }
                    return Ok(Scope {
                        base: base.to_owned(),
                        filter: Some(Filter::OwnUser),
                    });
                }
                let (kind, value) = filter.split_once('=').ok_or_else(bad)?;
                if value.is_empty() {
                    return Err(bad());
                }
                let filter = match kind {
                    "user" => Filter::User(value.to_owned()),
                    "group" => Filter::Group(value.to_owned()),
                    "service" => Filter::Service(value.to_owned()),
                    "server" => {
                        let (user, server) = value.split_once('/').ok_or_else(bad)?;
                        Filter::Server(user.to_owned(), server.to_owned())
                    }
                    _ => return Err(bad()),
                };
                (base, Some(filter))
            }
        };
        if !is_known(base) {
            return Err(ScopeError::Unknown(raw.to_owned()));
        }
        Ok(Scope {
            base: base.to_owned(),
            filter,
        })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.filter {
            None => f.write_str(&self.base),
            Some(filter) => write!(f, "{}!{filter}", self.base),
        }
    }
}

/// Who holds the scopes being expanded: it decides what `self` means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    User(String),
    Service(String),
}

/// How far a base scope reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every object.
    All,
    /// Only objects these filters match.
    Only(BTreeSet<Filter>),
}

/// A fully expanded set of scopes: each base scope held, and how far it reaches.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScopeSet(BTreeMap<String, Reach>);

/// What a scope is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// A user, with the groups it belongs to.
    User {
        name: &'a str,
        groups: &'a [String],
    },
    /// One of a user's servers.
    Server {
        user: &'a str,
        server: &'a str,
        groups: &'a [String],
    },
    Group(&'a str),
    Service(&'a str),
}

impl Filter {
    /// Whether this filter admits `target`.
    fn matches(&self, target: Target<'_>) -> bool {
        match (self, target) {
            (Filter::User(u), Target::User { name, .. }) => u == name,
            (Filter::User(u), Target::Server { user, .. }) => u == user,
            (Filter::Server(u, s), Target::Server { user, server, .. }) => u == user && s == server,
            (Filter::Group(g), Target::User { groups, .. } | Target::Server { groups, .. }) => {
                groups.iter().any(|x| x == g)
            }
            (Filter::Group(g), Target::Group(name)) => g == name,
            (Filter::Service(s), Target::Service(name)) => s == name,
            _ => false,
        }
    }

    /// Whether everything `self` admits is admitted by `other`. `groups_of` gives a user's
    /// groups, for `!user=x` within `!group=g`.
    fn within(&self, other: &Filter, groups_of: &dyn Fn(&str) -> Vec<String>) -> bool {
        match (self, other) {
            (a, b) if a == b => true,
            (Filter::Server(u, _), Filter::User(v)) => u == v,
            (Filter::User(u) | Filter::Server(u, _), Filter::Group(g)) => groups_of(u).contains(g),
            _ => false,
        }
    }
}

impl ScopeSet {
    /// Expand `scopes` held by `owner`: add every implied subscope, resolve `self` to the
    /// owner's own resources. `inherit` is resolved by the caller (it needs the owner's set).
    pub fn expand<'a>(scopes: impl IntoIterator<Item = &'a Scope>, owner: &Owner) -> ScopeSet {
        let mut set = ScopeSet::default();
        for scope in scopes {
            match (scope.base.as_str(), owner) {
                ("self", Owner::User(name)) => {
                    for base in SELF_SCOPES {
                        set.add_tree(base, Some(&Filter::User(name.clone())));
                    }
                }
                ("self" | "inherit", _) => {}
                (base, owner) if scope.filter == Some(Filter::OwnUser) => {
                    // Only a user has a "self" to filter on; for others the scope grants nothing.
                    if let Owner::User(name) = owner {
                        set.add_tree(base, Some(&Filter::User(name.clone())));
                    }
                }
                (base, _) => set.add_tree(base, scope.filter.as_ref()),
            }
        }
        set
    }

    fn add_tree(&mut self, base: &str, filter: Option<&Filter>) {
        self.add(base, filter);
        for sub in subscopes(base) {
            self.add_tree(sub, filter);
        }
    }

    fn add(&mut self, base: &str, filter: Option<&Filter>) {
        let reach = self
            .0
            .entry(base.to_owned())
            .or_insert_with(|| Reach::Only(BTreeSet::new()));
        match (reach, filter) {
            (Reach::All, _) => {}
            (reach, None) => *reach = Reach::All,
            (Reach::Only(filters), Some(f)) => {
                filters.insert(f.clone());
            }
        }
    }

    /// The scopes both sets grant: what a token may do is what it was given *and* what its
    /// owner may do now.
    pub fn intersect(&self, other: &ScopeSet, groups_of: &dyn Fn(&str) -> Vec<String>) -> ScopeSet {
        let mut out = BTreeMap::new();
        for (base, a) in &self.0 {
            let Some(b) = other.0.get(base) else { continue };
            let reach = match (a, b) {
                (Reach::All, r) | (r, Reach::All) => r.clone(),
                (Reach::Only(fa), Reach::Only(fb)) => {
                    let mut keep: BTreeSet<Filter> = fa
                        .iter()
                        .filter(|x| fb.iter().any(|y| x.within(y, groups_of)))
                        .cloned()
                        .collect();
                    keep.extend(
                        fb.iter()
                            .filter(|y| fa.iter().any(|x| y.within(x, groups_of)))
                            .cloned(),
                    );
                    if keep.is_empty() {
                        continue;
                    }
                    Reach::Only(keep)
                }
            };
            out.insert(base.clone(), reach);
        }
        ScopeSet(out)
    }

    /// Whether `base` is held at all (for any object).
    /// Whether this set grants everything `scope` does: the whole base for an unfiltered
    /// scope, else the base on the object its filter names (a user or server belonging to
    /// `groups`, for group filters). An unresolved `!user` grants nothing.
    pub fn holds(&self, scope: &Scope, groups: &[String]) -> bool {
        let base = scope.base.as_str();
        match &scope.filter {
            None => self.has_all(base),
            Some(Filter::User(name)) => self.allows(base, Target::User { name, groups }),
            Some(Filter::Server(user, server)) => self.allows(
                base,
                Target::Server {
                    user,
                    server,
                    groups,
                },
            ),
            Some(Filter::Group(g)) => self.allows(base, Target::Group(g)),
            Some(Filter::Service(s)) => self.allows(base, Target::Service(s)),
            Some(Filter::OwnUser) => false,
        }
    }

    pub fn has(&self, base: &str) -> bool {
        self.0.contains_key(base)
    }

    /// Whether `base` is held without restriction.
    pub fn has_all(&self, base: &str) -> bool {
        matches!(self.0.get(base), Some(Reach::All))
    }

    /// Whether `base` is held for `target`.
    pub fn allows(&self, base: &str, target: Target<'_>) -> bool {
        match self.0.get(base) {
            Some(Reach::All) => true,
            Some(Reach::Only(filters)) => filters.iter().any(|f| f.matches(target)),
            None => false,
        }
    }

    /// The reach of `base`, if held.
    pub fn reach(&self, base: &str) -> Option<&Reach> {
        self.0.get(base)
    }

    /// The set as JupyterHub lists it in `GET /hub/api/user`: `base` or `base!filter`, sorted.
    pub fn to_strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (base, reach) in &self.0 {
            match reach {
                Reach::All => out.push(base.clone()),
                Reach::Only(filters) => out.extend(filters.iter().map(|f| format!("{base}!{f}"))),
            }
        }
        out
    }
}

/// Parse a list of scope strings, failing on the first bad one.
pub fn parse_all<S: AsRef<str>>(raw: &[S]) -> Result<Vec<Scope>, ScopeError> {
    raw.iter().map(|s| Scope::parse(s.as_ref())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(scopes: &[&str], owner: &str) -> ScopeSet {
        ScopeSet::expand(&parse_all(scopes).unwrap(), &Owner::User(owner.into()))
    }

    fn no_groups(_: &str) -> Vec<String> {
        Vec::new()
    }

    #[test]
    fn parses_filters_and_refuses_unknown_scopes() {
        let s = Scope::parse("read:users!server=alice/lab").unwrap();
        assert_eq!(s.filter, Some(Filter::Server("alice".into(), "lab".into())));
        assert_eq!(s.to_string(), "read:users!server=alice/lab");
        assert!(Scope::parse("custom:myapp:read").is_ok());
        assert_eq!(
            Scope::parse("read:usrs"),
            Err(ScopeError::Unknown("read:usrs".into()))
        );
        assert!(matches!(
            Scope::parse("read:users!bogus=x"),
            Err(ScopeError::BadFilter(_))
        ));
        assert!(matches!(
            Scope::parse("read:users!server=alice"),
            Err(ScopeError::BadFilter(_))
        ));
        assert!(matches!(
            Scope::parse("read:users!user="),
            Err(ScopeError::BadFilter(_))
        ));
    }

    #[test]
    fn subscopes_are_implied_transitively() {
        let s = set(&["admin:users"], "root");
        for implied in [
            "users",
            "read:users",
            "list:users",
            "read:users:name",
            "users:activity",
            "delete:users",
            "admin:auth_state",
            "read:roles:users",
        ] {
            assert!(s.has_all(implied), "{implied}");
        }
        assert!(!s.has("servers"));
    }

    #[test]
    fn self_means_the_owners_own_resources() {
        let s = set(&["self"], "alice");
        let alice = Target::User {
            name: "alice",
            groups: &[],
        };
        let bob = Target::User {
            name: "bob",
            groups: &[],
        };
        assert!(s.allows("read:users", alice));
        assert!(!s.allows("read:users", bob));
        let lab = Target::Server {
            user: "alice",
            server: "lab",
            groups: &[],
        };
        assert!(s.allows("access:servers", lab));
        assert!(!s.has_all("read:users"));
        assert!(s.to_strings().contains(&"read:users!user=alice".to_owned()));
    }

    #[test]
    fn filters_match_their_targets() {
        let s = set(
            &["read:users!group=staff", "access:servers!server=bob/lab"],
            "x",
        );
        let staff = ["staff".to_owned()];
        assert!(s.allows(
            "read:users",
            Target::User {
                name: "carol",
                groups: &staff
            }
        ));
        assert!(!s.allows(
            "read:users",
            Target::User {
                name: "carol",
                groups: &[]
            }
        ));
        assert!(s.allows(
            "access:servers",
            Target::Server {
                user: "bob",
                server: "lab",
                groups: &[]
            }
        ));
        assert!(!s.allows(
            "access:servers",
            Target::Server {
                user: "bob",
                server: "",
                groups: &[]
            }
        ));
        assert!(!s.allows(
            "access:servers",
            Target::User {
                name: "bob",
                groups: &[]
            }
        ));
    }

    #[test]
    fn intersection_keeps_the_narrower_filter() {
        let owner = set(&["self"], "alice");
        let token = set(
            &[
                "read:users",
                "access:servers!server=alice/lab",
                "admin:users",
            ],
            "alice",
        );
        let both = token.intersect(&owner, &no_groups);
        assert_eq!(
            both.reach("read:users"),
            Some(&Reach::Only([Filter::User("alice".into())].into()))
        );
        assert_eq!(
            both.reach("access:servers"),
            Some(&Reach::Only(
                [Filter::Server("alice".into(), "lab".into())].into()
            ))
        );
        assert!(!both.has("delete:users"), "a token never exceeds its owner");
    }

    #[test]
    fn intersection_resolves_users_within_groups() {
        let owner = set(&["read:users!group=staff"], "x");
        let token = set(&["read:users!user=carol", "read:users!user=dan"], "x");
        let groups_of = |u: &str| {
            if u == "carol" {
                vec!["staff".to_owned()]
            } else {
                vec![]
            }
        };
        let both = token.intersect(&owner, &groups_of);
        assert_eq!(
            both.reach("read:users"),
            Some(&Reach::Only([Filter::User("carol".into())].into()))
        );
    }

    #[test]
    fn every_subscope_is_defined() {
        for (name, subs) in SCOPE_TABLE {
            for sub in *subs {
                assert!(is_known(sub), "{name} -> {sub}");
            }
        }
        for s in SELF_SCOPES {
            assert!(is_known(s), "{s}");
        }
    }
}

#[cfg(test)]
mod own_user_tests {
    use super::*;

    #[test]
    fn a_bare_user_filter_means_the_holder() {
        let scope = Scope::parse("shares!user").unwrap();
        assert_eq!(scope.to_string(), "shares!user");
        let set = ScopeSet::expand([&scope], &Owner::User("ann".into()));
        let own = Target::Server {
            user: "ann",
            server: "",
            groups: &[],
        };
        let other = Target::Server {
            user: "ben",
            server: "",
            groups: &[],
        };
        assert!(set.allows("shares", own));
        assert!(!set.allows("shares", other));
        let for_service = ScopeSet::expand([&scope], &Owner::Service("svc".into()));
        assert!(!for_service.has("shares"));
        assert!(set.holds(&Scope::parse("shares!server=ann/").unwrap(), &[]));
        assert!(!set.holds(&Scope::parse("shares").unwrap(), &[]));
    }
}
