//! Applications and their grants: registering images, granting and revoking them. The REST
//! API (`/hub/api/applications`, `/hub/api/grants`) and the command line (`ferrohub app ...`)
//! both come here, so they make the same checks and say the same things.

use crate::config::HubConfig;
use crate::store::{Application, Grant, GrantFilter, Store, StoreError};
use ferrohub_shared::apps::{Grantee, Policy};
use ferrohub_shared::docker::{DockerEngine, Engine};

/// Why a change to applications or grants was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("no application is registered as {0}; register it first (`ferrohub app create {0}`)")]
    NotRegistered(String),
    #[error(
        "the Docker engine has no image {0}; build or load it first (nothing is pulled), or \
         register it anyway without checking (`--no-verify`, or \"verify\": false)"
    )]
    NoSuchImage(String),
    #[error("cannot check the image on the Docker engine: {0}")]
    Engine(String),
    #[error("no such {0}")]
    NoSuchHolder(Grantee),
    #[error("{0}")]
    Invalid(String),
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0}")]
    NothingToRevoke(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(what) => AppError::Conflict(what),
            other => AppError::Store(other),
        }
    }
}

/// Register `image` as an application. With `verify`, the image must be on the Docker
/// engine the managers use (`[Manager] docker_host`), as `remoteappdb app create` checks.
pub async fn register(
    store: &dyn Store,
    config: &HubConfig,
    image: &str,
    verify: bool,
) -> Result<Application, AppError> {
    let image = image.trim();
    if image.is_empty() || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::Invalid(format!(
            "{image:?} is not an image name; write e.g. ferrohub/desktop:1 or an image ID"
        )));
    }
    if verify {
        // The engine the managers run apps on.
        let engine = DockerEngine::new(&config.manager.docker_host, "[Manager] docker_host");
        match engine.image(image).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(AppError::NoSuchImage(image.to_owned())),
            Err(e) => return Err(AppError::Engine(e.to_string())),
        }
    }
    Ok(store.create_application(image).await?)
}

/// The application registered as `image`.
pub async fn find(store: &dyn Store, image: &str) -> Result<Application, AppError> {
    store
        .find_application(image)
        .await?
        .ok_or_else(|| AppError::NotRegistered(image.to_owned()))
}

/// Give the application registered as `image` to a user or group under `policy`.
pub async fn grant(
    store: &dyn Store,
    image: &str,
    grantee: &Grantee,
    policy: &Policy,
) -> Result<Grant, AppError> {
    let app = find(store, image).await?;
    check_holder(store, grantee).await?;
    Ok(store.create_grant(app.id, grantee, policy).await?)
}

/// Take back the grants of `image` to `grantee`: the one under exactly `policy`, or all of
/// them with `None`. Returns what was revoked; revoking nothing is an error that says so.
pub async fn revoke(
    store: &dyn Store,
    image: &str,
    grantee: &Grantee,
    policy: Option<&Policy>,
) -> Result<Vec<Grant>, AppError> {
    let app = find(store, image).await?;
    check_holder(store, grantee).await?;
    let filter = GrantFilter {
        application_id: Some(app.id),
        grantee: Some(grantee.clone()),
    };
    let revoked: Vec<Grant> = store
        .list_grants(&filter)
        .await?
        .into_iter()
        .filter(|g| policy.is_none_or(|p| *p == g.policy))
        .collect();
    if revoked.is_empty() {
        return Err(AppError::NothingToRevoke(format!(
            "{grantee} holds no grant of {image}{}",
            if policy.is_some() {
                " with this policy (give the same flags as the grant, or --revoke-all)"
            } else {
                ""
            }
        )));
    }
    let ids: Vec<String> = revoked.iter().map(|g| g.mapping_id.clone()).collect();
    store.delete_grants(&ids).await?;
    Ok(revoked)
}

async fn check_holder(store: &dyn Store, grantee: &Grantee) -> Result<(), AppError> {
    let exists = match grantee {
        Grantee::User(name) => store.get_user(name).await?.is_some(),
        Grantee::Group(name) => store.get_group(name).await?.is_some(),
    };
    if exists {
        Ok(())
    } else {
        Err(AppError::NoSuchHolder(grantee.clone()))
    }
}
