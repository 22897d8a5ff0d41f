//! A real VNC desktop in a real browser through ferrohub-proxy, without websockify: TigerVNC's
//! `Xvnc` painted with `xsetroot`, noVNC (Debian's `novnc`) served through one route, its
//! websocket bridged to Xvnc's TCP port by another (`"ws_bridge": "tcp"`), in headless Chromium.

use ferrohub_e2e::novnc::{canvas_until, covers, NOVNC};
use ferrohub_e2e::webdriver::ChromeDriver;
use ferrohub_e2e::{bin, free_port, http, poll, status_of, Running, ScratchDir};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TOKEN: &str = "vnc-test-token";
const RED: [u8; 3] = [255, 0, 0];
const BLUE: [u8; 3] = [0, 0, 255];

/// A TigerVNC server on a display and an RFB port of its own, without authentication, on
/// loopback only.
struct Xvnc {
    process: Running,
    display: String,
    rfb_port: u16,
}

impl Xvnc {
    async fn start(dir: &Path) -> Xvnc {
        let rfb_port = free_port();
        let port = rfb_port.to_string();
        // `-displayfd 1`: Xvnc picks a free display itself and prints its number when ready.
        let args = [
            "-displayfd",
            "1",
            "-SecurityTypes",
            "None",
            "-localhost",
            "-rfbport",
            &port,
            "-geometry",
            "320x240",
            "-depth",
            "24",
        ];
        let process = Running::start(Path::new("Xvnc"), &args, dir, &[]);
        let out = process.output.clone();
        let display = poll(Duration::from_secs(20), "Xvnc to print its display", || {
            let out = out.clone();
            async move {
                let text = out.lock().unwrap().clone();
                let listening = text.contains("Listening for VNC connections");
                let number = text.lines().find(|l| l.trim().parse::<u16>().is_ok());
                number
                    .filter(|_| listening)
                    .map(|n| format!(":{}", n.trim()))
            }
        })
        .await;
        Xvnc {
            process,
            display,
            rfb_port,
        }
    }

    /// Paint the root window (the whole desktop) one colour.
    fn paint(&self, colour: &str) {
        let status = Command::new("xsetroot")
            .args(["-display", &self.display, "-solid", colour])
            .status()
            .expect("xsetroot runs");
        assert!(status.success(), "xsetroot -solid {colour} failed");
    }
}

#[tokio::test]
async fn novnc_in_chromium_shows_the_desktop_through_the_bridge() {
    let started = Instant::now();
    let dir = ScratchDir::new("vnc");
    let xvnc = Xvnc::start(dir.path()).await;
    xvnc.paint("red");

    // noVNC's files under /novnc/, as they would be served beside a hub.
    let web_root = dir.path().join("www");
    std::fs::create_dir_all(&web_root).unwrap();
    std::os::unix::fs::symlink(NOVNC, web_root.join("novnc")).unwrap();
    let static_port = free_port().to_string();
    let static_files = Running::start(
        Path::new("python3"),
        &["-m", "http.server", &static_port, "--bind", "127.0.0.1"],
        &web_root,
        &[],
    );

    let (public, api) = (free_port(), free_port());
    let proxy = Running::start(
        &bin("ferrohub-proxy"),
        &[
            "--ip",
            "127.0.0.1",
            "--port",
            &public.to_string(),
            "--api-ip",
            "127.0.0.1",
            "--api-port",
            &api.to_string(),
        ],
        dir.path(),
        &[("CONFIGPROXY_AUTH_TOKEN", TOKEN)],
    );
    let client = http();
    let routes = format!("http://127.0.0.1:{api}/api/routes");
    poll(Duration::from_secs(20), "the proxy API", || async {
        status_of(&client, &routes).await.map(|_| ())
    })
    .await;
    let add = |path: &str, body: Value| {
        let req = client
            .post(format!("{routes}{path}"))
            .header("Authorization", format!("token {TOKEN}"))
            .json(&body);
        async move { assert_eq!(req.send().await.unwrap().status(), 201) }
    };
    add(
        "/novnc",
        json!({"target": format!("http://127.0.0.1:{static_port}")}),
    )
    .await;
    add(
        "/desktop/alice",
        json!({"target": format!("http://127.0.0.1:{}", xvnc.rfb_port), "ws_bridge": "tcp"}),
    )
    .await;
    let page = format!("http://127.0.0.1:{public}/novnc/vnc.html");
    poll(
        Duration::from_secs(20),
        "noVNC through the proxy",
        || async { (status_of(&client, &page).await == Some(200)).then_some(()) },
    )
    .await;
    let route = |c: reqwest::Client| {
        let url = format!("{routes}/desktop/alice");
        async move {
            let r = c.get(url).header("Authorization", format!("token {TOKEN}"));
            r.send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let added = route(client.clone()).await["last_activity"].clone();

    let driver = ChromeDriver::start().await;
    let browser = driver.session().await;
    browser
        .navigate(&format!(
            "{page}?autoconnect=true&host=127.0.0.1&port={public}&path=desktop/alice"
        ))
        .await;
    let logs = [&xvnc.process, &proxy, &static_files];
    let v = canvas_until(&browser, "noVNC to show the red desktop", RED, &logs, |v| {
        v["connected"] == true && covers(v, 0.9)
    })
    .await;
    assert!(
        v["status"].as_str().unwrap().contains("Connected"),
        "noVNC's status: {v}"
    );

    // The desktop changes; the browser sees it (updates keep flowing both ways).
    xvnc.paint("blue");
    canvas_until(&browser, "the desktop to turn blue", BLUE, &logs, |v| {
        covers(v, 0.9)
    })
    .await;
    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000);

    // VNC traffic is route activity, as the idle culler needs.
    let now = route(client.clone()).await["last_activity"].clone();
    assert!(
        now.as_str() > added.as_str(),
        "last_activity moved: {added} -> {now}"
    );

    // Closing the browser ends the VNC connection too.
    browser.delete().await;
    xvnc.process
        .wait_for_output("closed: 127.0.0.1", Duration::from_secs(20))
        .await;
    drop(driver);
    eprintln!(
        "VNC through noVNC, Chromium and the bridge in {:?}",
        started.elapsed()
    );
}
