//! `docker`: each server runs in its own container on a Docker engine (as JupyterHub's
//! DockerSpawner), labelled so it can be found again, reached through a published port or
//! its IP on a Docker network.

use super::{Exited, SpawnError, SpawnRequest, Spawner, Started};
use crate::config::{parse_bytes, DockerSpawnerConfig, HubConfig, SpawnerConfig};
use ferrohub_shared::docker::{
    Call, ContainerSpec, ContainerState as Container, DockerEngine, Engine,
};
use ferrohub_shared::labels;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

mod naming;

use naming::container_name;

/// What is saved with a container server.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ContainerState {
    container_id: String,
    container_name: String,
    image: String,
}

pub struct DockerSpawner {
    spawner: SpawnerConfig,
    docker: DockerSpawnerConfig,
    /// The engine, connected on first use, so a hub whose engine is down still starts (and
    /// says why when a spawn is attempted); a failed connection is retried at the next call.
    engine: Arc<dyn Engine>,
}

impl DockerSpawner {
    pub fn new(config: &HubConfig) -> Self {
        let engine = Arc::new(DockerEngine::new(
            &config.docker_spawner.docker_host,
            "DockerSpawner.docker_host",
        ));
        Self::with_engine(config, engine)
    }

    /// The same over another engine (a fake in unit tests).
    pub fn with_engine(config: &HubConfig, engine: Arc<dyn Engine>) -> Self {
        let connect = config.hub_connect_url();
        if matches!(
            connect.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        ) {
            tracing::warn!(
                "servers in containers will call the hub at {connect}, a loopback address they \
                 cannot reach; set JupyterHub.hub_connect_url to an address containers reach"
            );
        }
        DockerSpawner {
            spawner: config.spawner.clone(),
            docker: config.docker_spawner.clone(),
            engine,
        }
    }

    fn state(value: &Value) -> Result<ContainerState, SpawnError> {
        serde_json::from_value(value.clone()).map_err(|e| SpawnError::BadState(e.to_string()))
    }

    /// The image to run: the user's choice when `allowed_images` permits it, else `image`.
    fn choose_image(&self, user_options: &Value) -> Result<String, SpawnError> {
        let allowed = &self.docker.allowed_images;
        match user_options.get("image") {
            None | Some(Value::Null) => Ok(self.docker.image.clone()),
            Some(Value::String(chosen)) if allowed.contains(chosen) => Ok(chosen.clone()),
            Some(Value::String(chosen)) if allowed.is_empty() => Err(SpawnError::Launch(format!(
                "choosing an image is not allowed here (asked for `{chosen}`; \
                 DockerSpawner.allowed_images is empty)"
            ))),
            Some(Value::String(chosen)) => Err(SpawnError::Launch(format!(
                "image `{chosen}` is not one of the allowed images: {}",
                allowed.join(", ")
            ))),
            Some(other) => Err(SpawnError::Launch(format!(
                "user_options.image must be an image name, not {other}"
            ))),
        }
    }

    /// The server's environment: JupyterHub's contract, listening on every interface of the
    /// container. The hub's `env_keep` variables stay out (DockerSpawner keeps none): a host
    /// `PATH` would hide the image's own; `[Spawner] environment` still applies.
    fn environment(&self, req: &SpawnRequest, image: &str) -> Vec<String> {
        let mut env = req.env_for("0.0.0.0", self.docker.port);
        for key in &self.spawner.env_keep {
            if !self.spawner.environment.contains_key(key) && !key.starts_with("JUPYTERHUB_") {
                env.remove(key);
            }
        }
        env.insert("JUPYTER_IMAGE_SPEC".into(), image.to_owned());
        env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
    }

    /// The container for `req` from `image` under `name`; `image_cmd` is the image's own
    /// command.
    fn container_spec(
        &self,
        req: &SpawnRequest,
        name: &str,
        image: &str,
        image_cmd: Option<Vec<String>>,
    ) -> Result<ContainerSpec, SpawnError> {
        let mut labels: HashMap<String, String> =
            self.docker.extra_labels.clone().into_iter().collect();
        labels.insert(labels::SERVICE.into(), labels::SERVICE_SINGLEUSER.into());
        labels.insert(labels::USER.into(), req.user.clone());
        labels.insert(labels::SERVER.into(), req.server_name.clone());
        // DockerSpawner's rule: the configured command, else the image's, then the args.
        let base = if self.docker.cmd.is_empty() {
            image_cmd.unwrap_or_default()
        } else {
            self.docker.cmd.clone()
        };
        let cmd = (!self.docker.cmd.is_empty() || !self.spawner.args.is_empty())
            .then(|| [base, self.spawner.args.clone()].concat());
        let binds: Vec<String> = self
            .docker
            .volumes
            .iter()
            .map(|(source, target)| {
                let fill = |s: &str| s.replace("{username}", &req.user);
                format!("{}:{}", fill(source), fill(target))
            })
            .collect();
        let memory = match self.spawner.mem_limit.as_str() {
            "" => None,
            limit => Some(
                parse_bytes(limit)
                    .ok()
                    .and_then(|b| i64::try_from(b).ok())
                    .ok_or_else(|| {
                        SpawnError::Launch(format!("Spawner.mem_limit `{limit}` is not a size"))
                    })?,
            ),
        };
        let nano_cpus =
            (self.spawner.cpu_limit > 0.0).then(|| (self.spawner.cpu_limit * 1e9).round() as i64);
        Ok(ContainerSpec {
            name: name.to_owned(),
            image: image.to_owned(),
            env: self.environment(req, image),
            cmd,
            labels,
            binds,
            port: Some(self.docker.port),
            publish_on: (!self.docker.use_internal_ip).then(|| self.docker.host_ip.clone()),
            network: Some(self.docker.network_name.clone()),
            memory,
            nano_cpus,
        })
    }

    /// Where the hub reaches the started container: the published port on `host_ip`, or the
    /// container's own address on `network_name`.
    fn address(&self, container: &Container) -> Result<String, String> {
        if self.docker.use_internal_ip {
            let ip = container
                .networks
                .get(&self.docker.network_name)
                .ok_or_else(|| {
                    format!(
                        "the container has no address on network `{}` (DockerSpawner.network_name)",
                        self.docker.network_name
                    )
                })?;
            return Ok(format!("http://{ip}:{}", self.docker.port));
        }
        let binding = container
            .ports
            .iter()
            .find(|p| p.container == self.docker.port)
            .ok_or_else(|| format!("Docker published no host port for {}/tcp", self.docker.port))?;
        let ip = match binding.host_ip.as_str() {
            // Published on every interface: loopback reaches it from the hub's machine.
            "" | "0.0.0.0" => "127.0.0.1".to_owned(),
            "::" => "[::1]".to_owned(),
            ip if ip.contains(':') => format!("[{ip}]"),
            ip => ip.to_owned(),
        };
        Ok(format!("http://{ip}:{}", binding.host))
    }

    /// Remove a container whatever its state; one already gone is fine.
    async fn remove(&self, id: &str) -> Result<(), SpawnError> {
        self.engine
            .remove(id)
            .await
            .map_err(|e| launch(&e, &format!("remove container {id}")))
    }

    /// Create and start the container; anything created is removed again on failure.
    async fn create_and_start(&self, spec: &ContainerSpec) -> Result<(String, String), SpawnError> {
        let name = &spec.name;
        let id = self
            .engine
            .create(spec)
            .await
            .map_err(|e| launch(&e, &format!("create container {name}")))?;
        let started = async {
            self.engine
                .start(&id)
                .await
                .map_err(|e| launch(&e, &format!("start container {name}")))?;
            let container = self
                .engine
                .inspect(&id)
                .await
                .map_err(|e| launch(&e, &format!("inspect container {name}")))?
                .ok_or_else(|| {
                    SpawnError::Launch(format!("container {name} vanished as it started"))
                })?;
            self.address(&container).map_err(SpawnError::Launch)
        }
        .await;
        match started {
            Ok(url) => Ok((id, url)),
            Err(e) => {
                if let Err(cleanup) = self.remove(&id).await {
                    tracing::error!("could not remove the failed container {name}: {cleanup}");
                }
                Err(e)
            }
        }
    }
}

/// A spawn error saying what was being done when a Docker call failed, in words a user can
/// act on.
fn launch(call: &Call, doing: &str) -> SpawnError {
    SpawnError::Launch(format!("Docker could not {doing}: {call}"))
}

#[async_trait::async_trait]
impl Spawner for DockerSpawner {
    async fn start(&self, req: &SpawnRequest) -> Result<Started, SpawnError> {
        let image = self.choose_image(&req.user_options)?;
        // No pulling (DockerSpawner's pull_policy = "never"): fail fast and say what to do.
        let image_info = match self.engine.image(&image).await {
            Ok(Some(info)) => info,
            Ok(None) => {
                return Err(SpawnError::Launch(format!(
                    "image {image} is not available on this Docker engine; build or load it first"
                )))
            }
            Err(e) => return Err(launch(&e, &format!("inspect image {image}"))),
        };
        let name = container_name(&self.docker.name_template, req, &image);
        // A container left under this name (a crash, or `remove = false`) cannot be reused:
        // its API token was revoked when its server stopped.
        match self.engine.inspect(&name).await {
            Ok(Some(old)) => {
                tracing::warn!(
                    "replacing the leftover container {name} for {}",
                    req.display_name()
                );
                self.remove(&old.id).await?;
            }
            Ok(None) => {}
            Err(e) => return Err(launch(&e, &format!("look for container {name}"))),
        }
        let spec = self.container_spec(req, &name, &image, image_info.cmd)?;
        let (container_id, url) = self.create_and_start(&spec).await?;
        tracing::info!(
            container = %&container_id[..12.min(container_id.len())],
            %url,
            "started container {name} from {image} for {}",
            req.display_name()
        );
        let state = ContainerState {
            container_id,
            container_name: name,
            image,
        };
        Ok(Started {
            url,
            state: serde_json::to_value(state).expect("plain struct serialises"),
        })
    }

    async fn poll(&self, state: &Value) -> Result<Option<Exited>, SpawnError> {
        let state = Self::state(state)?;
        let container = match self.engine.inspect(&state.container_id).await {
            Ok(Some(container)) => container,
            Ok(None) => {
                return Ok(Some(Exited {
                    code: None,
                    reason: format!(
                        "is gone (container {} no longer exists)",
                        state.container_name
                    ),
                }))
            }
            Err(e) => {
                // Not knowing is not the same as gone: keep the server until the engine answers.
                tracing::warn!("cannot poll container {}: {e}", state.container_name);
                return Ok(None);
            }
        };
        if container.running {
            return Ok(None);
        }
        let code = container.exit_code.and_then(|c| i32::try_from(c).ok());
        let mut reason = match code {
            Some(code) => format!("exited with status {code}"),
            None => "is no longer running".to_owned(),
        };
        if container.oom_killed {
            reason.push_str(" (OOMKilled: it used more than Spawner.mem_limit)");
        }
        if !container.error.is_empty() {
            reason.push_str(&format!(" ({})", container.error));
        }
        Ok(Some(Exited { code, reason }))
    }

    async fn stop(&self, state: &Value) -> Result<(), SpawnError> {
        let state = Self::state(state)?;
        let id = &state.container_id;
        let grace = Duration::from_secs(self.docker.stop_timeout);
        self.engine
            .stop(id, grace)
            .await
            .map_err(|e| launch(&e, &format!("stop container {}", state.container_name)))?;
        if self.docker.remove {
            self.remove(id).await?;
        }
        tracing::info!("stopped container {}", state.container_name);
        Ok(())
    }

    async fn recent_output(&self, state: &Value) -> Option<String> {
        let state = Self::state(state).ok()?;
        let text = self.engine.logs(&state.container_id, 20).await.ok()?;
        let text = text.trim_end();
        (!text.is_empty()).then(|| text.to_owned())
    }

    fn options_form(&self, _user: &str) -> Option<String> {
        // As DockerSpawner: a form only when there is a choice to make.
        if self.docker.allowed_images.len() < 2 {
            return None;
        }
        let options: String = self
            .docker
            .allowed_images
            .iter()
            .map(|image| {
                let selected = if *image == self.docker.image {
                    " selected"
                } else {
                    ""
                };
                let image = ferrohub_shared::html::escape(image);
                format!("<option value=\"{image}\"{selected}>{image}</option>\n")
            })
            .collect();
        Some(format!(
            "<label for=\"image\">Select an image:</label>\n\
             <select class=\"form-control\" id=\"image\" name=\"image\" required autofocus>\n\
             {options}</select>\n"
        ))
    }

    fn options_from_form(&self, form: &BTreeMap<String, Vec<String>>) -> Value {
        match form.get("image").and_then(|v| v.first()) {
            Some(image) => serde_json::json!({ "image": image }),
            None => serde_json::json!({}),
        }
    }
}

#[cfg(test)]
mod tests;
