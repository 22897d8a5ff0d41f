//! Unit tests of what the Docker spawner asks the engine for; the engine itself is exercised
//! by the end-to-end tests (`tests/hub_docker_spawner.rs`).

use super::*;
use bollard::models::{EndpointSettings, NetworkSettings};
use serde_json::json;

fn spawner(toml: &str) -> DockerSpawner {
    let config = HubConfig::from_toml_str(&format!(
        "[JupyterHub]\nspawner_class = \"docker\"\nhub_connect_url = \"http://172.17.0.1:8081\"\n{toml}"
    ))
    .expect("valid config");
    DockerSpawner::new(&config)
}

fn req(options: Value) -> SpawnRequest {
    SpawnRequest {
        user: "alice".into(),
        server_name: String::new(),
        base_url: "/user/alice/".into(),
        env: BTreeMap::from([
            ("JUPYTERHUB_USER".into(), "alice".into()),
            ("PATH".into(), "/hub/bin".into()),
            ("LANG".into(), "C.UTF-8".into()),
        ]),
        user_options: options,
    }
}

#[test]
fn images_are_chosen_only_from_the_allowed_list() {
    let plain = spawner("");
    assert_eq!(
        plain.choose_image(&json!({})).unwrap(),
        "quay.io/jupyterhub/singleuser:6.1"
    );
    let err = plain.choose_image(&json!({"image": "evil"})).unwrap_err();
    assert!(err.to_string().contains("allowed_images is empty"), "{err}");

    let choice = spawner("[DockerSpawner]\nimage = \"a:1\"\nallowed_images = [\"a:1\", \"b:2\"]");
    assert_eq!(
        choice.choose_image(&json!({"image": "b:2"})).unwrap(),
        "b:2"
    );
    assert_eq!(choice.choose_image(&json!({})).unwrap(), "a:1");
    let err = choice.choose_image(&json!({"image": "c:3"})).unwrap_err();
    assert!(err.to_string().contains("a:1, b:2"), "{err}");
    assert!(choice.choose_image(&json!({"image": 7})).is_err());
}

#[test]
fn the_container_carries_labels_env_limits_and_a_published_port() {
    let s = spawner(
        "[Spawner]\nmem_limit = \"256M\"\ncpu_limit = 1.5\nenvironment = { LANG = \"en_US.UTF-8\" }\n\
         [DockerSpawner]\nextra_labels = { team = \"x\", \"ferrohub.user\" = \"mallory\" }\n\
         volumes = { \"home-{username}\" = \"/home/{username}\" }",
    );
    let body = s
        .container_body(&req(json!({})), "img:1", Some(vec!["run".into()]))
        .unwrap();
    let labels = body.labels.unwrap();
    assert_eq!(labels[labels::SERVICE], labels::SERVICE_SINGLEUSER);
    assert_eq!(labels[labels::USER], "alice", "ferrohub's labels win");
    assert_eq!(labels[labels::SERVER], "");
    assert_eq!(labels["team"], "x");
    let env = body.env.unwrap();
    assert!(env.contains(&"JUPYTERHUB_SERVICE_URL=http://0.0.0.0:8888/user/alice/".into()));
    assert!(env.contains(&"JUPYTER_IMAGE_SPEC=img:1".into()));
    assert!(
        !env.iter().any(|e| e.starts_with("PATH=")),
        "the hub's PATH stays out: {env:?}"
    );
    assert!(
        env.contains(&"LANG=C.UTF-8".into()),
        "set in [Spawner] environment: kept"
    );
    assert_eq!(body.cmd, None, "the image's own command runs");
    let host = body.host_config.unwrap();
    assert_eq!(host.memory, Some(256 << 20));
    assert_eq!(host.nano_cpus, Some(1_500_000_000));
    assert_eq!(
        host.binds.unwrap(),
        vec!["home-alice:/home/alice".to_owned()]
    );
    assert_eq!(host.network_mode.as_deref(), Some("bridge"));
    let binding = &host.port_bindings.unwrap()["8888/tcp"].clone().unwrap()[0];
    assert_eq!(binding.host_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(body.exposed_ports.unwrap(), vec!["8888/tcp".to_owned()]);
}

#[test]
fn commands_follow_dockerspawner() {
    let image_cmd = || Some(vec!["start.sh".to_owned()]);
    let args = spawner("[Spawner]\nargs = [\"--debug\"]");
    let body = args
        .container_body(&req(json!({})), "i", image_cmd())
        .unwrap();
    assert_eq!(body.cmd.unwrap(), ["start.sh", "--debug"]);
    let cmd = spawner("[Spawner]\nargs = [\"--x\"]\n[DockerSpawner]\ncmd = [\"serve\"]");
    let body = cmd
        .container_body(&req(json!({})), "i", image_cmd())
        .unwrap();
    assert_eq!(body.cmd.unwrap(), ["serve", "--x"]);
}

#[test]
fn internal_ip_publishes_nothing_and_reads_the_network_address() {
    let s = spawner("[DockerSpawner]\nuse_internal_ip = true\nnetwork_name = \"hubnet\"");
    let body = s.container_body(&req(json!({})), "i", None).unwrap();
    assert!(body.host_config.unwrap().port_bindings.is_none());
    let info = |network: &str| ContainerInspectResponse {
        network_settings: Some(NetworkSettings {
            networks: Some(HashMap::from([(
                network.to_owned(),
                EndpointSettings {
                    ip_address: Some("10.1.2.3".into()),
                    ..Default::default()
                },
            )])),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(s.address(&info("hubnet")).unwrap(), "http://10.1.2.3:8888");
    assert!(s.address(&info("bridge")).unwrap_err().contains("hubnet"));
}

#[test]
fn published_ports_are_reached_on_the_host() {
    let s = spawner("");
    let info = |ip: &str| ContainerInspectResponse {
        network_settings: Some(NetworkSettings {
            ports: Some(HashMap::from([(
                "8888/tcp".to_owned(),
                Some(vec![PortBinding {
                    host_ip: Some(ip.into()),
                    host_port: Some("49153".into()),
                }]),
            )])),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        s.address(&info("127.0.0.1")).unwrap(),
        "http://127.0.0.1:49153"
    );
    assert_eq!(
        s.address(&info("0.0.0.0")).unwrap(),
        "http://127.0.0.1:49153"
    );
    assert!(s.address(&ContainerInspectResponse::default()).is_err());
}

#[test]
fn the_form_offers_the_allowed_images_escaped() {
    assert_eq!(
        spawner("[DockerSpawner]\nallowed_images = [\"a\"]").options_form("u"),
        None
    );
    let s = spawner("[DockerSpawner]\nimage = \"b\"\nallowed_images = [\"a<x>\", \"b\"]");
    let form = s.options_form("u").unwrap();
    assert!(
        form.contains("<select") && form.contains("name=\"image\""),
        "{form}"
    );
    assert!(
        form.contains("<option value=\"a&lt;x&gt;\">a&lt;x&gt;</option>"),
        "{form}"
    );
    assert!(form.contains("<option value=\"b\" selected>"), "{form}");
    let form = BTreeMap::from([("image".to_owned(), vec!["b".to_owned()])]);
    assert_eq!(s.options_from_form(&form), json!({"image": "b"}));
    assert_eq!(s.options_from_form(&BTreeMap::new()), json!({}));
}

#[test]
fn unknown_state_is_refused() {
    assert!(matches!(
        DockerSpawner::state(&json!({"pid": 3})),
        Err(SpawnError::BadState(_))
    ));
}
