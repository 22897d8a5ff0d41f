//! A small WebDriver client (W3C protocol over reqwest) driving headless Chromium through
//! Debian's `chromedriver`, for tests where scripts and rendering matter.

use crate::{free_port, pid_alive, poll, Running, ScratchDir};
use base64::Engine as _;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

/// The W3C name of a web element's id in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecc";

/// A running `chromedriver` on a free loopback port. Dropping it asks chromedriver to quit
/// (which ends every browser it started) and then stops the process.
pub struct ChromeDriver {
    port: u16,
    http: reqwest::Client,
    // Declared before `_dir` so the process stops before its directory goes.
    process: Running,
    _dir: ScratchDir,
}

impl ChromeDriver {
    /// Start `chromedriver` (from `PATH`, or `FERROHUB_CHROMEDRIVER`) and wait until it is ready.
    pub async fn start() -> ChromeDriver {
        let program = std::env::var("FERROHUB_CHROMEDRIVER").unwrap_or("chromedriver".into());
        let dir = ScratchDir::new("chromedriver");
        let port = free_port();
        let process = Running::start(
            Path::new(&program),
            &[&format!("--port={port}"), "--allowed-ips=127.0.0.1"],
            dir.path(),
            &[],
        );
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client builds");
        let driver = ChromeDriver {
            port,
            http,
            process,
            _dir: dir,
        };
        let status = format!("{}/status", driver.base());
        let (out, pid) = (driver.process.output.clone(), driver.process.pid());
        poll(Duration::from_secs(20), "chromedriver to be ready", || {
            let (http, status, out) = (driver.http.clone(), status.clone(), out.clone());
            async move {
                let answer = match http.get(&status).send().await {
                    Ok(r) => r.json::<Value>().await.ok(),
                    Err(_) => None,
                };
                let ready = answer.is_some_and(|v| v["value"]["ready"] == true);
                assert!(
                    ready || pid_alive(pid),
                    "chromedriver exited:\n{}",
                    out.lock().unwrap()
                );
                ready.then_some(())
            }
        })
        .await;
        driver
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new headless Chromium session (`--no-sandbox`: the tests run as root).
    pub async fn session(&self) -> Session {
        let binary = std::env::var("FERROHUB_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-dev-shm-usage",
                    "--disable-gpu",
                    "--window-size=1024,768",
                    "--no-first-run",
                    "--no-proxy-server",
                ],
            },
        }}});
        let url = format!("{}/session", self.base());
        let v = call(&self.http, reqwest::Method::POST, &url, Some(caps)).await;
        let id = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {v}"));
        Session {
            http: self.http.clone(),
            url: format!("{url}/{id}"),
        }
    }

    /// Everything chromedriver printed, for failure messages.
    pub fn output(&self) -> String {
        self.process.output()
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // A blocking `GET /shutdown` (no runtime here): chromedriver closes its browsers and
        // exits; `Running`'s own drop then reaps it (or kills it if it lingers).
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let req = format!(
                "GET /shutdown HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                self.port
            );
            if s.write_all(req.as_bytes()).is_ok() {
                let _ = s.read_to_end(&mut Vec::new());
            }
        }
    }
}

/// One browser session. Call [`Session::delete`] at the end; otherwise the browser goes
/// when the [`ChromeDriver`] is dropped.
pub struct Session {
    http: reqwest::Client,
    url: String,
}

impl Session {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        call(&self.http, method, &format!("{}{path}", self.url), body).await
    }

    /// Load `url` and wait for the page's load event.
    pub async fn navigate(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    pub async fn current_url(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/url", None).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Run `script` (a function body; `arguments[i]` are `args`) and return what it returns.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        let body = json!({ "script": script, "args": args });
        self.call(reqwest::Method::POST, "/execute/sync", Some(body))
            .await
    }

    /// The first element matching a CSS selector, or `None`.
    pub async fn find_element(&self, css: &str) -> Option<Element> {
        let body = json!({ "using": "css selector", "value": css });
        let url = format!("{}/element", self.url);
        let resp = self
            .http
            .post(&url)
            .json(&body)
            .send()
            .await
            .expect("chromedriver answers");
        if resp.status() == 404 {
            return None;
        }
        let v = value_of(resp, &url).await;
        v[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned()))
    }

    /// The visible text of `element`.
    pub async fn text(&self, element: &Element) -> String {
        let path = format!("/element/{}/text", element.0);
        let v = self.call(reqwest::Method::GET, &path, None).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("a base64 string"))
            .expect("valid base64")
    }

    /// End the session and close its browser.
    pub async fn delete(self) {
        self.call(reqwest::Method::DELETE, "", None).await;
    }
}

/// A web element's id within its session.
#[derive(Debug, Clone)]
pub struct Element(String);

/// One WebDriver command; panics with the driver's error message on failure.
async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http.request(method, url);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("chromedriver answers");
    value_of(resp, url).await
}

async fn value_of(resp: reqwest::Response, url: &str) -> Value {
    let status = resp.status();
    let v: Value = resp.json().await.expect("chromedriver answers JSON");
    assert!(
        status.is_success(),
        "WebDriver {url}: {status}: {}",
        v["value"]
    );
    v["value"].clone()
}
