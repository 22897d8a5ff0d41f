//! A real desktop launched by the manager: the demo image (TigerVNC's Xvnc, openbox and a
//! terminal, built from Debian's packages by scripts/build-demo-images.sh) started through the
//! manager's API, its VNC server reached through the proxy's websocket bridge by its owner
//! only, and shown by noVNC (served by the manager) in headless Chromium.

use ferrohub_e2e::apps::{app, log_in, RealmCleanup};
use ferrohub_e2e::novnc::{canvas_until, covers};
use ferrohub_e2e::webdriver::{ChromeDriver, Session};
use ferrohub_e2e::{admin, http, poll, TestHub};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN_TOKEN: &str = "manager-desktop-admin-token-1f2e3d4c";
const DESKTOP: &str = "ferrohub-demo-desktop:1";
/// The demo desktop paints its root window this colour (scripts/demo/ferrohub-desktop).
const BACKGROUND: [u8; 3] = [0x2e, 0x5e, 0x8c];

fn config(realm: &str) -> String {
    format!(
        r#"
[JupyterHub]
authenticator_class = "dummy"
spawner_class = "manager"

[[JupyterHub.services]]
name = "setup"
api_token = "{ADMIN_TOKEN}"
admin = true

[Spawner]
http_timeout = 30

[Manager]
realm = "{realm}"
start_timeout = 60
"#
    )
}

/// Log `name` in to the hub in Chromium, as a person would.
async fn chromium_login(session: &Session, public: &str, name: &str) {
    session.navigate(&format!("{public}/hub/login")).await;
    session
        .execute(
            "document.getElementById('username_input').value = arguments[0];
             document.getElementById('password_input').value = 'any';
             document.getElementById('login_submit').click();",
            vec![json!(name)],
        )
        .await;
    poll(Duration::from_secs(30), "the hub's home page", || async {
        session
            .current_url()
            .await
            .ends_with("/hub/home")
            .then_some(())
    })
    .await;
}

/// A websocket handshake at `path` through the proxy with `cookies`; the status line, and
/// after a 101 the first message (the VNC server's greeting).
async fn websocket(port: u16, path: &str, cookies: &str) -> (String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: Upgrade\r\n\
         Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: binary\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: {cookies}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let read = async {
        loop {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let status = String::from_utf8_lossy(&buf[..end])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                if !status.contains(" 101 ") {
                    return (status, Vec::new());
                }
                // An unmasked binary frame with a short payload: 0x82, length, payload.
                let frame = &buf[end + 4..];
                if frame.len() >= 2 && frame.len() >= 2 + usize::from(frame[1] & 0x7f) {
                    let len = usize::from(frame[1] & 0x7f);
                    return (status, frame[2..2 + len].to_vec());
                }
            }
        }
        (String::from_utf8_lossy(&buf).into_owned(), Vec::new())
    };
    tokio::time::timeout(Duration::from_secs(20), read)
        .await
        .expect("the websocket answers")
}

#[tokio::test]
async fn a_desktop_launched_by_the_manager_shows_in_chromium_for_its_owner_only() {
    let realm = format!("fhdesk{}", std::process::id());
    let _cleanup = RealmCleanup(realm.clone());
    let hub = TestHub::start("manager-desktop", &config(&realm)).await;
    let public = hub.public_url();
    let (status, body) = hub
        .api(
            Method::POST,
            "/users",
            ADMIN_TOKEN,
            Some(json!({"usernames": ["alice", "bob"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    app(&hub, &["create", DESKTOP]);
    let grant: Value =
        serde_json::from_str(&app(&hub, &["--json", "grant", DESKTOP, "alice"])).unwrap();
    let mapping_id = grant["mapping_id"].as_str().unwrap().to_owned();
    admin::start_and_wait(&hub, ADMIN_TOKEN, "alice", "", None).await;

    // Chromium logs alice in and opens her server: the manager's page lists the desktop;
    // the search box filters; Start (the page's script, JSON with her cookies) starts it and
    // the page shows it embedded.
    let driver = ChromeDriver::start().await;
    let session = driver.session().await;
    chromium_login(&session, &public, "alice").await;
    session.navigate(&format!("{public}/user/alice/")).await;
    let page_has = |script: &'static str| {
        let session = &session;
        async move { session.execute(script, vec![]).await }
    };
    poll(Duration::from_secs(30), "the manager's page with the desktop", || async {
        let found = page_has("return !!document.querySelector('button.start') && document.body.innerText.includes('Desktop');").await;
        (found == true).then_some(())
    })
    .await;
    let hidden = page_has(
        "const s = document.getElementById('app-search'); s.value = 'no such app';
         s.dispatchEvent(new Event('input'));
         const hidden = document.querySelector('li.app').hidden;
         s.value = 'desk'; s.dispatchEvent(new Event('input'));
         return [hidden, document.querySelector('li.app').hidden];",
    )
    .await;
    assert_eq!(
        hidden,
        json!([true, false]),
        "the search box filters the list"
    );
    page_has("document.querySelector('button.start').click(); return true;").await;
    let embedded = poll(Duration::from_secs(90), "the started desktop in the page", || async {
        let src = page_has("const f = document.querySelector('li.app iframe'); return f ? f.getAttribute('src') : null;").await;
        src.as_str().map(str::to_owned)
    })
    .await;
    assert!(
        embedded.starts_with("/user/alice/containers/"),
        "{embedded}"
    );
    let url_id = embedded
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let websockify = format!("/user/alice/containers/{url_id}/websockify");

    // Its address: noVNC, served by the manager, connects through the proxy's bridge and
    // shows the desktop (its background), at the page's default resolution.
    session.navigate(&format!("{public}{embedded}")).await;
    let v = canvas_until(
        &session,
        "noVNC to show alice's desktop",
        BACKGROUND,
        &[&hub.process],
        |v| v["connected"] == true && covers(v, 0.3),
    )
    .await;
    assert_eq!(v["pixels"], 1024 * 768, "{v}");
    let png = session.screenshot().await;
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000);

    // The bridge greets alice's session with the VNC server's banner; bob's session and no
    // session at all are refused before any VNC byte.
    let cookie = |browser: &ferrohub_e2e::browser::Browser| {
        use reqwest::cookie::CookieStore;
        browser
            .cookies
            .cookies(&public.parse().unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let alice = log_in(&hub, "alice").await;
    let (status, greeting) = websocket(hub.public, &websockify, &cookie(&alice)).await;
    assert!(status.contains(" 101 "), "{status}");
    assert!(
        greeting.starts_with(b"RFB 003."),
        "{:?}",
        String::from_utf8_lossy(&greeting)
    );
    let bob = log_in(&hub, "bob").await;
    let (status, greeting) = websocket(hub.public, &websockify, &cookie(&bob)).await;
    assert!(status.contains(" 403 "), "{status}");
    assert!(greeting.is_empty());
    let (status, _) = websocket(hub.public, &websockify, "").await;
    assert!(status.contains(" 403 "), "{status}");

    // Stop from the page (confirmed), then start through the API with a resolution, as a
    // script would: the desktop comes up at that size.
    session.navigate(&format!("{public}/user/alice/")).await;
    poll(Duration::from_secs(30), "the page with Stop", || async {
        (page_has("return !!document.querySelector('button.stop');").await == true).then_some(())
    })
    .await;
    page_has(
        "window.confirm = () => true; document.querySelector('button.stop').click(); return true;",
    )
    .await;
    poll(Duration::from_secs(30), "the desktop to stop", || async {
        (page_has("return !!document.querySelector('button.start');").await == true).then_some(())
    })
    .await;
    let token = admin::token_of(&hub, ADMIN_TOKEN, "alice").await;
    let api = format!("{public}/user/alice/api/v1");
    let listed: Value = http()
        .get(format!("{api}/applications/{mapping_id}/"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["image"]["type"], "vncapp", "{listed}");
    assert!(listed.get("container").is_none(), "stopped: {listed}");
    assert_eq!(listed["image"]["configurables"], json!(["resolution"]));
    let started = http()
        .post(format!("{api}/containers/"))
        .header("Authorization", format!("token {token}"))
        .json(&json!({"mapping_id": mapping_id,
                      "configurables": {"resolution": {"resolution": "800x600"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status().as_u16(), 201, "{:?}", started.text().await);
    let location = started.headers()["location"].to_str().unwrap().to_owned();
    let url_id = location
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    session
        .navigate(&format!("{public}/user/alice/containers/{url_id}/"))
        .await;
    let v = canvas_until(
        &session,
        "the desktop at 800x600",
        BACKGROUND,
        &[&hub.process],
        |v| v["connected"] == true && covers(v, 0.3),
    )
    .await;
    assert_eq!(v["pixels"], 800 * 600, "the resolution asked for: {v}");
    session.delete().await;
    drop(driver);
    let stopped = http()
        .delete(format!("{api}/containers/{url_id}/"))
        .header("Authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status().as_u16(), 204);
}
