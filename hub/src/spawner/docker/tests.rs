//! Unit tests of what the Docker spawner asks the engine for; the engine itself is exercised
//! by the end-to-end tests (`tests/hub_docker_spawner.rs`).

use super::*;
use ferrohub_shared::docker::Published;
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
        .container_spec(&req(json!({})), "c", "img:1", Some(vec!["run".into()]))
        .unwrap();
    let labels = body.labels;
    assert_eq!(labels[labels::SERVICE], labels::SERVICE_SINGLEUSER);
    assert_eq!(labels[labels::USER], "alice", "ferrohub's labels win");
    assert_eq!(labels[labels::SERVER], "");
    assert_eq!(labels["team"], "x");
    let env = body.env;
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
    assert_eq!(body.memory, Some(256 << 20));
    assert_eq!(body.nano_cpus, Some(1_500_000_000));
    assert_eq!(body.binds, vec!["home-alice:/home/alice".to_owned()]);
    assert_eq!(body.network.as_deref(), Some("bridge"));
    assert_eq!(body.port, Some(8888));
    assert_eq!(body.publish_on.as_deref(), Some("127.0.0.1"));
}

#[test]
fn commands_follow_dockerspawner() {
    let image_cmd = || Some(vec!["start.sh".to_owned()]);
    let args = spawner("[Spawner]\nargs = [\"--debug\"]");
    let body = args
        .container_spec(&req(json!({})), "c", "i", image_cmd())
        .unwrap();
    assert_eq!(body.cmd.unwrap(), ["start.sh", "--debug"]);
    let cmd = spawner("[Spawner]\nargs = [\"--x\"]\n[DockerSpawner]\ncmd = [\"serve\"]");
    let body = cmd
        .container_spec(&req(json!({})), "c", "i", image_cmd())
        .unwrap();
    assert_eq!(body.cmd.unwrap(), ["serve", "--x"]);
}

#[test]
fn internal_ip_publishes_nothing_and_reads_the_network_address() {
    let s = spawner("[DockerSpawner]\nuse_internal_ip = true\nnetwork_name = \"hubnet\"");
    let body = s.container_spec(&req(json!({})), "c", "i", None).unwrap();
    assert_eq!(body.publish_on, None, "nothing is published");
    let info = |network: &str| Container {
        networks: HashMap::from([(network.to_owned(), "10.1.2.3".to_owned())]),
        ..Container::default()
    };
    assert_eq!(s.address(&info("hubnet")).unwrap(), "http://10.1.2.3:8888");
    assert!(s.address(&info("bridge")).unwrap_err().contains("hubnet"));
}

#[test]
fn published_ports_are_reached_on_the_host() {
    let s = spawner("");
    let info = |ip: &str| Container {
        ports: vec![Published {
            container: 8888,
            host_ip: ip.into(),
            host: 49153,
        }],
        ..Container::default()
    };
    assert_eq!(
        s.address(&info("127.0.0.1")).unwrap(),
        "http://127.0.0.1:49153"
    );
    assert_eq!(
        s.address(&info("0.0.0.0")).unwrap(),
        "http://127.0.0.1:49153"
    );
    assert!(s.address(&Container::default()).is_err());
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

/// A spawner over a fake engine that has the image `img:1`.
fn faked(toml: &str) -> (DockerSpawner, Arc<ferrohub_shared::docker::FakeEngine>) {
    let config = HubConfig::from_toml_str(&format!(
        "[JupyterHub]\nspawner_class = \"docker\"\nhub_connect_url = \"http://172.17.0.1:8081\"\n\
         [DockerSpawner]\nimage = \"img:1\"\n{toml}"
    ))
    .expect("valid config");
    let engine = Arc::new(ferrohub_shared::docker::FakeEngine::new());
    engine.add_image("img:1", &[]);
    (DockerSpawner::with_engine(&config, engine.clone()), engine)
}

#[tokio::test]
async fn a_start_replaces_a_leftover_container_and_a_stop_removes_it() {
    let (s, engine) = faked("");
    let started = s.start(&req(json!({}))).await.unwrap();
    assert_eq!(started.url, "http://127.0.0.1:40001");
    assert_eq!(engine.containers().len(), 1);
    // A second start finds the first container under its name and replaces it.
    let again = s.start(&req(json!({}))).await.unwrap();
    let containers = engine.containers();
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert_eq!(again.state["container_id"], containers[0].id.as_str());
    assert_eq!(s.poll(&again.state).await.unwrap(), None, "it runs");
    s.stop(&again.state).await.unwrap();
    assert!(engine.containers().is_empty(), "remove = true by default");
    let gone = s.poll(&again.state).await.unwrap().expect("gone");
    assert!(gone.reason.contains("no longer exists"), "{}", gone.reason);
}

#[tokio::test]
async fn engine_trouble_is_told_apart_from_an_ended_server() {
    let (s, engine) = faked("");
    let err = s.start(&req(json!({"image": "nope:1"}))).await.unwrap_err();
    assert!(err.to_string().contains("allowed_images"), "{err}");
    let started = s.start(&req(json!({}))).await.unwrap();
    // The engine cannot be asked: the server is not declared dead.
    engine.set_unreachable(true);
    assert_eq!(s.poll(&started.state).await.unwrap(), None);
    assert!(s.start(&req(json!({}))).await.is_err());
    engine.set_unreachable(false);
    // It exits on its own: its status is the reason.
    let id = started.state["container_id"].as_str().unwrap().to_owned();
    engine.exit(&id, 137);
    let exited = s.poll(&started.state).await.unwrap().expect("ended");
    assert_eq!(exited.code, Some(137));
    assert!(
        exited.reason.contains("exited with status 137"),
        "{}",
        exited.reason
    );
}

#[tokio::test]
async fn a_missing_image_is_said_so_and_nothing_is_created() {
    // `faked`'s table continues: the line is a key of [DockerSpawner].
    let (s, engine) = faked("allowed_images = [\"img:1\", \"absent:1\"]");
    let err = s
        .start(&req(json!({"image": "absent:1"})))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("build or load it first"), "{err}");
    assert!(engine.containers().is_empty());
}
