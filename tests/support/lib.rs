//! Helpers for the end-to-end tests: find the built binaries, run them in a scratch
//! directory, capture their output, and poll with deadlines instead of sleeping.
//!
//! The binaries are the ones `cargo build --workspace` leaves in the target directory
//! (`FERROHUB_BIN_DIR` overrides where to look); the test command builds them first.

pub mod admin;
pub mod apps;
pub mod browser;
pub mod jupyterhub;
pub mod novnc;
pub mod tls;
pub mod webdriver;
pub mod websocket;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The path of a workspace binary, e.g. `bin("ferrohub")`.
pub fn bin(name: &str) -> PathBuf {
    let dir = std::env::var_os("FERROHUB_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            // target/debug/deps/<test binary> -> target/debug
            let exe = std::env::current_exe().expect("the test knows its own path");
            exe.parent()
                .and_then(Path::parent)
                .expect("test binaries live in target/<profile>/deps")
                .to_owned()
        });
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` before the end-to-end tests",
        path.display()
    );
    path
}

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("loopback has free ports")
        .port()
}

/// A fresh, empty directory under the system's temp dir, removed on drop.
pub struct ScratchDir(PathBuf);

impl ScratchDir {
    pub fn new(label: &str) -> ScratchDir {
        let path = std::env::temp_dir().join(format!(
            "ferrohub-e2e-{label}-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos() ^ u128::from(free_port())
        ));
        std::fs::create_dir_all(&path).expect("temp dir is writable");
        ScratchDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Poll `check` every 50 ms until it returns `Some` or `timeout` passes.
pub async fn poll<T, F, Fut>(timeout: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running binary whose stdout and stderr are collected. Dropping it sends SIGTERM and,
/// if it does not exit in time, SIGKILL.
pub struct Running {
    child: Child,
    pub output: Arc<Mutex<String>>,
    pub name: String,
}

impl Running {
    /// Start `program` with `args` in `dir`.
    pub fn start(program: &Path, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Running {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_remove("RUST_LOG");
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().expect("piped")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("piped")),
        ] {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    output
                        .lock()
                        .expect("no panics while holding")
                        .push_str(&(line + "\n"));
                }
            });
        }
        Running {
            child,
            output,
            name: program
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.output.lock().expect("no panics while holding").clone()
    }

    /// Wait until the output contains `needle`; returns the output.
    pub async fn wait_for_output(&self, needle: &str, timeout: Duration) -> String {
        let what = format!("{} to print {needle:?}", self.name);
        let out = self.output.clone();
        poll(timeout, &what, || {
            let out = out.clone();
            async move {
                let text = out.lock().expect("no panics while holding").clone();
                text.contains(needle).then_some(text)
            }
        })
        .await
    }

    /// The port a helper script printed as "listening on PORT" (it bound 127.0.0.1:0).
    pub async fn listening_port(&self) -> u16 {
        let output = self
            .wait_for_output("listening on ", Duration::from_secs(20))
            .await;
        let line = output
            .lines()
            .find_map(|l| l.strip_prefix("listening on "))
            .expect("the line was printed");
        line.trim().parse().expect("a port number")
    }

    /// Wait for the process to exit by itself.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let name = self.name.clone();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not exit within {timeout:?}; output:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Send a signal by name (`TERM`, `KILL`, ...).
    pub fn signal(&self, sig: &str) {
        signal_pid(self.pid(), sig);
    }
}

/// Send `sig` to `pid` with the system's `kill` command (the tests forbid unsafe code).
pub fn signal_pid(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.split(") ").nth(1).unwrap_or("").starts_with('Z'))
        .unwrap_or(false)
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        self.signal("TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that follows no redirects, so tests see exactly what the server answered.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
}

/// GET `url` and return the status, or `None` if nothing answers.
pub async fn status_of(client: &reqwest::Client, url: &str) -> Option<u16> {
    client
        .get(url)
        .send()
        .await
        .ok()
        .map(|r| r.status().as_u16())
}

/// The Python virtual environment with JupyterHub's own clients (`scripts/install-test-deps.sh`
/// makes it at `.venv` in the workspace; `FERROHUB_VENV` overrides).
pub fn venv_bin(program: &str) -> PathBuf {
    let venv = std::env::var_os("FERROHUB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let path = venv.join("bin").join(program);
    assert!(
        path.is_file(),
        "{} is missing: run `bash scripts/install-test-deps.sh` to create the test venv",
        path.display()
    );
    path
}

/// A hub started by the real binary on ports of its own, in a scratch directory.
pub struct TestHub {
    pub process: Running,
    pub public: u16,
    pub hub_port: u16,
    pub proxy_api: u16,
    pub dir: ScratchDir,
    /// `base_url`, `/` unless started with [`TestHub::start_at`].
    pub base: String,
    /// Environment variables the hub runs with besides the tests' own.
    env: Vec<(String, String)>,
    /// The path of `bind_url` (empty unless started with [`TestHub::start_bound_under`]).
    bind_path: String,
}

impl TestHub {
    /// Start `ferrohub` with `config` (TOML) and wait until it answers through its proxy.
    pub async fn start(label: &str, config: &str) -> TestHub {
        Self::start_at(label, config, "/").await
    }

    /// Start a hub whose configuration sets `base_url` to `base` (e.g. `/jupyter/`).
    pub async fn start_at(label: &str, config: &str, base: &str) -> TestHub {
        Self::start_with_env(label, config, base, &[]).await
    }

    /// Start a hub under `base` with extra environment variables (e.g. `JUPYTERHUB_CRYPT_KEY`),
    /// which a restart keeps.
    pub async fn start_with_env(
        label: &str,
        config: &str,
        base: &str,
        env: &[(&str, &str)],
    ) -> TestHub {
        Self::start_full(label, config, base, env, "").await
    }

    /// Start a hub whose `bind_url` has the path `path` (e.g. `/jh/`) and no `base_url`
    /// setting: JupyterHub then serves under that path.
    pub async fn start_bound_under(label: &str, config: &str, path: &str) -> TestHub {
        Self::start_full(label, config, path, &[], path).await
    }

    async fn start_full(
        label: &str,
        config: &str,
        base: &str,
        env: &[(&str, &str)],
        bind_path: &str,
    ) -> TestHub {
        let dir = ScratchDir::new(label);
        std::fs::write(dir.path().join("jupyterhub_config.toml"), config).unwrap();
        let (public, hub_port, proxy_api) = (free_port(), free_port(), free_port());
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let process = Self::launch(dir.path(), public, hub_port, proxy_api, &env, bind_path);
        let hub = TestHub {
            process,
            public,
            hub_port,
            proxy_api,
            dir,
            base: base.to_owned(),
            env,
            bind_path: bind_path.to_owned(),
        };
        hub.wait_healthy().await;
        hub
    }

    fn launch(
        dir: &Path,
        public: u16,
        hub_port: u16,
        proxy_api: u16,
        env: &[(String, String)],
        bind_path: &str,
    ) -> Running {
        let args = [
            "-f".to_owned(),
            "jupyterhub_config.toml".to_owned(),
            format!("--JupyterHub.bind_url=http://127.0.0.1:{public}{bind_path}"),
            format!("--JupyterHub.hub_bind_url=http://127.0.0.1:{hub_port}"),
            format!("--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{proxy_api}"),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Running::start(&bin("ferrohub"), &args, dir, &env)
    }

    /// Kill the hub with SIGKILL (no cleanup at all) and start it again in the same
    /// directory on the same ports; returns the dead hub's output.
    pub async fn kill_and_restart(&mut self) -> String {
        self.process.signal("KILL");
        let pid = self.process.pid();
        poll(
            Duration::from_secs(10),
            "the killed hub to exit",
            || async { (!pid_alive(pid)).then_some(()) },
        )
        .await;
        let old_output = self.process.output();
        self.process = Self::launch(
            self.dir.path(),
            self.public,
            self.hub_port,
            self.proxy_api,
            &self.env,
            &self.bind_path,
        );
        self.wait_healthy().await;
        old_output
    }

    async fn wait_healthy(&self) {
        let client = http();
        let health = format!("{}{}hub/health", self.public_url(), self.base);
        let out = self.process.output.clone();
        poll(
            Duration::from_secs(30),
            "the hub to answer through its proxy",
            || async {
                if status_of(&client, &health).await == Some(200) {
                    return Some(());
                }
                let text = out.lock().expect("no panics while holding").clone();
                assert!(
                    !text.contains("ferrohub: error"),
                    "the hub failed to start:\n{text}"
                );
                None
            },
        )
        .await;
    }

    /// `http://127.0.0.1:PUBLIC`
    pub fn public_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.public)
    }

    /// The REST API root through the proxy, e.g. for JupyterHub's clients.
    pub fn api_url(&self) -> String {
        format!("{}{}hub/api", self.public_url(), self.base)
    }

    /// Call the API with `token`; returns status and JSON body (`null` when empty).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut req = http()
            .request(method, format!("{}{path}", self.api_url()))
            .header("Authorization", format!("token {token}"));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("the hub answers");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        )
    }
}

/// `[Spawner]` keys that start a real `jupyterhub-singleuser` from the test venv (with the
/// venv on its `PATH`, so it finds Python kernels; `--allow-root` because tests may run as
/// root). Goes inside a `[Spawner]` table.
pub fn singleuser_spawner_keys() -> String {
    let singleuser = venv_bin("jupyterhub-singleuser");
    let bin_dir = singleuser
        .parent()
        .expect("a venv bin dir")
        .display()
        .to_string();
    format!(
        "cmd = [\"{}\"]\nargs = [\"--allow-root\"]\n\
         environment = {{ PATH = \"{bin_dir}:/usr/local/bin:/usr/bin:/bin\" }}\n",
        singleuser.display()
    )
}
