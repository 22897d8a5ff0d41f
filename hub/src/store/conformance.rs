//! One behavioural suite every store backend must pass. Each backend's tests call
//! [`run_all`] on a fresh, empty store.

use super::*;
use chrono::Duration;
use serde_json::json;

fn user(name: &str, admin: bool) -> CreateUserRequest {
    CreateUserRequest {
        name: name.into(),
        admin,
    }
}

const ALL: Page = Page {
    offset: 0,
    limit: 1000,
};

pub async fn run_all(store: &dyn Store) {
    users(store).await;
    servers_and_activity(store).await;
    groups(store).await;
    roles_and_services(store).await;
    tokens(store).await;
    passwords_sessions_and_oauth(store).await;
    proxy_revocations(store).await;
    shares(store).await;
    applications(store).await;
}

/// Data written by [`run_all`] is still there after reopening the database.
pub async fn survives_reopen(store: &dyn Store) {
    let alice = store
        .get_user("alice")
        .await
        .unwrap()
        .expect("alice survives");
    assert!(alice.admin);
    assert!(store.get_group("staff").await.unwrap().is_some());
    let kept = store.user_grants("app-ada").await.unwrap();
    assert_eq!(kept.len(), 2, "grants survive: {kept:?}");
    assert!(kept.iter().all(|g| g.mapping_id.len() == 32));
}

async fn users(store: &dyn Store) {
    assert_eq!(store.count_admins().await.unwrap(), 0);
    let made = store
        .create_users(&[user("alice", true), user("bob", false)])
        .await
        .unwrap();
    assert_eq!(
        made.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    assert!(made[0].admin && !made[0].has_password && made[0].servers.is_empty());
    assert_eq!(store.count_admins().await.unwrap(), 1);

    // A batch with one existing name creates nothing.
    let err = store
        .create_users(&[user("carol", false), user("bob", false)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref w) if w.contains("bob")),
        "{err:?}"
    );
    assert!(
        store.get_user("carol").await.unwrap().is_none(),
        "batch is all or none"
    );

    let (page, total) = store
        .list_users(
            UserState::Any,
            None,
            Page {
                offset: 1,
                limit: 1,
            },
        )
        .await
        .unwrap();
    assert_eq!(total, 2);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].name, "bob");
    assert_eq!(
        Some(&page[0]),
        store.get_user("bob").await.unwrap().as_ref(),
        "a listing decodes users exactly as a lookup does"
    );
    let (found, total) = store
        .list_users(UserState::Any, Some("al"), ALL)
        .await
        .unwrap();
    assert_eq!((found.len(), total), (1, 1));
    let (none, _) = store
        .list_users(UserState::Any, Some("%"), ALL)
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "LIKE wildcards in a name filter are literal"
    );

    let renamed = store
        .update_user(
            "bob",
            &UpdateUserRequest {
                name: Some("robert".into()),
                admin: Some(true),
                auth_state: None,
            },
        )
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), renamed.admin), ("robert", true));
    let err = store
        .update_user(
            "robert",
            &UpdateUserRequest {
                name: Some("alice".into()),
                admin: None,
                auth_state: Some(Some("must not be written".into())),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(
        store.get_auth_state("robert").await.unwrap(),
        None,
        "a failed rename writes no auth_state either"
    );
    assert!(
        store.get_user("robert").await.unwrap().is_some(),
        "failed rename changes nothing"
    );
    assert!(matches!(
        store
            .update_user("nobody", &UpdateUserRequest::default())
            .await,
        Err(StoreError::NotFound(_))
    ));

    // auth_state is stored as given (already encrypted), replaced, cleared, and not touched
    // by other changes.
    let sealed = UpdateUserRequest::auth_state(Some("gAAAA-sealed".into()));
    store.update_user("robert", &sealed).await.unwrap();
    store
        .update_user("robert", &UpdateUserRequest::admin(false))
        .await
        .unwrap();
    assert_eq!(
        store.get_auth_state("robert").await.unwrap().as_deref(),
        Some("gAAAA-sealed")
    );
    store
        .update_user("robert", &UpdateUserRequest::auth_state(None))
        .await
        .unwrap();
    assert_eq!(store.get_auth_state("robert").await.unwrap(), None);
    assert!(matches!(
        store.get_auth_state("nobody").await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_user("robert").await.unwrap();
    assert!(matches!(
        store.delete_user("robert").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn servers_and_activity(store: &dyn Store) {
    store.create_users(&[user("dora", false)]).await.unwrap();
    let t0 = chrono::Utc::now();
    let running = Server {
        name: String::new(),
        display_name: String::new(),
        url: Some("http://127.0.0.1:9999/user/dora/".into()),
        started: Some(t0),
        last_activity: Some(t0),
        state: json!({"pid": 42}),
        user_options: json!({}),
    };
    store.save_server("dora", &running).await.unwrap();
    let stopped = Server {
        name: "lab".into(),
        display_name: String::new(),
        url: None,
        ..running.clone()
    };
    store.save_server("dora", &stopped).await.unwrap();
    let dora = store.get_user("dora").await.unwrap().unwrap();
    assert_eq!(dora.servers.len(), 2);
    assert_eq!(dora.default_server().unwrap().state, json!({"pid": 42}));

    // Live servers: running ones and ones with a saved state; not stopped, stateless ones.
    let idle = Server {
        name: "idle".into(),
        display_name: String::new(),
        url: None,
        state: json!({}),
        ..running.clone()
    };
    store.save_server("dora", &idle).await.unwrap();
    let live = store.live_servers().await.unwrap();
    let live: Vec<(&str, &str)> = live
        .iter()
        .map(|(u, s)| (u.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(live, [("dora", ""), ("dora", "lab")]);
    store.delete_server("dora", "idle").await.unwrap();

    let names = |users: Vec<User>| users.into_iter().map(|u| u.name).collect::<Vec<_>>();
    let (active, _) = store
        .list_users(UserState::Active, None, ALL)
        .await
        .unwrap();
    assert_eq!(
        Some(&active[0]),
        Some(&dora),
        "servers come with listed users"
    );
    assert_eq!(names(active), ["dora"]);
    let (inactive, _) = store
        .list_users(UserState::Inactive, None, ALL)
        .await
        .unwrap();
    assert_eq!(names(inactive), ["alice"]);

    // Activity only moves forward.
    let later = t0 + Duration::minutes(5);
    let servers = BTreeMap::from([(String::new(), later)]);
    store.record_activity("dora", t0, &servers).await.unwrap();
    store
        .record_activity("dora", t0 - Duration::hours(1), &BTreeMap::new())
        .await
        .unwrap();
    let dora = store.get_user("dora").await.unwrap().unwrap();
    let close =
        |a: Option<DateTime<Utc>>, b: DateTime<Utc>| (a.unwrap() - b).num_milliseconds().abs() < 2;
    assert!(close(dora.last_activity, later));
    assert!(close(dora.default_server().unwrap().last_activity, later));
    let unknown = BTreeMap::from([("nope".to_owned(), later)]);
    assert!(matches!(
        store.record_activity("dora", later, &unknown).await,
        Err(StoreError::NotFound(_))
    ));

    store.delete_server("dora", "lab").await.unwrap();
    assert!(matches!(
        store.delete_server("dora", "lab").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn groups(store: &dyn Store) {
    let made = store
        .create_groups(&[
            ("staff".into(), vec!["alice".into()]),
            ("empty".into(), vec![]),
        ])
        .await
        .unwrap();
    assert_eq!(made[0].users, ["alice"]);
    let err = store
        .create_groups(&[("ghosts".into(), vec!["nobody".into()])])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
    assert!(
        store.get_group("ghosts").await.unwrap().is_none(),
        "nothing half-written"
    );
    assert!(matches!(
        store.create_groups(&[("staff".into(), vec![])]).await,
        Err(StoreError::Conflict(_))
    ));

    let g = store
        .add_group_members("staff", &["dora".into(), "alice".into()])
        .await
        .unwrap();
    assert_eq!(g.users, ["alice", "dora"]);
    assert_eq!(
        store.get_user("dora").await.unwrap().unwrap().groups,
        ["staff"]
    );
    let g = store
        .remove_group_members("staff", &["dora".into()])
        .await
        .unwrap();
    assert_eq!(g.users, ["alice"]);
    let props = json!({"lab": "x-ray", "quota": 3})
        .as_object()
        .unwrap()
        .clone();
    let g = store.set_group_properties("staff", &props).await.unwrap();
    assert_eq!(g.properties, props);
    let (all, total) = store.list_groups(ALL).await.unwrap();
    assert_eq!((all.len(), total), (2, 2));
    store.delete_group("empty").await.unwrap();
    assert!(matches!(
        store.delete_group("empty").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn roles_and_services(store: &dyn Store) {
    store
        .sync_services(&[
            ("culler".into(), false, String::new()),
            ("old".into(), true, String::new()),
        ])
        .await
        .unwrap();
    store
        .sync_services(&[("culler".into(), false, "http://127.0.0.1:1".into())])
        .await
        .unwrap();
    let services = store.list_services().await.unwrap();
    assert_eq!(
        services.len(),
        1,
        "services not in the configuration are removed"
    );
    assert_eq!(services[0].url, "http://127.0.0.1:1");

    let role = Role {
        name: "culler-role".into(),
        description: "cull".into(),
        scopes: vec!["list:users".into(), "delete:servers".into()],
        services: vec!["culler".into()],
        groups: vec!["staff".into()],
        ..Role::default()
    };
    store.put_role(&role).await.unwrap();
    assert_eq!(store.get_role("culler-role").await.unwrap().unwrap(), role);
    assert_eq!(
        store.service_role_scopes("culler").await.unwrap(),
        ["delete:servers", "list:users"]
    );
    assert_eq!(
        store.user_role_scopes("alice").await.unwrap(),
        ["delete:servers", "list:users"],
        "roles reach users through their groups"
    );
    assert!(store.user_role_scopes("dora").await.unwrap().is_empty());

    store
        .put_role(&Role {
            name: "user".into(),
            scopes: vec!["self".into()],
            ..Role::default()
        })
        .await
        .unwrap();
    store.set_user_role("dora", "user", true).await.unwrap();
    store.set_user_role("dora", "user", true).await.unwrap();
    assert_eq!(
        store.get_user("dora").await.unwrap().unwrap().roles,
        ["user"]
    );
    assert_eq!(store.user_role_scopes("dora").await.unwrap(), ["self"]);
    store.set_user_role("dora", "user", false).await.unwrap();
    assert!(store
        .get_user("dora")
        .await
        .unwrap()
        .unwrap()
        .roles
        .is_empty());
    assert!(matches!(
        store.set_user_role("dora", "nope", true).await,
        Err(StoreError::NotFound(_))
    ));

    let bad = Role {
        name: "bad".into(),
        users: vec!["nobody".into()],
        ..Role::default()
    };
    assert!(matches!(
        store.put_role(&bad).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store.get_role("bad").await.unwrap().is_none(),
        "nothing half-written"
    );
    assert_eq!(store.list_roles().await.unwrap().len(), 2);
}

async fn tokens(store: &dyn Store) {
    let new = |owner: TokenOwner, hashed: &str, expires_at| NewToken {
        owner,
        prefix: hashed[..4].to_owned(),
        hashed: hashed.to_owned(),
        scopes: vec!["read:users".into()],
        note: "test".into(),
        session_id: None,
        oauth_client: None,
        expires_at,
    };
    let now = chrono::Utc::now();
    let t = store
        .create_token(&new(TokenOwner::User("dora".into()), "aaaa1111", None))
        .await
        .unwrap();
    assert_eq!(t.owner, TokenOwner::User("dora".into()));
    assert_eq!(t.scopes, ["read:users"]);
    let s = store
        .create_token(&new(TokenOwner::Service("culler".into()), "bbbb2222", None))
        .await
        .unwrap();
    assert_eq!(s.owner, TokenOwner::Service("culler".into()));
    assert!(matches!(
        store
            .create_token(&new(TokenOwner::User("nobody".into()), "cccc3333", None))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .create_token(&new(TokenOwner::User("dora".into()), "aaaa1111", None))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.find_token("aaaa1111").await.unwrap().unwrap().id,
        t.id
    );
    assert!(store.find_token("zzzz").await.unwrap().is_none());
    store.touch_token(t.id, now).await.unwrap();
    assert!(store
        .find_token("aaaa1111")
        .await
        .unwrap()
        .unwrap()
        .last_activity
        .is_some());

    let old = store
        .create_token(&new(
            TokenOwner::User("dora".into()),
            "dddd4444",
            Some(now - Duration::seconds(1)),
        ))
        .await
        .unwrap();
    assert!(old.is_expired(now));
    assert_eq!(store.purge_expired_tokens(now).await.unwrap(), 1);
    assert_eq!(store.list_user_tokens("dora").await.unwrap().len(), 1);
    assert!(matches!(
        store.delete_user_token("alice", t.id).await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_user_token("dora", t.id).await.unwrap();
    store.delete_service_tokens("culler").await.unwrap();
    assert!(store.find_token("bbbb2222").await.unwrap().is_none());

    // Deleting a user deletes its tokens.
    store
        .create_token(&new(TokenOwner::User("dora".into()), "eeee5555", None))
        .await
        .unwrap();
    store.delete_user("dora").await.unwrap();
    assert!(store.find_token("eeee5555").await.unwrap().is_none());
}

async fn passwords_sessions_and_oauth(store: &dyn Store) {
    store.create_users(&[user("pat", false)]).await.unwrap();
    let pat = store.get_user("pat").await.unwrap().unwrap();
    let creds = store.credentials("pat").await.unwrap().unwrap();
    assert_eq!((creds.password_hash, creds.locked), (None, false));
    assert!(store.credentials("nobody").await.unwrap().is_none());

    // A link: wrong PINs are counted and burn it at the limit; a good one sets the password once.
    let expires = chrono::Utc::now() + Duration::hours(1);
    for token in ["link-a", "link-b"] {
        store
            .create_password_link(&NewPasswordLink {
                user_id: pat.id,
                token_hash: token.into(),
                pin_hash: format!("pin-{token}"),
                expires_at: expires,
            })
            .await
            .unwrap();
    }
    let a = store.find_password_link("link-a").await.unwrap().unwrap();
    assert_eq!(
        (a.user.as_str(), a.failed_attempts, a.used),
        ("pat", 0, false)
    );
    assert_eq!(store.fail_password_link(a.id, 3).await.unwrap(), 1);
    assert_eq!(store.fail_password_link(a.id, 3).await.unwrap(), 2);
    assert_eq!(store.fail_password_link(a.id, 3).await.unwrap(), 3);
    assert!(
        store
            .find_password_link("link-a")
            .await
            .unwrap()
            .unwrap()
            .used,
        "burnt"
    );
    let b = store.find_password_link("link-b").await.unwrap().unwrap();
    assert!(store
        .use_password_link(b.id, "$argon2id$hash")
        .await
        .unwrap());
    assert!(
        !store
            .use_password_link(b.id, "$argon2id$other")
            .await
            .unwrap(),
        "only once"
    );
    let creds = store.credentials("pat").await.unwrap().unwrap();
    assert_eq!(creds.password_hash.as_deref(), Some("$argon2id$hash"));
    store.set_credentials("pat", None, true).await.unwrap();
    let creds = store.credentials("pat").await.unwrap().unwrap();
    assert_eq!((creds.password_hash, creds.locked), (None, true));

    // Sessions, and the tokens and codes issued through them end with them.
    let session = store
        .create_session("sess-hash", "pat", "sid-0", expires)
        .await
        .unwrap();
    assert_eq!(
        store.find_session("sess-hash").await.unwrap().unwrap().user,
        "pat"
    );
    let client = OAuthClient {
        identifier: "jupyterhub-user-pat".into(),
        description: "Server at /user/pat/".into(),
        secret_hash: "secret-hash".into(),
        redirect_uri: "/user/pat/oauth_callback".into(),
        access_scopes: vec!["access:servers!server=pat/".into()],
        owner: Some("pat".into()),
    };
    store.put_oauth_client(&client).await.unwrap();
    store.put_oauth_client(&client).await.unwrap();
    assert_eq!(
        store.get_oauth_client("jupyterhub-user-pat").await.unwrap(),
        Some(client.clone())
    );
    let code = OAuthCode {
        hashed: "code-hash".into(),
        client_id: client.identifier.clone(),
        user: "pat".into(),
        session_id: Some(session.id.to_string()),
        redirect_uri: client.redirect_uri.clone(),
        scopes: vec!["read:users:name!user=pat".into()],
        code_challenge: None,
        code_challenge_method: None,
        expires_at: expires,
    };
    store.create_oauth_code(&code).await.unwrap();
    let mut unknown = code.clone();
    unknown.client_id = "nope".into();
    unknown.hashed = "other".into();
    assert!(matches!(
        store.create_oauth_code(&unknown).await,
        Err(StoreError::NotFound(_))
    ));
    let taken = store.take_oauth_code("code-hash").await.unwrap().unwrap();
    assert_eq!((taken.user.as_str(), taken.scopes.len()), ("pat", 1));
    assert!(
        store.take_oauth_code("code-hash").await.unwrap().is_none(),
        "once only"
    );
    store
        .create_token(&NewToken {
            owner: TokenOwner::User("pat".into()),
            prefix: "sess".into(),
            hashed: "session-token-hash".into(),
            scopes: vec![],
            note: String::new(),
            session_id: Some(session.id.to_string()),
            oauth_client: Some(client.identifier.clone()),
            expires_at: None,
        })
        .await
        .unwrap();
    store.end_session("sess-hash", "sid-0").await.unwrap();
    assert!(store.find_session("sess-hash").await.unwrap().is_none());
    assert!(
        store
            .find_token("session-token-hash")
            .await
            .unwrap()
            .is_none(),
        "revoked with it"
    );

    // Locking an account ends all its sessions at once, with their tokens.
    let first = store
        .create_session("s1", "pat", "sid-1", expires)
        .await
        .unwrap();
    store
        .create_session("s2", "pat", "sid-2", expires)
        .await
        .unwrap();
    store
        .create_token(&NewToken {
            owner: TokenOwner::User("pat".into()),
            prefix: "ses1".into(),
            hashed: "s1-token-hash".into(),
            scopes: vec![],
            note: String::new(),
            session_id: Some(first.id.to_string()),
            oauth_client: Some(client.identifier.clone()),
            expires_at: None,
        })
        .await
        .unwrap();
    assert_eq!(store.end_user_sessions("pat").await.unwrap(), 2);
    assert!(store.find_session("s1").await.unwrap().is_none());
    assert!(store.find_session("s2").await.unwrap().is_none());
    assert!(store.find_token("s1-token-hash").await.unwrap().is_none());
    assert_eq!(store.end_user_sessions("pat").await.unwrap(), 0);
    assert!(matches!(
        store.end_user_sessions("nobody").await,
        Err(StoreError::NotFound(_))
    ));
}

/// Every end of a session queues its proxy session for revocation, in the transaction that
/// ends it: logging out, locking the account, deleting the user.
async fn proxy_revocations(store: &dyn Store) {
    let sids = |queue: &[ProxyRevocation]| -> Vec<String> {
        queue.iter().map(|r| r.sid.clone()).collect()
    };
    // Left by `passwords_sessions_and_oauth`: pat logged out, then two sessions ended by
    // locking.
    let pending = store.pending_proxy_revocations().await.unwrap();
    assert_eq!(pending.len(), 3, "{pending:?}");
    assert_eq!(pending[0].sid, "sid-0", "oldest first: {pending:?}");
    let mut locked = sids(&pending[1..]);
    locked.sort();
    assert_eq!(locked, ["sid-1", "sid-2"]);
    let expires = pending[0].expires_at;
    assert!(expires > Utc::now(), "keeps the session's expiry");

    // Delivered ones are forgotten; others stay queued; unknown ids are fine.
    store
        .forget_proxy_revocations(&[pending[0].id, pending[1].id, 999_999])
        .await
        .unwrap();
    store.forget_proxy_revocations(&[]).await.unwrap();
    let left = store.pending_proxy_revocations().await.unwrap();
    assert_eq!(left, pending[2..].to_vec());
    store.forget_proxy_revocations(&[left[0].id]).await.unwrap();
    assert!(store.pending_proxy_revocations().await.unwrap().is_empty());

    // Logging out queues that one session, by the id kept with it, until its own expiry.
    store.create_users(&[user("rex", false)]).await.unwrap();
    let later = expires + Duration::hours(1);
    for (hashed, sid, until) in [
        ("rex-1", "sid-rex-1", expires),
        ("rex-2", "sid-rex-2", later),
        ("rex-3", "sid-rex-3", expires),
    ] {
        store
            .create_session(hashed, "rex", sid, until)
            .await
            .unwrap();
    }
    store.end_session("no-such-session", "sid-x").await.unwrap();
    assert!(store.pending_proxy_revocations().await.unwrap().is_empty());
    store
        .end_session("rex-2", "sid-derived-again")
        .await
        .unwrap();
    assert!(store.find_session("rex-2").await.unwrap().is_none());
    let queued = store.pending_proxy_revocations().await.unwrap();
    assert_eq!(sids(&queued), ["sid-rex-2"]);
    assert_eq!(queued[0].expires_at.timestamp(), later.timestamp());

    // Deleting a user queues every session of theirs, which go with them.
    assert!(matches!(
        store.delete_user("nobody").await,
        Err(StoreError::NotFound(_))
    ));
    store.delete_user("rex").await.unwrap();
    assert!(store.find_session("rex-1").await.unwrap().is_none());
    let queued = store.pending_proxy_revocations().await.unwrap();
    assert_eq!(queued[0].sid, "sid-rex-2", "oldest first: {queued:?}");
    let mut deleted = sids(&queued[1..]);
    deleted.sort();
    assert_eq!(deleted, ["sid-rex-1", "sid-rex-3"]);
    assert!(queued[1..]
        .iter()
        .all(|r| r.expires_at.timestamp() == expires.timestamp()));
    let ids: Vec<i64> = queued.iter().map(|r| r.id).collect();
    store.forget_proxy_revocations(&ids).await.unwrap();
    assert!(store.pending_proxy_revocations().await.unwrap().is_empty());
}

async fn shares(store: &dyn Store) {
    store
        .create_users(&[user("owen", false), user("sam", false), user("gia", false)])
        .await
        .unwrap();
    store
        .create_groups(&[("viewers".into(), vec!["gia".into()])])
        .await
        .unwrap();
    let server = Server {
        name: String::new(),
        display_name: String::new(),
        url: Some("http://127.0.0.1:1/".into()),
        started: None,
        last_activity: None,
        state: json!({}),
        user_options: json!({}),
    };
    store.save_server("owen", &server).await.unwrap();
    let access = "access:servers!server=owen/".to_owned();
    let read = "read:servers!server=owen/".to_owned();
    let sam = ShareWith::User("sam".into());
    let share = store
        .grant_share("owen", "", &sam, std::slice::from_ref(&access))
        .await
        .unwrap();
    assert_eq!(
        (
            share.owner.as_str(),
            share.server_running,
            share.scopes.clone()
        ),
        ("owen", true, vec![access.clone()])
    );
    let share = store
        .grant_share("owen", "", &sam, std::slice::from_ref(&read))
        .await
        .unwrap();
    assert_eq!(
        share.scopes,
        [access.clone(), read.clone()],
        "grants add up"
    );
    store
        .grant_share(
            "owen",
            "",
            &ShareWith::Group("viewers".into()),
            std::slice::from_ref(&access),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .grant_share("owen", "nope", &sam, std::slice::from_ref(&access))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .grant_share(
                "owen",
                "",
                &ShareWith::User("ghost".into()),
                std::slice::from_ref(&access)
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .list_shares(&ShareFilter::Owner("owen".into()))
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        store
            .list_shares(&ShareFilter::User("sam".into()))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store
            .list_shares(&ShareFilter::Group("viewers".into()))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        store.user_share_scopes("gia").await.unwrap(),
        std::slice::from_ref(&access),
        "through the group"
    );
    let left = store
        .revoke_share("owen", "", &sam, Some(std::slice::from_ref(&read)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.scopes, std::slice::from_ref(&access));
    assert!(store
        .revoke_share("owen", "", &sam, None)
        .await
        .unwrap()
        .is_none());
    assert!(store.user_share_scopes("sam").await.unwrap().is_empty());
    // Share codes: exchanged into a share for whoever accepts, counted, deleted by id.
    let expires = chrono::Utc::now() + Duration::hours(1);
    let code = store
        .create_share_code(
            "owen",
            "",
            "code-hash",
            std::slice::from_ref(&access),
            expires,
        )
        .await
        .unwrap();
    assert_eq!((code.owner.as_str(), code.exchange_count), ("owen", 0));
    assert_eq!(
        store
            .find_share_code("code-hash")
            .await
            .unwrap()
            .unwrap()
            .id,
        code.id
    );
    let share = store.exchange_share_code(code.id, "sam").await.unwrap();
    assert_eq!(share.with, ShareWith::User("sam".into()));
    let counted = store.find_share_code("code-hash").await.unwrap().unwrap();
    assert_eq!(counted.exchange_count, 1);
    assert!(counted.last_exchanged_at.is_some());
    let past = chrono::Utc::now() - Duration::hours(1);
    store
        .create_share_code(
            "owen",
            "",
            "expired-hash",
            std::slice::from_ref(&access),
            past,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .list_share_codes("owen", Some(""))
            .await
            .unwrap()
            .len(),
        1,
        "expired codes are not listed"
    );
    assert_eq!(
        store
            .delete_share_codes("owen", "", Some(code.id), None)
            .await
            .unwrap(),
        1
    );
    assert!(store
        .list_share_codes("owen", None)
        .await
        .unwrap()
        .is_empty());
    store.delete_server_shares("owen", "").await.unwrap();
    assert!(store
        .list_shares(&ShareFilter::Server("owen".into(), String::new()))
        .await
        .unwrap()
        .is_empty());
}

async fn applications(store: &dyn Store) {
    use ferrohub_shared::apps::{Grantee, Policy, Volume};
    store
        .create_users(&[user("app-ada", false), user("app-bo", false)])
        .await
        .unwrap();
    store
        .create_groups(&[("app-physics".into(), vec!["app-ada".into()])])
        .await
        .unwrap();

    let desktop = store.create_application("desktop:1").await.unwrap();
    let web = store.create_application("webapp:1").await.unwrap();
    assert!(matches!(
        store.create_application("desktop:1").await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.find_application("desktop:1").await.unwrap(),
        Some(desktop.clone())
    );
    assert_eq!(
        store.get_application(web.id).await.unwrap(),
        Some(web.clone())
    );
    assert_eq!(store.find_application("nope").await.unwrap(), None);
    let listed = store.list_applications().await.unwrap();
    assert_eq!(listed, vec![desktop.clone(), web.clone()]);

    let home = Policy {
        allow_home: true,
        ..Policy::default()
    };
    let with_volume = Policy {
        volume: Some(Volume::parse("/data:/data:ro").unwrap()),
        ..Policy::default()
    };
    let ada = Grantee::User("app-ada".into());
    let physics = Grantee::Group("app-physics".into());
    let g1 = store.create_grant(desktop.id, &ada, &home).await.unwrap();
    assert_eq!(g1.image, "desktop:1");
    assert_eq!(g1.grantee, ada);
    assert_eq!(g1.policy, home);
    // The same image under another policy is another grant; the same policy again is not.
    let g2 = store
        .create_grant(desktop.id, &ada, &with_volume)
        .await
        .unwrap();
    assert_ne!(g1.mapping_id, g2.mapping_id);
    assert!(matches!(
        store.create_grant(desktop.id, &ada, &home).await,
        Err(StoreError::Conflict(_))
    ));
    let g3 = store.create_grant(web.id, &physics, &home).await.unwrap();
    for (app, who) in [
        (9999, ada.clone()),
        (web.id, Grantee::User("nobody".into())),
        (web.id, Grantee::Group("nogroup".into())),
    ] {
        assert!(
            matches!(
                store.create_grant(app, &who, &home).await,
                Err(StoreError::NotFound(_))
            ),
            "{app} {who}"
        );
    }

    // Ada gets her own grants and her group's; Bo nothing until he joins the group.
    let ids = |gs: Vec<Grant>| gs.into_iter().map(|g| g.mapping_id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.user_grants("app-ada").await.unwrap()),
        [
            g1.mapping_id.clone(),
            g2.mapping_id.clone(),
            g3.mapping_id.clone()
        ]
    );
    assert!(store.user_grants("app-bo").await.unwrap().is_empty());
    store
        .add_group_members("app-physics", &["app-bo".into()])
        .await
        .unwrap();
    assert_eq!(
        ids(store.user_grants("app-bo").await.unwrap()),
        std::slice::from_ref(&g3.mapping_id)
    );
    assert!(matches!(
        store.user_grants("ghost").await,
        Err(StoreError::NotFound(_))
    ));

    let by_app = GrantFilter {
        application_id: Some(desktop.id),
        grantee: None,
    };
    assert_eq!(
        ids(store.list_grants(&by_app).await.unwrap()),
        [g1.mapping_id.clone(), g2.mapping_id.clone()]
    );
    let by_group = GrantFilter {
        application_id: None,
        grantee: Some(physics.clone()),
    };
    assert_eq!(
        ids(store.list_grants(&by_group).await.unwrap()),
        std::slice::from_ref(&g3.mapping_id)
    );
    assert_eq!(
        store
            .list_grants(&GrantFilter::default())
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store.get_grant(&g2.mapping_id).await.unwrap(),
        Some(g2.clone())
    );

    // Deleting grants counts only those that existed; removing an app takes its grants.
    let gone = store
        .delete_grants(&[g2.mapping_id.clone(), "unknown".into()])
        .await
        .unwrap();
    assert_eq!(gone, 1);
    assert_eq!(store.get_grant(&g2.mapping_id).await.unwrap(), None);
    store.delete_application(web.id).await.unwrap();
    assert_eq!(store.get_grant(&g3.mapping_id).await.unwrap(), None);
    assert!(matches!(
        store.delete_application(web.id).await,
        Err(StoreError::NotFound(_))
    ));
    // Kept for survives_reopen: two grants of ada's.
    store
        .create_grant(desktop.id, &physics, &with_volume)
        .await
        .unwrap();
    assert_eq!(store.user_grants("app-ada").await.unwrap().len(), 2);
}
