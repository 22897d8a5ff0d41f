//! A real JupyterHub (from the test venv) with `ferrohub-proxy` as its proxy, on ports of its
//! own, in a scratch directory: the other side for tests of JupyterHub compatibility, or an
//! OAuth 2.0 provider for ferrohub's OAuth login.

use crate::ScratchDir;
use crate::{bin, free_port, http, pid_alive, poll, signal_pid, status_of, venv_bin, Running};
use std::path::Path;
use std::time::{Duration, Instant};

/// A running JupyterHub. Dropping it stops JupyterHub, then kills whatever it left running.
pub struct JupyterHub {
    pub process: Running,
    pub dir: Leftovers,
    pub public: u16,
    pub proxy_api: u16,
}

impl JupyterHub {
    /// Start JupyterHub serving on 127.0.0.1:`public` with `CONFIGPROXY_AUTH_TOKEN` =
    /// `proxy_token`, and wait until its API answers through the proxy. The configuration
    /// binds its ports, database and cookie secret in the scratch directory; `extra(scratch)`
    /// adds the rest (authenticator, spawner, services, ...) as Python. `PATH` starts with the
    /// venv's `bin`.
    pub async fn start(
        label: &str,
        public: u16,
        proxy_token: &str,
        extra: impl FnOnce(&Path) -> String,
    ) -> JupyterHub {
        Self::start_bound_under(label, public, "/", proxy_token, extra).await
    }

    /// [`JupyterHub::start`] with `bind_path` (e.g. `/jh/`) as the path of `bind_url`, which
    /// JupyterHub takes as its `base_url`.
    pub async fn start_bound_under(
        label: &str,
        public: u16,
        bind_path: &str,
        proxy_token: &str,
        extra: impl FnOnce(&Path) -> String,
    ) -> JupyterHub {
        let dir = ScratchDir::new(label);
        let (hub_port, proxy_api) = (free_port(), free_port());
        let scratch = dir.path().display().to_string();
        let config = format!(
            "c.JupyterHub.bind_url = 'http://127.0.0.1:{public}{bind_path}'
c.JupyterHub.hub_bind_url = 'http://127.0.0.1:{hub_port}'
c.ConfigurableHTTPProxy.api_url = 'http://127.0.0.1:{proxy_api}'
c.ConfigurableHTTPProxy.command = [{proxy}]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = {db}
c.JupyterHub.cookie_secret_file = {cookie}
{extra}
",
            proxy = py(&bin("ferrohub-proxy").display().to_string()),
            db = py(&format!("sqlite:///{scratch}/jupyterhub.sqlite")),
            cookie = py(&format!("{scratch}/jupyterhub_cookie_secret")),
            extra = extra(dir.path()),
        );
        std::fs::write(dir.path().join("jupyterhub_config.py"), config).unwrap();
        let path = venv_path();
        let process = Running::start(
            &venv_bin("jupyterhub"),
            &["-f", "jupyterhub_config.py"],
            dir.path(),
            &[("CONFIGPROXY_AUTH_TOKEN", proxy_token), ("PATH", &path)],
        );
        let hub = JupyterHub {
            process,
            dir: Leftovers(dir),
            public,
            proxy_api,
        };
        let api = format!("{bind_path}hub/api");
        let (client, url, pid) = (http(), hub.url(&api), hub.process.pid());
        let up = || async {
            assert!(pid_alive(pid), "JupyterHub exited while starting");
            (status_of(&client, &url).await == Some(200)).then_some(())
        };
        let what = "JupyterHub to answer through ferrohub-proxy";
        poll(Duration::from_secs(60), what, up).await;
        hub
    }

    /// `http://127.0.0.1:PUBLIC{path}`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.public)
    }
}

/// A Python string literal for `s` (JSON strings are valid Python string literals).
pub fn py(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

/// `PATH` for JupyterHub and what it starts: the venv's `bin`, then the system's.
pub fn venv_path() -> String {
    let venv_bin_dir = venv_bin("jupyterhub").parent().unwrap().to_owned();
    format!("{}:/usr/local/bin:/usr/bin:/bin", venv_bin_dir.display())
}

impl Drop for JupyterHub {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let output = self.process.output();
            eprintln!("--- JupyterHub and ferrohub-proxy output ---\n{output}");
        }
    }
}

/// The scratch directory; on drop, every process whose working directory is inside it is
/// killed before it is removed. JupyterHub starts the proxy and the single-user servers in
/// sessions of their own, so they outlive a killed JupyterHub in no common process group.
pub struct Leftovers(ScratchDir);

impl Leftovers {
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Processes running in the scratch directory, as `(pid, command line)`.
    pub fn processes(&self) -> Vec<(u32, String)> {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return vec![];
        };
        let pids = entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok());
        let inside = |pid: &u32| {
            let cwd = std::fs::read_link(format!("/proc/{pid}/cwd"));
            cwd.is_ok_and(|cwd| cwd.starts_with(self.0.path())) && pid_alive(*pid)
        };
        let cmdline = |pid| std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        pids.filter(inside)
            .map(|pid| {
                (
                    pid,
                    String::from_utf8_lossy(&cmdline(pid)).replace('\0', " "),
                )
            })
            .collect()
    }

    /// Waits up to 10 s for the processes in the scratch directory to exit; returns the rest.
    pub async fn after_exit(&self) -> Vec<(u32, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = self.processes();
            if left.is_empty() || Instant::now() > deadline {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        for (pid, _) in self.processes() {
            signal_pid(pid, "KILL");
        }
    }
}
