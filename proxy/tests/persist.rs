//! `--routes-file`: routes survive a restart (graceful or not), and a corrupt file stops the
//! start with a clear error.

mod common;

use common::*;
use ferrohub_proxy::{Config, ProxyError};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn temp_file(name: &str) -> PathBuf {
    scratch_dir("it").join(name)
}

fn with_file(file: &Path) -> Config {
    Config {
        routes_file: Some(file.to_owned()),
        ..TestProxy::config()
    }
}

#[tokio::test]
async fn routes_survive_a_crash_and_a_clean_restart() {
    let b = Backend::start("alice").await;
    let file = temp_file("routes.json");

    let p = TestProxy::start(with_file(&file)).await;
    p.add_route("/user/alice/", json!({"target": b.url(), "user": "alice"}))
        .await;
    p.add_route("/user/bob/", json!({"target": b.url()})).await;
    let r = p
        .http
        .delete(p.api_url("/user/bob"))
        .header("Authorization", format!("token {TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let before = p.routes("").await;
    // No graceful anything: whatever the API confirmed must already be on disk.
    p.kill();

    let p = TestProxy::start(with_file(&file)).await;
    assert_eq!(
        p.routes("").await,
        before,
        "same routes, same data, same last_activity"
    );
    let r = p.http.get(p.url("/user/alice/tree")).send().await.unwrap();
    assert_eq!(r.status(), 200, "and they are served");
    let echo: Value = r.json().await.unwrap();
    assert_eq!(echo["name"], "alice");
    p.stop().await.unwrap();

    let p = TestProxy::start(with_file(&file)).await;
    assert_eq!(
        p.routes("")
            .await
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["/user/alice"]
    );
    p.stop().await.unwrap();
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn a_corrupt_routes_file_is_a_start_up_error() {
    let file = temp_file("routes.json");
    std::fs::write(&file, "{\"/user/alice\": {\"target\": \"http://127").unwrap();
    let err = match TestProxy::try_start(with_file(&file)).await {
        Err(e) => e,
        Ok(_) => panic!("started with a corrupt routes file"),
    };
    assert!(matches!(err, ProxyError::Persist(_)), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&file.display().to_string()) && msg.contains("fix or remove it"),
        "{msg}"
    );
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}

#[tokio::test]
async fn many_concurrent_additions_all_reach_the_file() {
    let file = temp_file("routes.json");
    let p = TestProxy::start(with_file(&file)).await;
    let adds = (0..50).map(|i| {
        let p = &p;
        async move {
            p.add_route(
                &format!("/user/u{i}"),
                json!({"target": "http://127.0.0.1:1"}),
            )
            .await
        }
    });
    futures_util::future::join_all(adds).await;
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(on_disk.as_object().unwrap().len(), 50);
    assert_eq!(on_disk, p.routes("").await);
    std::fs::remove_dir_all(file.parent().unwrap()).unwrap();
}
