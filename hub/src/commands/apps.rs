//! `ferrohub app ...`: register app images and grant them to users and groups, on the
//! configured database, with the hub running or not (simphony-remote's `remoteappdb app`,
//! same words). Tables for people, `--json` for scripts.

use super::table;
use crate::api::applications::{application_model, grant_model};
use crate::applications::{self as apps, AppError};
use crate::auth::names::NameRules;
use crate::config::HubConfig;
use crate::store::{GrantFilter, Store};
use clap::{Args, Subcommand};
use ferrohub_shared::apps::{Grantee, Policy, Volume};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct AppArgs {
    /// Print JSON instead of a table or a sentence.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: AppCommand,
}

#[derive(Debug, Subcommand)]
pub enum AppCommand {
    /// Register a Docker image as an application.
    Create {
        /// The image: name:tag as on the engine, or an image ID.
        image: String,
        /// Register it even if the Docker engine does not have it (yet).
        #[arg(long)]
        no_verify: bool,
    },
    /// Remove an application and every grant of it.
    Remove { image: String },
    /// List the registered applications.
    List,
    /// List grants: all, or those of one image, user or group.
    Grants {
        /// Only the grants of this image.
        image: Option<String>,
        #[command(flatten)]
        holder: OptionalHolder,
    },
    /// Give an application to a user or a group under a policy.
    Grant {
        image: String,
        #[command(flatten)]
        holder: Holder,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Take back a grant: the one with exactly these policy flags, or all with --revoke-all.
    Revoke {
        image: String,
        #[command(flatten)]
        holder: Holder,
        #[command(flatten)]
        policy: PolicyArgs,
        /// Revoke every grant of the image to this user or group, whatever its policy.
        #[arg(long)]
        revoke_all: bool,
    },
}

/// `USER` or `--group GROUP`, exactly one.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Holder {
    /// The user.
    user: Option<String>,
    /// A group instead of a user.
    #[arg(long)]
    group: Option<String>,
}

/// `--user USER` or `--group GROUP`, at most one.
#[derive(Debug, Args)]
#[group(required = false, multiple = false)]
pub struct OptionalHolder {
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    group: Option<String>,
}

/// The policy flags of `remoteappdb app grant`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Mount the user's home directory as /workspace.
    #[arg(long)]
    allow_home: bool,
    /// Let the user share a running session with others.
    #[arg(long)]
    allow_view: bool,
    /// A host directory to mount: SOURCE:TARGET:MODE, MODE being ro or rw.
    #[arg(long, value_name = "SOURCE:TARGET:MODE")]
    volume: Option<String>,
    /// Given to the app as APP_LICENSE.
    #[arg(long, value_name = "TEXT")]
    app_license: Option<String>,
    /// Let the user pass a start-up file (STARTUPDATA).
    #[arg(long)]
    allow_startup_data: bool,
}

impl PolicyArgs {
    fn policy(&self) -> Result<Policy, AppError> {
        let volume = self
            .volume
            .as_deref()
            .map(Volume::parse)
            .transpose()
            .map_err(|e| AppError::Invalid(e.to_string()))?;
        Ok(Policy {
            allow_home: self.allow_home,
            allow_view: self.allow_view,
            volume,
            app_license: self.app_license.clone().filter(|l| !l.is_empty()),
            allow_startup_data: self.allow_startup_data,
        })
    }

    fn is_default(&self) -> bool {
        !self.allow_home
            && !self.allow_view
            && self.volume.is_none()
            && self.app_license.is_none()
            && !self.allow_startup_data
    }
}

fn grantee(names: &NameRules, user: &Option<String>, group: &Option<String>) -> Option<Grantee> {
    match (user, group) {
        (Some(u), _) => Some(Grantee::User(names.normalize(u))),
        (None, Some(g)) => Some(Grantee::Group(g.clone())),
        (None, None) => None,
    }
}

/// Carry out `args` on `store`; returns what to print.
pub async fn run(
    store: Arc<dyn Store>,
    config: &HubConfig,
    args: AppArgs,
) -> Result<String, AppError> {
    let store = store.as_ref();
    let names = NameRules::new(&config.authenticator.username_pattern)
        .map_err(|e| AppError::Invalid(format!("Authenticator.username_pattern: {e}")))?;
    let json = args.json;
    let pretty = |v: serde_json::Value| {
        serde_json::to_string_pretty(&v).expect("JSON values always serialise")
    };
    match args.command {
        AppCommand::Create { image, no_verify } => {
            let app = apps::register(store, config, &image, !no_verify).await?;
            Ok(if json {
                pretty(application_model(&app))
            } else {
                format!("registered {} as application {}", app.image, app.id)
            })
        }
        AppCommand::Remove { image } => {
            let app = apps::find(store, &image).await?;
            let filter = GrantFilter {
                application_id: Some(app.id),
                grantee: None,
            };
            let grants = store.list_grants(&filter).await?.len();
            store.delete_application(app.id).await?;
            Ok(if json {
                pretty(
                    serde_json::json!({"removed": application_model(&app), "grants_revoked": grants}),
                )
            } else {
                format!("removed {} and its {grants} grant(s)", app.image)
            })
        }
        AppCommand::List => {
            let apps = store.list_applications().await?;
            let grants = store.list_grants(&GrantFilter::default()).await?;
            if json {
                return Ok(pretty(apps.iter().map(application_model).collect()));
            }
            let rows = apps.iter().map(|a| {
                let n = grants.iter().filter(|g| g.application_id == a.id).count();
                vec![
                    a.id.to_string(),
                    a.image.clone(),
                    n.to_string(),
                    a.created.format("%Y-%m-%d %H:%M").to_string(),
                ]
            });
            Ok(table(&["ID", "IMAGE", "GRANTS", "CREATED"], rows))
        }
        AppCommand::Grants { image, holder } => {
            let application_id = match image {
                Some(image) => Some(apps::find(store, &image).await?.id),
                None => None,
            };
            let filter = GrantFilter {
                application_id,
                grantee: grantee(&names, &holder.user, &holder.group),
            };
            let grants = store.list_grants(&filter).await?;
            if json {
                let models: Vec<_> = grants.iter().map(grant_model).collect();
                return Ok(serde_json::to_string_pretty(&models).expect("models serialise"));
            }
            Ok(grant_table(&grants))
        }
        AppCommand::Grant {
            image,
            holder,
            policy,
        } => {
            let who = grantee(&names, &holder.user, &holder.group).expect("clap requires one");
            let grant = apps::grant(store, &image, &who, &policy.policy()?).await?;
            Ok(if json {
                serde_json::to_string_pretty(&grant_model(&grant)).expect("models serialise")
            } else {
                format!(
                    "granted {} to {} (mapping_id {})",
                    grant.image, grant.grantee, grant.mapping_id
                )
            })
        }
        AppCommand::Revoke {
            image,
            holder,
            policy,
            revoke_all,
        } => {
            if revoke_all && !policy.is_default() {
                return Err(AppError::Invalid(
                    "--revoke-all revokes every policy: give it without policy flags".into(),
                ));
            }
            let who = grantee(&names, &holder.user, &holder.group).expect("clap requires one");
            let policy = if revoke_all {
                None
            } else {
                Some(policy.policy()?)
            };
            let revoked = apps::revoke(store, &image, &who, policy.as_ref()).await?;
            Ok(if json {
                let models: Vec<_> = revoked.iter().map(grant_model).collect();
                serde_json::to_string_pretty(&models).expect("models serialise")
            } else {
                format!("revoked {} grant(s) of {image} from {who}", revoked.len())
            })
        }
    }
}

fn grant_table(grants: &[crate::store::Grant]) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let rows = grants.iter().map(|g| {
        let (kind, name) = match &g.grantee {
            Grantee::User(u) => ("user", u),
            Grantee::Group(n) => ("group", n),
        };
        let p = &g.policy;
        vec![
            g.mapping_id.clone(),
            g.image.clone(),
            format!("{kind} {name}"),
            yes(p.allow_home),
            yes(p.allow_view),
            p.volume.as_ref().map_or(String::new(), ToString::to_string),
            p.app_license.clone().unwrap_or_default(),
            yes(p.allow_startup_data),
        ]
    });
    table(
        &[
            "MAPPING_ID",
            "IMAGE",
            "TO",
            "HOME",
            "VIEW",
            "VOLUME",
            "LICENSE",
            "STARTUP_DATA",
        ],
        rows,
    )
}
