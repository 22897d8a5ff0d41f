//! The real `ferrohub-proxy` binary started with configurable-http-proxy's flags, as
//! JupyterHub starts it.

mod common;

use common::*;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ferrohub-proxy");

/// A port that was free a moment ago (the binary binds it itself).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn runs_with_chps_flags_and_stops_on_sigterm() {
    let backend = Backend::start("hub").await;
    let (port, api_port, metrics_port) = (free_port(), free_port(), free_port());
    let dir = scratch_dir("bin");
    let pid_file = dir.join("proxy.pid");
    let mut child = Command::new(BIN)
        .args(["--ip", "127.0.0.1", "--port", &port.to_string()])
        .args(["--api-ip", "127.0.0.1", "--api-port", &api_port.to_string()])
        .args(["--default-target", &backend.url()])
        .args(["--error-target", &format!("{}/hub/error", backend.url())])
        .args([
            "--log-level",
            "debug",
            "--timeout",
            "30000",
            "--keep-alive-timeout",
            "5000",
        ])
        .args([
            "--metrics-ip",
            "127.0.0.1",
            "--metrics-port",
            &metrics_port.to_string(),
        ])
        .arg("--pid-file")
        .arg(&pid_file)
        .arg("--routes-file")
        .arg(dir.join("routes.json"))
        .env("CONFIGPROXY_AUTH_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let api = format!("http://127.0.0.1:{api_port}/api/routes");
    let routes: Value = eventually(Duration::from_secs(20), "the binary's API", || {
        let (http, api) = (&http, &api);
        async move {
            let r = http
                .get(api)
                .header("Authorization", format!("token {TOKEN}"))
                .send()
                .await
                .ok()?;
            r.json().await.ok()
        }
    })
    .await;
    assert_eq!(routes["/"]["target"], backend.url());
    assert_eq!(http.get(&api).send().await.unwrap().status(), 403);
    let r = http
        .post(format!("{api}/user/alice"))
        .header("Authorization", format!("token {TOKEN}"))
        .json(&json!({"target": backend.url()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = http
        .get(format!("http://127.0.0.1:{port}/user/alice/x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let metrics = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("ferrohub_proxy_routes 2"), "{metrics}");
    assert!(metrics.lines().any(|l| l == "requests_web 1"), "{metrics}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(pid.trim(), child.id().to_string());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = eventually(Duration::from_secs(15), "the binary to exit", || {
        let s = child.try_wait().unwrap();
        async move { s }
    })
    .await;
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    assert!(!pid_file.exists(), "the pid file is removed");
    std::fs::remove_dir_all(dir).unwrap();
}

/// Run the binary with `args`, expecting it to refuse to start; what it said on stderr.
fn refused(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(!out.status.success(), "started with {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// [`refused`] with `flags` after loopback addresses and ports of the system's choosing.
fn refused_with(flags: &[&str]) -> String {
    let ports = ["--ip", "127.0.0.1", "--port", "0", "--api-port", "0"];
    refused(&[&ports[..], flags].concat())
}

#[test]
fn missing_tls_files_fail_at_start_up_naming_them() {
    let err = refused(&[
        "--ip",
        "127.0.0.1",
        "--port",
        "0",
        "--ssl-key",
        "/nonexistent/k.pem",
        "--ssl-cert",
        "/nonexistent/c.pem",
    ]);
    assert!(
        err.contains("--ssl-cert /nonexistent/c.pem: No such file"),
        "{err}"
    );
}

#[test]
fn https_redirection_without_certificates_fails_at_start_up() {
    let err = refused_with(&["--redirect-port", "0", "--redirect-to", "443"]);
    assert!(err.contains("--redirect-port"), "{err}");
    assert!(err.contains("--ssl-key and --ssl-cert"), "{err}");
}

#[test]
fn an_unknown_protocol_rewrite_fails_at_start_up() {
    let err = refused_with(&["--auto-rewrite", "--protocol-rewrite", "gopher"]);
    assert!(
        err.contains("--protocol-rewrite \"gopher\": expected http or https"),
        "{err}"
    );
}

#[test]
fn a_socket_and_a_port_for_the_same_server_are_refused() {
    let err = refused(&["--socket", "/tmp/ferrohub-never.sock", "--port", "8123"]);
    assert!(err.contains("--socket") && err.contains("--port"), "{err}");
    assert!(!std::path::Path::new("/tmp/ferrohub-never.sock").exists());
}
