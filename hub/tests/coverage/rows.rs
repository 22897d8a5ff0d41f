//! The inventory `api_coverage` walks: one row per method and path of `/hub/api`, with the
//! requests that show each case, and readers for the paths JupyterHub's OpenAPI document and
//! `routes.rs` declare, to check the rows against both.

use std::collections::BTreeSet;

/// What a caller needs to be let in.
pub enum Need {
    /// Nothing: the reason.
    Public(&'static str),
    /// Any valid token or login, no particular scope.
    Credentials,
    /// Any of these scopes.
    Scopes(&'static [&'static str]),
}

/// One request of a row and what it must answer. Paths are relative to `/hub/api`;
/// `{token_id}`, `{token}` and `{code_id}` are filled in from the fixture. Bodies are raw
/// text ("" for none).
pub enum Case {
    /// An admin's request succeeds with `status`.
    Ok {
        path: &'static str,
        body: &'static str,
        status: u16,
    },
    /// Refused with 403 without credentials, with an unknown token, and with a token holding
    /// every scope but the row's.
    Forbidden {
        path: &'static str,
        body: &'static str,
    },
    /// An admin's request about an object that does not exist.
    Unknown {
        path: &'static str,
        body: &'static str,
        status: u16,
    },
    /// An admin's malformed request: 400.
    Bad {
        path: &'static str,
        body: &'static str,
    },
    /// An admin's request for an object that exists already: 409.
    Conflict {
        path: &'static str,
        body: &'static str,
    },
    /// The case (`2xx`, `403`, `404`, `400`) does not apply, and why.
    Na {
        kind: &'static str,
        why: &'static str,
    },
    /// The case is covered by another test that has parts a router test cannot.
    Elsewhere {
        kind: &'static str,
        test: &'static str,
    },
}

impl Case {
    pub fn kind(&self) -> &'static str {
        match self {
            Case::Ok { .. } => "2xx",
            Case::Forbidden { .. } => "403",
            Case::Unknown { .. } => "404",
            Case::Bad { .. } => "400",
            Case::Conflict { .. } => "409",
            Case::Na { kind, .. } | Case::Elsewhere { kind, .. } => kind,
        }
    }
}

pub struct Row {
    pub method: &'static str,
    /// The path as JupyterHub's document spells it.
    pub route: &'static str,
    /// Whether JupyterHub's OpenAPI document has it (otherwise ferrohub's own or JupyterHub's
    /// undocumented).
    pub in_doc: bool,
    pub need: Need,
    pub cases: &'static [Case],
}

impl Row {
    /// The row as a line of the inventory table.
    pub fn markdown(&self) -> String {
        let scope = match self.need {
            Need::Public(why) => format!("none: {why}"),
            Need::Credentials => "credentials only".into(),
            Need::Scopes(s) => s.join(" "),
        };
        let cell = |kind: &str| -> String {
            match self.cases.iter().find(|c| c.kind() == kind) {
                Some(Case::Ok { status, .. } | Case::Unknown { status, .. }) => status.to_string(),
                Some(Case::Na { why, .. }) => format!("n/a: {why}"),
                Some(Case::Elsewhere { test, .. }) => format!("elsewhere: {test}"),
                Some(_) => kind.into(),
                None => "n/a".into(),
            }
        };
        let star = if self.in_doc { "" } else { " *" };
        format!(
            "| {} | {}{star} | {scope} | {} | {} | {} | {} | {} |",
            self.method,
            self.route,
            cell("2xx"),
            cell("403"),
            cell("404"),
            cell("400"),
            cell("409"),
        )
    }
}

/// A path's shape, parameters unnamed: `/users/{name}` -> `/users/{}`.
pub fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// `(METHOD, shape)` for every operation under `paths:` in an OpenAPI document laid out as
/// JupyterHub's is (paths at two spaces, methods at four).
pub fn openapi_operations(yaml: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut in_paths = false;
    let mut path = None;
    for line in yaml.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_paths = line.trim_end() == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = Some(format!("/{}", p.trim_end().trim_end_matches(':')));
        } else if let Some(m) = line.strip_prefix("    ") {
            let m = m.trim_end().trim_end_matches(':');
            if ["get", "post", "put", "patch", "delete"].contains(&m) {
                let p = path.as_deref().expect("a method under a path");
                out.insert((m.to_ascii_uppercase(), shape(p)));
            }
        }
    }
    out
}

/// `(METHOD, shape)` for every route of the API table in `routes.rs` (its `fn api`): each
/// `.route("path", get(..).post(..))`, with `format!` paths' `{suffix}` read as a server name.
pub fn routes_rs_operations(source: &str) -> BTreeSet<(String, String)> {
    let start = source.find("fn api()").expect("routes.rs has fn api()");
    let end = source[start..]
        .find("\npub fn ")
        .map_or(source.len(), |e| start + e);
    let api = &source[start..end];
    let mut out = BTreeSet::new();
    let mut rest = api;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        // The call's extent: up to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let mut len = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                len = i;
                break;
            }
        }
        let call = &rest[..len];
        let open = call.find('"').expect("a path literal");
        let close = open + 1 + call[open + 1..].find('"').expect("a closed literal");
        let path = call[open + 1..close]
            .replace("{suffix}", "{server_name}")
            .replace("{{", "{")
            .replace("}}", "}");
        let handlers = &call[close + 1..];
        for method in ["get", "post", "put", "patch", "delete"] {
            let needle = format!("{method}(");
            let found = handlers.match_indices(&needle).any(|(i, _)| {
                i == 0
                    || !handlers[..i]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if found {
                out.insert((method.to_ascii_uppercase(), shape(&path)));
            }
        }
        rest = &rest[len..];
    }
    out
}

const NOT_JSON: &str = "{\"admin\": tru";
const NO_BODY: Case = Case::Na {
    kind: "400",
    why: "no body",
};
const NO_INPUT: Case = Case::Na {
    kind: "400",
    why: "no input",
};
const NO_OBJECT: Case = Case::Na {
    kind: "404",
    why: "no object",
};
const CREATES: Case = Case::Na {
    kind: "404",
    why: "creates",
};
const SPAWNS: Case = Case::Elsewhere {
    kind: "2xx",
    test: "api_servers (spawns)",
};
const PROXY: Case = Case::Elsewhere {
    kind: "2xx",
    test: "e2e hub_proxy_api (a proxy)",
};
const ACTIVITY: &str = r#"{"last_activity": "2024-01-01T00:00:00Z", "servers": {"lab": {"last_activity": "2024-01-01T00:00:00Z"}}}"#;

macro_rules! row {
    ($method:literal $route:literal, $in_doc:expr, $need:expr, [$($case:expr),* $(,)?]) => {
        Row { method: $method, route: $route, in_doc: $in_doc, need: $need, cases: &[$($case),*] }
    };
}

const fn ok(path: &'static str, body: &'static str, status: u16) -> Case {
    Case::Ok { path, body, status }
}
const fn forbidden(path: &'static str, body: &'static str) -> Case {
    Case::Forbidden { path, body }
}
const fn unknown(path: &'static str, body: &'static str) -> Case {
    Case::Unknown {
        path,
        body,
        status: 404,
    }
}
const fn bad(path: &'static str, body: &'static str) -> Case {
    Case::Bad { path, body }
}
const fn conflict(path: &'static str, body: &'static str) -> Case {
    Case::Conflict { path, body }
}
const fn scopes(s: &'static [&'static str]) -> Need {
    Need::Scopes(s)
}

const OAUTH: &[Case] = &[
    Case::Elsewhere {
        kind: "2xx",
        test: "e2e hub_oauth_login",
    },
    Case::Na {
        kind: "403",
        why: "OAuth errors",
    },
    Case::Na {
        kind: "404",
        why: "OAuth errors",
    },
    Case::Na {
        kind: "400",
        why: "OAuth errors",
    },
];

pub const ROWS: &[Row] = &[
    row!("GET" "/", true, Need::Public("public"), [
        ok("/", "", 200), Case::Na { kind: "403", why: "public" }, NO_OBJECT,
        NO_INPUT,
    ]),
    row!("GET" "/info", true, scopes(&["read:hub"]), [
        ok("/info", "", 200), forbidden("/info", ""), NO_OBJECT, NO_INPUT,
    ]),
    row!("GET" "/user", true, Need::Credentials, [
        ok("/user", "", 200), forbidden("/user", ""),
        Case::Na { kind: "404", why: "the caller itself" }, NO_INPUT,
    ]),
    row!("GET" "/users", true, scopes(&["list:users"]), [
        ok("/users", "", 200), forbidden("/users", ""), NO_OBJECT,
        bad("/users?state=bogus", ""), bad("/users?offset=1.5", ""), bad("/users?limit=ten", ""),
    ]),
    row!("POST" "/users", true, scopes(&["admin:users"]), [
        ok("/users", r#"{"usernames": ["carol", "dave"]}"#, 201),
        forbidden("/users", r#"{"usernames": ["carol"]}"#), CREATES,
        bad("/users", NOT_JSON), bad("/users", ""), bad("/users", r#"{"usernames": "carol"}"#),
        bad("/users", r#"{"usernames": []}"#),
        bad("/users", r#"{"usernames": ["carol"], "bogus": 1}"#),
        bad("/users", r#"{"usernames": ["carol"], "admin": "yes"}"#),
        bad("/users", r#"{"usernames": ["carol", "a/b"]}"#),
        conflict("/users", r#"{"usernames": ["alice", "bob"]}"#),
    ]),
    row!("GET" "/users/{name}", true, scopes(&["read:users", "read:users:name", "read:servers", "read:users:groups", "read:users:activity", "read:roles:users"]), [
        ok("/users/alice", "", 200), forbidden("/users/alice", ""), unknown("/users/ghost", ""),
        NO_INPUT,
    ]),
    row!("POST" "/users/{name}", true, scopes(&["admin:users"]), [
        ok("/users/carol", r#"{"admin": false}"#, 201), forbidden("/users/carol", ""), CREATES,
        bad("/users/carol", NOT_JSON), bad("/users/carol", r#"{"admin": "yes"}"#),
        bad("/users/carol", r#"{"bogus": 1}"#), bad("/users/carol", "[1]"),
        bad("/users/a%2Fb", ""),
        conflict("/users/alice", ""),
    ]),
    row!("PATCH" "/users/{name}", true, scopes(&["admin:users"]), [
        ok("/users/bob", r#"{"name": "robert", "admin": true}"#, 200),
        forbidden("/users/bob", r#"{"admin": true}"#),
        unknown("/users/ghost", r#"{"admin": true}"#),
        bad("/users/bob", NOT_JSON), bad("/users/bob", ""), bad("/users/bob", r#"{"admin": "yes"}"#),
        bad("/users/bob", r#"{"bogus": 1}"#), bad("/users/bob", r#"{"name": "a/b"}"#),
        bad("/users/bob", r#"{"name": "alice"}"#),
    ]),
    row!("DELETE" "/users/{name}", true, scopes(&["delete:users"]), [
        ok("/users/bob", "", 204), forbidden("/users/bob", ""), unknown("/users/ghost", ""),
        NO_BODY,
    ]),
    row!("POST" "/users/{name}/activity", true, scopes(&["users:activity"]), [
        ok("/users/alice/activity", ACTIVITY, 200), forbidden("/users/alice/activity", ACTIVITY),
        unknown("/users/ghost/activity", ACTIVITY),
        bad("/users/alice/activity", NOT_JSON), bad("/users/alice/activity", ""),
        bad("/users/alice/activity", "[1]"),
        bad("/users/alice/activity", r#"{"last_activity": 5}"#),
        bad("/users/alice/activity", r#"{"last_activity": "yesterday"}"#),
        bad("/users/alice/activity", r#"{"last_activity": "2024-01-01T00:00:00Z", "bogus": 1}"#),
        bad("/users/alice/activity", r#"{"servers": {"nosuch": {"last_activity": "2024-01-01T00:00:00Z"}}}"#),
        bad("/users/alice/activity", r#"{"last_activity": "2024-01-01T00:00:00Z", "servers": {"lab": {"last_activity": "never"}}}"#),
    ]),
    row!("POST" "/users/{name}/password-link", false, scopes(&["admin:users"]), [
        ok("/users/alice/password-link", "", 201), forbidden("/users/alice/password-link", ""),
        unknown("/users/ghost/password-link", ""), NO_BODY,
    ]),
    row!("POST" "/users/{name}/server", true, scopes(&["start:servers"]), [
        SPAWNS, forbidden("/users/alice/server", ""), unknown("/users/ghost/server", ""),
        bad("/users/alice/server", NOT_JSON), bad("/users/alice/server", "[1]"),
        bad("/users/alice/server", r#"{"user_options": 5}"#),
    ]),
    row!("DELETE" "/users/{name}/server", true, scopes(&["delete:servers"]), [
        ok("/users/alice/server", "", 204), forbidden("/users/alice/server", ""),
        unknown("/users/ghost/server", ""),
        bad("/users/alice/server", NOT_JSON), bad("/users/alice/server", r#"{"remove": true}"#),
        bad("/users/alice/server", r#"{"remove": "yes"}"#),
        bad("/users/alice/server", r#"{"bogus": 1}"#),
    ]),
    row!("GET" "/users/{name}/server/progress", false, scopes(&["read:servers"]), [
        SPAWNS, forbidden("/users/alice/server/progress", ""),
        unknown("/users/ghost/server/progress", ""), NO_INPUT,
    ]),
    row!("GET" "/users/{name}/servers/{server_name}", true, scopes(&["read:servers"]), [
        ok("/users/alice/servers/lab", "", 200), forbidden("/users/alice/servers/lab", ""),
        unknown("/users/alice/servers/nosuch", ""), unknown("/users/ghost/servers/lab", ""),
        NO_INPUT,
    ]),
    row!("PUT" "/users/{name}/servers/{server_name}", true, scopes(&["start:servers"]), [
        ok("/users/alice/servers/new", r#"{"display_name": "New"}"#, 201),
        forbidden("/users/alice/servers/new", ""), unknown("/users/ghost/servers/new", ""),
        bad("/users/alice/servers/new", NOT_JSON), bad("/users/alice/servers/new", "[1]"),
        bad("/users/alice/servers/new", r#"{"display_name": 5}"#),
        bad("/users/alice/servers/new", r#"{"user_options": 5}"#),
        bad("/users/alice/servers/a%20b", ""),
        conflict("/users/alice/servers/lab", ""),
    ]),
    row!("POST" "/users/{name}/servers/{server_name}", true, scopes(&["start:servers"]), [
        SPAWNS, forbidden("/users/alice/servers/lab", ""), unknown("/users/ghost/servers/lab", ""),
        bad("/users/alice/servers/lab", NOT_JSON), bad("/users/alice/servers/lab", "[1]"),
        bad("/users/alice/servers/lab", r#"{"display_name": 5}"#),
        bad("/users/alice/servers/a%20b", ""),
    ]),
    row!("PATCH" "/users/{name}/servers/{server_name}", true, scopes(&["start:servers"]), [
        ok("/users/alice/servers/lab", r#"{"display_name": "Lab"}"#, 200),
        forbidden("/users/alice/servers/lab", r#"{"display_name": "Lab"}"#),
        unknown("/users/alice/servers/nosuch", r#"{"display_name": "Lab"}"#),
        unknown("/users/ghost/servers/lab", r#"{"display_name": "Lab"}"#),
        bad("/users/alice/servers/lab", NOT_JSON), bad("/users/alice/servers/lab", "{}"),
        bad("/users/alice/servers/lab", r#"{"display_name": 5}"#),
        bad("/users/alice/servers/lab", r#"{"user_options": [1]}"#),
        bad("/users/alice/servers/lab", r#"{"bogus": 1}"#),
        bad("/users/alice/servers/lab", r#"{"name": "a b"}"#),
        conflict("/users/alice/servers/lab", r#"{"name": "spare"}"#),
    ]),
    row!("DELETE" "/users/{name}/servers/{server_name}", true, scopes(&["delete:servers"]), [
        ok("/users/alice/servers/lab", r#"{"remove": true}"#, 204),
        forbidden("/users/alice/servers/lab", ""), unknown("/users/alice/servers/nosuch", ""),
        unknown("/users/ghost/servers/lab", ""),
        bad("/users/alice/servers/lab", NOT_JSON),
        bad("/users/alice/servers/lab", r#"{"remove": "yes"}"#),
        bad("/users/alice/servers/lab", r#"{"bogus": 1}"#),
    ]),
    row!("GET" "/users/{name}/servers/{server_name}/progress", false, scopes(&["read:servers"]), [
        SPAWNS, forbidden("/users/alice/servers/lab/progress", ""),
        unknown("/users/alice/servers/nosuch/progress", ""), NO_INPUT,
    ]),
    row!("GET" "/users/{name}/shared", true, scopes(&["read:users:shares"]), [
        ok("/users/bob/shared", "", 200), forbidden("/users/bob/shared", ""),
        unknown("/users/ghost/shared", ""), bad("/users/bob/shared?offset=x", ""),
    ]),
    row!("GET" "/users/{name}/shared/{owner}/{server_name}", true, scopes(&["read:users:shares"]), [
        ok("/users/bob/shared/alice/lab", "", 200), forbidden("/users/bob/shared/alice/lab", ""),
        unknown("/users/bob/shared/alice/nosuch", ""), unknown("/users/ghost/shared/alice/lab", ""),
        NO_INPUT,
    ]),
    row!("DELETE" "/users/{name}/shared/{owner}/{server_name}", true, scopes(&["users:shares"]), [
        ok("/users/bob/shared/alice/lab", "", 204), forbidden("/users/bob/shared/alice/lab", ""),
        unknown("/users/bob/shared/alice/nosuch", ""), NO_BODY,
    ]),
    row!("GET" "/users/{name}/tokens", true, scopes(&["read:tokens"]), [
        ok("/users/alice/tokens", "", 200), forbidden("/users/alice/tokens", ""),
        unknown("/users/ghost/tokens", ""), NO_INPUT,
    ]),
    row!("POST" "/users/{name}/tokens", true, scopes(&["tokens"]), [
        ok("/users/alice/tokens", r#"{"note": "n", "expires_in": 3600, "scopes": ["read:users!user=alice"]}"#, 201),
        forbidden("/users/alice/tokens", ""),
        // JupyterHub: "User ghost not found or no permissions to generate tokens".
        Case::Unknown { path: "/users/ghost/tokens", body: "", status: 403 },
        bad("/users/alice/tokens", NOT_JSON), bad("/users/alice/tokens", "[1]"),
        bad("/users/alice/tokens", r#"{"expires_in": "soon"}"#),
        bad("/users/alice/tokens", r#"{"scopes": "read:users"}"#),
        bad("/users/alice/tokens", r#"{"scopes": ["no:such"]}"#),
        bad("/users/alice/tokens", r#"{"bogus": 1}"#),
    ]),
    row!("GET" "/users/{name}/tokens/{token_id}", true, scopes(&["read:tokens"]), [
        ok("/users/alice/tokens/{token_id}", "", 200), forbidden("/users/alice/tokens/{token_id}", ""),
        unknown("/users/alice/tokens/a999999", ""), unknown("/users/alice/tokens/nonsense", ""),
        unknown("/users/bob/tokens/{token_id}", ""), unknown("/users/ghost/tokens/{token_id}", ""),
        NO_INPUT,
    ]),
    row!("DELETE" "/users/{name}/tokens/{token_id}", true, scopes(&["tokens"]), [
        ok("/users/alice/tokens/{token_id}", "", 204), forbidden("/users/alice/tokens/{token_id}", ""),
        unknown("/users/alice/tokens/a999999", ""), unknown("/users/alice/tokens/nonsense", ""),
        unknown("/users/bob/tokens/{token_id}", ""), unknown("/users/ghost/tokens/{token_id}", ""),
        NO_BODY,
    ]),
    row!("GET" "/groups", true, scopes(&["list:groups"]), [
        ok("/groups", "", 200), forbidden("/groups", ""), NO_OBJECT, bad("/groups?limit=x", ""),
    ]),
    row!("POST" "/groups", false, scopes(&["admin:groups"]), [
        ok("/groups", r#"{"groups": ["g1", "g2"], "users": ["bob"]}"#, 201), forbidden("/groups", r#"{"groups": ["g1"]}"#),
        CREATES,
        bad("/groups", NOT_JSON), bad("/groups", ""), bad("/groups", r#"{"groups": "g1"}"#),
        bad("/groups", r#"{"groups": []}"#), bad("/groups", r#"{"groups": ["g1"], "bogus": 1}"#),
        bad("/groups", r#"{"groups": ["g1", "a/b"]}"#),
        bad("/groups", r#"{"groups": ["g1"], "users": ["bob", "ghost"]}"#),
        conflict("/groups", r#"{"groups": ["g1", "staff"]}"#),
    ]),
    row!("GET" "/groups/{name}", true, scopes(&["read:groups", "read:groups:name", "read:roles:groups"]), [
        ok("/groups/staff", "", 200), forbidden("/groups/staff", ""), unknown("/groups/ghost", ""),
        NO_INPUT,
    ]),
    row!("POST" "/groups/{name}", true, scopes(&["admin:groups"]), [
        ok("/groups/new", r#"{"users": ["bob"]}"#, 201), forbidden("/groups/new", ""), CREATES,
        bad("/groups/new", NOT_JSON), bad("/groups/new", r#"{"users": "bob"}"#),
        bad("/groups/new", r#"{"users": ["bob", "ghost"]}"#), bad("/groups/new", r#"{"bogus": 1}"#),
        bad("/groups/a%2Fb", ""),
        conflict("/groups/staff", ""),
    ]),
    row!("DELETE" "/groups/{name}", true, scopes(&["delete:groups"]), [
        ok("/groups/staff", "", 204), forbidden("/groups/staff", ""), unknown("/groups/ghost", ""),
        NO_BODY,
    ]),
    row!("GET" "/groups/{name}/shared", true, scopes(&["read:groups:shares"]), [
        ok("/groups/staff/shared", "", 200), forbidden("/groups/staff/shared", ""),
        unknown("/groups/ghost/shared", ""), bad("/groups/staff/shared?offset=x", ""),
    ]),
    row!("GET" "/groups/{name}/shared/{owner}/{server_name}", true, scopes(&["read:groups:shares"]), [
        ok("/groups/staff/shared/alice/lab", "", 200), forbidden("/groups/staff/shared/alice/lab", ""),
        unknown("/groups/staff/shared/alice/nosuch", ""), unknown("/groups/ghost/shared/alice/lab", ""),
        NO_INPUT,
    ]),
    row!("DELETE" "/groups/{name}/shared/{owner}/{server_name}", true, scopes(&["groups:shares"]), [
        ok("/groups/staff/shared/alice/lab", "", 204), forbidden("/groups/staff/shared/alice/lab", ""),
        unknown("/groups/staff/shared/alice/nosuch", ""), unknown("/groups/ghost/shared/alice/lab", ""),
        NO_BODY,
    ]),
    row!("POST" "/groups/{name}/users", true, scopes(&["groups"]), [
        ok("/groups/staff/users", r#"{"users": ["bob"]}"#, 200),
        forbidden("/groups/staff/users", r#"{"users": ["bob"]}"#),
        unknown("/groups/ghost/users", r#"{"users": ["bob"]}"#),
        bad("/groups/staff/users", NOT_JSON), bad("/groups/staff/users", ""),
        bad("/groups/staff/users", "{}"), bad("/groups/staff/users", r#"{"users": "bob"}"#),
        bad("/groups/staff/users", r#"{"users": ["bob", "ghost"]}"#),
        bad("/groups/staff/users", r#"{"users": ["bob"], "bogus": 1}"#),
    ]),
    row!("DELETE" "/groups/{name}/users", true, scopes(&["groups"]), [
        ok("/groups/staff/users", r#"{"users": ["alice"]}"#, 200),
        forbidden("/groups/staff/users", r#"{"users": ["alice"]}"#),
        unknown("/groups/ghost/users", r#"{"users": ["alice"]}"#),
        bad("/groups/staff/users", NOT_JSON), bad("/groups/staff/users", ""),
        bad("/groups/staff/users", "{}"), bad("/groups/staff/users", r#"{"users": "alice"}"#),
        bad("/groups/staff/users", r#"{"users": ["alice", "ghost"]}"#),
    ]),
    row!("PUT" "/groups/{name}/properties", true, scopes(&["groups"]), [
        ok("/groups/staff/properties", r#"{"k": "v"}"#, 200),
        forbidden("/groups/staff/properties", r#"{"k": "v"}"#),
        unknown("/groups/ghost/properties", r#"{"k": "v"}"#),
        bad("/groups/staff/properties", NOT_JSON), bad("/groups/staff/properties", ""),
        bad("/groups/staff/properties", "[1]"), bad("/groups/staff/properties", "5"),
    ]),
    row!("GET" "/shares/{owner}", true, scopes(&["read:shares"]), [
        ok("/shares/alice", "", 200), forbidden("/shares/alice", ""), unknown("/shares/ghost", ""),
        bad("/shares/alice?limit=x", ""),
    ]),
    row!("GET" "/shares/{owner}/{server_name}", true, scopes(&["read:shares"]), [
        ok("/shares/alice/lab", "", 200), forbidden("/shares/alice/lab", ""),
        unknown("/shares/alice/nosuch", ""), unknown("/shares/ghost/lab", ""),
        bad("/shares/alice/lab?offset=x", ""),
    ]),
    row!("POST" "/shares/{owner}/{server_name}", true, scopes(&["shares"]), [
        ok("/shares/alice/lab", r#"{"user": "bob", "scopes": ["read:servers"]}"#, 200),
        forbidden("/shares/alice/lab", r#"{"user": "bob"}"#),
        unknown("/shares/alice/nosuch", r#"{"user": "bob"}"#),
        unknown("/shares/ghost/lab", r#"{"user": "bob"}"#),
        bad("/shares/alice/lab", NOT_JSON), bad("/shares/alice/lab", ""),
        bad("/shares/alice/lab", "{}"), bad("/shares/alice/lab", r#"{"user": 5}"#),
        bad("/shares/alice/lab", r#"{"user": "ghost"}"#),
        bad("/shares/alice/lab", r#"{"group": "ghost"}"#),
        bad("/shares/alice/lab", r#"{"user": "bob", "group": "staff"}"#),
        bad("/shares/alice/lab", r#"{"user": "bob", "scopes": ["no:such"]}"#),
        bad("/shares/alice/lab", r#"{"user": "bob", "scopes": ["read:servers!user=bob"]}"#),
        bad("/shares/alice/lab", r#"{"user": "bob", "bogus": 1}"#),
    ]),
    row!("PATCH" "/shares/{owner}/{server_name}", true, scopes(&["shares"]), [
        ok("/shares/alice/lab", r#"{"user": "bob"}"#, 200),
        forbidden("/shares/alice/lab", r#"{"user": "bob"}"#),
        unknown("/shares/alice/nosuch", r#"{"user": "bob"}"#),
        bad("/shares/alice/lab", NOT_JSON), bad("/shares/alice/lab", "{}"),
        bad("/shares/alice/lab", r#"{"user": "bob", "scopes": ["no:such"]}"#),
        bad("/shares/alice/lab", r#"{"user": "bob", "bogus": 1}"#),
    ]),
    row!("DELETE" "/shares/{owner}/{server_name}", true, scopes(&["shares"]), [
        ok("/shares/alice/lab", "", 204), forbidden("/shares/alice/lab", ""),
        unknown("/shares/alice/nosuch", ""), unknown("/shares/ghost/lab", ""), NO_BODY,
    ]),
    row!("GET" "/share-codes/{owner}", true, scopes(&["read:shares"]), [
        ok("/share-codes/alice", "", 200), forbidden("/share-codes/alice", ""),
        unknown("/share-codes/ghost", ""), bad("/share-codes/alice?offset=x", ""),
    ]),
    row!("GET" "/share-codes/{owner}/{server_name}", true, scopes(&["read:shares"]), [
        ok("/share-codes/alice/lab", "", 200), forbidden("/share-codes/alice/lab", ""),
        unknown("/share-codes/alice/nosuch", ""), bad("/share-codes/alice/lab?limit=x", ""),
    ]),
    row!("POST" "/share-codes/{owner}/{server_name}", true, scopes(&["shares"]), [
        ok("/share-codes/alice/lab", r#"{"expires_in": 3600}"#, 200),
        forbidden("/share-codes/alice/lab", ""), unknown("/share-codes/alice/nosuch", ""),
        bad("/share-codes/alice/lab", NOT_JSON), bad("/share-codes/alice/lab", r#"{"expires_in": 5}"#),
        bad("/share-codes/alice/lab", r#"{"expires_in": "x"}"#),
        bad("/share-codes/alice/lab", r#"{"scopes": ["no:such"]}"#),
        bad("/share-codes/alice/lab", r#"{"bogus": 1}"#),
    ]),
    row!("DELETE" "/share-codes/{owner}/{server_name}", true, scopes(&["shares"]), [
        ok("/share-codes/alice/lab?id={code_id}", "", 204), forbidden("/share-codes/alice/lab", ""),
        unknown("/share-codes/alice/lab?id=sc_999999", ""), unknown("/share-codes/alice/lab?id=x", ""),
        unknown("/share-codes/alice/lab?code=nope", ""), unknown("/share-codes/alice/nosuch", ""),
        NO_BODY,
    ]),
    row!("GET" "/services", true, scopes(&["list:services"]), [
        ok("/services", "", 200), forbidden("/services", ""), NO_OBJECT, NO_INPUT,
    ]),
    row!("GET" "/services/{name}", true, scopes(&["read:services", "read:services:name", "read:roles:services"]), [
        ok("/services/svc", "", 200), forbidden("/services/svc", ""), unknown("/services/ghost", ""),
        NO_INPUT,
    ]),
    row!("GET" "/applications", false, scopes(&["read:applications"]), [
        ok("/applications", "", 200), forbidden("/applications", ""), NO_OBJECT, NO_INPUT,
    ]),
    row!("POST" "/applications", false, scopes(&["admin:applications"]), [
        ok("/applications", r#"{"image": "web:1", "verify": false}"#, 201),
        forbidden("/applications", r#"{"image": "web:1", "verify": false}"#), CREATES,
        bad("/applications", NOT_JSON), bad("/applications", "{}"),
        bad("/applications", r#"{"image": "web:1", "verify": false, "bogus": 1}"#),
        conflict("/applications", r#"{"image": "desk:1", "verify": false}"#),
    ]),
    row!("GET" "/applications/{id}", false, scopes(&["read:applications"]), [
        ok("/applications/1", "", 200), forbidden("/applications/1", ""),
        unknown("/applications/999", ""), NO_INPUT,
    ]),
    row!("DELETE" "/applications/{id}", false, scopes(&["admin:applications"]), [
        ok("/applications/1", "", 204), forbidden("/applications/1", ""),
        unknown("/applications/999", ""), NO_BODY,
    ]),
    row!("GET" "/grants", false, scopes(&["read:applications"]), [
        ok("/grants", "", 200), forbidden("/grants", ""), unknown("/grants?application=999", ""),
        bad("/grants?user=alice&group=staff", ""),
    ]),
    row!("POST" "/grants", false, scopes(&["admin:applications"]), [
        ok("/grants", r#"{"image": "desk:1", "group": "staff"}"#, 201),
        forbidden("/grants", r#"{"image": "desk:1", "group": "staff"}"#), CREATES,
        bad("/grants", NOT_JSON), bad("/grants", r#"{"image": "desk:1"}"#),
        bad("/grants", r#"{"image": "nope:1", "user": "alice"}"#),
        bad("/grants", r#"{"image": "desk:1", "user": "ghost"}"#),
        bad("/grants", r#"{"image": "desk:1", "user": "bob", "policy": {"volume_source": "/x"}}"#),
        conflict("/grants", r#"{"image": "desk:1", "user": "alice"}"#),
    ]),
    row!("GET" "/grants/{mapping_id}", false, scopes(&["read:applications"]), [
        ok("/grants/{grant_id}", "", 200), forbidden("/grants/{grant_id}", ""),
        unknown("/grants/nope", ""), NO_INPUT,
    ]),
    row!("DELETE" "/grants/{mapping_id}", false, scopes(&["admin:applications"]), [
        ok("/grants/{grant_id}", "", 204), forbidden("/grants/{grant_id}", ""),
        unknown("/grants/nope", ""), NO_BODY,
    ]),
    row!("GET" "/users/{name}/applications", false, scopes(&["read:users:applications"]), [
        ok("/users/alice/applications", "", 200), forbidden("/users/alice/applications", ""),
        unknown("/users/ghost/applications", ""), NO_INPUT,
    ]),
    row!("GET" "/proxy", true, scopes(&["proxy"]), [
        PROXY, forbidden("/proxy", ""), NO_OBJECT, bad("/proxy?offset=x", ""),
    ]),
    row!("POST" "/proxy", true, scopes(&["proxy"]), [
        PROXY, forbidden("/proxy", ""), NO_OBJECT, NO_BODY,
    ]),
    row!("PATCH" "/proxy", true, scopes(&["proxy"]), [
        PROXY, forbidden("/proxy", r#"{"api_url": "http://127.0.0.1:9/"}"#), NO_OBJECT,
        bad("/proxy", NOT_JSON), bad("/proxy", ""), bad("/proxy", r#"{"api_url": 5}"#),
        bad("/proxy", r#"{"api_url": "ftp://127.0.0.1/"}"#), bad("/proxy", r#"{"bogus": 1}"#),
    ]),
    row!("POST" "/shutdown", true, scopes(&["shutdown"]), [
        ok("/shutdown", "", 202), forbidden("/shutdown", ""), NO_OBJECT,
        bad("/shutdown", NOT_JSON), bad("/shutdown", r#"{"servers": "yes"}"#),
        bad("/shutdown", r#"{"bogus": 1}"#),
    ]),
    row!("POST" "/authorizations/token", true, Need::Public("removed"), [
        Case::Na { kind: "2xx", why: "removed, always 404" }, Case::Na { kind: "403", why: "removed" },
        unknown("/authorizations/token", ""), Case::Na { kind: "400", why: "removed" },
    ]),
    row!("GET" "/authorizations/token/{token}", true, Need::Credentials, [
        ok("/authorizations/token/{token}", "", 200), forbidden("/authorizations/token/{token}", ""),
        unknown("/authorizations/token/nosuch", ""), NO_INPUT,
    ]),
    row!("GET" "/authorizations/cookie/{cookie_name}/{cookie_value}", true, Need::Credentials, [
        Case::Elsewhere { kind: "2xx", test: "api_authorizations (a login)" },
        forbidden("/authorizations/cookie/jupyterhub-hub-login/x", ""),
        unknown("/authorizations/cookie/jupyterhub-hub-login/garbage", ""),
        unknown("/authorizations/cookie/other-cookie/x", ""), NO_INPUT,
    ]),
    Row {
        method: "GET",
        route: "/oauth2/authorize",
        in_doc: true,
        need: Need::Public("browser, OAuth"),
        cases: OAUTH,
    },
    Row {
        method: "POST",
        route: "/oauth2/authorize",
        in_doc: false,
        need: Need::Public("browser, OAuth"),
        cases: OAUTH,
    },
    Row {
        method: "POST",
        route: "/oauth2/token",
        in_doc: true,
        need: Need::Public("OAuth client"),
        cases: OAUTH,
    },
];
