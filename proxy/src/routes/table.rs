//! The route table: specs to targets, with longest-prefix matching by path segment.
//!
//! Matching walks a trie whose every level is a hash map keyed by one segment, so a lookup
//! costs one hash probe per segment of the request path, whatever the number of routes:
//! 10,000 routes cost what 10 do. With host routing the first segment is the Host.

use super::activity::Activity;
use super::target::Target;
use ferrohub_shared::routes::RouteSpec;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// One route. Immutable once in the table: re-adding a spec replaces the `Arc`, so requests
/// in flight keep the route they matched.
#[derive(Debug)]
pub struct Route {
    pub spec: RouteSpec,
    pub target: Target,
    /// The body the route was added with, kept verbatim (including `target`); with host
    /// routing CHP also records `host`.
    pub data: Map<String, Value>,
    /// The access rule in `data`, if the route is private (parsed once, here).
    pub access: Option<crate::access::Rule>,
    /// Shared with the previous route of the same spec, so a replaced route keeps its history
    /// and a websocket opened before the replacement still counts.
    pub activity: Arc<Activity>,
}

impl Route {
    /// The route as the API reports it: its data plus `last_activity`.
    pub fn to_json(&self) -> Value {
        let mut m = self.data.clone();
        m.insert(
            "last_activity".into(),
            Value::String(self.activity.to_iso()),
        );
        Value::Object(m)
    }

    /// How many segments of the request *path* the route's prefix covers (the host segment
    /// of a host-routed spec is not part of the path).
    pub fn path_depth(&self, host_routing: bool) -> usize {
        let n = self.spec.segments().count();
        if host_routing {
            n.saturating_sub(1)
        } else {
            n
        }
    }
}

#[derive(Debug, Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    route: Option<Arc<Route>>,
}

/// Every route, by spec and by segment. Not synchronised itself: the owner wraps it in a lock
/// that is only held for the duration of a lookup or an edit, never across an await.
#[derive(Debug)]
pub struct RouteTable {
    host_routing: bool,
    by_spec: HashMap<RouteSpec, Arc<Route>>,
    root: Node,
}

impl RouteTable {
    pub fn new(host_routing: bool) -> Self {
        RouteTable {
            host_routing,
            by_spec: HashMap::new(),
            root: Node::default(),
        }
    }

    /// Host names are case-insensitive; path segments are not.
    fn key(&self, index: usize, segment: &str) -> Box<str> {
        if self.host_routing && index == 0 {
            segment.to_ascii_lowercase().into()
        } else {
            segment.into()
        }
    }

    /// Add or replace `spec`. `activity` of `None` means "now", carried over onto the existing
    /// route's shared clock if there is one.
    pub fn insert(
        &mut self,
        spec: RouteSpec,
        target: Target,
        data: Map<String, Value>,
        activity: Option<i64>,
    ) -> Arc<Route> {
        let activity = match (self.by_spec.get(&spec), activity) {
            (_, Some(millis)) => Arc::new(Activity::at(millis)),
            (Some(old), None) => {
                old.activity.touch();
                old.activity.clone()
            }
            (None, None) => Arc::new(Activity::now()),
        };
        let route = Arc::new(Route {
            spec: spec.clone(),
            target,
            access: crate::access::rule_for_route(&data),
            data,
            activity,
        });
        let keys: Vec<Box<str>> = spec
            .segments()
            .enumerate()
            .map(|(i, s)| self.key(i, s))
            .collect();
        let mut node = &mut self.root;
        for k in keys {
            node = node.children.entry(k).or_default();
        }
        node.route = Some(route.clone());
        self.by_spec.insert(spec, route.clone());
        route
    }

    /// Remove `spec`, pruning trie nodes that lead nowhere. Returns the removed route.
    pub fn remove(&mut self, spec: &RouteSpec) -> Option<Arc<Route>> {
        let removed = self.by_spec.remove(spec)?;
        let keys: Vec<Box<str>> = spec
            .segments()
            .enumerate()
            .map(|(i, s)| self.key(i, s))
            .collect();
        prune(&mut self.root, &keys);
        Some(removed)
    }

    pub fn get(&self, spec: &RouteSpec) -> Option<&Arc<Route>> {
        self.by_spec.get(spec)
    }

    /// The route with the longest prefix of `segments` (decoded path segments, preceded by the
    /// Host when host routing), or `None` when not even `/` is routed.
    pub fn lookup<S: AsRef<str>>(&self, host: Option<&str>, segments: &[S]) -> Option<Arc<Route>> {
        let mut node = &self.root;
        let mut best = node.route.as_ref();
        let host_key = match (self.host_routing, host) {
            (true, Some(h)) => Some(h.to_ascii_lowercase()),
            // Host routing without a Host header can only match the root route.
            (true, None) => return best.cloned(),
            (false, _) => None,
        };
        let path = segments.iter().map(AsRef::as_ref);
        for seg in host_key.as_deref().into_iter().chain(path) {
            match node.children.get(seg) {
                Some(child) => {
                    node = child;
                    if node.route.is_some() {
                        best = node.route.as_ref();
                    }
                }
                None => break,
            }
        }
        best.cloned()
    }

    pub fn len(&self) -> usize {
        self.by_spec.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_spec.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<Route>> {
        self.by_spec.values()
    }

    pub fn host_routing(&self) -> bool {
        self.host_routing
    }
}

/// Remove the route at `keys` below `node`; true when `node` itself is now empty.
fn prune(node: &mut Node, keys: &[Box<str>]) -> bool {
    match keys.split_first() {
        None => node.route = None,
        Some((first, rest)) => {
            if let Some(child) = node.children.get_mut(first) {
                if prune(child, rest) {
                    node.children.remove(first);
                }
            }
        }
    }
    node.route.is_none() && node.children.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> RouteSpec {
        RouteSpec::parse(s).unwrap()
    }

    fn add(t: &mut RouteTable, s: &str, target: &str) {
        let mut data = Map::new();
        data.insert("target".into(), target.into());
        t.insert(spec(s), Target::parse(target).unwrap(), data, None);
    }

    fn hit(t: &RouteTable, host: Option<&str>, path: &str) -> Option<String> {
        let segs: Vec<&str> = path
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
            .collect();
        t.lookup(host, &segs).map(|r| r.spec.to_string())
    }

    #[test]
    fn longest_prefix_wins_by_whole_segments() {
        let mut t = RouteTable::new(false);
        add(&mut t, "/", "http://hub:1");
        add(&mut t, "/user/alice/", "http://a:1");
        add(&mut t, "/user/alice/sub", "http://b:1");
        assert_eq!(
            hit(&t, None, "/user/alice/tree").as_deref(),
            Some("/user/alice")
        );
        assert_eq!(
            hit(&t, None, "/user/alice/sub/x").as_deref(),
            Some("/user/alice/sub")
        );
        assert_eq!(hit(&t, None, "/user/alicex").as_deref(), Some("/"));
        assert_eq!(hit(&t, None, "/user").as_deref(), Some("/"));
        assert_eq!(hit(&t, None, "/").as_deref(), Some("/"));
    }

    #[test]
    fn no_root_route_means_no_match() {
        let mut t = RouteTable::new(false);
        add(&mut t, "/user/alice", "http://a:1");
        assert_eq!(hit(&t, None, "/hub/login"), None);
        assert_eq!(hit(&t, None, "/user/alice").as_deref(), Some("/user/alice"));
    }

    #[test]
    fn removal_prunes_and_falls_back_to_the_parent() {
        let mut t = RouteTable::new(false);
        add(&mut t, "/a", "http://a:1");
        add(&mut t, "/a/b/c", "http://c:1");
        assert!(t.remove(&spec("/a/b/c")).is_some());
        assert!(t.remove(&spec("/a/b/c")).is_none());
        assert_eq!(hit(&t, None, "/a/b/c/d").as_deref(), Some("/a"));
        assert!(
            t.root.children["a"].children.is_empty(),
            "empty branches are pruned"
        );
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn host_routing_matches_the_host_first_case_insensitively() {
        let mut t = RouteTable::new(true);
        add(&mut t, "/", "http://hub:1");
        add(&mut t, "/Alice.Example/", "http://a:1");
        add(&mut t, "/bob.example/user/bob", "http://b:1");
        assert_eq!(
            hit(&t, Some("alice.example"), "/x").as_deref(),
            Some("/Alice.Example")
        );
        assert_eq!(
            hit(&t, Some("BOB.example"), "/user/bob/x").as_deref(),
            Some("/bob.example/user/bob")
        );
        assert_eq!(hit(&t, Some("bob.example"), "/other").as_deref(), Some("/"));
        assert_eq!(hit(&t, None, "/alice.example").as_deref(), Some("/"));
        let r = t.get(&spec("/bob.example/user/bob")).unwrap();
        assert_eq!(r.path_depth(true), 2);
    }

    #[test]
    fn replacing_a_route_keeps_its_activity_clock() {
        let mut t = RouteTable::new(false);
        let mut data = Map::new();
        data.insert("target".into(), "http://a:1".into());
        let first = t.insert(
            spec("/a"),
            Target::parse("http://a:1").unwrap(),
            data.clone(),
            Some(5),
        );
        let second = t.insert(spec("/a"), Target::parse("http://b:1").unwrap(), data, None);
        assert!(Arc::ptr_eq(&first.activity, &second.activity));
        assert!(
            second.activity.millis() > 5,
            "re-adding counts as activity, as in CHP"
        );
        assert_eq!(second.to_json()["last_activity"], second.activity.to_iso());
    }

    #[test]
    fn ten_thousand_routes_are_found_by_depth_not_count() {
        let mut t = RouteTable::new(false);
        for i in 0..10_000 {
            add(&mut t, &format!("/user/u{i}/"), "http://a:1");
        }
        assert_eq!(
            hit(&t, None, "/user/u9999/api/kernels").as_deref(),
            Some("/user/u9999")
        );
        assert_eq!(hit(&t, None, "/user/nobody"), None);
        assert_eq!(t.len(), 10_000);
    }
}
