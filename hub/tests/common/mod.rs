//! A hub app over a fresh SQLite database, driven through `Router::oneshot` (no socket).

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use ferrohub::auth::tokens::{self, TokenRequest};
use ferrohub::config::{AuthenticatorClass, HubConfig, Overrides};
use ferrohub::store::{CreateUserRequest, SqliteStore, Store, TokenOwner};
use ferrohub::AppState;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;

pub struct TestHub {
    pub state: AppState,
    pub app: Router,
    dir: PathBuf,
}

impl Drop for TestHub {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

impl TestHub {
    /// A hub configured by `overrides` (`Table.key`, value), with the roles and services
    /// start-up would create.
    pub async fn new(overrides: &[(&str, &str)]) -> TestHub {
        Self::with_authenticator(AuthenticatorClass::Dummy, overrides).await
    }

    /// A hub whose users log in with passwords in its database (`native`, the default).
    pub async fn native(overrides: &[(&str, &str)]) -> TestHub {
        Self::with_authenticator(AuthenticatorClass::Native, overrides).await
    }

    async fn with_authenticator(class: AuthenticatorClass, overrides: &[(&str, &str)]) -> TestHub {
        let dir = std::env::temp_dir().join(format!(
            "ferrohub-api-{}-{}",
            std::process::id(),
            ferrohub_shared::secret::random_hex(6)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let mut o = Overrides::default();
        for (k, v) in overrides {
            o.push(
                k,
                v,
                ferrohub::config::ConfigSource::CommandLine((*k).into()),
            );
        }
        let mut config = HubConfig::load(None, &o).unwrap();
        config.hub.authenticator_class = class;
        // Servers the tests start write their output here, not into the source tree.
        config.local_process_spawner.log_dir = dir.join("server-logs");
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.join("db.sqlite")).await.unwrap());
        ferrohub::bootstrap::prepare(store.as_ref(), &config)
            .await
            .unwrap();
        let secret = ferrohub::cookie_secret::load_or_create(&dir.join("secret"), None).unwrap();
        let state = AppState::new(config, store, secret, None);
        TestHub {
            app: ferrohub::app(state.clone()),
            state,
            dir,
        }
    }

    /// The same hub (same database) encrypting `auth_state` with `keys`
    /// (`JUPYTERHUB_CRYPT_KEY`'s syntax).
    pub fn with_crypt_keys(mut self, keys: &str) -> TestHub {
        let crypt = ferrohub::auth::auth_state::CryptKeeper::from_env_value(Some(keys)).unwrap();
        self.state = self.state.clone().with_crypt(crypt);
        self.app = ferrohub::app(self.state.clone());
        self
    }

    pub fn store(&self) -> &dyn Store {
        self.state.store.as_ref()
    }

    pub async fn user(&self, name: &str, admin: bool) {
        self.store()
            .create_users(&[CreateUserRequest {
                name: name.into(),
                admin,
            }])
            .await
            .unwrap();
    }

    /// A token for user `name` with `scopes` (`["inherit"]` for all the user's own).
    pub async fn token(&self, name: &str, scopes: &[&str]) -> String {
        let (secret, _) = tokens::mint(
            self.store(),
            TokenRequest {
                owner: TokenOwner::User(name.into()),
                scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
                note: "test".into(),
                expires_in: None,
                session_id: None,
                oauth_client: None,
            },
        )
        .await
        .unwrap();
        secret.expose().to_owned()
    }

    /// Call the API at `path` (relative to `/hub/api`) with a raw body.
    pub async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &str,
        accept: Option<&str>,
    ) -> Reply {
        let mut req = Request::builder()
            .method(method)
            .uri(format!("/hub/api{path}"));
        if let Some(t) = token {
            req = req.header("Authorization", format!("token {t}"));
        }
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body.to_owned())).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.call_raw(method, path, Some(token), &body, None).await
    }
}

/// Assert an error reply in JupyterHub's form.
pub fn assert_error(reply: &Reply, status: u16) {
    assert_eq!(reply.status.as_u16(), status, "body: {}", reply.body);
    assert_eq!(reply.body["status"], status, "body: {}", reply.body);
    assert!(
        reply.body["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body: {}",
        reply.body
    );
}
