//! `local`: each server is a process on the hub's machine, run as the hub's own user (as
//! JupyterHub's `SimpleLocalProcessSpawner`), in its own process group so it outlives a hub
//! restart, with its output in a log file per server.

use super::{Exited, SpawnError, SpawnRequest, Spawner, Started};
use crate::config::{HubConfig, LocalProcessSpawnerConfig, SpawnerConfig};
use nix::sys::signal::{kill, killpg, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What is saved with a local server.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ProcessState {
    pid: i32,
    /// The process' start time in clock ticks since boot (`/proc/PID/stat`), so a pid reused
    /// by another process after a restart is not mistaken for the server.
    start_ticks: u64,
    port: u16,
    log: PathBuf,
}

pub struct LocalProcessSpawner {
    /// The program and its arguments (`[Spawner] cmd` and `args`, or the manager's).
    command: Vec<String>,
    /// Where `command` is configured, for error messages.
    command_key: &'static str,
    spawner: SpawnerConfig,
    local: LocalProcessSpawnerConfig,
    /// Exit statuses of servers this hub process started, collected as they exit (a process
    /// only the kernel can reap, after a restart, shows up as gone instead).
    exits: Arc<Mutex<HashMap<i32, Exited>>>,
    /// Environment every server gets before the single-user contract's (the `[Manager]`
    /// settings for managers); `{username}` in a value is the user's name.
    extra_env: BTreeMap<String, String>,
}

impl LocalProcessSpawner {
    /// `local`: runs `[Spawner] cmd` and `args` (by default `jupyterhub-singleuser`).
    pub fn new(config: &HubConfig) -> Self {
        let command = [config.spawner.cmd.clone(), config.spawner.args.clone()].concat();
        Self::with_command(config, command, "Spawner.cmd")
    }

    /// `manager`: runs `ferrohub-manager` (`[ManagerSpawner] cmd` and `args`) with the same
    /// contract, the program found beside the hub's binary when given by bare name.
    pub fn manager(config: &HubConfig) -> Self {
        let manager = &config.manager_spawner;
        let mut command = [manager.cmd.clone(), manager.args.clone()].concat();
        if let Some(program) = command.first_mut() {
            *program = crate::programs::resolve(program).display().to_string();
        }
        let mut spawner = Self::with_command(config, command, "ManagerSpawner.cmd");
        spawner.extra_env = manager_env(&config.manager);
        spawner
    }

    fn with_command(config: &HubConfig, command: Vec<String>, command_key: &'static str) -> Self {
        LocalProcessSpawner {
            command,
            command_key,
            spawner: config.spawner.clone(),
            local: config.local_process_spawner.clone(),
            exits: Arc::default(),
            extra_env: BTreeMap::new(),
        }
    }

    fn home_dir(&self, user: &str) -> Option<PathBuf> {
        let template = &self.local.home_dir_template;
        (!template.is_empty()).then(|| PathBuf::from(template.replace("{username}", user)))
    }

    fn log_path(&self, req: &SpawnRequest) -> PathBuf {
        let file = if req.server_name.is_empty() {
            format!("{}.log", req.user)
        } else {
            format!("{}--{}.log", req.user, req.server_name)
        };
        self.local.log_dir.join(file)
    }

    fn state(value: &Value) -> Result<ProcessState, SpawnError> {
        serde_json::from_value(value.clone()).map_err(|e| SpawnError::BadState(e.to_string()))
    }

    fn recorded_exit(&self, pid: i32) -> Option<Exited> {
        self.exits
            .lock()
            .expect("never poisoned: no panics while held")
            .get(&pid)
            .cloned()
    }

    /// Send `signal` and wait up to `timeout` for the process to go.
    async fn signal_and_wait(&self, state: &ProcessState, signal: Signal, timeout: u64) -> bool {
        if kill(Pid::from_raw(state.pid), signal).is_err() {
            return !self.alive(state);
        }
        let deadline = Instant::now() + Duration::from_secs(timeout);
        while Instant::now() < deadline {
            if !self.alive(state) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        !self.alive(state)
    }

    fn alive(&self, state: &ProcessState) -> bool {
        self.recorded_exit(state.pid).is_none()
            && process_start_ticks(state.pid) == Some(state.start_ticks)
    }
}

/// The `[Manager]` settings as a manager reads them from its environment.
fn manager_env(manager: &crate::config::ManagerConfig) -> BTreeMap<String, String> {
    use ferrohub_shared::env::*;
    let mut env = BTreeMap::from([
        (FERROHUB_MANAGER_REALM, manager.realm.clone()),
        (
            FERROHUB_MANAGER_START_TIMEOUT,
            manager.start_timeout.to_string(),
        ),
        (FERROHUB_MANAGER_HOST_IP, manager.host_ip.clone()),
        (
            FERROHUB_MANAGER_NOVNC_PATH,
            manager.novnc_path.display().to_string(),
        ),
        (
            FERROHUB_MANAGER_STOP_APPS,
            if manager.stop_apps_with_server {
                "1"
            } else {
                "0"
            }
            .to_owned(),
        ),
    ]);
    if !manager.docker_host.is_empty() {
        env.insert(FERROHUB_MANAGER_DOCKER_HOST, manager.docker_host.clone());
    }
    if !manager.home_template.is_empty() {
        env.insert(FERROHUB_MANAGER_HOME, manager.home_template.clone());
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

#[async_trait::async_trait]
impl Spawner for LocalProcessSpawner {
    async fn start(&self, req: &SpawnRequest) -> Result<Started, SpawnError> {
        let Some((program, args)) = self.command.split_first() else {
            return Err(SpawnError::Launch("the spawner's command is empty".into()));
        };
        let ip = self.spawner.ip.clone();
        let port = match self.spawner.port {
            0 => free_port(&ip)?,
            p => p,
        };
        let log = self.log_path(req);
        let output = open_log(&log)?;
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(
                self.extra_env
                    .iter()
                    .map(|(k, v)| (k, v.replace("{username}", &req.user))),
            )
            .envs(req.env_for(&ip, port))
            .env("USER", &req.user)
            .env("SHELL", "/bin/bash")
            .stdin(std::process::Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            // Its own process group: a Ctrl-C meant for the hub does not reach it, and the
            // group can be cleaned up as one.
            .process_group(0)
            .kill_on_drop(false);
        if let Some(home) = self.home_dir(&req.user) {
            std::fs::create_dir_all(&home).map_err(|e| {
                SpawnError::Launch(format!(
                    "cannot create the home directory {}: {e}",
                    home.display()
                ))
            })?;
            command.current_dir(&home).env("HOME", &home);
        } else if let Some(home) = std::env::var_os("HOME") {
            command.env("HOME", home);
        }
        let mut child = command.spawn().map_err(|e| {
            SpawnError::Launch(format!(
                "cannot run `{program}` for {}: {e}. Check {} (and PATH in env_keep).",
                req.display_name(),
                self.command_key
            ))
        })?;
        let pid = child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| SpawnError::Launch("the process exited at once".into()))?;
        let start_ticks = process_start_ticks(pid).unwrap_or(0);
        let exits = self.exits.clone();
        tokio::spawn(async move {
            let exited = match child.wait().await {
                Ok(status) => describe(status),
                Err(e) => Exited {
                    code: None,
                    reason: format!("could not be waited for: {e}"),
                },
            };
            exits
                .lock()
                .expect("never poisoned: no panics while held")
                .insert(pid, exited);
        });
        tracing::info!(pid, port, log = %log.display(), "started {} for {}", program, req.display_name());
        let state = ProcessState {
            pid,
            start_ticks,
            port,
            log,
        };
        Ok(Started {
            url: format!(
                "http://{}:{port}",
                if ip.contains(':') {
                    format!("[{ip}]")
                } else {
                    ip
                }
            ),
            state: serde_json::to_value(state).expect("plain struct serialises"),
        })
    }

    async fn poll(&self, state: &Value) -> Result<Option<Exited>, SpawnError> {
        let state = Self::state(state)?;
        if let Some(exited) = self.recorded_exit(state.pid) {
            return Ok(Some(exited));
        }
        Ok((!self.alive(&state)).then(|| Exited {
            code: None,
            reason: format!("is no longer running (process {} is gone)", state.pid),
        }))
    }

    async fn stop(&self, state: &Value) -> Result<(), SpawnError> {
        let state = Self::state(state)?;
        let steps = [
            (Signal::SIGINT, self.local.interrupt_timeout),
            (Signal::SIGTERM, self.local.term_timeout),
            (Signal::SIGKILL, self.local.kill_timeout),
        ];
        for (signal, timeout) in steps {
            if !self.alive(&state) || self.signal_and_wait(&state, signal, timeout).await {
                break;
            }
            tracing::warn!(
                pid = state.pid,
                "the server did not stop after {signal}; escalating"
            );
        }
        // Kernels and other children the server left behind share its process group.
        let _ = killpg(Pid::from_raw(state.pid), Signal::SIGKILL);
        if self.alive(&state) {
            return Err(SpawnError::Launch(format!(
                "process {} did not stop even after SIGKILL",
                state.pid
            )));
        }
        self.exits
            .lock()
            .expect("never poisoned: no panics while held")
            .remove(&state.pid);
        Ok(())
    }

    async fn recent_output(&self, state: &Value) -> Option<String> {
        let state = Self::state(state).ok()?;
        tail(&state.log, 20)
    }
}

fn describe(status: std::process::ExitStatus) -> Exited {
    match (status.code(), status.signal()) {
        (Some(code), _) => Exited {
            code: Some(code),
            reason: format!("exited with status {code}"),
        },
        (None, Some(sig)) => Exited {
            code: None,
            reason: Signal::try_from(sig)
                .map(|s| format!("was killed by {s}"))
                .unwrap_or_else(|_| format!("was killed by signal {sig}")),
        },
        (None, None) => Exited {
            code: None,
            reason: "ended".into(),
        },
    }
}

/// A port that was free a moment ago on `ip` (JupyterHub picks ports the same way).
fn free_port(ip: &str) -> Result<u16, SpawnError> {
    let listener = std::net::TcpListener::bind((ip, 0)).map_err(|e| {
        SpawnError::Launch(format!("cannot find a free port on {ip} (Spawner.ip): {e}"))
    })?;
    Ok(listener.local_addr()?.port())
}

fn open_log(path: &Path) -> Result<std::fs::File, SpawnError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            SpawnError::Launch(format!(
                "cannot create the log directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| {
            SpawnError::Launch(format!(
                "cannot open the server log {}: {e}",
                path.display()
            ))
        })
}

/// The last `lines` lines of a log file (reading at most its last 16 KiB).
fn tail(path: &Path, lines: usize) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(16 * 1024)))
        .ok()?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(lines);
    let out = all[start..].join("\n");
    (!out.trim().is_empty()).then_some(out)
}

/// When process `pid` started, in clock ticks since boot; `None` if there is no such live
/// process (zombies count as gone).
fn process_start_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ...`: comm may hold spaces and parentheses, so split after the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() == Some(&"Z") {
        return None;
    }
    // Field 22 of the whole line; `rest` starts at field 3.
    fields.get(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_its_own_start_time() {
        let me = i32::try_from(std::process::id()).unwrap();
        assert!(process_start_ticks(me).is_some());
        assert_eq!(process_start_ticks(i32::MAX), None);
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = std::env::temp_dir().join(format!("ferrohub-tail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let text: String = (0..100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        let out = tail(&path, 3).unwrap();
        assert_eq!(out, "line 97\nline 98\nline 99");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
